"""Assignment a10_evaluation: perplexity, multiple-choice scoring (HellaSwag-style) and KL divergence.

You will measure language models the way papers report them: token log-likelihoods,
perplexity of a padded batch and of a long text through a sliding window, HellaSwag's
multiple-choice scoring with its two normalisations, and the KL divergence between two
models' next-token distributions.

Conventions used everywhere in this file:

- A *model* is any callable mapping token ids ``(B, T)`` int64 to logits ``(B, T, V)``: a04's
  ``GPT`` in eval mode, or a table lookup such as ``MarkovSource.true_model()``. Call it
  under ``torch.no_grad()`` if it has parameters.
- The shift: the logits at position ``t`` predict the token at ``t + 1``. A row of ``T``
  tokens has ``T - 1`` targets; its first token is never scored.
- Padding is on the right and marked by an attention mask (True = real token).
- Results keep the dtype of the logits (the tests use float64); counts are ints.

Uses a04's ``GPT`` (``gpt.py``, given) and through it a03's ``attention.py``. Leaves out:
training (a07) and real tokenizers (a01): the item set here has a word-level tokenizer.

References: karpathy/build-nanogpt ``hellaswag.py``; EleutherAI lm-evaluation-harness
(``acc``, ``acc_norm``); Hugging Face "Perplexity of fixed-length models".
"""

# %% [markdown]
# # a10 · Evaluating language models
#
# Three numbers summarise most language-model evaluations: **perplexity** (how surprised
# the model is by held-out text), **multiple-choice accuracy** (HellaSwag: which ending of a
# sentence does the model find most likely) and **KL divergence** (how far one model's
# predictions are from another's). Each has conventions that change the number; this
# assignment pins them down.
#
# **How to work.** Complete every `YOUR CODE HERE` (in this notebook or in `evaluation.py`;
# submit the one you worked in). Run the public tests with `pytest -q`.

# %%
import re

import torch
import torch.nn.functional as F  # noqa: F401  (yours to use; see the KL section for its pitfalls)
from gpt import GPT, GPTConfig  # noqa: F401  (a04's model, given: the tests build it from weights)

# %% [markdown]
# ## 1. Token log-likelihoods
#
# For ids $x_0 \dots x_{T-1}$ the model's logits at position $t$ give
# $\log p(x_{t+1} \mid x_{\le t})$ after a log-softmax. Use `torch.log_softmax`, never
# `torch.log(torch.softmax(...))`: with large logits the softmax underflows to 0 and its
# log is $-\infty$.


