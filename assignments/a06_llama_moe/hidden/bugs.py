"""Known mistakes in a06, recomputed on the trusted side (by formula, or by patching the
reference) so that a failure names the mistake only when the output reproduces it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from autograder.grade.checks import patched


def rms_norm(x, weight, eps) -> list:
    h = x.double()
    ms = h.pow(2).mean(-1, keepdim=True)
    out = [("eps is added outside the square root: use rsqrt(mean(x^2) + eps)", h / (ms.sqrt() + eps)),
           ("eps is missing", h / ms.sqrt()),
           ("the mean is subtracted (that is LayerNorm); RMSNorm only rescales",
            (h - h.mean(-1, keepdim=True)) / (h.var(-1, keepdim=True, unbiased=False) + eps).sqrt()),
           ("the sum of squares is used instead of their mean", h / (h.pow(2).sum(-1, keepdim=True) + eps).sqrt())]
    if x.dtype == torch.float64:
        low = x.float()
        out.append(("float64 inputs were computed in float32: upcast low precision, never downcast",
                    (low * torch.rsqrt(low.pow(2).mean(-1, keepdim=True) + eps)).double()))
    if x.dtype == torch.float16:
        out.append(("the squares overflow in float16: compute mean(x^2) in float32, then cast back",
                    x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)))
    return [(label, (value * weight.to(value.dtype)).to(x.dtype)) for label, value in out]


def rope(ref, x, positions, theta, interleaved) -> list:
    d = x.shape[-1]
    out = [("the pairs follow the other convention: " + ("interleaved=True pairs (x_2j, x_2j+1)" if interleaved
            else "interleaved=False pairs (x_j, x_j+D/2)"), ref.apply_rope(x, positions, theta, not interleaved)),
           ("the positions start at 0 instead of the given ones", ref.apply_rope(x, positions - positions[0], theta, interleaved)),
           ("the rotation goes the wrong way: (a, b) -> (a cos + b sin, -a sin + b cos)",
            ref.apply_rope(x, -positions, theta, interleaved))]
    off_by_one = 1.0 / theta ** (torch.arange(1, d // 2 + 1, dtype=torch.float64) * 2 / d)
    with patched(ref, rope_frequencies=lambda d_head, theta=10000.0, dtype=torch.float32: off_by_one.to(dtype)):
        out.append(("the frequency exponent starts at j = 1: theta ** (-2j / D) starts at j = 0 (frequency 1)",
                    ref.apply_rope(x, positions, theta, interleaved)))
    if interleaved:
        h = x.to(torch.promote_types(x.dtype, torch.float32))
        a, b = h[..., 0::2], h[..., 1::2]
        freqs = ref.rope_frequencies(d, theta, h.dtype)
        ang = positions.to(h.dtype)[:, None] * freqs
        out.append(("the interleaved pairs are rotated but written back as halves: keep each pair in place",
                    torch.cat([a * ang.cos() - b * ang.sin(), a * ang.sin() + b * ang.cos()], -1).to(x.dtype)))
    return out


def permute_qk(ref, w, n_heads) -> list:
    rows, cols = w.shape
    d_head = rows // n_heads
    inverse = w.reshape(n_heads, 2, d_head // 2, cols).transpose(1, 2).reshape(rows, cols)
    return [("this is the inverse permutation (HF to Meta): rows 2j and 2j+1 must go to j and j + D/2", inverse),
            ("the rows are permuted across the whole matrix, not within each head", ref.permute_qk(w, 1))]


def swiglu(x, state) -> list:
    g, u, dn = state["gate_proj.weight"], state["up_proj.weight"], state["down_proj.weight"]
    return [("SiLU is applied to up_proj instead of gate_proj: down(silu(gate(x)) * up(x))",
             (F.silu(x @ u.T) * (x @ g.T)) @ dn.T),
            ("GELU instead of SiLU", (F.gelu(x @ g.T) * (x @ u.T)) @ dn.T),
            ("the gate's product with up_proj is missing: down(silu(gate(x)) * up(x))", F.silu(x @ g.T) @ dn.T)]


def _tiled(x, n_rep):
    return x.repeat(1, n_rep, 1, 1)


def attention(ref, reference, op, args) -> list:
    out = []
    with patched(ref, repeat_kv=_tiled):
        out.append((("query head h reads kv head h % H_kv (tiling, .repeat); it must read kv head h // (H / H_kv) "
                    "(repeat_interleave)"), getattr(reference, op)(*args)))
    rope = ref.apply_rope
    with patched(ref, apply_rope=lambda x, positions, theta=10000.0, interleaved=False:
                 rope(x, positions - positions[0], theta, interleaved)):
        out.append(("the positions restart at 0 in every call: with a cache they start at len(cache)",
                    getattr(reference, op)(*args)))
    with patched(ref, apply_rope=lambda x, positions, theta=10000.0, interleaved=False:
                 rope(x, positions, theta, not interleaved)):
        out.append(("RoPE uses the wrong pairing for config.rope_interleaved", getattr(reference, op)(*args)))
    with patched(ref, apply_rope=lambda x, positions, theta=10000.0, interleaved=False: x):
        out.append(("RoPE is not applied", getattr(reference, op)(*args)))
    return out


def block(ref, reference, args) -> list:
    def post_norm(self, x, cache=None):
        x = self.input_layernorm(x + self.self_attn(x, cache))
        return self.post_attention_layernorm(x + self.mlp(x))

    def one_norm(self, x, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cache)
        return x + self.mlp(self.input_layernorm(x))

    out = []
    original = ref.LlamaBlock.forward
    for label, forward in (("post-norm (x = norm(x + f(x))); Llama is pre-norm: x = x + f(norm(x))", post_norm),
                           ("input_layernorm is used before the MLP too; that is post_attention_layernorm's job",
                            one_norm)):
        ref.LlamaBlock.forward = forward
        try:
            out.append((label, reference.block_forward(*args)))
        finally:
            ref.LlamaBlock.forward = original
    return out


def balance_loss(logits, top_k, kind) -> list:
    probs = torch.softmax(logits, -1)
    e = probs.shape[-1]
    k = top_k if kind == "mixtral" else 1
    w, idx = probs.topk(k, -1)
    f = F.one_hot(idx, e).to(probs.dtype).sum(1).mean(0)
    renorm = torch.zeros_like(probs).scatter(-1, idx, w / w.sum(-1, keepdim=True)).mean(0)
    return [("P_e is taken from the renormalized top-k weights; use the mean of the full softmax",
             e * (f * renorm).sum()),
            ("the raw logits are used instead of the softmax probabilities", e * (f * logits.mean(0)).sum()),
            ("f_e is computed from the soft probabilities; count the routed slots", e * (probs.mean(0) ** 2).sum()),
            ("the factor E (number of experts) is missing", (f * probs.mean(0)).sum()),
            ("f_e is divided by k (uniform value 1); the Mixtral form counts all k slots (uniform value k)",
             e * (f / k * probs.mean(0)).sum())]
