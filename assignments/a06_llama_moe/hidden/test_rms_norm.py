"""Hidden tests, task rms_norm: against the reference in float64, on rows of small RMS
(where eps shows), and in float16 (where the float32 upcast shows)."""

import pytest

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL, norm_weight

pytestmark = pytest.mark.task("rms_norm")


def run(student, reference, x, weight, eps, rtol=RTOL, atol=ATOL):
    d = x.shape[-1]
    state = {"weight": weight}
    checks.close(student.rms_norm_forward(state, d, eps, x), reference.rms_norm_forward(state, d, eps, x),
                 what=f"RMSNorm({d}, eps={eps:g}) on {x.dtype}", rtol=rtol, atol=atol,
                 diagnoses=bugs.rms_norm(x, weight, eps))


def test_matches_reference(student, reference, gen):
    d = draw.integer(gen, 4, 24)
    x = draw.normal(gen, 3, 5, d, scale=2.0) + draw.normal(gen, 3, 5, 1, scale=3.0)   # rows with a mean
    run(student, reference, x, norm_weight(gen, d), draw.choice(gen, [1e-5, 1e-6]))


def test_rows_of_small_rms(student, reference, gen):
    # RMS ~1e-3, so mean(x^2) ~1e-6 is comparable to eps = 1e-5: eps outside the root is off by ~1%
    d = draw.integer(gen, 8, 32)
    run(student, reference, draw.normal(gen, 2, 6, d, scale=1e-3), norm_weight(gen, d), 1e-5)


def test_float16_is_squared_in_float32(student, reference, gen):
    # |x| up to ~1000: x^2 overflows float16 (max 65504), so without the upcast the output is 0
    # or NaN. Tolerance: 2 float16 ulps (rtol 2e-3); applying the weight before or after the
    # cast back differs by at most one rounding, which this accepts.
    d = draw.integer(gen, 8, 32)
    x = (draw.normal(gen, 2, 6, d, scale=300.0)).half()
    run(student, reference, x, norm_weight(gen, d).half(), 1e-5, rtol=2e-3, atol=1e-3)
