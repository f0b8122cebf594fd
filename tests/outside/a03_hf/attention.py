# An outside-style a03 submission: attention written the way Hugging Face transformers writes
# it (modeling_llama.py and friends), filled into the hardmode handout and adapted only to its
# API. Correct, so it must get full marks in both variants (tests/test_outside.py). From
# transformers on purpose: an `eager_attention_forward` core (matmul * scaling, an additive
# mask of finfo.min, softmax upcast to float32 then cast back, nn.functional.dropout), HF's
# `repeat_kv` (expand + reshape), projections then `.view(hidden_shape).transpose(1, 2)`, a
# cache_position-style causal mask, and a DynamicCache.update-style KVCache.append.
# Adapted to the handout: a bool mask (True = may attend) becomes the additive mask; a query
# row with nothing to attend gets all-zero weights (HF's finfo.min gives it uniform ones);
# the upcast never narrows (float64 stays float64: HF's float32 is meant for half precision).
"""Assignment a03_attention: attention, from one dot product to grouped-query attention.

You will build, in order: a numerically stable softmax; scaled dot-product attention with
masks (causal and padding) and dropout on the attention weights; single-head
self-attention; multi-head attention; a key/value cache for incremental decoding; and
multi-query / grouped-query attention.

Conventions used everywhere in this file:

- Shapes: ``B`` batch, ``T`` sequence length (``T_q`` queries, ``T_k`` keys), ``H`` heads,
  ``D`` head size (``d_head``), ``d_model = H * D``. Per-head tensors are ``(B, H, T, D)``.
- A boolean mask is True where a query **may attend** to a key, and broadcasts against the
  attention scores ``(..., T_q, T_k)``.
- Scores are scaled by ``1 / sqrt(D)`` (D = the size of a query/key vector).
- A query row that may attend to nothing gets all-zero weights (and a zero output), not NaN.

Leaves out: positional information (a02), the rest of the transformer block (a04), and
fused kernels: ``torch.nn.functional.scaled_dot_product_attention`` is the production
version of what you write here; you may use it to check your work, not in your answers.

References: Vaswani et al. 2017 (Attention Is All You Need); Shazeer 2019 (multi-query
attention); Ainslie et al. 2023 (GQA).
"""

# %% [markdown]
# # a03 · Attention
#
# Attention lets every position of a sequence look at the other positions and take a
# weighted average of what it finds there. In this assignment you build it from a single
# softmax up to the grouped-query attention used by Llama-style models.
#
# **How to work.** Complete every cell marked `YOUR CODE HERE` (in this notebook or in
# `attention.py`; submit the one you worked in). Run the public tests with `pytest -q`
# from this folder. The docstrings are the specification: shapes, conventions and the
# names of attributes the tests rely on.

# %%
import math  # noqa: F401  (given)

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401  (given; HF writes nn.functional)

# %% [markdown]
# ## 1. A numerically stable softmax
#
# $\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$. Computed literally, $e^{x}$ overflows
# for logits around 90 in float32 (710 in float64) and the result becomes NaN. Subtracting
# the maximum first changes nothing mathematically and keeps every exponent $\le 0$.

