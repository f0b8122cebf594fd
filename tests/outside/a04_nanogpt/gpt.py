"""An outside-style a04 submission: GPT-2 written the way nanoGPT (karpathy/nanoGPT, model.py)
writes it, adapted only to the assignment's API (names, signatures, ValueError past the
context). Correct, so it must get full marks in both variants (tests/test_outside.py).

What differs from the reference on purpose: a persistent lower-triangular ``bias`` buffer
per attention layer (in ``state_dict()``), attention written inline with ``F.softmax`` and
an ``attn_dropout`` module, sqrt(2/pi) held as a float32 tensor, the head tied nanoGPT's
way round (``wte.weight = lm_head.weight``), ``init_weights`` by ``apply`` plus a pass over
the ``c_proj`` weights, and top-p in Hugging Face's formulation (ascending cumsum <= 1 - p).
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from attention import KVCache
from torch.nn import functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 50257
    context_length: int = 1024
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12
    dropout: float = 0.1
    layer_norm_eps: float = 1e-5


class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True, unbiased=False)
        return self.weight * (x - mu) * torch.rsqrt(var + self.eps) + self.bias


def gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(torch.sqrt(torch.tensor(2.0 / math.pi)) * (x + 0.044715 * torch.pow(x, 3.0))))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.d_model, 4 * config.d_model)
        self.c_proj = nn.Linear(4 * config.d_model, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(gelu(self.c_fc(x))))


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)
        self.c_proj = nn.Linear(config.d_model, config.d_model)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_heads, self.n_embd, self.dropout = config.n_heads, config.d_model, config.dropout
        n = config.context_length
        self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n))

    def forward(self, x, cache=None):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        q = q.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        v = v.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)
        if cache is not None:
            k, v = cache.append(k, v)
        S = k.size(2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, S - T:S, :S] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.d_model, config.layer_norm_eps)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.d_model, config.layer_norm_eps)
        self.mlp = MLP(config)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.context_length, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layers)])
        self.ln_f = LayerNorm(config.d_model, config.layer_norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight

    def forward(self, idx, caches=None):
        b, t = idx.size()
        past = len(caches[0]) if caches else 0
        if past + t > self.config.context_length:
            raise ValueError(f"Cannot forward sequence of length {past + t}, block size is only "
                             f"{self.config.context_length}")
        pos = torch.arange(past, past + t, dtype=torch.long, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for i, block in enumerate(self.h):
            x = block(x, None if caches is None else caches[i])
        return self.lm_head(self.ln_f(x))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def init_weights(model, generator=None):
    def _init(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02, generator=generator)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02, generator=generator)
        elif isinstance(module, LayerNorm):
            torch.nn.init.ones_(module.weight)
            torch.nn.init.zeros_(module.bias)

    model.apply(_init)
    for pn, p in model.named_parameters():
        if pn.endswith("c_proj.weight"):
            torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * model.config.n_layers), generator=generator)


def load_hf_state_dict(model, hf_state):
    sd = model.state_dict()
    sd_keys = [k for k in sd if not k.endswith(".attn.bias") and k != "lm_head.weight"]
    hf_keys = [k for k in hf_state if not k.endswith((".attn.masked_bias", ".attn.bias")) and k != "lm_head.weight"]
    transposed = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]
    ours = {k.removeprefix("transformer."): k for k in hf_keys}
    if sorted(ours) != sorted(sd_keys):
        raise KeyError(f"mismatched keys: {sorted(set(ours) ^ set(sd_keys))[:5]}")
    for k, hk in ours.items():
        with torch.no_grad():
            if any(k.endswith(w) for w in transposed):
                sd[k].copy_(hf_state[hk].t())
            else:
                sd[k].copy_(hf_state[hk])


def filter_logits(logits, top_k=None, top_p=None):
    if top_k is not None:
        v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        logits = logits.masked_fill(logits < v[:, [-1]], -float("Inf"))
    if top_p is not None:
        sorted_logits, sorted_indices = torch.sort(logits, descending=False)
        cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
        sorted_indices_to_remove[..., -1:] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
        logits = logits.masked_fill(indices_to_remove, -float("Inf"))
    return logits


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    probs = F.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None, use_cache=False, generator=None):
    block_size = model.config.context_length
    caches = None
    for _ in range(max_new_tokens):
        if use_cache and caches is not None and len(caches[0]) < block_size:
            logits = model(idx[:, -1:], caches)
        else:
            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
            caches = [KVCache() for _ in model.h] if use_cache else None
            logits = model(idx_cond, caches)
        idx_next = sample_next(logits[:, -1, :], temperature, top_k, top_p, generator)
        idx = torch.cat((idx, idx_next[:, None]), dim=1)
    return idx


def q1_embedding_share():
    return 38597376 / 124439808


def q2_untied_parameters():
    return 124439808 + 38597376


def q3_positions_per_cached_step():
    return 1
