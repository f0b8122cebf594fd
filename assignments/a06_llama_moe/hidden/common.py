"""Shared inputs for a06's hidden tests: small Llama configurations drawn at grade time
(distinct key/value heads, a drawn RoPE base and eps), and random weights with the
reference's names."""

from __future__ import annotations

import torch

from autograder.grade import draw

RTOL, ATOL = 1e-8, 1e-10     # float64; correct code agrees with the reference to ~1e-13


def config(gen, **overrides) -> dict:
    n_kv = draw.choice(gen, [2, 3])                  # at least 2 kv heads, so the head mapping shows
    n_heads = n_kv * draw.choice(gen, [2, 3])        # at least 2 query heads per kv head
    d_head = draw.choice(gen, [4, 8])
    cfg = {"vocab_size": draw.integer(gen, 40, 90), "context_length": 24, "d_model": n_heads * d_head,
           "n_layers": draw.integer(gen, 1, 2), "n_heads": n_heads, "n_kv_heads": n_kv,
           "hidden_dim": draw.integer(gen, 8, 40), "norm_eps": draw.choice(gen, [1e-5, 1e-6]),
           "rope_theta": draw.choice(gen, [100.0, 10000.0, 500000.0]),
           "rope_interleaved": False, "tie_embeddings": False}
    return {**cfg, **overrides}


def norm_weight(gen, d: int) -> torch.Tensor:
    return 1 + 0.2 * draw.normal(gen, d)


def state_of(module: torch.nn.Module, gen) -> dict:
    """Random float64 weights shaped like ``module``'s, norms near 1 (a tied head omitted)."""
    template = dict(module.state_dict())
    if getattr(getattr(module, "config", None), "tie_embeddings", False):
        template.pop("lm_head.weight")
    state = draw.state_like(template, gen)
    for name in state:
        if name.endswith(("norm.weight", "layernorm.weight")):
            state[name] = norm_weight(gen, state[name].shape[0])
    if "embed_tokens.weight" in state:
        state["embed_tokens.weight"] *= 3            # logits of a useful size
    return state


def llama_state(ref, cfg: dict, gen) -> dict:
    return state_of(ref.Llama(ref.LlamaConfig(**cfg)), gen)


def tokens(gen, cfg: dict, batch: int, length: int) -> torch.Tensor:
    return torch.randint(0, cfg["vocab_size"], (batch, length), generator=gen)


def moe_setup(ref, gen, d=None, n_experts=None, top_k=None):
    """``(d, hidden, E, k, state, x)`` for an MoE layer; the router scaled so that routing is
    decisive (no near-ties at the top-k boundary) but not one-hot."""
    d = d or draw.choice(gen, [8, 12, 16])
    hidden = draw.integer(gen, 6, 20)
    n_experts = n_experts or draw.integer(gen, 4, 8)
    top_k = top_k or draw.integer(gen, 1, min(3, n_experts - 1))
    state = draw.state_like(ref.MoE(d, hidden, n_experts, top_k).state_dict(), gen)
    state["router.weight"] = draw.normal(gen, n_experts, d, scale=3 / d ** 0.5)
    x = draw.normal(gen, 2, draw.integer(gen, 5, 12), d)
    return d, hidden, n_experts, top_k, state, x
