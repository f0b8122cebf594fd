"""Hidden tests, task softmax: values, large logits, all -inf slices, dtype."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("softmax")
RTOL, ATOL = 1e-10, 1e-12      # float64: correct code agrees to ~1e-16; any real bug is > 1e-3


def test_matches_reference_along_every_dim(student, reference, gen):
    x = draw.normal(gen, draw.integer(gen, 2, 4), draw.integer(gen, 3, 7), draw.integer(gen, 3, 7), scale=3.0)
    for dim in (-1, 0, 1):
        checks.close(student.softmax(x, dim), reference.softmax(x, dim), what=f"softmax(x, dim={dim})",
                     rtol=RTOL, atol=ATOL, diagnoses=bugs.softmax(x, dim))


def test_large_logits_stay_finite(student, reference, gen):
    # exp(800) overflows float64: only code that subtracts the maximum survives.
    x = draw.normal(gen, 3, 6, scale=50.0) + 800.0
    out = student.softmax(x, -1)
    checks.tensor(out, what="softmax(x) for logits around 800", shape=x.shape, finite=False)
    if not torch.isfinite(out).all():
        checks.fail("softmax(x) returns NaN or inf for logits around 800: exp overflows. Subtract the "
                    "maximum along `dim` before exponentiating (it does not change the result).")
    checks.close(out, reference.softmax(x, -1), what="softmax(x) for logits around 800", rtol=RTOL, atol=ATOL)


def test_all_minus_inf_slice_gives_zeros(student, reference, gen):
    x = draw.normal(gen, 4, 5)
    x[1] = float("-inf")                      # a query allowed to attend to nothing
    x[2, :3] = float("-inf")                  # a partly masked one
    out = student.softmax(x, -1)
    checks.tensor(out, what="softmax of rows containing -inf", shape=x.shape, finite=False)
    if torch.isnan(out[1]).any():
        checks.fail("softmax of an all -inf row gives NaN; the convention is all zeros (a query that may "
                    "attend to nothing gets no weight). torch.softmax gives NaN here: handle that row.")
    checks.close(out, reference.softmax(x, -1), what="softmax of rows containing -inf", rtol=RTOL, atol=ATOL)


def test_float32_in_float32_out(student, reference, gen):
    x = draw.normal(gen, 3, 8, dtype=torch.float32)
    # float32 (eps 1.2e-7): correct code agrees to a few ulps; the bug this catches, computing in
    # float64, fails the dtype check.
    checks.close(student.softmax(x, -1), reference.softmax(x, -1), what="softmax of float32 input",
                 rtol=1e-5, atol=1e-7)
