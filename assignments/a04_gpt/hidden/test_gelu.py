"""Hidden tests, task gelu: the tanh approximation, across a wide range, and its dtype."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("gelu")
# float64. Must accept sqrt(2/pi) or 0.044715 held as float32 tensors (off by up to 7e-9),
# a rounded literal 0.79788456 (3e-10) and F.gelu(approximate="tanh") (4e-16); must reject
# 0.0447 for 0.044715 (9e-6), pi taken as 3.1416 (3e-7), computing in float32 and casting
# back (5e-7) and the erf GELU (5e-4). Measured over the inputs below.
RTOL, ATOL = 1e-8, 2e-8


def test_matches_reference(student, reference, gen):
    x = torch.cat([draw.normal(gen, 200, scale=3.0), torch.tensor([0.0, -8.0, 8.0, 40.0, -40.0], dtype=torch.float64)])
    checks.close(student.gelu(x), reference.gelu(x), what="gelu(x)", rtol=RTOL, atol=ATOL, diagnoses=bugs.gelu(x))


def test_float32_in_float32_out(student, reference, gen):
    x = draw.normal(gen, 50, scale=3.0, dtype=torch.float32)
    # float32 with the dtype checked; a float32 GELU is within a few ulps of the reference (0 here),
    # 0.0447 for 0.044715 is 6 times over the tolerance.
    checks.close(student.gelu(x), reference.gelu(x), what="gelu of float32 input", rtol=1e-5, atol=1e-6)
