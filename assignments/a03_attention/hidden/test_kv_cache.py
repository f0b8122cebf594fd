"""Hidden tests, task kv_cache: KVCache.append, and cached decoding equal to the full causal
forward at every step, token by token and in chunks."""

import pytest
import torch

from autograder.grade import checks, draw

pytestmark = pytest.mark.task("kv_cache")
# Appending is concatenation, so the cache's contents are compared exactly. Cached decoding is
# float64 arithmetic in another order: correct code uses at most 3e-6 of this tolerance; the
# nearest bug, a chunk decoded without its causal mask, is 3e8 times over it (tests/benchmarks/tolerances.py a03_attention, seeds 1-3).
RTOL, ATOL = 1e-8, 1e-10


def test_append_concatenates_along_time(student, gen):
    b, h, d = 2, 3, 4
    chunks = [(draw.normal(gen, b, h, t, d), draw.normal(gen, b, h, t, d)) for t in (3, 1, 2)]
    results = student.kv_cache_appends(chunks)
    total = 0
    for step, ((k, v), (k_all, v_all, length)) in enumerate(zip(chunks, results), start=1):
        total += k.shape[2]
        expected_k = torch.cat([c[0] for c in chunks[:step]], dim=2)
        expected_v = torch.cat([c[1] for c in chunks[:step]], dim=2)
        what = f"after append #{step} (T_new = {k.shape[2]})"
        checks.tensor(k_all, what=f"cached keys {what}", shape=expected_k.shape)
        checks.close(k_all, expected_k, what=f"cached keys {what}", rtol=0, atol=0)
        checks.close(v_all, expected_v, what=f"cached values {what}", rtol=0, atol=0)
        checks.equal(length, total, what=f"len(cache) {what}")


def full_and_cached(student, reference, reference_module, gen, chunk):
    d_model, n_heads = 16, draw.choice(gen, [2, 4])
    state = draw.state_like(reference_module.MultiHeadAttention(d_model, n_heads).state_dict(), gen)
    t = draw.integer(gen, 5, 9)
    x = draw.normal(gen, 2, t, d_model)
    full = reference.mha_forward(state, d_model, n_heads, x, reference.causal_mask(t))
    cached, shapes = student.mha_incremental(state, d_model, n_heads, x, chunk)
    return full, cached, shapes, (2, n_heads, d_model // n_heads)


def compare_steps(full, cached, chunk):
    checks.tensor(cached, what="incremental_forward output", shape=full.shape, dtype=full.dtype)
    for start in range(0, full.shape[1], chunk):
        sl = slice(start, start + chunk)
        if not torch.allclose(cached[:, sl], full[:, sl], rtol=RTOL, atol=ATOL):
            hint = ("the very first step is already wrong: check the mask of a chunk over the cache"
                    if start == 0 else "the first steps are right, later ones are not: is the cache appended "
                    "along time (dim 2), and may each query see every cached position (causal_mask(T_new, T_k))?")
            checks.fail(f"cached decoding differs from the full causal forward at positions {start}.."
                        f"{min(start + chunk, full.shape[1]) - 1} (step {start // chunk + 1}); {hint}")


def test_token_by_token_equals_full_forward(student, reference, reference_module, gen):
    full, cached, _, _ = full_and_cached(student, reference, reference_module, gen, chunk=1)
    compare_steps(full, cached, 1)


def test_chunked_prefill_equals_full_forward(student, reference, reference_module, gen):
    full, cached, _, _ = full_and_cached(student, reference, reference_module, gen, chunk=3)
    compare_steps(full, cached, 3)


def test_cache_grows_by_one_position_per_step(student, reference, reference_module, gen):
    full, _, shapes, (b, h, d) = full_and_cached(student, reference, reference_module, gen, chunk=1)
    expected = [((b, h, t, d), (b, h, t, d)) for t in range(1, full.shape[1] + 1)]
    if [tuple(map(tuple, s)) for s in shapes] != expected:
        checks.fail(f"after each step the cache must hold (B, H, T_so_far, D) keys and values; got "
                    f"{[s[0] for s in shapes[:4]]}..., expected {[e[0] for e in expected[:4]]}...")
