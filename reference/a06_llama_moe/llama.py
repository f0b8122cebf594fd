"""Assignment a06_llama_moe: the Llama block (RMSNorm, RoPE, SwiGLU, GQA) and a mixture of experts.

You will build what changed after GPT-2: RMSNorm instead of LayerNorm, rotary position
embeddings (RoPE) in both of their conventions, the SwiGLU feed-forward block with Llama's
hidden size rule, grouped-query attention with a cache, the Llama block and a small Llama
model; then a mixture-of-experts layer: the router, the dispatch of tokens to experts and
the weighted combine, the load-balancing and z-losses, and active vs total parameters.

Conventions used everywhere in this file:

- Shapes: ``B`` batch, ``T`` positions, ``d`` = ``d_model``, ``H`` query heads, ``H_kv``
  key/value heads, ``D`` = ``d_model // H`` head size, ``N`` tokens (``B * T`` flattened),
  ``E`` experts, ``k`` experts per token. Per-head tensors are ``(B, H, T, D)``.
- Attribute names follow Hugging Face's Llama and Mixtral (``embed_tokens``,
  ``layers.{i}.self_attn.q_proj``, ``mlp.gate_proj``, ``input_layernorm``, ...) without the
  ``model.`` prefix, so a ``LlamaForCausalLM`` state dict maps one to one. Meta's names:
  ``w1`` = ``gate_proj``, ``w3`` = ``up_proj``, ``w2`` = ``down_proj``.
- No biases anywhere. Low-precision inputs (float16, bfloat16) are computed in float32
  where noted and cast back; float32 and float64 inputs stay in their own dtype.

Uses your a03 attention (``attention.py``; the given one is a03's solution). Leaves out:
dropout (Llama trains without it), training (a07) and sliding-window attention.

References: Touvron et al. 2023 (LLaMA, Llama 2) and Meta's llama/model.py; Zhang and
Sennrich 2019 (RMSNorm); Su et al. 2021 (RoFormer); Shazeer 2020 (GLU variants); Fedus et
al. 2021 (Switch Transformer); Jiang et al. 2024 (Mixtral); Hugging Face transformers
modeling_llama.py and modeling_mixtral.py.
"""

# %% [markdown]
# # a06 · Llama and a mixture of experts
#
# A Llama block is a GPT-2 block with four parts swapped: RMSNorm for LayerNorm, rotary
# embeddings on the queries and keys instead of a learned position embedding, a gated
# (SwiGLU) feed-forward block, and grouped-query attention. A mixture of experts then
# replaces the one feed-forward block by E of them, of which each token uses k.
#
# **How to work.** Complete every `YOUR CODE HERE` (in this notebook or in `llama.py`;
# submit the one you worked in). `attention.py` beside it provides a03's functions; use the
# given one or replace it with your own. Run the public tests with `pytest -q`.

# %%
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from attention import KVCache, causal_mask, merge_heads, repeat_kv, scaled_dot_product_attention, split_heads
from torch import nn

# %% [markdown]
# ## 1. The configuration
#
# The defaults are Llama 2 7B, except ``n_kv_heads`` (Llama 2 70B uses 8 of 64). The tests
# use tiny configurations.


# %%
@dataclass
class LlamaConfig:
    vocab_size: int = 32000
    context_length: int = 4096
    d_model: int = 4096
    n_layers: int = 32
    n_heads: int = 32
    n_kv_heads: int = 32           # H_kv: query head h reads key/value head h // (H // H_kv)
    hidden_dim: int | None = None  # SwiGLU width; None: llama_hidden_dim(d_model, multiple_of)
    multiple_of: int = 256
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    rope_interleaved: bool = False  # False: Hugging Face's rotate_half pairs; True: Meta's pairs
    tie_embeddings: bool = False    # lm_head.weight is embed_tokens.weight


