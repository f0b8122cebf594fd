"""Known mistakes in a04, recomputed on the trusted side by patching the reference."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.grade.checks import patched


def layer_norm(x, weight, bias, eps) -> list:
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=False)
    return [("the variance is unbiased (divided by d - 1); LayerNorm divides by d",
             (x - mean) / torch.sqrt(x.var(-1, keepdim=True, unbiased=True) + eps) * weight + bias),
            ("eps is added outside the square root: use sqrt(var + eps)", (x - mean) / (torch.sqrt(var) + eps) * weight + bias),
            ("eps is missing", (x - mean) / torch.sqrt(var) * weight + bias),
            ("weight and bias are not applied", (x - mean) / torch.sqrt(var + eps)),
            ("the mean is averaged over the batch too, so it mixes the batch: each position's mean is over its own "
             "d features", (x - mean.mean(0, keepdim=True)) / torch.sqrt(var + eps) * weight + bias),
            ("the mean and variance are over the whole tensor, so it mixes the batch: take them over the last "
             "dimension", (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + eps) * weight + bias)]


def gelu(x) -> list:
    return [("this is the exact (erf) GELU; GPT-2 uses the tanh approximation", F.gelu(x)),
            ("x * sigmoid(1.702 x) is another approximation; GPT-2 uses the tanh one", x * torch.sigmoid(1.702 * x)),
            ("the 0.044715 x^3 term is missing", 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * x)))]


def _forward_with(ref, reference, op, args, **replacements):
    with patched(ref, **replacements):
        return getattr(reference, op)(*args)


def attention(ref, reference, args) -> list:
    def kqv_split(self, x, cache=None):
        k, q, v = self.c_attn(x).split(x.shape[-1], dim=-1)
        q, k, v = (ref.split_heads(t, self.n_heads) for t in (q, k, v))
        out = ref.scaled_dot_product_attention(q, k, v, ref.causal_mask(q.shape[2], k.shape[2]))
        return self.c_proj(ref.merge_heads(out))

    def no_mask(t_q, t_k=None, device=None):
        return torch.ones(t_q, t_q if t_k is None else t_k, dtype=torch.bool)

    out = []
    original = ref.CausalSelfAttention.forward
    ref.CausalSelfAttention.forward = kqv_split
    try:
        out.append(("c_attn's output is [q | k | v]: split it in that order", reference.attention_forward(*args)))
    finally:
        ref.CausalSelfAttention.forward = original
    out.append(("no causal mask: every position sees the future",
                _forward_with(ref, reference, "attention_forward", args, causal_mask=no_mask)))
    return out


def block(ref, reference, args) -> list:
    def post_ln(self, x, cache=None):
        x = self.ln_1(x + self.attn(x, cache))
        return self.ln_2(x + self.mlp(x))

    def no_residual(self, x, cache=None):
        x = self.attn(self.ln_1(x), cache)
        return self.mlp(self.ln_2(x))

    out = []
    original = ref.Block.forward
    for label, forward in (("post-LN (x = ln(x + f(x))); GPT-2 is pre-LN: x = x + f(ln(x))", post_ln),
                           ("the residual connections are missing: x = x + f(ln(x))", no_residual)):
        ref.Block.forward = forward
        try:
            out.append((label, reference.block_forward(*args)))
        finally:
            ref.Block.forward = original
    return out


def positions_restart(ref, reference, args) -> list:
    """Cached chunks whose positions start at 0 again instead of after the cache."""
    def forward(self, idx, caches=None):
        positions = torch.arange(idx.shape[1], device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(positions))
        for i, block in enumerate(self.h):
            x = block(x, caches[i] if caches else None)
        return self.lm_head(self.ln_f(x))

    original = ref.GPT.forward
    ref.GPT.forward = forward
    try:
        return [("positions restart at 0 for every chunk: start at len(caches[0])", reference.model_logits(*args))]
    finally:
        ref.GPT.forward = original
