"""Outside oracles and documented properties for a10's reference (reference/a10_evaluation).

- Perplexity against Hugging Face transformers: GPT2LMHeadModel's own loss (labels -100 on
  padding, the shift done inside the model) on a small random configuration (no download),
  for a padded batch and for the sliding-window loop of the transformers documentation
  ("Perplexity of fixed-length models"), which scores the same tokens when stride < window.
- KL against ``F.kl_div(..., reduction="batchmean", log_target=True)`` and its token-level
  ``reduction="none"`` sum, also for large logits.
- The item set: the chain scored through ``evaluate`` equals ``MarkovSource.ceiling``, and
  the three rules differ on it; the module's doctest runs.

transformers is a test dependency only, never a student one.
"""

from __future__ import annotations

import doctest
import math
import sys

import pytest
import torch
import torch.nn.functional as F

from autograder.harness import local
from tests.conftest import ROOT

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: threads only add overhead (10x on a loaded 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def ev():
    folders = [str(ROOT / "reference" / a) for a in ("a10_evaluation", "a04_gpt", "a03_attention")]
    sys.path[:0] = folders
    try:
        return local.load_file("_oracle_evaluation", ROOT / "reference" / "a10_evaluation" / "evaluation.py")
    finally:
        del sys.path[:len(folders)]


@pytest.fixture(scope="module")
def hf():
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=97, n_positions=64, n_embd=32, n_layer=2, n_head=4, resid_pdrop=0.0,
                                     embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config).double().eval()
    with torch.no_grad():
        model.transformer.wte.weight.mul_(20)        # confident predictions, far from uniform
    return model


def logits_of(model):
    def run(idx):
        with torch.no_grad():
            return model(idx).logits
    return run


def test_padded_batch_perplexity_equals_gpt2_loss(ev, hf):
    gen = torch.Generator().manual_seed(1)
    lengths = [30, 17, 9, 24]
    idx = torch.randint(0, 97, (4, 30), generator=gen)
    mask = torch.arange(30)[None] < torch.tensor(lengths)[:, None]
    labels = idx.masked_fill(~mask, -100)
    with torch.no_grad():
        loss = hf(idx, attention_mask=mask.long(), labels=labels).loss     # mean NLL over real targets
    nll, count = ev.sequence_nll(logits_of(hf), idx, mask)
    assert count == sum(n - 1 for n in lengths)
    # transformers computes its loss in float32 (ForCausalLMLoss upcasts to float); a scoring
    # bug (one token more or less, padding counted) moves the mean NLL by ~1e-2
    torch.testing.assert_close(nll / count, loss.double(), rtol=2e-6, atol=0.0)
    torch.testing.assert_close(ev.perplexity(nll, count), loss.double().exp(), rtol=2e-6, atol=0.0)


@pytest.mark.parametrize("window, stride", [(16, 4), (16, 15), (32, 8), (10, 7)])
def test_sliding_window_equals_the_transformers_recipe(ev, hf, window, stride):
    ids = torch.randint(0, 97, (1, 101), generator=torch.Generator().manual_seed(2))
    n, total, count, prev_end = ids.shape[1], 0.0, 0, 0
    for begin in range(0, n, stride):               # transformers docs, "Perplexity of fixed-length models"
        end = min(begin + window, n)
        trg_len = end - prev_end
        input_ids = ids[:, begin:end]
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        with torch.no_grad():
            loss = hf(input_ids, labels=target_ids).loss
        valid = int((target_ids[:, 1:] != -100).sum())        # the model shifts: the first label is dropped
        total, count, prev_end = total + loss.double() * valid, count + valid, end
        if end == n:
            break
    nll, scored = ev.sliding_window_nll(logits_of(hf), ids[0], window, stride)
    assert scored == count == n - 1
    torch.testing.assert_close(nll, total, rtol=2e-6, atol=0.0)          # transformers' float32 loss


def test_smaller_stride_gives_lower_perplexity_for_a_context_using_model(ev):
    """A model that copies the token `lag` positions back: with a stride leaving less than
    `lag` tokens of context, it cannot see the token it needs."""
    lag, v = 6, 11
    pattern = torch.randint(0, v, (lag,), generator=torch.Generator().manual_seed(3))
    ids = pattern.repeat(20)

    def copier(idx):
        logits = torch.zeros(*idx.shape, v, dtype=torch.float64)
        if idx.shape[1] > lag - 1:
            logits[:, lag - 1:].scatter_(-1, idx[:, :idx.shape[1] - lag + 1, None], 8.0)
        return logits
    wide = ev.perplexity(*ev.sliding_window_nll(copier, ids, 12, 10))
    narrow = ev.perplexity(*ev.sliding_window_nll(copier, ids, 12, 5))
    assert narrow < wide


@pytest.mark.parametrize("scale", [1.0, 300.0])
def test_kl_equals_torch_kl_div(ev, scale):
    gen = torch.Generator().manual_seed(4)
    p = torch.randn(3, 7, 50, generator=gen, dtype=torch.float64) * scale
    q = torch.randn(3, 7, 50, generator=gen, dtype=torch.float64) * scale
    logp, logq = F.log_softmax(p, -1), F.log_softmax(q, -1)
    token = F.kl_div(logq, logp, reduction="none", log_target=True).sum(-1)
    torch.testing.assert_close(ev.kl_divergence(p, q), token, rtol=1e-10, atol=1e-10)
    batchmean = F.kl_div(logq.view(21, 50), logp.view(21, 50), reduction="batchmean", log_target=True)
    torch.testing.assert_close(ev.mean_kl(p, q), batchmean, rtol=1e-10, atol=1e-10)
    with pytest.warns(UserWarning, match="batchmean"):
        mean = F.kl_div(logq, logp, reduction="mean", log_target=True)
    assert math.isclose(mean.item() * 50, batchmean.item(), rel_tol=1e-10)   # the trap: 'mean' is batchmean / V
    mask = torch.rand(3, 7, generator=gen) < 0.6
    torch.testing.assert_close(ev.mean_kl(p, q, mask), token[mask].mean(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_true_model_reaches_the_ceiling_and_the_rules_differ(ev, seed):
    src = ev.MarkovSource(seed=seed)
    items = src.items(300, seed=seed + 10)
    got, ceiling = ev.evaluate(src.true_model(), src.tokenizer, items), src.ceiling(items)
    assert got == ceiling
    assert 0.25 < min(ceiling[r] for r in ("acc", "acc_norm_tokens", "acc_norm_chars")) < 0.9
    assert len({ceiling["acc"], ceiling["acc_norm_tokens"], ceiling["acc_norm_chars"]}) == 3


def test_item_format_matches_hellaswag(ev):
    src = ev.MarkovSource(seed=5)
    item = src.items(1, seed=6)[0]
    assert set(item) == {"ctx", "endings", "label"} and len(item["endings"]) == 4 and 0 <= item["label"] < 4
    ctx_ids, endings_ids = ev.encode_item(src.tokenizer, item["ctx"], item["endings"])
    assert src.tokenizer.decode(ctx_ids + endings_ids[0]) == item["ctx"] + " " + item["endings"][0]


def test_docstring_examples_run(ev):
    assert doctest.testmod(ev, raise_on_error=True).failed == 0