# %% [markdown]
# ## 2. RMSNorm
#
# RMSNorm rescales each position's features by their root mean square, with no mean
# subtraction and no bias:
#
# $$\mathrm{RMSNorm}(x) = \frac{x}{\sqrt{\tfrac1d \sum_i x_i^2 + \epsilon}} \odot w .$$
#
# The mean is over the last dimension and $\epsilon$ sits **inside** the square root. For
# float16/bfloat16 inputs, square and average in **float32** (a float16 square overflows
# past 256), cast the normalized value back to the input dtype, and *then* multiply by the
# weight, as Hugging Face's `LlamaRMSNorm` does. Never downcast: float64 stays float64.

# %% task=rms_norm
class RMSNorm(nn.Module):
    """RMSNorm over the last dimension. Attributes the tests rely on: ``weight`` (d,)
    initialised to ones (``nn.Parameter``), ``eps`` (float)."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(..., d)`` -> same shape and dtype."""
        ### BEGIN SCAFFOLD
        h = x.to(torch.promote_types(x.dtype, torch.float32))     # at least float32
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        h = h * torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)
        ### END SOLUTION


# %% [markdown]
# ## 3. Rotary position embeddings (RoPE)
#
# RoPE rotates pairs of features of each query and key head by an angle proportional to
# the position: the pair $j$ (of $D/2$) at position $m$ turns by $m\,\theta_j$ with
# $\theta_j = \theta^{-2j/D}$, $j = 0, \dots, D/2 - 1$ (so the first pair turns fastest, by
# one radian per position). A query at $m$ and a key at $n$ then score
# $\langle R_m q, R_n k\rangle = \langle q, R_{n-m} k\rangle$: only the offset matters.
#
# Which features form a pair is a **convention**, and the two in use are incompatible:
#
# - **Meta (interleaved)**: pairs $(x_{2j}, x_{2j+1})$; Meta's code views them as complex
#   numbers and multiplies by $e^{i m \theta_j}$.
# - **Hugging Face (rotate_half)**: pairs $(x_j, x_{j + D/2})$; `x * cos + rotate_half(x) * sin`.
#
# Each pair $(a, b)$ becomes $(a\cos - b\sin,\ a\sin + b\cos)$ in place. The two agree
# once the rows of the q and k projections are permuted within each head (section 3b).
# RoPE applies per head, to queries and keys only (values carry no position). Compute the
# angles and the rotation in at least float32 and return the input dtype.

