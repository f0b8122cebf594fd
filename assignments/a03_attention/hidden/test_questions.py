"""Hidden tests, task questions (standard variant): the four conceptual answers."""

import pytest

from autograder.grade import checks

pytestmark = pytest.mark.task("questions")


def test_q1_weights_shape(student):
    checks.answer(student.q1_weights_shape(), (2, 8, 10, 16), what="q1: shape of the attention weights",
                 hint="(B, H, T_q, T_k): the 10 new queries attend to the 6 cached positions plus themselves")


def test_q2_mha_parameters(student):
    checks.answer(student.q2_mha_parameters(), 1_050_624, what="q2: parameters of MultiHeadAttention(512, 8)",
                 hint="four d_model x d_model projections, each with a bias of d_model; heads add no parameters")


def test_q3_kv_cache_bytes(student):
    checks.answer(student.q3_kv_cache_bytes(), 37_748_736, what="q3: bytes of GPT-2 small's KV cache",
                 hint="keys and values (x2), per layer, head, position and head dimension, 2 bytes each")


def test_q4_gqa_cache_ratio(student):
    checks.answer(student.q4_gqa_cache_ratio(), 0.25, abs_tol=1e-9, what="q4: the GQA cache over the MHA cache",
                  hint="8 key/value heads instead of 32: the fraction 8/32")
