"""Hidden tests, task attention: GPT-2's causal self-attention against the reference,
causality, cached (chunked) equals full, and no dropout in eval mode."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL, config

pytestmark = pytest.mark.task("attention")


def setup(reference_module, gen, **overrides):
    cfg = config(gen, **overrides)
    state = draw.state_like(reference_module.CausalSelfAttention(reference_module.GPTConfig(**cfg)).state_dict(), gen)
    return cfg, state, draw.normal(gen, 2, draw.integer(gen, 4, 10), cfg["d_model"])


def test_matches_reference(student, reference, reference_module, gen):
    cfg, state, x = setup(reference_module, gen)
    checks.close(student.attention_forward(cfg, state, x), reference.attention_forward(cfg, state, x),
                 what="CausalSelfAttention(x)", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.attention(reference_module, reference, (cfg, state, x)))


def test_future_positions_cannot_change_the_past(student, reference_module, gen):
    cfg, state, x = setup(reference_module, gen)
    s = draw.integer(gen, 1, x.shape[1] - 1)
    changed = x.clone()
    changed[:, s:] = draw.normal(gen, 2, x.shape[1] - s, cfg["d_model"])
    a, b = student.attention_forward(cfg, state, x), student.attention_forward(cfg, state, changed)
    checks.tensor(a, what="CausalSelfAttention(x)", shape=x.shape)
    # The outputs before s are computed from the same numbers either way, so correct code leaves them
    # unchanged to the last bit; without the mask they move by 0.1 or more.
    if not torch.allclose(a[:, :s], b[:, :s], rtol=0, atol=1e-12):
        checks.fail(f"changing positions {s}.. changed the outputs before position {s}: the attention is not causal")


@pytest.mark.parametrize("chunk", [1, 3])
def test_cached_chunks_equal_the_full_pass(student, reference, reference_module, gen, chunk):
    cfg, state, x = setup(reference_module, gen)
    full = reference.attention_forward(cfg, state, x)
    checks.close(student.attention_forward(cfg, state, x, chunk), full,
                 what=f"CausalSelfAttention fed {chunk} position(s) at a time with a KVCache", rtol=RTOL, atol=ATOL,
                 diagnoses=[("the cache is not used: queries see only their own chunk",
                             torch.cat([reference.attention_forward(cfg, state, x[:, s:s + chunk])
                                        for s in range(0, x.shape[1], chunk)], dim=1))])


def test_no_dropout_in_eval_mode(student, reference_module, gen):
    cfg, state, x = setup(reference_module, gen, dropout=0.5)
    a, b = student.attention_eval_twice(cfg, state, x)
    if not torch.equal(a, b):
        checks.fail("in eval mode attention must be deterministic: apply dropout only when self.training")
