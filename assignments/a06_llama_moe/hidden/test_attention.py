"""Hidden tests, task attention: grouped-query attention with RoPE against the reference in
both pairings, the kv head each query head reads, causality, and cached chunks (positions
offset by the cache) equal to the full pass."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL, config, state_of

pytestmark = pytest.mark.task("attention")


def setup(ref, gen, **overrides):
    cfg = config(gen, **overrides)
    state = state_of(ref.LlamaAttention(ref.LlamaConfig(**cfg)), gen)
    return cfg, state, draw.normal(gen, 2, draw.integer(gen, 5, 10), cfg["d_model"])


@pytest.mark.parametrize("interleaved", [False, True])
def test_matches_reference(student, reference, reference_module, gen, interleaved):
    cfg, state, x = setup(reference_module, gen, rope_interleaved=interleaved)
    checks.close(student.attention_forward(cfg, state, x), reference.attention_forward(cfg, state, x),
                 what=f"LlamaAttention(x), {cfg['n_heads']} query heads, {cfg['n_kv_heads']} kv heads, "
                      f"rope_interleaved={interleaved}", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.attention(reference_module, reference, "attention_forward", (cfg, state, x)))


def test_query_head_h_reads_kv_head_h_div_n_rep(student, reference, reference_module, gen):
    # 2 kv heads, 4 query heads: query heads 0, 1 must read kv head 0 and 2, 3 kv head 1
    # (h // 2); tiling (h % 2) pairs 0, 2 and 1, 3. The kv heads' weights are far apart.
    cfg, state, x = setup(reference_module, gen, n_heads=4, n_kv_heads=2)
    rows = state["v_proj.weight"].shape[0] // 2
    state["v_proj.weight"][rows:] += 3.0
    state["k_proj.weight"][rows:] *= 3.0
    checks.close(student.attention_forward(cfg, state, x), reference.attention_forward(cfg, state, x),
                 what="LlamaAttention with 4 query heads on 2 distinct kv heads", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.attention(reference_module, reference, "attention_forward", (cfg, state, x)))


def test_future_positions_cannot_change_the_past(student, reference_module, gen):
    cfg, state, x = setup(reference_module, gen)
    s = draw.integer(gen, 1, x.shape[1] - 1)
    changed = x.clone()
    changed[:, s:] = draw.normal(gen, 2, x.shape[1] - s, cfg["d_model"])
    a, b = student.attention_forward(cfg, state, x), student.attention_forward(cfg, state, changed)
    checks.tensor(a, what="LlamaAttention(x)", shape=x.shape)
    if not torch.allclose(a[:, :s], b[:, :s], rtol=0, atol=1e-12):
        checks.fail(f"changing positions {s}.. changed the outputs before position {s}: the attention is not causal")


@pytest.mark.parametrize("chunk", [1, 3])
def test_cached_chunks_equal_the_full_pass(student, reference, reference_module, gen, chunk):
    cfg, state, x = setup(reference_module, gen, rope_interleaved=draw.choice(gen, [False, True]))
    args = (cfg, state, x, chunk)
    checks.close(student.attention_forward(*args), reference.attention_forward(cfg, state, x),
                 what=f"LlamaAttention fed {chunk} position(s) at a time with a KVCache", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.attention(reference_module, reference, "attention_forward", args))
