"""Hidden tests, task model: logits against the reference, causality, batch independence,
the tied head, the cache's positions, the context limit and the parameter count."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL, config, gpt_state, tokens

pytestmark = pytest.mark.task("model")


def setup(reference_module, gen):
    cfg = config(gen)
    return cfg, gpt_state(reference_module, cfg, gen)


def test_logits_match_reference(student, reference, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    idx = tokens(gen, cfg, 2, draw.integer(gen, 3, cfg["context_length"]))
    checks.close(student.model_logits(cfg, state, idx), reference.model_logits(cfg, state, idx),
                 what=f"GPT logits for idx of shape {tuple(idx.shape)}", rtol=RTOL, atol=ATOL)


def test_head_is_tied_to_the_token_embedding(student, gen):
    """Structural: a tied head is the embedding matrix itself, so the model holds one such matrix."""
    cfg = config(gen)
    # Counted by shape, so no other matrix may have (vocab_size, d_model): the MLP's first
    # weight is (4 d_model, d_model) (seed 14 drew vocab_size 64 with d_model 16), c_attn's
    # (3 d_model, d_model) and the position embedding (context_length, d_model).
    taken = {cfg["d_model"], 3 * cfg["d_model"], 4 * cfg["d_model"], cfg["context_length"]}
    cfg["vocab_size"] = next(v for v in range(cfg["vocab_size"], cfg["vocab_size"] + 5) if v not in taken)
    count = student.vocab_matrices(cfg)
    if count != 1:
        checks.fail(f"your GPT has {count} parameters of shape (vocab_size, d_model) = "
                    f"({cfg['vocab_size']}, {cfg['d_model']}); a tied head has one: tie the head "
                    "(self.lm_head.weight = self.wte.weight)")


def test_future_tokens_cannot_change_earlier_logits(student, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    # Two sequences: a view that reads the (B*T, d) embeddings back as (T, B, d) is the identity
    # for B = 1; for B = 2 it puts the first sequence's token 2t at its position t (t < 5), so
    # position ceil(s/2), before s, reads token 2 ceil(s/2), at or after s, for every s drawn here.
    idx = tokens(gen, cfg, 2, 10)
    s = draw.integer(gen, 2, 8)
    changed = idx.clone()
    changed[:, s:] = (changed[:, s:] + 1) % cfg["vocab_size"]
    a, b = student.model_logits(cfg, state, idx), student.model_logits(cfg, state, changed)
    checks.tensor(a, what="logits", shape=(2, 10, cfg["vocab_size"]))
    # The logits before s are computed from the same numbers either way, so correct code leaves them
    # unchanged to the last bit; without a causal mask they move by 0.1 or more.
    if not torch.allclose(a[:, :s], b[:, :s], rtol=0, atol=1e-12):
        checks.fail(f"changing tokens {s}.. of both sequences changed the logits before position {s}: "
                    "the model is not causal")


def test_sequences_in_a_batch_are_independent(student, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    idx = tokens(gen, cfg, 3, 7)
    batch = student.model_logits(cfg, state, idx)
    for b in range(3):
        single = student.model_logits(cfg, state, idx[b:b + 1])
        # Batched and single matmuls may sum in another order: correct code uses under 2e-3 of this
        # tolerance, and a leak between sequences of O(1) weights exceeds it by orders of magnitude.
        if not torch.allclose(batch[b:b + 1], single, rtol=1e-10, atol=1e-12):
            checks.fail(f"sequence {b} gets different logits alone than in a batch: something mixes the batch")


def test_positions_continue_after_the_cache(student, reference, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    idx = tokens(gen, cfg, 2, 11)
    checks.close(student.model_logits(cfg, state, idx, 4), reference.model_logits(cfg, state, idx),
                 what="GPT fed 4 tokens at a time with caches", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.positions_restart(reference_module, reference, (cfg, state, idx, 4)))


def test_sequences_longer_than_the_context_are_refused(student, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    checks.raises(ValueError, student.model_logits, cfg, state, tokens(gen, cfg, 1, cfg["context_length"] + 1),
                  what=f"GPT on {cfg['context_length'] + 1} tokens with context_length {cfg['context_length']}",
                  why="there is no position embedding for them")


def test_parameter_counts(student, reference, gen):
    checks.equal(student.parameter_count({}), 124_439_808, what="count_parameters(GPT(GPTConfig())) for GPT-2 small",
                 hint="count each tensor once: the head is tied to wte (sum over model.parameters())")
    cfg = config(gen)
    checks.equal(student.parameter_count(cfg), reference.parameter_count(cfg), what=f"count_parameters for {cfg}")


def test_dropout_only_in_training_mode(student, reference_module, gen, seed):
    cfg, state = setup(reference_module, gen)
    cfg = dict(cfg, dropout=0.3)
    idx = tokens(gen, cfg, 2, 8)
    eval1, eval2, train1, train2 = student.model_dropout(cfg, state, idx, seed)
    # Judged against the student's own model built without dropout, so that only dropout is
    # tested here (not the logits, which test_logits_match_reference judges): in eval mode the
    # two run the same operations, and 1e-12 (float64) leaves room for nothing else.
    without = student.model_logits(dict(cfg, dropout=0.0), state, idx)
    if not (torch.equal(eval1, eval2) and torch.allclose(eval1, without, rtol=1e-12, atol=1e-12)):
        checks.fail("in eval mode (model.eval()) the model must equal the same model without dropout: "
                    "use nn.Dropout modules (or pass training=self.training), never dropout that is always on")
    if torch.allclose(train1, train2) or torch.allclose(train1, eval1):
        checks.fail("with dropout 0.3 in training mode the logits did not change between calls: dropout goes "
                    "after the embeddings, on the attention weights, after attn.c_proj and after the MLP")