# %% task=softmax
def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of ``x`` along ``dim``, stable for large inputs.

    Args:
        x: any shape, floating point; may contain ``-inf`` (masked positions).
        dim: the dimension that sums to 1.

    Returns:
        Same shape and dtype as ``x``. A slice along ``dim`` that is entirely ``-inf``
        (a query allowed to attend to nothing) comes out as all zeros, not NaN.

    Example:
        >>> softmax(torch.tensor([1000.0, 1000.0]))
        tensor([0.5000, 0.5000])
        >>> softmax(torch.tensor([float("-inf"), float("-inf")]))
        tensor([0., 0.])
    """
    x_max = x.amax(dim=dim, keepdim=True)
    x_max = torch.where(torch.isfinite(x_max), x_max, torch.zeros_like(x_max))   # an all -inf slice
    exp = torch.exp(x - x_max)
    total = exp.sum(dim=dim, keepdim=True)
    return torch.where(total > 0, exp / total, torch.zeros_like(exp))


# %% [markdown]
# ## 2. Scaled dot-product attention
#
# For queries $Q$ (T_q × D), keys $K$ (T_k × D) and values $V$ (T_k × D_v):
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{D}}\right) V$$
#
# The scores $QK^\top$ have variance about $D$ for unit-variance inputs; dividing by
# $\sqrt{D}$ keeps the softmax out of its saturated, near-one-hot regime. The softmax runs
# over the **keys** (the last dimension): each query's weights sum to 1.
#
# Masked positions get a score of $-\infty$ before the softmax, so their weight is exactly 0.

# %% task=sdpa
def attention_weights(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Attention weights ``softmax(q @ k^T / sqrt(D))`` with masking.

    Args:
        q: ``(..., T_q, D)`` queries.
        k: ``(..., T_k, D)`` keys.
        mask: optional bool tensor broadcastable to ``(..., T_q, T_k)``; True = may attend.

    Returns:
        ``(..., T_q, T_k)``; each row sums to 1 over the keys (or is all 0 if fully masked).
    """
    scaling = q.shape[-1] ** -0.5
    attn_weights = torch.matmul(q, k.transpose(-2, -1)) * scaling
    return _masked_softmax(attn_weights, mask, q.dtype)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, dropout_p: float = 0.0) -> torch.Tensor:
    """Scaled dot-product attention: ``dropout(attention_weights(q, k, mask)) @ v``.

    Args:
        q: ``(..., T_q, D)``; k: ``(..., T_k, D)``; v: ``(..., T_k, D_v)``.
        mask: optional bool, broadcastable to ``(..., T_q, T_k)``; True = may attend.
        dropout_p: probability of zeroing each attention **weight** (not each output).
            Survivors are scaled by ``1 / (1 - dropout_p)`` so the expected output is
            unchanged. Applied whenever ``dropout_p > 0``; callers pass 0 in eval mode.

    Returns:
        ``(..., T_q, D_v)``.
    """
    attn_weights = attention_weights(q, k, mask)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout_p, training=dropout_p > 0)
    return torch.matmul(attn_weights, v)


# %% [markdown]
# The core the layers share, as transformers writes it (it uses the functions above and
# `repeat_kv` of section 7).

# %%
def _masked_softmax(attn_weights: torch.Tensor, mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor:
    """HF's mask, softmax and cast: a bool ``mask`` (True = may attend) becomes an additive mask
    of ``finfo.min``; softmax upcast to float32 (never narrowed); rows with nothing to attend
    come out all zero."""
    if mask is not None:
        min_dtype = torch.finfo(attn_weights.dtype).min
        additive = torch.zeros(mask.shape, dtype=attn_weights.dtype, device=attn_weights.device)
        attn_weights = attn_weights + additive.masked_fill(~mask, min_dtype)
    upcast = torch.promote_types(attn_weights.dtype, torch.float32)
    attn_weights = softmax(attn_weights.to(upcast), dim=-1).to(dtype)
    if mask is not None:
        attn_weights = torch.where(mask.any(dim=-1, keepdim=True), attn_weights, torch.zeros_like(attn_weights))
    return attn_weights


def eager_attention_forward(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                            attention_mask: torch.Tensor | None, scaling: float, dropout: float = 0.0):
    """transformers' eager attention: ``(B, H, T_q, D)`` queries, ``(B, H_kv, T_k, D)`` keys and
    values -> ``(B, T_q, H, D)`` output (transposed back) and the ``(B, H, T_q, T_k)`` weights."""
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)

    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if attention_mask is not None:
        attention_mask = attention_mask[..., : key_states.shape[-2]]
    attn_weights = _masked_softmax(attn_weights, attention_mask, query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous()

    return attn_output, attn_weights


# %% [markdown]
# ## 3. Masks
#
# A **causal** mask lets position $i$ see positions $j \le i$ only: a language model must
# not read the token it is predicting. When the queries are the *last* $T_q$ positions of
# $T_k$ (decoding with a cache, section 6), query $i$ sits at absolute position
# $i + T_k - T_q$.
#
# A **padding** mask hides the padding at the end of shorter sequences in a batch.

# %% task=masks
def causal_mask(t_q: int, t_k: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Bool ``(t_q, t_k)``: True where query ``i`` may attend key ``j``, i.e.
    ``j <= i + (t_k - t_q)``. ``t_k`` defaults to ``t_q``.

    Example:
        >>> causal_mask(2, 3)
        tensor([[ True,  True, False],
                [ True,  True,  True]])
    """
    if t_k is None:
        t_k = t_q
    cache_position = torch.arange(t_k - t_q, t_k, device=device)   # absolute positions of the queries
    kv_arange = torch.arange(t_k, device=device)
    return kv_arange[None, :] <= cache_position[:, None]


def padding_mask(lengths: torch.Tensor, t: int) -> torch.Tensor:
    """Bool ``(B, 1, 1, t)``: True at the real tokens, positions ``< lengths[b]``.

    The two singleton dimensions broadcast against multi-head scores ``(B, H, T_q, T_k)``;
    combine with a causal mask by ``&``.

    Example:
        >>> padding_mask(torch.tensor([1, 3]), 3)[:, 0, 0]
        tensor([[ True, False, False],
                [ True,  True,  True]])
    """
    attention_mask = torch.arange(t, device=lengths.device)[None, :] < lengths[:, None]   # (B, t), 1 = real token
    return attention_mask[:, None, None, :]                                                # expanded to 4D


# %% [markdown]
# ## 4. Self-attention with learned projections
#
# In self-attention, queries, keys and values all come from the same sequence $x$ through
# three learned linear maps: $Q = xW_q$, $K = xW_k$, $V = xW_v$.

# %% task=self_attention
class SelfAttention(nn.Module):
    """Single-head self-attention.

    Attributes the tests rely on (load a state dict with exactly these names):
        ``q_proj``, ``k_proj``, ``v_proj``: ``nn.Linear(d_in, d_out, bias=bias)``.
    """

    def __init__(self, d_in: int, d_out: int, bias: bool = False):
        super().__init__()
        self.head_dim = d_out
        self.scaling = self.head_dim ** -0.5
        self.num_key_value_groups = 1
        self.q_proj = nn.Linear(d_in, d_out, bias=bias)
        self.k_proj = nn.Linear(d_in, d_out, bias=bias)
        self.v_proj = nn.Linear(d_in, d_out, bias=bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: ``(B, T, d_in)``; ``mask`` broadcastable to ``(B, T, T)``. Returns ``(B, T, d_out)``."""
        input_shape = x.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)     # a single head
        query_states = self.q_proj(x).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(x).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(x).view(hidden_shape).transpose(1, 2)
        if mask is not None and mask.dim() == 3:
            mask = mask[:, None]                             # (B, T, T) -> (B, 1, T, T), as HF expands masks
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, mask,
                                                 scaling=self.scaling, dropout=0.0)
        return attn_output.reshape(*input_shape, -1).contiguous()


