"""a10 in the style of EleutherAI's lm-evaluation-harness, written apart from the reference:
gather-based log-likelihoods, a masked sum for perplexity, a window loop that tracks the last
scored token, continuations scored by slicing each row, and KL as a sum in log space. Only
the API (names, signatures) is the assignment's; WordTokenizer and MarkovSource are the handout's given code, copied unchanged."""

import re

import torch
import torch.nn.functional as F
from gpt import GPT, GPTConfig  # noqa: F401  (the handout's import)


def token_logprobs(logits, idx):
    logp = F.log_softmax(logits[:, :-1], dim=-1)
    return logp.gather(-1, idx[:, 1:, None]).squeeze(-1)


def sequence_nll(model, idx, attention_mask):
    with torch.no_grad():
        lp = token_logprobs(model(idx), idx)
    scored = attention_mask[:, 1:].bool()
    return -(lp * scored).sum(), int(scored.sum())


def perplexity(nll_sum, n_tokens):
    return torch.exp(nll_sum / n_tokens)


def sliding_window_nll(model, ids, window, stride):
    n = ids.numel()
    if not (1 <= stride < window) or n < 2:
        raise ValueError(f"need 1 <= stride < window and at least 2 tokens (stride {stride}, window {window}, N {n})")
    total, count, done = None, 0, 0            # done: tokens [0, done) already scored (token 0 never is)
    for begin in range(0, n, stride):
        end = min(begin + window, n)
        with torch.no_grad():
            lp = token_logprobs(model(ids[None, begin:end]), ids[None, begin:end])[0]   # targets begin+1 .. end-1
        first = max(done, 1)                    # the first target this window scores
        part = -lp[first - begin - 1:].sum()
        total = part if total is None else total + part
        count += end - first
        done = end
        if end == n:
            break
    return total, count


def encode_item(tokenizer, ctx, endings):
    return tokenizer.encode(ctx), [tokenizer.encode(" " + e) for e in endings]


def score_endings(model, ctx_ids, endings_ids, pad_id=0):
    rows = [ctx_ids + e for e in endings_ids]
    width = max(map(len, rows))
    batch = torch.tensor([r + [pad_id] * (width - len(r)) for r in rows])
    with torch.no_grad():
        logp = F.log_softmax(model(batch), dim=-1)
    c = len(ctx_ids)
    sums = torch.stack([logp[i, c - 1:c - 1 + len(e)].gather(-1, torch.tensor(e)[:, None]).sum()
                        for i, e in enumerate(endings_ids)])
    return sums, torch.tensor([len(e) for e in endings_ids], dtype=torch.int64)


def choose(sum_logprobs, n_tokens, n_chars):
    return {"acc": sum_logprobs.argmax(-1), "acc_norm_tokens": (sum_logprobs / n_tokens).argmax(-1),
            "acc_norm_chars": (sum_logprobs / n_chars).argmax(-1)}


def evaluate(model, tokenizer, items, pad_id=0):
    sums, tokens, chars, labels = [], [], [], []
    for item in items:
        ctx, ends = encode_item(tokenizer, item["ctx"], item["endings"])
        s, t = score_endings(model, ctx, ends, pad_id)
        sums.append(s), tokens.append(t), labels.append(item["label"])
        chars.append(torch.tensor([len(e) for e in item["endings"]]))
    picks = choose(torch.stack(sums), torch.stack(tokens), torch.stack(chars))
    truth = torch.tensor(labels)
    return {rule: (pick == truth).double().mean().item() for rule, pick in picks.items()} | {"n": len(items)}


def kl_divergence(logits_p, logits_q):
    log_p, log_q = F.log_softmax(logits_p, -1), F.log_softmax(logits_q, -1)
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def mean_kl(logits_p, logits_q, mask=None):
    kl = kl_divergence(logits_p, logits_q)
    if mask is None:
        return kl.mean()
    keep = mask.bool()
    return kl[keep].sum() / keep.sum()


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


def q1_uniform_perplexity():
    return float(50257)


def q2_sum_vs_per_token():
    sums, counts = torch.tensor([-4.0, -9.0]), torch.tensor([2, 6])
    return int(sums.argmax()), int((sums / counts).argmax())


def q3_smaller_stride():
    return "lower"            # every token keeps at least as much context, usually more


def bootstrap_ci(correct, n_resamples=1000, confidence=0.95, generator=None):
    values = correct.double()
    draws = torch.randint(0, len(values), (n_resamples, len(values)), generator=generator)
    accuracies = values[draws].mean(-1)
    bounds = torch.quantile(accuracies, torch.tensor([(1 - confidence) / 2, (1 + confidence) / 2], dtype=torch.float64))
    return float(bounds[0]), float(bounds[1])
