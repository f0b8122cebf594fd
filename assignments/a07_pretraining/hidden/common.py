"""Shared inputs for a07's hidden tests: small GPT configurations and weights from the
reference's initialization, drawn at grade time."""

from __future__ import annotations

import torch

from autograder.grade import draw


def config(gen, **overrides) -> dict:
    n_heads = draw.choice(gen, [2, 4])
    cfg = {"vocab_size": draw.integer(gen, 12, 40), "context_length": 16, "d_model": n_heads * 8,
           "n_layers": draw.integer(gen, 1, 2), "n_heads": n_heads, "dropout": 0.0}
    return {**cfg, **overrides}


def init_state(ref, cfg: dict, gen, dtype=torch.float64) -> dict:
    """The reference GPT after a04's init_weights (seeded from ``gen``), head left out."""
    model = ref.GPT(ref.GPTConfig(**cfg))
    ref.init_weights(model, torch.Generator().manual_seed(draw.integer(gen, 0, 2**30)))
    return {k: v.detach().to(dtype).clone() for k, v in model.state_dict().items() if k != "lm_head.weight"}


def tokens(gen, vocab: int, *shape: int) -> torch.Tensor:
    return torch.randint(0, vocab, shape, generator=gen)


def profile(request) -> tuple[str, str]:
    """``(name, device)`` of the runner profile being graded."""
    from autograder.grade.plugin import STATE
    p = request.config.stash[STATE].profile
    return p.name, p.device