# %% [markdown]
# ## 5. Multi-head attention
#
# $H$ heads attend in parallel, each in its own $D = d_{model}/H$-dimensional subspace.
# One projection computes all heads' queries at once; **splitting** reshapes
# `(B, T, H·D)` into `(B, H, T, D)`: the last dimension is laid out head by head, so
# features `h·D ... h·D + D - 1` belong to head `h`. **Merging** is the exact inverse.
# A final output projection mixes the heads.

# %% task=mha
def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``(B, T, H * D)`` -> ``(B, H, T, D)``; features ``[h*D, (h+1)*D)`` go to head ``h``."""
    head_dim = x.shape[-1] // n_heads
    hidden_shape = (*x.shape[:-1], -1, head_dim)
    return x.view(hidden_shape).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(B, H, T, D)`` -> ``(B, T, H * D)``: the inverse of ``split_heads``."""
    batch, _, seq_len, _ = x.shape
    return x.transpose(1, 2).contiguous().reshape(batch, seq_len, -1)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with dropout on the attention weights.

    Attributes the tests rely on:
        ``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``: ``nn.Linear(d_model, d_model, bias=bias)``;
        ``n_heads``, ``d_head``: ints; ``dropout``: float, the attention-weight dropout probability.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        assert d_model % n_heads == 0, "d_model must be divisible by n_heads"
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.num_key_value_groups = 1
        self.scaling = self.d_head ** -0.5
        self.dropout = dropout                 # HF's attention_dropout
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)   # HF's o_proj

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, cache: "KVCache | None" = None) -> torch.Tensor:
        """Attend from every position of ``x`` to the keys of ``x`` (plus the cache's).

        Args:
            x: ``(B, T, d_model)``, the new positions.
            mask: bool, broadcastable to ``(B, H, T, T_k)``; True = may attend. ``T_k`` is
                ``T`` plus the positions already in ``cache``.
            cache: if given, this call's keys and values are appended to it (section 6)
                and the queries attend to all cached positions.

        Returns:
            ``(B, T, d_model)``. Dropout on the attention weights only in training mode.
        """
        input_shape = x.shape[:-1]
        hidden_shape = (*input_shape, -1, self.d_head)

        query_states = self.q_proj(x).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(x).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(x).view(hidden_shape).transpose(1, 2)

        if cache is not None:
            key_states, value_states = cache.append(key_states, value_states)

        attn_output, attn_weights = eager_attention_forward(
            self, query_states, key_states, value_states, mask,
            dropout=0.0 if not self.training else self.dropout,
            scaling=self.scaling,
        )
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.out_proj(attn_output)