# %% task=log_likelihood
def token_logprobs(logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Log-probability of every next token: logits ``(B, T, V)``, ids ``(B, T)`` -> ``(B, T - 1)``.

    Entry ``[b, t]`` is ``log p(idx[b, t + 1] | idx[b, :t + 1])``, read from ``logits[b, t]``.

    >>> token_logprobs(torch.zeros(1, 3, 4), torch.tensor([[0, 1, 2]]))   # uniform over V = 4
    tensor([[-1.3863, -1.3863]])
    """
    ### BEGIN SCAFFOLD
    # log_softmax over V of the positions that have a next token, then gather the next tokens
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    return logp.gather(-1, idx[:, 1:, None]).squeeze(-1)
    ### END SOLUTION


# %% [markdown]
# ## 2. Perplexity
#
# Perplexity is $\exp$ of the mean negative log-likelihood **per scored token**, pooled
# over the whole evaluation set (not an average of per-sentence perplexities). In a padded
# batch only real targets count: target $t$ is scored iff position $t$ is a real token,
# so the mask is shifted like the targets.
#
# A text longer than the model's context is scored through a **sliding window**. Windows
# start at $0, s, 2s, \dots$ (stride $s$) and end at $\min(\text{start} + w, N)$; the last
# window is the first that reaches the end. Each window scores only the tokens no earlier
# window scored (those at or after the previous window's end), so every token
# $1 \dots N-1$ is scored exactly once, with at least $w - s$ tokens of context (all of them
# for the first window). $s = w$ would leave the first token of each window without
# context: the stride must be smaller than the window.


# %% task=perplexity
def sequence_nll(model, idx: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed negative log-likelihood of a right-padded batch and the number of scored tokens.

    Args:
        model: ids ``(B, T)`` -> logits ``(B, T, V)``.
        idx: ``(B, T)`` int64; padding (any id) only at the end of a row.
        attention_mask: ``(B, T)`` bool or 0/1, True on real tokens.

    Returns:
        ``(nll_sum, n_tokens)``: a 0-d tensor (the logits' dtype) and an int. Target
        ``idx[b, t]`` (``t >= 1``) is scored iff ``attention_mask[b, t]``.
    """
    ### BEGIN SCAFFOLD
    # token_logprobs gives (B, T - 1) for targets 1 .. T - 1: which mask columns go with them?
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    logp = token_logprobs(model(idx), idx)               # (B, T - 1): targets 1 .. T - 1
    scored = attention_mask[:, 1:].bool()
    return -logp[scored].sum(), int(scored.sum())
    ### END SOLUTION


def perplexity(nll_sum: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """``exp(nll_sum / n_tokens)``, a 0-d tensor. A uniform model over ``V`` tokens gets ``V``."""
    ### BEGIN SOLUTION
    return torch.exp(nll_sum / n_tokens)
    ### END SOLUTION


def sliding_window_nll(model, ids: torch.Tensor, window: int, stride: int) -> tuple[torch.Tensor, int]:
    """Summed negative log-likelihood of a long text ``ids`` ``(N,)``, window by window (rules above).

    Returns ``(nll_sum, n_tokens)`` with ``n_tokens == N - 1``. Each window is one model
    call on ``ids[None, start:end]``.

    Raises:
        ValueError: unless ``1 <= stride < window`` and ``N >= 2``.
    """
    ### BEGIN SCAFFOLD
    n = ids.shape[0]
    # first: ValueError unless 1 <= stride < window and n >= 2
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    if not 1 <= stride < window or n < 2:
        raise ValueError(f"need 1 <= stride < window and at least 2 tokens; got stride {stride}, window {window}, "
                         f"{n} tokens")
    ### END SOLUTION
    ### BEGIN SCAFFOLD
    nll, count, scored_to = 0.0, 0, 1                    # targets before scored_to are done (token 0 has none)
    for start in range(0, n, stride):
        end = min(start + window, n)
        piece = ids[None, start:end]
        # score the targets scored_to .. end - 1 of this window, then move scored_to; stop at the end
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        logp = token_logprobs(model(piece), piece)[0]    # targets start + 1 .. end - 1
        new = logp[scored_to - start - 1:]               # targets scored_to .. end - 1
        nll, count, scored_to = nll - new.sum(), count + new.numel(), end
        if end == n:
            break
    return nll, count
    ### END SOLUTION


# %% [markdown]
# ## 3. Multiple choice, HellaSwag's way
#
# A HellaSwag item is a context (`ctx`), four `endings` and the index of the true one
# (`label`). Each ending is scored by the **summed log-likelihood of its own tokens** given
# the context; the context's tokens are not scored. Two details change the numbers:
#
# - **The leading space.** The ending continues the context's text, so it is encoded as
#   `tokenizer.encode(" " + ending)`: in GPT-2's vocabulary (and in ours) `" dog"` and
#   `"dog"` are different tokens, and the model has only ever seen the first after a word.
# - **The shift.** In the row `ctx + ending`, ending token $j$ sits at position
#   $c + j$ ($c$ = context length) and is predicted by the logits at $c + j - 1$.
#
# All endings of an item go through the model as one batch, right-padded to the longest.


# %% task=multiple_choice
def encode_item(tokenizer, ctx: str, endings: list[str]) -> tuple[list[int], list[list[int]]]:
    """``(context ids, [ids of each ending])``: the context as is, each ending with a leading space."""
    ### BEGIN SOLUTION
    return tokenizer.encode(ctx), [tokenizer.encode(" " + ending) for ending in endings]
    ### END SOLUTION


def score_endings(model, ctx_ids: list[int], endings_ids: list[list[int]],
                  pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-likelihood of each ending's tokens after the context, in one model call.

    The rows ``ctx_ids + ending`` are right-padded with ``pad_id`` into one ``(E, T)`` batch.
    Returns ``(sum_logprobs, n_tokens)``: ``(E,)`` in the logits' dtype, and ``(E,)`` int64
    (each ending's token count). Neither depends on ``pad_id`` or on the order of the endings.
    """
    ### BEGIN SCAFFOLD
    rows = [ctx_ids + ending for ending in endings_ids]
    idx = torch.full((len(rows), max(map(len, rows))), pad_id, dtype=torch.int64)
    for i, row in enumerate(rows):
        idx[i, :len(row)] = torch.tensor(row)
    # mark each ending's tokens in an (E, T) bool mask, then line it up with the shifted targets
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    mask = torch.zeros(idx.shape, dtype=torch.bool)      # True on the endings' tokens
    for i, row in enumerate(rows):
        mask[i, len(ctx_ids):len(row)] = True
    logp = token_logprobs(model(idx), idx)               # (E, T - 1): entry t scores token t + 1
    scored = mask[:, 1:]
    return torch.where(scored, logp, 0.0).sum(-1), scored.sum(-1)
    ### END SOLUTION


# %% [markdown]
# ## 4. Accuracy: `acc` and `acc_norm`
#
# `acc` picks the ending with the largest summed log-likelihood. A sum favours short
# endings (every extra token adds a negative term), so `acc_norm` divides by the ending's
# length first, and the two standard tools disagree on the unit:
#
# - `acc_norm_tokens`: per **token**, as build-nanogpt (and llm.c) do;
# - `acc_norm_chars`: per **character** of the ending string (without the leading space),
#   as lm-evaluation-harness does (`len(choice)`); independent of the tokenizer, so
#   comparable across models.
#
# Pick by the largest log-likelihood (equivalently the smallest loss).


# %% task=accuracy
def choose(sum_logprobs: torch.Tensor, n_tokens: torch.Tensor, n_chars: torch.Tensor) -> dict[str, torch.Tensor]:
    """The chosen ending of each item under each rule: inputs ``(N, E)``, outputs ``(N,)`` int64.

    Keys ``"acc"`` (largest sum), ``"acc_norm_tokens"`` (largest sum / n_tokens) and
    ``"acc_norm_chars"`` (largest sum / n_chars).
    """
    ### BEGIN SOLUTION
    return {"acc": sum_logprobs.argmax(-1), "acc_norm_tokens": (sum_logprobs / n_tokens).argmax(-1),
            "acc_norm_chars": (sum_logprobs / n_chars).argmax(-1)}
    ### END SOLUTION


def evaluate(model, tokenizer, items: list[dict], pad_id: int = 0) -> dict:
    """Accuracy of ``model`` on HellaSwag-format ``items`` (dicts with ``ctx``, ``endings``, ``label``).

    Returns ``{"acc", "acc_norm_tokens", "acc_norm_chars"}`` as floats in [0, 1] and ``"n"``
    (the number of items).
    """
    ### BEGIN SCAFFOLD
    # per item: encode_item, score_endings, and the endings' character counts; then choose once
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    sums, n_tokens, n_chars = [], [], []
    for item in items:
        ctx_ids, endings_ids = encode_item(tokenizer, item["ctx"], item["endings"])
        total, count = score_endings(model, ctx_ids, endings_ids, pad_id)
        sums.append(total)
        n_tokens.append(count)
        n_chars.append(torch.tensor([len(ending) for ending in item["endings"]]))
    picks = choose(torch.stack(sums), torch.stack(n_tokens), torch.stack(n_chars))
    labels = torch.tensor([item["label"] for item in items])
    return {**{rule: (pick == labels).double().mean().item() for rule, pick in picks.items()}, "n": len(items)}
    ### END SOLUTION


# %% [markdown]
# ## 5. KL divergence between next-token distributions
#
# $$\mathrm{KL}(P \,\|\, Q) = \sum_v p_v (\log p_v - \log q_v) \;\ge\; 0,$$
#
# zero iff $P = Q$, and **not symmetric**. The *forward* KL of a model $Q$ from a reference
# $P$ (the data, or a base model) weighs the errors where $P$ has mass; the *reverse*
# $\mathrm{KL}(Q\|P)$ punishes $Q$ for putting mass where $P$ has none (the penalty RLHF puts
# on a fine-tuned model, measured against its base). Compute both distributions with
# `log_softmax` and stay in log space.
#
# `F.kl_div(input, target)` has two traps: `input` must be $\log q$ and `target` is $p$
# (or $\log p$ with `log_target=True`), so it computes $\mathrm{KL}(p\|q)$ with the
# arguments in the opposite order to the notation; and its default `reduction="mean"`
# divides by the number of *elements* (positions x V), which is not the KL. With
# `reduction="batchmean"` on `(positions, V)` inputs it is the mean KL per position.


# %% task=kl
def kl_divergence(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
    """Token-level ``KL(P || Q)`` of ``P = softmax(logits_p)``, ``Q = softmax(logits_q)``.

    ``(..., V)``, ``(..., V)`` -> ``(...,)``; finite for any finite logits, however large. The
    reverse KL is ``kl_divergence(logits_q, logits_p)``.
    """
    ### BEGIN SCAFFOLD
    # log p and log q by log_softmax; p = exp(log p) is safe, log(softmax) is not
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    logp = torch.log_softmax(logits_p, dim=-1)
    logq = torch.log_softmax(logits_q, dim=-1)
    return (logp.exp() * (logp - logq)).sum(-1)
    ### END SOLUTION


def mean_kl(logits_p: torch.Tensor, logits_q: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``KL(P || Q)`` averaged over positions: logits ``(B, T, V)``, ``mask`` ``(B, T)`` (True =
    counted; None = all) -> a 0-d tensor. Unmasked, this is
    ``F.kl_div(log_softmax(logits_q), log_softmax(logits_p), reduction="batchmean", log_target=True)``
    on the logits flattened to ``(B * T, V)``."""
    ### BEGIN SOLUTION
    kl = kl_divergence(logits_p, logits_q)               # (B, T)
    if mask is None:
        return kl.mean()
    return kl[mask.bool()].mean()
    ### END SOLUTION


# %% [markdown]
# ## 6. A HellaSwag-format item set with a known ceiling
#
# Real HellaSwag needs a real model. Here the text comes from a first-order Markov chain
# over made-up words, so the true next-word distribution is known, and so is the accuracy
# of a perfect language model under each scoring rule: that of the chain itself
# (`MarkovSource.ceiling`, from exact probabilities). Each item's context is a run of the
# chain; the true ending continues it; the three distractors are runs of the chain from a
# uniformly drawn word. A model trained on the chain's text approaches the ceiling as it
# learns the chain. (Given code.)


# %%
class WordTokenizer:
    """A token is a word with or without one leading space (``"dog"``, ``" dog"``), like GPT-2's."""

    def __init__(self, vocab: list[str]):
        self.vocab = list(vocab)
        self.ids = {token: i for i, token in enumerate(self.vocab)}

    def encode(self, text: str) -> list[int]:
        return [self.ids[piece] for piece in re.findall(r" ?[^ ]+", text)]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocab[i] for i in ids)


class MarkovSource:
    """A Markov chain over ``n_words`` words; token ``i`` is word ``i``, token ``n_words + i`` is
    ``" " + word i``. ``log_transition[a, b] = log p(next word b | word a)``, float64."""

    def __init__(self, n_words: int = 24, sharpness: float = 2.0, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        words: list[str] = []
        while len(words) < n_words:
            word = "".join("abcdefghijklmnopqrstuvwxyz"[int(i)] for i in
                           torch.randint(0, 26, (int(torch.randint(1, 9, (1,), generator=gen)),), generator=gen))
            if word not in words:
                words.append(word)
        self.words, self.gen = words, gen
        self.log_transition = torch.log_softmax(sharpness * torch.randn(n_words, n_words, generator=gen,
                                                                        dtype=torch.float64), dim=-1)
        self.tokenizer = WordTokenizer(words + [" " + w for w in words])

    def walk(self, length: int, prev: int | None = None, gen: torch.Generator | None = None) -> list[int]:
        """``length`` words, continuing after word ``prev`` (None: the first word is uniform)."""
        gen, out = gen or self.gen, []
        for _ in range(length):
            probs = self.log_transition[prev].exp() if prev is not None else torch.ones(len(self.words))
            prev = int(torch.multinomial(probs, 1, generator=gen))
            out.append(prev)
        return out

    def text(self, words: list[int]) -> str:
        return " ".join(self.words[w] for w in words)

    def items(self, n: int, seed: int = 0, n_endings: int = 4) -> list[dict]:
        """``n`` items ``{"ctx", "endings", "label"}``: contexts of 6-10 words, endings of 1-4."""
        gen, out = torch.Generator().manual_seed(seed), []
        for _ in range(n):
            ctx = self.walk(int(torch.randint(6, 11, (1,), generator=gen)), None, gen)
            label = int(torch.randint(0, n_endings, (1,), generator=gen))
            endings = [self.walk(int(torch.randint(1, 5, (1,), generator=gen)), ctx[-1] if i == label else None, gen)
                       for i in range(n_endings)]
            out.append({"ctx": self.text(ctx), "endings": [self.text(e) for e in endings], "label": label})
        return out

    def true_model(self):
        """The chain as a model: ids ``(B, T)`` -> logits ``(B, T, 2 * n_words)``, the log-probabilities
        of the next token (-1e9 on the space-less tokens, which never follow a word: zero
        probability, but finite, so a loss multiplied by a 0/1 mask stays finite)."""
        w = len(self.words)
        table = torch.full((2 * w, 2 * w), -1e9, dtype=torch.float64)
        table[:, w:] = self.log_transition.repeat(2, 1)
        return lambda idx: table[idx]

    def ceiling(self, items: list[dict]) -> dict:
        """The chain's own accuracy on ``items`` under each rule, from exact log-probabilities."""
        ids = {word: i for i, word in enumerate(self.words)}
        hits = {"acc": 0, "acc_norm_tokens": 0, "acc_norm_chars": 0}
        for item in items:
            prev = ids[item["ctx"].split()[-1]]
            scores = {rule: [] for rule in hits}
            for ending in item["endings"]:
                words = [ids[w] for w in ending.split()]
                logp = sum(self.log_transition[a, b].item() for a, b in zip([prev] + words, words))
                scores["acc"].append(logp)
                scores["acc_norm_tokens"].append(logp / len(words))
                scores["acc_norm_chars"].append(logp / len(ending))
            for rule, values in scores.items():
                hits[rule] += max(range(len(values)), key=values.__getitem__) == item["label"]
        return {rule: count / len(items) for rule, count in hits.items()} | {"n": len(items)}


### BEGIN STANDARD
# %% [markdown]
# ## 7. Questions
#
# Answer by returning a value (work it out by hand or with code; only the value is checked).

# %% task=questions
def q1_uniform_perplexity() -> float:
    """The perplexity of a model that gives every one of GPT-2's 50,257 tokens the same probability."""
    ### BEGIN SOLUTION
    return 50257.0
    ### END SOLUTION


def q2_sum_vs_per_token() -> tuple[int, int]:
    """Ending 0 has 2 tokens and summed log-likelihood -4.0; ending 1 has 6 tokens and -9.0.
    Which does ``acc`` pick, and which ``acc_norm_tokens``? Return ``(acc pick, acc_norm pick)``."""
    ### BEGIN SOLUTION
    return (0, 1)
    ### END SOLUTION


def q3_smaller_stride() -> str:
    """For a model that uses its context, does halving the stride of the sliding window make the
    perplexity ``"lower"``, ``"higher"`` or leave it ``"unchanged"``?"""
    ### BEGIN SOLUTION
    return "lower"
    ### END SOLUTION
### END STANDARD


### BEGIN HARDMODE
# %% [markdown]
# ## 7. Advanced build: confidence intervals by the bootstrap
#
# An accuracy on 500 items is an estimate; its percentile bootstrap interval is found by
# resampling the items **with replacement**, recomputing the accuracy each time, and
# reading the quantiles of those accuracies. Exactly: ``idx = torch.randint(0, N,
# (n_resamples, N), generator=generator)``, ``acc = correct[idx].mean(-1)``, then
# ``torch.quantile(acc, [(1 - c) / 2, (1 + c) / 2])`` (c = ``confidence``; linear
# interpolation, torch's default). With the same generator, everyone gets the same interval.

# %% task=bootstrap
def bootstrap_ci(correct: torch.Tensor, n_resamples: int = 1000, confidence: float = 0.95,
                 generator: torch.Generator | None = None) -> tuple[float, float]:
    """``(low, high)`` percentile-bootstrap interval of the accuracy of ``correct`` ``(N,)`` (bool or 0/1)."""
    ### BEGIN SOLUTION
    n = correct.shape[0]
    idx = torch.randint(0, n, (n_resamples, n), generator=generator)
    acc = correct.double()[idx].mean(-1)
    low, high = torch.quantile(acc, torch.tensor([(1 - confidence) / 2, (1 + confidence) / 2], dtype=torch.float64))
    return low.item(), high.item()
    ### END SOLUTION
### END HARDMODE
