"""Public tests for a10_evaluation. Run `pytest -q` in this folder.

`student` is your submission: `student.token_logprobs(...)` calls your `token_logprobs`,
`student.sequence_nll_gpt(...)` calls the adapter of that name in adapters.py, which builds
a04's GPT from weights and passes it to your `sequence_nll`. Expected values come from
PyTorch's own functions or from properties every correct implementation has.
"""

import math

import pytest
import torch
import torch.nn.functional as F

torch.manual_seed(0)
TINY = {"vocab_size": 30, "context_length": 32, "d_model": 16, "n_layers": 1, "n_heads": 2, "dropout": 0.0}


def tiny_state(config=TINY):
    """Random weights with GPT-2's names for the TINY configuration (head tied: no lm_head)."""
    d, v = config["d_model"], config["vocab_size"]
    state = {"wte.weight": torch.randn(v, d), "wpe.weight": torch.randn(config["context_length"], d) * 0.3,
             "ln_f.weight": torch.ones(d), "ln_f.bias": torch.zeros(d)}
    for i in range(config["n_layers"]):
        for name, (rows, cols) in {"attn.c_attn": (3 * d, d), "attn.c_proj": (d, d),
                                   "mlp.c_fc": (4 * d, d), "mlp.c_proj": (d, 4 * d)}.items():
            state[f"h.{i}.{name}.weight"] = torch.randn(rows, cols) / math.sqrt(cols)
            state[f"h.{i}.{name}.bias"] = torch.zeros(rows)
        for ln in ("ln_1", "ln_2"):
            state[f"h.{i}.{ln}.weight"], state[f"h.{i}.{ln}.bias"] = torch.ones(d), torch.zeros(d)
    return {k: v.double() for k, v in state.items()}


@pytest.mark.task("log_likelihood")
def test_token_logprobs_match_cross_entropy(student):
    logits, idx = torch.randn(2, 6, 11, dtype=torch.float64), torch.randint(0, 11, (2, 6))
    expected = -F.cross_entropy(logits[:, :-1].reshape(-1, 11), idx[:, 1:].reshape(-1), reduction="none").view(2, 5)
    torch.testing.assert_close(student.token_logprobs(logits, idx), expected,
                               msg="token_logprobs[b, t] = log p(idx[b, t + 1]) from logits[b, t] (the shift)")


@pytest.mark.task("perplexity")
def test_uniform_model_has_perplexity_v(student):
    idx, mask = torch.randint(0, 50, (2, 7)), torch.tensor([[1] * 7, [1] * 4 + [0] * 3]).bool()
    nll, count = student.sequence_nll_uniform(50, idx, mask)
    assert count == 6 + 3, f"rows of 7 and 4 real tokens have 6 + 3 targets; got {count}"
    assert math.isclose(student.perplexity(nll, count).item(), 50, rel_tol=1e-9)


@pytest.mark.task("perplexity")
def test_sliding_window_scores_every_token_once(student):
    ids = torch.randint(0, TINY["vocab_size"], (40,))
    _, count, calls = student.sliding_window_gpt(TINY, tiny_state(), ids, 16, 8)
    assert count == 39, f"a text of 40 tokens has 39 targets, each scored once; got {count}"
    assert calls == [[1, 16], [1, 16], [1, 16], [1, 16]], f"windows [0,16) [8,24) [16,32) [24,40); got {calls}"


@pytest.mark.task("multiple_choice")
def test_scores_sum_the_endings_tokens_only(student):
    state, ctx, endings = tiny_state(), [3, 4, 5], [[6], [7, 8, 9]]
    total, count, calls = student.score_endings_gpt(TINY, state, ctx, endings)
    assert count.tolist() == [1, 3] and calls == [[2, 6]], (count, calls)
    one, _, _ = student.score_endings_gpt(TINY, state, ctx, endings[1:])
    torch.testing.assert_close(total[1:], one, msg="an ending's score must not depend on the other endings' padding")


@pytest.mark.task("accuracy")
def test_choose_on_a_worked_example(student):
    sums, n_tokens, n_chars = torch.tensor([[-4.0, -9.0]]), torch.tensor([[2, 6]]), torch.tensor([[3, 40]])
    picks = student.choose(sums, n_tokens, n_chars)
    assert [picks[k].item() for k in ("acc", "acc_norm_tokens", "acc_norm_chars")] == [0, 1, 1], picks


@pytest.mark.task("kl")
def test_mean_kl_matches_torch_batchmean(student):
    p, q = torch.randn(2, 5, 13, dtype=torch.float64), torch.randn(2, 5, 13, dtype=torch.float64) * 2
    expected = F.kl_div(F.log_softmax(q, -1).view(10, 13), F.log_softmax(p, -1).view(10, 13), reduction="batchmean",
                        log_target=True)
    torch.testing.assert_close(student.mean_kl(p, q), expected, msg="mean_kl(p, q) is the mean over positions of KL(P || Q)")
    assert (student.kl_divergence(p, q) >= 0).all() and student.kl_divergence(p, p).abs().max() < 1e-12


### BEGIN STANDARD
@pytest.mark.task("questions")
def test_answers_have_the_right_types(student):
    assert isinstance(student.q1_uniform_perplexity(), float)
    assert len(student.q2_sum_vs_per_token()) == 2
    assert student.q3_smaller_stride() in ("lower", "higher", "unchanged")
### END STANDARD


### BEGIN HARDMODE
@pytest.mark.task("bootstrap")
def test_bootstrap_interval_contains_the_accuracy(student):
    correct = torch.rand(400) < 0.7
    low, high = student.bootstrap(correct, 500, 0.95, 0)
    assert low < correct.double().mean().item() < high, (low, high)
### END HARDMODE