# %% [markdown]
# ## 6. A key/value cache for incremental decoding
#
# A decoder generates one token at a time. Without a cache, every step recomputes the keys
# and values of the whole prefix. With a cache, each step computes them for the new
# position only and appends them, so step $t$ costs $O(t)$ instead of $O(t^2)$.
#
# Run correctly, cached decoding gives the same outputs as one causal forward pass over the
# whole sequence, at every step.

# %% task=kv_cache
class KVCache:
    """Keys and values of the positions seen so far, for one attention layer.

    ``k`` and ``v`` are ``(B, H_kv, T_past, D)`` (``None`` before the first ``append``),
    where ``H_kv`` is the number of key/value heads the layer stores.
    """

    def __init__(self):
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def __len__(self) -> int:
        """Number of cached positions, ``T_past``."""
        return 0 if self.k is None else self.k.shape[2]

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add ``(B, H_kv, T_new, D)`` keys and values after the cached ones (along time).

        Returns all keys and values so far, ``(B, H_kv, T_past + T_new, D)`` each.
        """
        # DynamicCache.update, for one layer
        if self.k is None:
            self.k = k
            self.v = v
        else:
            self.k = torch.cat([self.k, k], dim=-2)
            self.v = torch.cat([self.v, v], dim=-2)
        return self.k, self.v


def incremental_forward(attn: nn.Module, x: torch.Tensor, chunk: int = 1) -> torch.Tensor:
    """Run causal self-attention ``attn`` over ``x`` a ``chunk`` of positions at a time.

    Feeds ``x[:, s:s + chunk]`` for ``s = 0, chunk, 2*chunk, ...`` through
    ``attn(x_chunk, mask, cache)`` with one ``KVCache`` and the causal mask of those queries
    over every key so far. The result must equal ``attn(x, causal_mask(T))``.

    Args:
        attn: a module called as ``attn(x, mask, cache)`` (``MultiHeadAttention``, or
            ``GroupedQueryAttention`` below).
        x: ``(B, T, d_model)``.
        chunk: positions per step; 1 is token-by-token decoding.

    Returns:
        ``(B, T, d_model)``, the chunks' outputs concatenated along time.
    """
    cache = KVCache()
    outputs = []
    for start in range(0, x.shape[1], chunk):
        x_new = x[:, start:start + chunk]
        past_seen_tokens = len(cache)
        mask = causal_mask(x_new.shape[1], past_seen_tokens + x_new.shape[1], device=x.device)
        outputs.append(attn(x_new, mask, cache))
    return torch.cat(outputs, dim=1)


# %% [markdown]
# ## 7. Multi-query and grouped-query attention
#
# The KV cache dominates inference memory: for every layer and position it stores $H$
# keys and $H$ values. **Grouped-query attention** (GQA) keeps $H$ query heads but only
# $H_{kv}$ key/value heads; each group of $H / H_{kv}$ consecutive query heads shares one
# key/value head. **Multi-query attention** (MQA) is the extreme $H_{kv} = 1$, and
# $H_{kv} = H$ is ordinary multi-head attention. The cache shrinks by $H / H_{kv}$.

# %% task=gqa
def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """``(B, H_kv, T, D)`` -> ``(B, H_kv * n_rep, T, D)``: each key/value head repeated
    ``n_rep`` times *consecutively*, so query head ``h`` uses key/value head ``h // n_rep``.

    Example (H_kv = 2, n_rep = 2): heads ``[a, b]`` become ``[a, a, b, b]``.
    """
    batch, num_key_value_heads, slen, head_dim = x.shape
    if n_rep == 1:
        return x
    hidden_states = x[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


class GroupedQueryAttention(nn.Module):
    """Grouped-query attention: ``n_heads`` query heads share ``n_kv_heads`` key/value heads.

    Attributes the tests rely on:
        ``q_proj``: ``nn.Linear(d_model, d_model, bias=bias)``;
        ``k_proj``, ``v_proj``: ``nn.Linear(d_model, n_kv_heads * d_head, bias=bias)``;
        ``out_proj``: ``nn.Linear(d_model, d_model, bias=bias)``;
        ``n_heads``, ``n_kv_heads``, ``d_head``: ints; ``dropout``: float.
    """

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        assert d_model % n_heads == 0 and n_heads % n_kv_heads == 0
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads
        self.d_head = d_model // n_heads
        self.num_key_value_groups = n_heads // n_kv_heads
        self.scaling = self.d_head ** -0.5
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, n_heads * self.d_head, bias=bias)
        self.k_proj = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.v_proj = nn.Linear(d_model, n_kv_heads * self.d_head, bias=bias)
        self.out_proj = nn.Linear(n_heads * self.d_head, d_model, bias=bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, cache: KVCache | None = None) -> torch.Tensor:
        """Like ``MultiHeadAttention.forward``. A ``cache`` stores the ``n_kv_heads`` heads
        *before* they are repeated: ``(B, n_kv_heads, T, D)``, which is the memory saving.

        Args:
            x: ``(B, T, d_model)``; mask: broadcastable to ``(B, H, T, T_k)``, True = may attend.

        Returns:
            ``(B, T, d_model)``.
        """
        input_shape = x.shape[:-1]
        hidden_shape = (*input_shape, -1, self.d_head)

        query_states = self.q_proj(x).view(hidden_shape).transpose(1, 2)    # (B, H, T, D)
        key_states = self.k_proj(x).view(hidden_shape).transpose(1, 2)      # (B, H_kv, T, D)
        value_states = self.v_proj(x).view(hidden_shape).transpose(1, 2)

        if cache is not None:       # the cache holds the key/value heads; eager_attention_forward repeats them
            key_states, value_states = cache.append(key_states, value_states)

        attn_output, attn_weights = eager_attention_forward(
            self, query_states, key_states, value_states, mask,
            dropout=0.0 if not self.training else self.dropout,
            scaling=self.scaling,
        )
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.out_proj(attn_output)


# %% [markdown]
# ## 8. Advanced build: what the cache costs
#
# Your `GroupedQueryAttention` must cache its key/value heads *before* repeating them:
# the tests check the cache tensors it holds (MQA must store $1/H$ of what MHA stores).
# Then write down what a cache costs.

# %% task=gqa_kv_cache
def kv_cache_bytes(batch: int, seq_len: int, n_layers: int, n_kv_heads: int, d_head: int,
                   bytes_per_element: int) -> int:
    """Bytes of a KV cache holding ``seq_len`` positions of ``batch`` sequences, keys and
    values, in every one of ``n_layers`` layers, ``n_kv_heads`` heads of size ``d_head``.

    Example: GPT-2 small in float16 (12 layers, 12 heads of 64) needs 36,864 bytes per token.
    """
    return 2 * batch * seq_len * n_layers * n_kv_heads * d_head * bytes_per_element   # keys and values


# %% [markdown]
# ## 9. Questions (the standard variant's section 8, answered so this file grades in both)

# %% task=questions
def q1_weights_shape() -> tuple[int, int, int, int]:
    """Shape of the attention weights inside ``MultiHeadAttention(d_model=256, n_heads=8)``
    called on ``x`` of shape ``(2, 10, 256)`` with a cache already holding 6 positions."""
    return (2, 8, 10, 16)


def q2_mha_parameters() -> int:
    """Number of parameters of ``MultiHeadAttention(d_model=512, n_heads=8)`` (biases included)."""
    return 4 * (512 * 512 + 512)


def q3_kv_cache_bytes() -> int:
    """Bytes of the KV cache of GPT-2 small (12 layers, 12 heads, d_head 64) for one sequence
    of 1024 tokens in float16 (2 bytes per number)."""
    return 2 * 1024 * 12 * 12 * 64 * 2


def q4_gqa_cache_ratio() -> float:
    """A model with 32 query heads switches from MHA to GQA with 8 key/value heads. Its KV
    cache becomes what fraction of its previous size?"""
    return 8 / 32


# %%
if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(2, 5, 16)
    mha = MultiHeadAttention(d_model=16, n_heads=4).eval()
    full = mha(x, causal_mask(5))
    print("MHA output", tuple(full.shape))
    print("cached decoding matches:", torch.allclose(incremental_forward(mha, x), full, atol=1e-6))
