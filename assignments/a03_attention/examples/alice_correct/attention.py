# Alice's submission for a03_attention: complete, written her own way (einsum, masks
# via torch.where, repeat_interleave). Every test should pass.
import math

import torch
import torch.nn as nn


def softmax(x, dim=-1):
    shift = x.max(dim=dim, keepdim=True).values
    shift = shift.nan_to_num(0.0, posinf=0.0, neginf=0.0)
    e = (x - shift).exp()
    z = e.sum(dim=dim, keepdim=True)
    return e / torch.where(z == 0, torch.ones_like(z), z)


def attention_weights(q, k, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) * (1.0 / math.sqrt(q.size(-1)))
    if mask is not None:
        scores = torch.where(mask, scores, torch.full_like(scores, -math.inf))
    return softmax(scores, dim=-1)


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0):
    w = attention_weights(q, k, mask)
    if dropout_p > 0:
        keep = torch.rand_like(w) >= dropout_p
        w = w * keep / (1 - dropout_p)
    return torch.einsum("...qk,...kd->...qd", w, v)


def causal_mask(t_q, t_k=None, device=None):
    t_k = t_q if t_k is None else t_k
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(diagonal=t_k - t_q)


def padding_mask(lengths, t):
    return (torch.arange(t, device=lengths.device)[None, :] < lengths[:, None]).view(-1, 1, 1, t)


class SelfAttention(nn.Module):
    def __init__(self, d_in, d_out, bias=False):
        super().__init__()
        self.q_proj = nn.Linear(d_in, d_out, bias=bias)
        self.k_proj = nn.Linear(d_in, d_out, bias=bias)
        self.v_proj = nn.Linear(d_in, d_out, bias=bias)

    def forward(self, x, mask=None):
        return scaled_dot_product_attention(self.q_proj(x), self.k_proj(x), self.v_proj(x), mask)


def split_heads(x, n_heads):
    b, t, _ = x.shape
    return x.reshape(b, t, n_heads, -1).permute(0, 2, 1, 3)


def merge_heads(x):
    b, h, t, d = x.shape
    return x.permute(0, 2, 1, 3).contiguous().view(b, t, h * d)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, dropout=0.0, bias=True):
        super().__init__()
        self.n_heads, self.d_head, self.dropout = n_heads, d_model // n_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, cache=None):
        q, k, v = (split_heads(p(x), self.n_heads) for p in (self.q_proj, self.k_proj, self.v_proj))
        if cache is not None:
            k, v = cache.append(k, v)
        p = self.dropout if self.training else 0.0
        return self.out_proj(merge_heads(scaled_dot_product_attention(q, k, v, mask, p)))


class KVCache:
    def __init__(self):
        self.k = None
        self.v = None

    def __len__(self):
        return 0 if self.k is None else self.k.size(2)

    def append(self, k, v):
        if self.k is None:
            self.k, self.v = k, v
        else:
            self.k, self.v = torch.cat((self.k, k), 2), torch.cat((self.v, v), 2)
        return self.k, self.v


def incremental_forward(attn, x, chunk=1):
    cache, outs = KVCache(), []
    for s in range(0, x.size(1), chunk):
        piece = x[:, s:s + chunk]
        mask = causal_mask(piece.size(1), s + piece.size(1), device=x.device)
        outs.append(attn(piece, mask, cache))
    return torch.cat(outs, 1)


def repeat_kv(x, n_rep):
    return x.repeat_interleave(n_rep, dim=1)


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, dropout=0.0, bias=True):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.d_head, self.dropout = n_heads, n_kv_heads, d_model // n_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.v_proj = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, cache=None):
        q = split_heads(self.q_proj(x), self.n_heads)
        k = split_heads(self.k_proj(x), self.n_kv_heads)
        v = split_heads(self.v_proj(x), self.n_kv_heads)
        if cache is not None:
            k, v = cache.append(k, v)
        rep = self.n_heads // self.n_kv_heads
        out = scaled_dot_product_attention(q, repeat_kv(k, rep), repeat_kv(v, rep), mask,
                                           self.dropout if self.training else 0.0)
        return self.out_proj(merge_heads(out))


def q1_weights_shape():
    return (2, 8, 10, 16)


def q2_mha_parameters():
    return 4 * 512 * 513


def q3_kv_cache_bytes():
    return 12 * 2 * 1024 * 12 * 64 * 2


def q4_gqa_cache_ratio():
    return 0.25


def kv_cache_bytes(batch, seq_len, n_layers, n_kv_heads, d_head, bytes_per_element):
    return 2 * batch * seq_len * n_layers * n_kv_heads * d_head * bytes_per_element
