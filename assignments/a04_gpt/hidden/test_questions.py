"""Hidden tests, task questions (standard variant)."""

import pytest

from autograder.grade import checks

pytestmark = pytest.mark.task("questions")


def test_q1_embedding_share(student):
    checks.answer(student.q1_embedding_share(), 50257 * 768 / 124_439_808, abs_tol=1e-3,
                  what="q1: the share of GPT-2 small's parameters in the token embedding",
                  hint="wte has 50257 x 768 of the 124,439,808 parameters")


def test_q2_untied_parameters(student):
    checks.answer(student.q2_untied_parameters(), 163_037_184, what="q2: parameters with an untied head",
                 hint="an untied lm_head adds its own 50257 x 768 matrix (it has no bias)")


def test_q3_positions_per_cached_step(student):
    checks.answer(student.q3_positions_per_cached_step(), 1, what="q3: positions through c_attn per cached step",
                 hint="the cache holds the keys and values of every earlier position")
