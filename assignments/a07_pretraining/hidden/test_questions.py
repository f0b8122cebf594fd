"""Hidden tests, task questions (standard variant)."""

import math

import pytest

from autograder.grade import checks

pytestmark = pytest.mark.task("questions")


def test_q1_initial_loss(student):
    for v in (16, 50257):
        got = student.q1_initial_loss(v)
        if not isinstance(got, (int, float)) or abs(got - math.log(v)) > 1e-3:
            checks.fail(f"q1_initial_loss({v}): expected ln {v} = {math.log(v):.4f} (nearly uniform predictions), "
                        f"got {checks.describe(got)}")


def test_q2_clipping(student):
    checks.equal(student.q2_clipping_protects(), "b", what="q2: what clipping protects against",
                 hint="clipping bounds the length of one update, whatever one batch's gradient is")


def test_q3_lower_bound(student):
    checks.equal(student.q3_band_lower_bound(), "c", what="q3: a loss below the entropy rate",
                 hint="no model that sees only the past can beat the entropy rate")
