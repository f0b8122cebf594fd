"""Hidden tests, task gqa_kv_cache (hardmode): cached GQA decoding, what the cache holds,
and the memory formula."""

import pytest
import torch

from autograder.grade import checks, draw

pytestmark = pytest.mark.task("gqa_kv_cache")


@pytest.mark.parametrize("n_kv_heads", [1, 2], ids=["mqa", "gqa"])
def test_cached_gqa_equals_full_forward(student, reference, reference_module, gen, n_kv_heads):
    d_model, n_heads = 24, 4
    state = draw.state_like(reference_module.GroupedQueryAttention(d_model, n_heads, n_kv_heads).state_dict(), gen)
    t = draw.integer(gen, 4, 8)
    x = draw.normal(gen, 2, t, d_model)
    full = reference.gqa_forward(state, d_model, n_heads, n_kv_heads, x, reference.causal_mask(t))
    cached, shapes = student.gqa_incremental(state, d_model, n_heads, n_kv_heads, x, 2)
    checks.close(cached, full, what=f"cached GQA decoding (n_kv_heads={n_kv_heads}), chunks of 2",
                 rtol=1e-8, atol=1e-10)      # float64, as in kv_cache: correct code uses 3e-6 of it
    expected = (2, n_kv_heads, t, d_model // n_heads)
    if tuple(shapes[-1][0]) != expected:
        checks.fail(f"the cache holds keys of shape {tuple(shapes[-1][0])}; expected {expected}: cache the "
                    "n_kv_heads key/value heads before repeat_kv, or the memory saving is lost")


def test_mqa_cache_is_one_over_n_heads_of_mha(student, reference_module, gen):
    d_model, n_heads, t = 16, 4, 5
    x = draw.normal(gen, 1, t, d_model)
    mha_state = draw.state_like(reference_module.MultiHeadAttention(d_model, n_heads).state_dict(), gen)
    mqa_state = draw.state_like(reference_module.GroupedQueryAttention(d_model, n_heads, 1).state_dict(), gen)
    _, mha_shapes = student.mha_incremental(mha_state, d_model, n_heads, x, 1)
    _, mqa_shapes = student.gqa_incremental(mqa_state, d_model, n_heads, 1, x, 1)
    mha_numel = sum(torch.Size(s).numel() for s in mha_shapes[-1])
    mqa_numel = sum(torch.Size(s).numel() for s in mqa_shapes[-1])
    if mqa_numel * n_heads != mha_numel:
        checks.fail(f"an MQA cache must hold 1/{n_heads} of an MHA cache; yours hold {mqa_numel} and {mha_numel} "
                    "numbers")


def test_kv_cache_bytes(student, reference, gen):
    for _ in range(3):
        args = (draw.integer(gen, 1, 8), draw.integer(gen, 1, 4096), draw.integer(gen, 1, 48),
                draw.integer(gen, 1, 16), draw.choice(gen, [64, 80, 128]), draw.choice(gen, [1, 2, 4]))
        checks.equal(student.kv_cache_bytes(*args), reference.kv_cache_bytes(*args),
                     what=f"kv_cache_bytes{args}", hint="count keys and values, in every layer")
