"""Seeded random inputs for hidden tests, drawn at grade time from the test's ``gen``.

Every draw goes through a ``torch.Generator`` so a run is reproducible from the seed in
results.json, and different runs (and students) see different inputs.
"""

from __future__ import annotations

import torch


def integer(gen: torch.Generator, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]``."""
    return int(torch.randint(low, high + 1, (1,), generator=gen))


def choice(gen: torch.Generator, options):
    return options[integer(gen, 0, len(options) - 1)]


def normal(gen: torch.Generator, *shape: int, scale: float = 1.0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=dtype) * scale


def bernoulli(gen: torch.Generator, *shape: int, p: float = 0.5) -> torch.Tensor:
    """A bool tensor, True with probability ``p``."""
    return torch.rand(*shape, generator=gen, dtype=torch.float64) < p


def state_like(template: dict[str, torch.Tensor], gen: torch.Generator, scale: float | None = None) -> dict:
    """Random float64 weights with the names and shapes of ``template`` (a state dict);
    matrices scaled by 1/sqrt(fan_in) unless ``scale`` is given."""
    out = {}
    for name, value in template.items():
        s = scale if scale is not None else (value.shape[-1] ** -0.5 if value.dim() > 1 else 0.1)
        out[name] = normal(gen, *value.shape, scale=s)
    return out
