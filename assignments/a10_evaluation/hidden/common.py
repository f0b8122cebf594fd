"""Shared inputs for a10's hidden tests, drawn at grade time: small random GPTs (a04's, in
float64, head tied), right-padded batches, and Markov item sets with their tokenizer."""

from __future__ import annotations

import torch

from autograder.grade import draw

RTOL, ATOL = 1e-8, 1e-10     # float64; correct code agrees with the reference to ~1e-13


def config(gen, **overrides) -> dict:
    n_heads = draw.choice(gen, [2, 4])
    cfg = {"vocab_size": draw.integer(gen, 20, 48), "context_length": 32, "d_model": 4 * n_heads,
           "n_layers": draw.integer(gen, 1, 2), "n_heads": n_heads, "dropout": 0.0}
    return {**cfg, **overrides}


def gpt_state(ref, cfg: dict, gen, logit_scale: float = 3.0) -> dict:
    """Random weights; ``wte`` scaled so the next-token distributions are far from uniform."""
    template = ref.GPT(ref.GPTConfig(**cfg)).state_dict()
    template.pop("lm_head.weight")
    state = draw.state_like(template, gen)
    state["wte.weight"] *= logit_scale
    return state


def tokens(gen, cfg: dict, *shape: int) -> torch.Tensor:
    return torch.randint(0, cfg["vocab_size"], shape, generator=gen)


def padded_batch(gen, cfg: dict, lengths: list[int], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of the given real lengths, right-padded with ``pad_id`` to the longest: ``(idx, mask)``."""
    width = max(lengths)
    idx = torch.full((len(lengths), width), pad_id, dtype=torch.int64)
    mask = torch.zeros(len(lengths), width, dtype=torch.bool)
    for i, n in enumerate(lengths):
        idx[i, :n] = tokens(gen, cfg, n)
        mask[i, :n] = True
    return idx, mask


def source(ref, gen, n_words: int | None = None):
    """A Markov source (the reference's given class) with a seed drawn here."""
    return ref.MarkovSource(n_words or draw.integer(gen, 10, 20), seed=draw.integer(gen, 0, 2**30))
