"""Hidden tests, task gqa: repeat_kv, grouped-query attention against the reference, MQA,
and GQA with as many key/value heads as query heads being exactly MHA."""

import pytest

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("gqa")
# float64. Correct code (the reference, einsum- and Hugging Face-style) uses at most 1e-6 of this
# tolerance; the nearest bug caught here, K/V heads tiled instead of each repeated in place
# (repeat_kv_tiles), is 3e9 times over it (tests/benchmarks/tolerances.py a03_attention, seeds 1-3).
RTOL, ATOL = 1e-8, 1e-10


def test_repeat_kv(student, reference, gen):
    n_rep = draw.integer(gen, 2, 4)
    x = draw.normal(gen, 2, draw.integer(gen, 2, 3), draw.integer(gen, 2, 5), 4)
    checks.close(student.repeat_kv(x, n_rep), reference.repeat_kv(x, n_rep), what=f"repeat_kv(x, {n_rep})",
                 rtol=0, atol=0, diagnoses=bugs.repeat_kv(x, n_rep))


@pytest.mark.parametrize("n_kv_heads", [1, 2], ids=["mqa", "gqa"])
def test_matches_reference(student, reference, reference_module, gen, n_kv_heads):
    d_model, n_heads = 24, 4
    state = draw.state_like(reference_module.GroupedQueryAttention(d_model, n_heads, n_kv_heads).state_dict(), gen)
    t = draw.integer(gen, 4, 8)
    x = draw.normal(gen, 2, t, d_model)
    mask = reference.causal_mask(t)
    checks.close(student.gqa_forward(state, d_model, n_heads, n_kv_heads, x, mask),
                 reference.gqa_forward(state, d_model, n_heads, n_kv_heads, x, mask),
                 what=f"GroupedQueryAttention(d_model={d_model}, n_heads={n_heads}, n_kv_heads={n_kv_heads})",
                 rtol=RTOL, atol=ATOL)


def test_all_kv_heads_is_multi_head_attention(student, reference, reference_module, gen):
    d_model, n_heads = 16, 4
    state = draw.state_like(reference_module.MultiHeadAttention(d_model, n_heads).state_dict(), gen)
    t = draw.integer(gen, 3, 7)
    x = draw.normal(gen, 2, t, d_model)
    mask = reference.causal_mask(t)
    checks.close(student.gqa_forward(state, d_model, n_heads, n_heads, x, mask),
                 reference.mha_forward(state, d_model, n_heads, x, mask),
                 what="GroupedQueryAttention with n_kv_heads == n_heads (must equal MultiHeadAttention)",
                 rtol=RTOL, atol=ATOL)