# %% task=rope
def rope_frequencies(d_head: int, theta: float = 10000.0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``(D/2,)`` angular frequencies ``theta ** (-2j / D)`` for ``j = 0 .. D/2 - 1``, in ``dtype``.

    >>> rope_frequencies(4, 10000.0)
    tensor([1.0000, 0.0100])
    """
    ### BEGIN SOLUTION
    return 1.0 / theta ** (torch.arange(0, d_head, 2, dtype=dtype) / d_head)
    ### END SOLUTION


def apply_rope(x: torch.Tensor, positions: torch.Tensor, theta: float = 10000.0,
               interleaved: bool = False) -> torch.Tensor:
    """Rotate ``x`` ``(..., T, D)`` (e.g. ``(B, H, T, D)``, one head per slice) at integer
    ``positions`` ``(T,)``; ``interleaved`` picks Meta's pairs, else Hugging Face's. Same
    shape and dtype as ``x``; position 0 is the identity."""
    ### BEGIN SOLUTION
    compute = torch.promote_types(x.dtype, torch.float32)
    angles = positions.to(compute)[:, None] * rope_frequencies(x.shape[-1], theta, compute).to(x.device)
    cos, sin = angles.cos(), angles.sin()                        # (T, D/2)
    h = x.to(compute)
    if interleaved:
        a, b = h[..., 0::2], h[..., 1::2]
        out = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)
    else:
        a, b = h[..., : x.shape[-1] // 2], h[..., x.shape[-1] // 2:]
        out = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    return out.to(x.dtype)
    ### END SOLUTION


# %% [markdown]
# ### 3b. From Meta's layout to Hugging Face's
#
# Meta's checkpoints are trained with interleaved pairs. To use them with rotate_half,
# Hugging Face's conversion script reorders the output rows of `wq` and `wk` within each
# head: rows $(0, 2, 4, \dots, D-2,\ 1, 3, \dots, D-1)$, so that feature $2j$ lands at $j$
# and $2j+1$ at $j + D/2$. Then `apply_rope(x @ permute_qk(w).T, interleaved=False)` is the
# same permutation of `apply_rope(x @ w.T, interleaved=True)`, and attention scores agree.

# %% task=rope
def permute_qk(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """A Meta-layout q or k projection weight ``(n_heads * D, d_in)`` with its rows
    reordered for rotate_half, within each head (see above). Same shape; a new tensor."""
    ### BEGIN SOLUTION
    rows, cols = w.shape
    return w.reshape(n_heads, rows // n_heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)
    ### END SOLUTION


# %% [markdown]
# ## 4. The SwiGLU feed-forward block
#
# $$\mathrm{FFN}(x) = W_{down}\big(\mathrm{SiLU}(W_{gate}\,x) \odot W_{up}\,x\big), \qquad
# \mathrm{SiLU}(z) = z\,\sigma(z).$$
#
# Three matrices instead of two, so Llama shrinks the hidden width to keep the parameter
# count of a 4d MLP: $\frac23 \cdot 4d$, truncated to an integer, optionally scaled by
# `ffn_dim_multiplier` (truncated again), then rounded **up** to a multiple of
# `multiple_of`. Llama 2 7B: d = 4096, multiple_of = 256 -> 11008.

# %% task=swiglu
def llama_hidden_dim(d_model: int, multiple_of: int = 256, ffn_dim_multiplier: float | None = None) -> int:
    """SwiGLU hidden width by Meta's rule (above): 2/3 of 4d, rounded up to a multiple.

    >>> llama_hidden_dim(4096, 256)           # Llama 2 7B
    11008
    >>> llama_hidden_dim(64, 32)              # 170 -> 192
    192
    """
    ### BEGIN SOLUTION
    hidden = int(2 * (4 * d_model) / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)
    ### END SOLUTION


class SwiGLU(nn.Module):
    """Attributes the tests rely on: ``gate_proj``, ``up_proj`` = ``nn.Linear(d, hidden,
    bias=False)``, ``down_proj`` = ``nn.Linear(hidden, d, bias=False)``."""

    def __init__(self, d_model: int, hidden_dim: int):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.gate_proj = nn.Linear(d_model, hidden_dim, bias=False)
        self.up_proj = nn.Linear(d_model, hidden_dim, bias=False)
        self.down_proj = nn.Linear(hidden_dim, d_model, bias=False)
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` -> ``(..., d)``."""
        ### BEGIN SOLUTION
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        ### END SOLUTION


# %% [markdown]
# ## 5. Grouped-query attention with RoPE
#
# `q_proj` makes H query heads, `k_proj` and `v_proj` make H_kv key/value heads. After
# splitting heads, rotate q and k (per head) at their absolute positions: with a cache
# holding P positions, this call's positions are P, P+1, ...; append the *rotated* keys
# to the cache, repeat the kv heads so that **query head h reads kv head h // (H / H_kv)**
# (a03's `repeat_kv`), attend causally, merge heads, and project with `o_proj`.

# %% task=attention
class LlamaAttention(nn.Module):
    """Attributes the tests rely on: ``q_proj`` ``(H*D, d)``, ``k_proj`` and ``v_proj``
    ``(H_kv*D, d)``, ``o_proj`` ``(d, H*D)``, all ``nn.Linear`` without bias; ``n_heads``,
    ``n_kv_heads``, ``rope_theta``, ``rope_interleaved`` from the config."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        assert config.d_model % config.n_heads == 0 and config.n_heads % config.n_kv_heads == 0
        self.n_heads, self.n_kv_heads = config.n_heads, config.n_kv_heads
        self.rope_theta, self.rope_interleaved = config.rope_theta, config.rope_interleaved
        d_head = config.d_model // config.n_heads
        self.q_proj = nn.Linear(config.d_model, config.n_heads * d_head, bias=False)
        self.k_proj = nn.Linear(config.d_model, config.n_kv_heads * d_head, bias=False)
        self.v_proj = nn.Linear(config.d_model, config.n_kv_heads * d_head, bias=False)
        self.o_proj = nn.Linear(config.n_heads * d_head, config.d_model, bias=False)
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``x``: ``(B, T, d)`` -> ``(B, T, d)``; ``cache`` (optional) holds earlier positions."""
        ### BEGIN SCAFFOLD
        q = split_heads(self.q_proj(x), self.n_heads)                  # (B, H, T, D)
        k = split_heads(self.k_proj(x), self.n_kv_heads)               # (B, H_kv, T, D)
        v = split_heads(self.v_proj(x), self.n_kv_heads)               # (B, H_kv, T, D)
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        start = len(cache) if cache is not None else 0
        positions = torch.arange(start, start + x.shape[1], device=x.device)
        q = apply_rope(q, positions, self.rope_theta, self.rope_interleaved)
        k = apply_rope(k, positions, self.rope_theta, self.rope_interleaved)
        if cache is not None:
            k, v = cache.append(k, v)                                  # (B, H_kv, T_k, D)
        n_rep = self.n_heads // self.n_kv_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)                # (B, H, T_k, D)
        out = scaled_dot_product_attention(q, k, v, causal_mask(q.shape[2], k.shape[2], device=x.device))
        return self.o_proj(merge_heads(out))
        ### END SOLUTION


# %% [markdown]
# ## 6. The Llama block and model
#
#     x = x + self_attn(input_layernorm(x))
#     x = x + mlp(post_attention_layernorm(x))
#
# The model: `embed_tokens`, the blocks, a final RMSNorm `norm`, and `lm_head` (d -> V, no
# bias), whose weight is `embed_tokens.weight` when `config.tie_embeddings` (Llama 2 unties
# it; Llama 3.2 1B ties it). There is no position embedding: RoPE carries the positions.

# %% task=block
class LlamaBlock(nn.Module):
    """Attributes: ``input_layernorm``, ``self_attn`` (LlamaAttention),
    ``post_attention_layernorm``, ``mlp`` (SwiGLU); norms use ``config.norm_eps``."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        hidden = config.hidden_dim or llama_hidden_dim(config.d_model, config.multiple_of)
        self.input_layernorm = RMSNorm(config.d_model, config.norm_eps)
        self.self_attn = LlamaAttention(config)
        self.post_attention_layernorm = RMSNorm(config.d_model, config.norm_eps)
        self.mlp = SwiGLU(config.d_model, hidden)
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``(B, T, d)`` -> ``(B, T, d)``."""
        ### BEGIN SOLUTION
        x = x + self.self_attn(self.input_layernorm(x), cache)
        return x + self.mlp(self.post_attention_layernorm(x))
        ### END SOLUTION


# %% task=model
class Llama(nn.Module):
    """Attributes: ``config``, ``embed_tokens``, ``layers`` (``nn.ModuleList`` of
    ``LlamaBlock``), ``norm`` (RMSNorm), ``lm_head`` (tied as configured)."""

    def __init__(self, config: LlamaConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.layers = nn.ModuleList(LlamaBlock(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        if config.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        ### END SOLUTION

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None) -> torch.Tensor:
        """Logits ``(B, T, V)`` for ids ``idx`` ``(B, T)``; ``caches``: one ``KVCache`` per block.

        Raises:
            ValueError: if the cached plus new positions would pass ``config.context_length``.
        """
        ### BEGIN SOLUTION
        start = len(caches[0]) if caches else 0
        if start + idx.shape[1] > self.config.context_length:
            raise ValueError(f"{start + idx.shape[1]} positions exceed the context length {self.config.context_length}")
        x = self.embed_tokens(idx)                                      # (B, T, d)
        for i, layer in enumerate(self.layers):
            x = layer(x, caches[i] if caches else None)
        return self.lm_head(self.norm(x))                               # (B, T, V)
        ### END SOLUTION


def count_parameters(model: nn.Module) -> int:
    """Distinct parameters (a tied weight counts once). Llama 2 7B: 6,738,415,616."""
    ### BEGIN SOLUTION
    return sum(p.numel() for p in model.parameters())
    ### END SOLUTION


@torch.no_grad()
def generate_greedy(model: Llama, idx: torch.Tensor, max_new_tokens: int, use_cache: bool = True) -> torch.Tensor:
    """``idx`` ``(B, T)`` extended by ``max_new_tokens`` argmax tokens; with ``use_cache`` the
    prompt runs once and then one token per step through one ``KVCache`` per block. Both
    paths give the same tokens. Call ``model.eval()`` first."""
    ### BEGIN SOLUTION
    caches = [KVCache() for _ in model.layers] if use_cache else None
    logits = model(idx, caches)
    for step in range(max_new_tokens):
        next_id = logits[:, -1].argmax(dim=-1, keepdim=True)           # (B, 1)
        idx = torch.cat([idx, next_id], dim=1)
        if step + 1 < max_new_tokens:
            logits = model(next_id, caches) if use_cache else model(idx)
    return idx
    ### END SOLUTION


# %% [markdown]
# ## 7. A mixture of experts
#
# The **router** is a linear layer (d -> E) whose softmax gives each token a distribution
# over experts. Each token goes to its top-k experts, and the layer's output is the sum of
# their outputs weighted by the router's probabilities **renormalized over the chosen k**
# (Mixtral's convention; Qwen2-MoE and others skip the renormalization:
# `renormalize=False`). Softmax over all E, then top-k, then renormalize, equals a softmax
# over the k chosen logits.
#
# The experts are SwiGLU blocks stored stacked, as Hugging Face's Mixtral does:
# `gate_proj` and `up_proj` `(E, hidden, d)`, `down_proj` `(E, d, hidden)`; expert e computes
# `down_proj[e] @ (silu(gate_proj[e] @ x) * up_proj[e] @ x)`. Dispatch: for each expert,
# gather the tokens that chose it, run it once on all of them, scale by their weights and
# add the results back at their tokens (`index_add_`).

# %% task=router
def route(logits: torch.Tensor, top_k: int, renormalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Router logits ``(N, E)`` -> ``(weights, experts)``, each ``(N, top_k)``: the chosen
    experts in order of decreasing probability (int64) and their softmax probabilities,
    renormalized to sum to 1 per token when ``renormalize``. ``weights`` has the logits'
    dtype (the softmax runs in at least float32).

    >>> weights, experts = route(torch.tensor([[4.0, 0.5, 2.0, 1.0]]).log(), top_k=2)
    >>> experts, weights                      # probabilities 4/7.5 and 2/7.5, renormalized to 2/3 and 1/3
    (tensor([[0, 2]]), tensor([[0.6667, 0.3333]]))
    """
    ### BEGIN SOLUTION
    probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
    weights, experts = torch.topk(probs, top_k, dim=-1)
    if renormalize:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights.to(logits.dtype), experts
    ### END SOLUTION


# %% task=moe
class MoE(nn.Module):
    """Sparse mixture-of-experts feed-forward layer. Attributes the tests rely on: ``router``
    = ``nn.Linear(d, E, bias=False)``; ``gate_proj``, ``up_proj`` ``(E, hidden, d)`` and
    ``down_proj`` ``(E, d, hidden)`` (``nn.Parameter``); ``top_k``, ``renormalize``."""

    def __init__(self, d_model: int, hidden_dim: int, n_experts: int, top_k: int, renormalize: bool = True):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.top_k, self.renormalize = top_k, renormalize
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.gate_proj = nn.Parameter(torch.randn(n_experts, hidden_dim, d_model) / math.sqrt(d_model))
        self.up_proj = nn.Parameter(torch.randn(n_experts, hidden_dim, d_model) / math.sqrt(d_model))
        self.down_proj = nn.Parameter(torch.randn(n_experts, d_model, hidden_dim) / math.sqrt(hidden_dim))
        ### END SCAFFOLD

    def expert(self, e: int, x: torch.Tensor) -> torch.Tensor:
        """Expert ``e`` on tokens ``x`` ``(n, d)`` -> ``(n, d)``."""
        ### BEGIN SOLUTION
        return (F.silu(x @ self.gate_proj[e].T) * (x @ self.up_proj[e].T)) @ self.down_proj[e].T
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(..., d)`` -> ``(out, router_logits)``: ``out`` shaped like ``x``, logits ``(N, E)``."""
        ### BEGIN SCAFFOLD
        flat = x.reshape(-1, x.shape[-1])                               # (N, d)
        logits = self.router(flat)                                      # (N, E)
        weights, experts = route(logits, self.top_k, self.renormalize)  # (N, k) each
        out = torch.zeros_like(flat)
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        for e in range(self.gate_proj.shape[0]):
            token, slot = torch.where(experts == e)                     # the tokens that chose e
            if token.numel():
                out.index_add_(0, token, self.expert(e, flat[token]) * weights[token, slot, None])
        return out.reshape(x.shape), logits
        ### END SOLUTION


def moe_parameter_counts(d_model: int, hidden_dim: int, n_experts: int, top_k: int) -> tuple[int, int]:
    """``(total, active)`` parameters of one ``MoE`` layer: all of them, and those one token
    uses (its k experts plus the whole router, which scores every expert)."""
    ### BEGIN SOLUTION
    per_expert = 3 * d_model * hidden_dim
    router = d_model * n_experts
    return n_experts * per_expert + router, top_k * per_expert + router
    ### END SOLUTION


# %% [markdown]
# ## 8. Keeping the experts busy: auxiliary losses
#
# Left alone, a router collapses onto a few experts. The **load-balancing loss** pushes
# towards uniform use. With $f_e$ the fraction of routing slots that went to expert e and
# $P_e$ the mean router probability of e over the N tokens (the full softmax, not the
# renormalized top-k weights):
#
# - **Switch** (top-1): $L = E \sum_e f_e P_e$, $f_e$ counted by argmax. Uniform routing
#   gives 1; a collapsed router gives E.
# - **Mixtral** (Hugging Face's `load_balancing_loss_func`): $f_e$ counts all k slots per
#   token, $f_e = \frac1N \sum_t \#\{\text{slots of } t \text{ on } e\}$, which sums to k;
#   $L = E \sum_e f_e P_e$ equals **k** at uniform routing and approaches E when every
#   token goes to the same k experts. This is the default (`kind="mixtral"`).
#
# Several layers' logits are concatenated along the tokens first. The **router z-loss**
# (ST-MoE) keeps the logits small: the mean over tokens of $(\log\sum_e e^{z_e})^2$.

# %% task=balance_loss
def load_balancing_loss(router_logits: torch.Tensor | list[torch.Tensor], top_k: int,
                        kind: str = "mixtral") -> torch.Tensor:
    """Scalar load-balancing loss of ``(N, E)`` router logits (or a list of them, one per
    layer, concatenated first); ``kind`` is ``"mixtral"`` (top_k slots) or ``"switch"`` (top-1).

    Raises:
        ValueError: for another ``kind``.
    """
    ### BEGIN SOLUTION
    logits = torch.cat(list(router_logits)) if isinstance(router_logits, (list, tuple)) else router_logits
    probs = torch.softmax(logits, dim=-1)                               # (N, E)
    n_experts = probs.shape[-1]
    if kind == "mixtral":
        chosen = torch.topk(probs, top_k, dim=-1).indices               # (N, k)
    elif kind == "switch":
        chosen = probs.argmax(dim=-1, keepdim=True)                     # (N, 1)
    else:
        raise ValueError(f"unknown balance loss {kind!r}: use 'mixtral' or 'switch'")
    fraction = F.one_hot(chosen, n_experts).to(probs.dtype).sum(dim=1).mean(dim=0)   # (E,)
    return n_experts * (fraction * probs.mean(dim=0)).sum()
    ### END SOLUTION


def router_z_loss(router_logits: torch.Tensor) -> torch.Tensor:
    """Scalar: mean over the N tokens of ``logsumexp(logits) ** 2``."""
    ### BEGIN SOLUTION
    return torch.logsumexp(router_logits, dim=-1).pow(2).mean()
    ### END SOLUTION


### BEGIN HARDMODE
# %% [markdown]
# ## 9. Advanced build: dispatch without a Python loop
#
# `MoE.forward` loops over the experts. On a GPU each iteration launches its own small
# kernels; with 64 experts that loop dominates. Write the same layer with a number of
# torch calls that does not depend on E or N: sort the N*k routing slots by expert
# (`argsort`), find each slot's rank within its expert, scatter the tokens into an
# `(E, C, d)` buffer (C = the largest expert's load), run all experts at once with batched
# matmuls, and gather and `index_add_` the weighted results back. The tests count your
# torch calls for different E and N.

# %% task=batched_moe
def moe_forward_batched(moe: MoE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as ``moe(x)``, with no Python loop over experts or tokens."""
    ### BEGIN SOLUTION
    flat = x.reshape(-1, x.shape[-1])                                   # (N, d)
    logits = moe.router(flat)                                           # (N, E)
    weights, experts = route(logits, moe.top_k, moe.renormalize)        # (N, k)
    n_experts, k = moe.gate_proj.shape[0], moe.top_k
    slot_expert = experts.reshape(-1)                                   # (N*k,)
    order = torch.argsort(slot_expert, stable=True)
    sorted_expert = slot_expert[order]
    counts = torch.bincount(slot_expert, minlength=n_experts)           # (E,)
    rank = torch.arange(order.numel(), device=x.device) - (counts.cumsum(0) - counts)[sorted_expert]
    token = order // k
    buffer = flat.new_zeros(n_experts, int(counts.max()), flat.shape[-1])    # (E, C, d)
    buffer[sorted_expert, rank] = flat[token]
    hidden = F.silu(buffer @ moe.gate_proj.transpose(1, 2)) * (buffer @ moe.up_proj.transpose(1, 2))
    y = (hidden @ moe.down_proj.transpose(1, 2))[sorted_expert, rank]   # (N*k, d)
    out = torch.zeros_like(flat).index_add_(0, token, y * weights.reshape(-1)[order, None])
    return out.reshape(x.shape), logits
    ### END SOLUTION
### END HARDMODE


### BEGIN STANDARD
# %% [markdown]
# ## 10. Questions
#
# Answer by returning a value (work it out by hand or with code; only the value is checked).

# %% task=questions
def q1_active_expert_parameters() -> int:
    """A Mixtral-like layer: d = 4096, SwiGLU experts of hidden width 14336, 8 experts,
    top-2. How many *expert* parameters (router excluded) does one token use in this layer?"""
    ### BEGIN SOLUTION
    return 2 * 3 * 4096 * 14336
    ### END SOLUTION


def q2_why_rmsnorm() -> str:
    """Why does RMSNorm drop LayerNorm's mean subtraction? Return "a", "b" or "c".

    (a) Re-centering contributes little; rescaling alone keeps LayerNorm's benefit at a
        lower cost (Zhang and Sennrich 2019).
    (b) After attention the features always have zero mean, so there is nothing to subtract.
    (c) Subtracting the mean would undo the rotary embedding.
    """
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


def q3_balance_loss_at_balance() -> tuple[float, float]:
    """8 experts, top-2, perfectly uniform routing (every expert gets the same share of slots
    and every probability is 1/8): ``(Mixtral-form loss, Switch-form loss)``."""
    ### BEGIN SOLUTION
    return 2.0, 1.0
    ### END SOLUTION
### END STANDARD
