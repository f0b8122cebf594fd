"""Hidden tests, task perplexity: padded batches (shifted mask, padding excluded, invariant to
the padding), a uniform model's perplexity, and the sliding window (each token once, with
its context; one pass when the window covers the text; stride checked)."""

import math

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL, config, gpt_state, padded_batch, tokens

pytestmark = pytest.mark.task("perplexity")


def setup(reference_module, gen):
    cfg = config(gen)
    return cfg, gpt_state(reference_module, cfg, gen)


def lengths(gen, width):
    """Rows of different real lengths, at least one padded and at least one full."""
    out = [width] + [draw.integer(gen, 2, width - 2) for _ in range(draw.integer(gen, 2, 3))]
    return [out[i] for i in torch.randperm(len(out), generator=gen).tolist()]


def test_padded_batch_matches_reference(student, reference, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    rows = lengths(gen, draw.integer(gen, 8, 14))
    idx, mask = padded_batch(gen, cfg, rows, pad_id=draw.integer(gen, 0, cfg["vocab_size"] - 1))
    nll, count = student.sequence_nll_gpt(cfg, state, idx, mask)
    expected, n = reference.sequence_nll_gpt(cfg, state, idx, mask)
    scored = sum(r - 1 for r in rows)
    if count != n:
        hint = {int(mask[:, :-1].sum()): "the mask is not shifted: target t is scored iff attention_mask[:, t] "
                                         "(use attention_mask[:, 1:])",
                idx[:, 1:].numel(): "padding is counted: score only real targets"}.get(count, "")
        checks.fail(f"sequence_nll counted {checks.describe(count)} tokens for rows of real lengths {rows}; expected "
                    f"{scored} (each row of L real tokens has L - 1 targets)" + (f"\nLikely mistake: {hint}." if hint else ""))
    checks.close(checks.tensor(nll, what="nll_sum", shape=()), expected, what=f"sequence_nll for rows of real lengths {rows}",
                 rtol=RTOL, atol=ATOL)


def test_padding_does_not_change_the_score(student, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    rows = lengths(gen, 10)
    idx, mask = padded_batch(gen, cfg, rows, pad_id=0)
    wide_mask = torch.cat([mask, torch.zeros(idx.shape[0], 3, dtype=torch.bool)], dim=1)
    wider = torch.cat([idx, torch.zeros(idx.shape[0], 3, dtype=torch.int64)], dim=1)
    wider[~wide_mask] = cfg["vocab_size"] - 1                      # another pad id, three more columns
    a, b = student.sequence_nll_gpt(cfg, state, idx, mask), student.sequence_nll_gpt(cfg, state, wider, wide_mask)
    if a[1] != b[1] or not torch.allclose(a[0], b[0], rtol=1e-10, atol=1e-12):
        checks.fail(f"three more padding positions and another pad id changed sequence_nll from ({a[0].item():.6g}, {a[1]}) "
                    f"to ({b[0].item():.6g}, {b[1]}): padding must not be scored or counted")


def test_uniform_model_has_perplexity_v(student, gen):
    v = draw.integer(gen, 10, 1000)
    idx, mask = padded_batch(gen, {"vocab_size": v}, [9, 5, 7], pad_id=0)     # 8 + 4 + 6 = 18 targets
    nll, count = student.sequence_nll_uniform(v, idx, mask)
    got = student.perplexity(nll, count)
    checks.tensor(got, what="perplexity", shape=())
    if not math.isclose(got.item(), v, rel_tol=1e-9):
        checks.fail(f"a uniform model over V = {v} tokens has perplexity V; got {got.item():.6g}"
                    + (" (exp of the summed NLL: divide by the number of tokens first)"
                       if math.isclose(got.item(), v ** 18, rel_tol=1e-6) else ""))


def last_stride_per_window(ref, cfg, state, ids, window, stride):
    """The windowed sum when every window scores its last ``stride`` targets (a common slip)."""
    model = ref.GPT(ref.GPTConfig(**cfg)).double().eval()
    model.load_state_dict(state, strict=False)
    total, n = 0.0, ids.shape[0]
    with torch.no_grad():
        for start in range(0, n, stride):
            piece = ids[None, start:min(start + window, n)]
            total = total - ref.token_logprobs(model(piece), piece)[0, -stride:].sum()
            if start + window >= n:
                break
    return total


def test_sliding_window_matches_reference(student, reference, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    window = draw.integer(gen, 6, 12)
    stride = draw.integer(gen, 2, window - 2)
    n = draw.integer(gen, 3 * window, 5 * window)
    ids = tokens(gen, cfg, n)
    nll, count, calls = student.sliding_window_gpt(cfg, state, ids, window, stride)
    expected, _, expected_calls = reference.sliding_window_gpt(cfg, state, ids, window, stride)
    what = f"sliding_window_nll on {n} tokens with window {window} and stride {stride}"
    if count != n - 1:
        checks.fail(f"{what} scored {checks.describe(count)} tokens; expected {n - 1}: every token but the first is "
                    "scored exactly once" + (" (more: overlapping tokens are scored again in later windows)" if
                                             isinstance(count, int) and count > n - 1 else
                                             " (fewer: some tokens are skipped)"))
    if calls != expected_calls:
        checks.fail(f"{what}: the model was called on inputs of shapes {calls[:6]}...; expected {expected_calls[:6]}... "
                    "(windows start at 0, stride, 2 * stride, ... and end at min(start + window, N); stop at the end)")
    checks.close(checks.tensor(nll, what="nll_sum", shape=()), expected, what=what, rtol=RTOL, atol=ATOL,
                 diagnoses=[(("each window scores its last `stride` targets, so the first window's early tokens are "
                             "skipped and the last window's scored twice: score the targets after the previous "
                             "window's end"), last_stride_per_window(reference_module, cfg, state, ids, window, stride))])


def test_window_covering_the_text_is_one_pass(student, reference, reference_module, gen):
    cfg, state = setup(reference_module, gen)
    n = draw.integer(gen, 8, 20)
    ids = tokens(gen, cfg, n)
    whole, count = reference.sequence_nll_gpt(cfg, state, ids[None], torch.ones(1, n, dtype=torch.bool))
    for window, stride in ((n, draw.integer(gen, 1, n - 1)), (cfg["context_length"], 3)):
        nll, got, _ = student.sliding_window_gpt(cfg, state, ids, window, stride)
        if got != count or not torch.allclose(nll, whole, rtol=RTOL, atol=ATOL):
            checks.fail(f"with window {window} >= the text's {n} tokens and stride {stride}, sliding_window_nll gave "
                        f"({nll.item():.6g}, {got}); one pass over the text gives ({whole.item():.6g}, {count})")


@pytest.mark.parametrize("window, stride", [(8, 8), (6, 9)], ids=["stride_equals_window", "larger"])
def test_stride_must_be_smaller_than_the_window(student, reference_module, gen, window, stride):
    cfg, state = setup(reference_module, gen)
    checks.raises(ValueError, student.sliding_window_gpt, cfg, state, tokens(gen, cfg, 20), window, stride,
                  what=f"sliding_window_nll with window {window} and stride {stride}",
                  why="need 1 <= stride < window, or tokens go unscored")
