"""Hidden tests, task mha: split/merge heads, the layer against the reference, dropout."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("mha")
# Splitting and merging heads moves numbers without arithmetic: compared exactly. The layer is
# float64: correct code uses at most 7e-7 of this tolerance; the nearest bug caught here, no
# output projection, is 4e9 times over it (tests/benchmarks/tolerances.py a03_attention, seeds 1-3).
RTOL, ATOL = 1e-8, 1e-10


def config(gen):
    n_heads = draw.choice(gen, [2, 3, 4])
    return n_heads * draw.choice(gen, [2, 4, 8]), n_heads


def test_split_heads(student, reference, gen):
    d_model, n_heads = config(gen)
    x = draw.normal(gen, 2, draw.integer(gen, 2, 6), d_model)
    checks.close(student.split_heads(x, n_heads), reference.split_heads(x, n_heads), what=f"split_heads(x, {n_heads})",
                 rtol=0, atol=0, diagnoses=bugs.split_heads(x, n_heads))


def test_merge_heads(student, reference, gen):
    d_model, n_heads = config(gen)
    x = draw.normal(gen, 2, n_heads, draw.integer(gen, 2, 6), d_model // n_heads)
    checks.close(student.merge_heads(x), reference.merge_heads(x), what="merge_heads(x)", rtol=0, atol=0,
                 diagnoses=bugs.merge_heads(x))


def test_matches_reference_with_causal_and_padding_masks(student, reference, reference_module, gen):
    d_model, n_heads = config(gen)
    b, t = 3, draw.integer(gen, 4, 9)
    state = draw.state_like(reference_module.MultiHeadAttention(d_model, n_heads).state_dict(), gen)
    x = draw.normal(gen, b, t, d_model)
    lengths = torch.tensor([t, t - 1, t - 3])
    mask = reference.causal_mask(t) & reference.padding_mask(lengths, t)
    checks.close(student.mha_forward(state, d_model, n_heads, x, mask),
                 reference.mha_forward(state, d_model, n_heads, x, mask),
                 what=f"MultiHeadAttention(d_model={d_model}, n_heads={n_heads})", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.mha(reference_module, reference, state, d_model, n_heads, x, mask))


def test_dropout_only_in_training(student, reference_module, gen, seed):
    d_model, n_heads = 16, 4
    state = draw.state_like(reference_module.MultiHeadAttention(d_model, n_heads).state_dict(), gen)
    x = draw.normal(gen, 2, 8, d_model)
    eval1, eval2, train1, train2 = student.mha_dropout(state, d_model, n_heads, 0.5, x, seed)
    if not torch.equal(eval1, eval2):
        checks.fail("in eval mode MultiHeadAttention must be deterministic: dropout applies only when "
                    "self.training is True")
    if torch.allclose(train1, eval1) or torch.allclose(train1, train2):
        checks.fail("with dropout=0.5 in training mode the output did not change: pass "
                    "dropout_p=self.dropout to the attention when self.training is True")
