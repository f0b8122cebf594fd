"""a03 in another style, written apart from the reference: einsum for every contraction, a
softmax that clamps its denominator, masks from ``tril``, heads by ``unflatten``/``flatten``, key/value
heads repeated with ``repeat_interleave``. Only the names, signatures and attribute names are
the assignment's (the API its tests call); it must get full marks in both variants."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def softmax(x, dim=-1):
    # Not exp(x - logsumexp(x)): in float32 that loses 3e-5 at logits near 1000 (the public
    # test rejects it, rightly); the maximum is subtracted first instead.
    shift = torch.nan_to_num(x.amax(dim, keepdim=True), neginf=0.0)     # a slice of only -inf: no shift
    e = torch.exp(x - shift)
    return e / e.sum(dim, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)


def attention_weights(q, k, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) * q.size(-1) ** -0.5
    if mask is not None:
        scores = torch.where(mask, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
    return softmax(scores)


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0):
    p = attention_weights(q, k, mask)
    p = F.dropout(p, dropout_p) if dropout_p else p
    return torch.einsum("...qk,...kd->...qd", p, v)


def causal_mask(t_q, t_k=None, device=None):
    t_k = t_q if t_k is None else t_k
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(t_k - t_q)


def padding_mask(lengths, t):
    keep = torch.arange(t, device=lengths.device)[None, :] < lengths[:, None]
    return keep.view(len(lengths), 1, 1, t)


class SelfAttention(nn.Module):
    def __init__(self, d_in, d_out, bias=False):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = (nn.Linear(d_in, d_out, bias=bias) for _ in range(3))

    def forward(self, x, mask=None):
        return scaled_dot_product_attention(self.q_proj(x), self.k_proj(x), self.v_proj(x), mask)


def split_heads(x, n_heads):
    return x.unflatten(-1, (n_heads, -1)).transpose(1, 2)


def merge_heads(x):
    return x.transpose(1, 2).flatten(2)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, dropout=0.0, bias=True):
        super().__init__()
        self.n_heads, self.d_head, self.dropout = n_heads, d_model // n_heads, dropout
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d_model, d_model, bias=bias)
                                                                for _ in range(4))

    def forward(self, x, mask=None, cache=None):
        q, k, v = (split_heads(proj(x), self.n_heads) for proj in (self.q_proj, self.k_proj, self.v_proj))
        if cache is not None:
            k, v = cache.append(k, v)
        y = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)
        return self.out_proj(merge_heads(y))


class KVCache:
    def __init__(self):
        self.k = self.v = None

    def __len__(self):
        return 0 if self.k is None else self.k.size(2)

    def append(self, k, v):
        if self.k is None:
            self.k, self.v = k, v
        else:
            self.k, self.v = torch.cat((self.k, k), 2), torch.cat((self.v, v), 2)
        return self.k, self.v


def incremental_forward(attn, x, chunk=1):
    cache, out = KVCache(), []
    for piece in x.split(chunk, dim=1):
        out.append(attn(piece, causal_mask(piece.size(1), len(cache) + piece.size(1), x.device), cache))
    return torch.cat(out, 1)


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
        k, v = split_heads(self.k_proj(x), self.n_kv_heads), split_heads(self.v_proj(x), self.n_kv_heads)
        if cache is not None:
            k, v = cache.append(k, v)                  # the n_kv_heads heads, before repeating
        group = self.n_heads // self.n_kv_heads
        y = scaled_dot_product_attention(q, repeat_kv(k, group), repeat_kv(v, group), mask,
                                         self.dropout if self.training else 0.0)
        return self.out_proj(merge_heads(y))


def kv_cache_bytes(batch, seq_len, n_layers, n_kv_heads, d_head, bytes_per_element):
    per_position = 2 * n_layers * n_kv_heads * d_head          # a key and a value per head and layer
    return batch * seq_len * per_position * bytes_per_element


def q1_weights_shape():
    return (2, 8, 10, 6 + 10)


def q2_mha_parameters():
    return sum(p.numel() for p in MultiHeadAttention(512, 8).parameters())


def q3_kv_cache_bytes():
    return kv_cache_bytes(1, 1024, 12, 12, 64, 2)


def q4_gqa_cache_ratio():
    return 8 / 32
