"""Hidden tests, task questions (standard variant)."""

import pytest

from autograder.grade import checks

pytestmark = pytest.mark.task("questions")


def test_q1_uniform_perplexity(student):
    answer = student.q1_uniform_perplexity()
    if not isinstance(answer, (int, float)) or abs(answer - 50257) > 1e-6 * 50257:
        checks.fail(f"q1: expected 50257 (a uniform model has NLL log V per token, so perplexity exp(log V) = V); got "
                    f"{checks.describe(answer)}")


def test_q2_sum_vs_per_token(student):
    answer = student.q2_sum_vs_per_token()
    if not isinstance(answer, (tuple, list)) or list(answer) != [0, 1]:
        checks.fail(f"q2: expected (0, 1): acc compares -4.0 with -9.0, acc_norm compares -2.0 with -1.5 per token; got "
                    f"{checks.describe(answer)}")


def test_q3_smaller_stride(student):
    checks.equal(student.q3_smaller_stride(), "lower", what="q3: perplexity after halving the stride",
                 hint="each token is scored with more context, which a model that uses its context predicts better")
