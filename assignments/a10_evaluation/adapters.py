"""How the tests call your code: build the models they name (a04 GPT from a state dict, a
uniform model, a table lookup), call your functions with them, return data.

Given code (do not edit): the public tests on your machine and the grader's hidden tests
both go through these functions. Each takes your module ``m`` first. ``config`` is a dict of
``GPTConfig`` fields; weights arrive as a state dict (no ``lm_head.weight``: it is tied) in
the dtype the test chose (float64 for numerical checks). Functions that take only tensors
(``token_logprobs``, ``choose``, ``kl_divergence``, ...) are called directly.
"""

import torch

from _harness.adapt import load_state


def _gpt(m, config: dict, state: dict):
    """A callable ids -> logits: ``m.GPT`` (a04's, given) with ``state`` loaded, eval mode, no grad."""
    model = load_state(m.GPT(m.GPTConfig(**config)), state, may_be_missing=("lm_head.weight",))

    def run(idx):
        with torch.no_grad():
            return model(idx)
    return run


def _counted(model, calls: list):
    """``model`` that records the shape of every input it is called with."""
    def run(idx):
        calls.append(list(idx.shape))
        return model(idx)
    return run


def uniform_model(vocab_size: int):
    """Every token equally likely: zero logits, float64."""
    return lambda idx: torch.zeros(*idx.shape, vocab_size, dtype=torch.float64)


def table_model(table: torch.Tensor):
    """A bigram model: the logits after token ``i`` are ``table[i]`` ``(V,)``."""
    return lambda idx: table[idx]


def sequence_nll_gpt(m, config, state, idx, attention_mask):
    return m.sequence_nll(_gpt(m, config, state), idx, attention_mask)


def sequence_nll_uniform(m, vocab_size, idx, attention_mask):
    return m.sequence_nll(uniform_model(vocab_size), idx, attention_mask)


def sliding_window_gpt(m, config, state, ids, window, stride):
    """``sliding_window_nll`` with a GPT; also the input shape of every model call."""
    calls = []
    nll, count = m.sliding_window_nll(_counted(_gpt(m, config, state), calls), ids, window, stride)
    return nll, count, calls


def encode_words(m, vocab, ctx, endings):
    """``encode_item`` with ``WordTokenizer(vocab)``."""
    return m.encode_item(m.WordTokenizer(vocab), ctx, endings)


def score_endings_gpt(m, config, state, ctx_ids, endings_ids, pad_id=0):
    """``score_endings`` with a GPT; also the input shape of every model call."""
    calls = []
    total, count = m.score_endings(_counted(_gpt(m, config, state), calls), ctx_ids, endings_ids, pad_id)
    return total, count, calls


def evaluate_table(m, table, vocab, items, pad_id=0):
    """``evaluate`` of the bigram model ``table`` with ``WordTokenizer(vocab)``."""
    return m.evaluate(table_model(table), m.WordTokenizer(vocab), items, pad_id)


def evaluate_gpt(m, config, state, vocab, items, pad_id=0):
    return m.evaluate(_gpt(m, config, state), m.WordTokenizer(vocab), items, pad_id)


def models_kl(m, config, state_p, state_q, idx, mask=None):
    """``mean_kl`` between two GPTs' next-token distributions on ``idx``: ``(KL(P||Q), KL(Q||P))``."""
    logits_p, logits_q = _gpt(m, config, state_p)(idx), _gpt(m, config, state_q)(idx)
    return m.mean_kl(logits_p, logits_q, mask), m.mean_kl(logits_q, logits_p, mask)


def bootstrap(m, correct, n_resamples, confidence, seed):
    """``bootstrap_ci`` with a generator seeded with ``seed``."""
    return m.bootstrap_ci(correct, n_resamples, confidence, torch.Generator().manual_seed(seed))
