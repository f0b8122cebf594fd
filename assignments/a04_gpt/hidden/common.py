"""Shared inputs for a04's hidden tests: small configurations drawn at grade time, and
random GPT-2 weights with the reference's names (head tied: no ``lm_head.weight``)."""

from __future__ import annotations

import torch

from autograder.grade import draw

# float64. Correct code (the reference, nanoGPT- and textbook-style, each task's calls into other
# tasks answered by the reference) uses at most 3e-5 of this tolerance; the nearest bug caught
# where it is used, LayerNorm's unbiased variance, is 5e7 times over it, the others 4e8 times or
# more (tests/benchmarks/tolerances.py a04_gpt, seeds 1-3).
RTOL, ATOL = 1e-8, 1e-10


def config(gen, **overrides) -> dict:
    n_heads = draw.choice(gen, [2, 3, 4])
    cfg = {"vocab_size": draw.integer(gen, 40, 90), "context_length": 16, "d_model": n_heads * draw.choice(gen, [4, 8]),
           "n_layers": draw.integer(gen, 1, 3), "n_heads": n_heads, "dropout": 0.0}
    return {**cfg, **overrides}


def gpt_state(ref, cfg: dict, gen) -> dict:
    template = ref.GPT(ref.GPTConfig(**cfg)).state_dict()
    template.pop("lm_head.weight")
    state = draw.state_like(template, gen)
    for name in state:
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            state[name] = 1 + 0.2 * draw.normal(gen, *state[name].shape)
    state["wte.weight"] *= 3         # logits of a useful size
    return state


def sub_state(state: dict, prefix: str) -> dict:
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


def tokens(gen, cfg: dict, batch: int, length: int) -> torch.Tensor:
    return torch.randint(0, cfg["vocab_size"], (batch, length), generator=gen)
