"""Hidden tests, task layer_norm: against the reference, including rows that barely vary."""

import pytest

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL

pytestmark = pytest.mark.task("layer_norm")


def run(student, reference, gen, x, eps):
    d = x.shape[-1]
    state = {"weight": 1 + 0.3 * draw.normal(gen, d), "bias": 0.3 * draw.normal(gen, d)}
    checks.close(student.layer_norm_forward(state, d, eps, x), reference.layer_norm_forward(state, d, eps, x),
                 what=f"LayerNorm({d}, eps={eps:g})", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.layer_norm(x, state["weight"], state["bias"], eps))


def test_matches_reference(student, reference, gen):
    d = draw.integer(gen, 4, 24)          # small d: an unbiased variance is off by ~sqrt(d/(d-1))
    x = draw.normal(gen, 3, 5, d, scale=4.0) + draw.normal(gen, 3, 5, 1, scale=10.0)
    run(student, reference, gen, x, 1e-5)


def test_rows_that_barely_vary(student, reference, gen):
    # std ~1e-3, so var ~1e-6 is comparable to eps: where eps goes shows
    d = draw.integer(gen, 8, 32)
    x = 5.0 + draw.normal(gen, 2, 6, d, scale=1e-3)
    run(student, reference, gen, x, 1e-5)
