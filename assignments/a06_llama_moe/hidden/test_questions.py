"""Hidden tests, task questions (standard variant)."""

import pytest

from autograder.grade import checks

pytestmark = pytest.mark.task("questions")


def test_q1_active_expert_parameters(student):
    checks.equal(student.q1_active_expert_parameters(), 352_321_536, what="q1: expert parameters one token uses",
                 hint="each SwiGLU expert has 3 * 4096 * 14336 parameters and a token runs 2 of them")


def test_q2_why_rmsnorm(student):
    checks.equal(student.q2_why_rmsnorm(), "a", what="q2: why RMSNorm drops the mean",
                 hint="Zhang and Sennrich found re-centering contributes little: re-scaling carries the benefit")


def test_q3_balance_loss_at_balance(student):
    answer = student.q3_balance_loss_at_balance()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2 or \
            any(not isinstance(a, (int, float)) or abs(a - b) > 1e-9 for a, b in zip(answer, (2.0, 1.0))):
        checks.fail(f"q3: expected (Mixtral form, Switch form) at uniform routing, got {checks.describe(answer)}; "
                    "the Mixtral form counts k slots per token")
