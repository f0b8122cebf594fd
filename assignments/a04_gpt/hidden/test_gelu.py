"""Hidden tests, task gelu: the tanh approximation, across a wide range, and its dtype."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("gelu")


def test_matches_reference(student, reference, gen):
    x = torch.cat([draw.normal(gen, 200, scale=3.0), torch.tensor([0.0, -8.0, 8.0, 40.0, -40.0], dtype=torch.float64)])
    checks.close(student.gelu(x), reference.gelu(x), what="gelu(x)", rtol=1e-10, atol=1e-12, diagnoses=bugs.gelu(x))


def test_float32_in_float32_out(student, reference, gen):
    x = draw.normal(gen, 50, scale=3.0, dtype=torch.float32)
    checks.close(student.gelu(x), reference.gelu(x), what="gelu of float32 input", rtol=1e-5, atol=1e-6)
