"""Hidden tests, task generation: top-k and top-p filters exactly, the greedy limits,
sampling distributions (seeded chi-square), generated tokens against the reference
(cropping past the context), and cached equal to uncached."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import config, gpt_state, tokens

pytestmark = pytest.mark.task("generation")


def kept(logits: torch.Tensor) -> list:
    return torch.isfinite(logits).int().tolist()


def test_top_k_keeps_the_k_largest_and_their_ties(student, reference, gen):
    logits = draw.normal(gen, 3, 20, scale=2.0)
    logits[0, 3] = logits[0, 7] = logits[0].max() + 1          # a tie at the top
    for k in (1, 2, 5):
        expected = reference.filter_logits(logits, k, None)
        got = checks.tensor(student.filter_logits(logits, k, None), what=f"filter_logits(top_k={k})",
                            shape=logits.shape, finite=False)
        if kept(got) != kept(expected):
            checks.fail(f"top_k={k} keeps {[sum(r) for r in kept(got)]} tokens per row; expected "
                        f"{[sum(r) for r in kept(expected)]} (keep every logit >= the k-th largest, ties included)")
        checks.close(got[torch.isfinite(got)], logits[torch.isfinite(expected)], what="kept logits", rtol=0, atol=0)


# No case sits on an exact tie (earlier tokens totalling p exactly): there rounding decides,
# and correct formulations (ours, Hugging Face's ascending cumsum <= 1 - p, Llama's) differ.
# 0.01 either side of a total is far above rounding and still tells the rules apart.
@pytest.mark.parametrize("probs, p", [([0.5, 0.25, 0.15, 0.1], 0.74), ([0.5, 0.25, 0.15, 0.1], 0.76),
                                      ([0.5, 0.3, 0.15, 0.05], 0.6)],
                         ids=["total_just_above_p", "total_just_below_p", "crossing_token_kept"])
def test_top_p_rule_at_the_boundary(student, reference, probs, p):
    logits = torch.log(torch.tensor([probs], dtype=torch.float64))
    got, expected = student.filter_logits(logits, None, p), reference.filter_logits(logits, None, p)
    if kept(got) != kept(expected):
        checks.fail(f"top_p={p} on probabilities {probs} keeps {kept(got)[0]}; expected {kept(expected)[0]}: keep token "
                    "j (most likely first) iff the tokens before it total less than p")


def test_top_p_on_random_logits(student, reference, gen):
    logits = draw.normal(gen, 4, 30, scale=1.5)
    for p in (0.3, 0.77, 0.95):
        got, expected = student.filter_logits(logits, None, p), reference.filter_logits(logits, None, p)
        if kept(got) != kept(expected):
            checks.fail(f"top_p={p} keeps {[sum(r) for r in kept(got)]} tokens per row; expected "
                        f"{[sum(r) for r in kept(expected)]}")


def test_limits_that_are_greedy(student, gen):
    logits = draw.normal(gen, 6, 25, scale=3.0)
    greedy = logits.argmax(-1).tolist()
    cases = {"temperature=0": (0.0, None, None), "top_k=1": (1.0, 1, None), "top_p=1e-9": (1.0, None, 1e-9),
             "temperature=1e-4": (1e-4, None, None)}
    for label, (t, k, p) in cases.items():
        got = student.sample_next(logits, t, k, p)
        checks.tensor(got, what=f"sample_next with {label}", shape=(6,), dtype=torch.int64)
        if got.tolist() != greedy:
            checks.fail(f"sample_next with {label} must pick the argmax; got {got.tolist()}, expected {greedy}")


@pytest.mark.parametrize("temperature, top_k, top_p", [(0.7, None, None), (1.3, 8, None), (1.0, None, 0.8),
                                                       (0.9, 10, 0.9)], ids=["temperature", "top_k", "top_p", "all"])
def test_sampling_follows_the_distribution(student, reference, gen, seed, temperature, top_k, top_p):
    logits = draw.normal(gen, 12, scale=1.5)
    n = 20_000
    draws = checks.tensor(student.sample_many(logits, n, temperature, top_k, top_p, seed),
                          what="sample_next draws", shape=(n,), dtype=torch.int64)
    probs = torch.softmax(reference.filter_logits((logits / temperature)[None], top_k, top_p)[0], dim=-1)
    checks.chi_square(torch.bincount(draws, minlength=12), probs,
                      what=f"{n} draws of sample_next(temperature={temperature}, top_k={top_k}, top_p={top_p})")


def test_greedy_generation_matches_reference_past_the_context(student, reference, reference_module, gen):
    cfg = config(gen)
    state = gpt_state(reference_module, cfg, gen)
    prompt = tokens(gen, cfg, 2, 10)
    got, _ = student.generate_tokens(cfg, state, prompt, 12, 0.0)          # 22 > context_length 16
    expected, _ = reference.generate_tokens(cfg, state, prompt, 12, 0.0)
    checks.tensor(got, what="generate(...)", shape=expected.shape, dtype=torch.int64)
    if not torch.equal(got, expected):
        step = int((got != expected).any(0).nonzero()[0]) - prompt.shape[1]
        # Past the context, what differs is said, not guessed: cropping the first tokens instead
        # of the last and sampling from logits[:, 0] (right while one token is fed) both show here.
        checks.fail(f"greedy generation differs from the reference from new token {step} on"
                    + (": the first token past the context length, where the model must see only the last "
                       "context_length tokens (idx[:, -context_length:]) and the next token comes from the last "
                       "position's logits" if prompt.shape[1] + step >= cfg["context_length"] else ""))


def test_cached_generation_gives_the_same_tokens(student, reference_module, gen, seed):
    # Within the context (5 + 11 = 16 tokens): refilling the caches past it is kv_generation's
    # (hardmode), and one mistake there should cost that task alone.
    cfg = config(gen)
    state = gpt_state(reference_module, cfg, gen)
    prompt = tokens(gen, cfg, 2, 5)
    for temperature, top_k in ((0.0, None), (1.0, 10)):
        plain, _ = student.generate_tokens(cfg, state, prompt, 11, temperature, top_k, None, False, seed)
        cached, _ = student.generate_tokens(cfg, state, prompt, 11, temperature, top_k, None, True, seed)
        if not torch.equal(plain, cached):
            checks.fail(f"generation with use_cache=True gives other tokens than without (temperature={temperature}, "
                        f"top_k={top_k}). A cached step feeds the model only the newest token: the next token comes "
                        "from the logits of the last position, logits[:, -1], in both paths, and the positions "
                        "continue after the cache")
