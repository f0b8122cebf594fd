"""Assignment a04_gpt: GPT-2 from scratch, with text generation.

You will build GPT-2 (Radford et al. 2019) piece by piece: LayerNorm, the GELU activation,
the feed-forward block, causal self-attention, the pre-LayerNorm transformer block, the
full decoder with tied input/output embeddings, GPT-2's weight initialization, loading
OpenAI's weights in Hugging Face's layout, and generation (greedy, temperature, top-k,
top-p), with and without a key/value cache.

Conventions used everywhere in this file:

- Shapes: ``B`` batch, ``T`` positions, ``d`` = ``d_model``, ``V`` vocabulary size,
  ``H`` heads. Token ids are ``(B, T)`` int64; logits are ``(B, T, V)``.
- Attribute names follow GPT-2's checkpoint (``wte``, ``wpe``, ``h.{i}.ln_1``,
  ``h.{i}.attn.c_attn``, ...) without Hugging Face's ``transformer.`` prefix, so a state
  dict maps one to one.
- Dropout (probability ``config.dropout``) sits after the embeddings, on the attention
  weights, after the attention's output projection and after the MLP: active in training
  mode only.

Uses your a03 attention (``attention.py``; the given one is a03's solution). Leaves out:
training (a07) and tokenization (a01): ids here are plain integers.

References: nanoGPT (karpathy/nanoGPT model.py); Hugging Face transformers GPT2LMHeadModel.
"""

# %% [markdown]
# # a04 · GPT-2 from scratch
#
# GPT-2 is a stack of identical transformer blocks between an embedding layer and a
# language-model head. Each block mixes information across positions (causal
# self-attention) and then transforms each position on its own (a two-layer MLP), each
# step wrapped in a residual connection with a LayerNorm *before* it ("pre-LN").
#
# **How to work.** Complete every `YOUR CODE HERE` (in this notebook or in `gpt.py`;
# submit the one you worked in). `attention.py` beside it provides a03's functions; use
# the given one or replace it with your own. Run the public tests with `pytest -q`.

# %%
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from attention import KVCache, causal_mask, merge_heads, scaled_dot_product_attention, split_heads

# %% [markdown]
# ## 1. The configuration
#
# The defaults are GPT-2 small (124M parameters). The tests use tiny configurations.


# %%
@dataclass
class GPTConfig:
    vocab_size: int = 50257       # V
    context_length: int = 1024    # the longest sequence the position embedding covers
    d_model: int = 768            # d
    n_layers: int = 12
    n_heads: int = 12             # H; d_head = d_model // n_heads
    dropout: float = 0.1
    layer_norm_eps: float = 1e-5


# %% [markdown]
# ## 2. LayerNorm
#
# LayerNorm normalizes each position's feature vector to zero mean and unit variance, then
# applies a learned scale and shift:
#
# $$\mathrm{LN}(x) = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} \odot w + b, \qquad
# \mu = \tfrac{1}{d}\sum_i x_i, \quad \sigma^2 = \tfrac{1}{d}\sum_i (x_i - \mu)^2 .$$
#
# Note the **biased** variance (divide by $d$, not $d - 1$) and $\epsilon$ **inside** the
# square root: both matter for matching GPT-2's numbers, most visibly for inputs whose
# features barely vary.

# %% task=layer_norm
class LayerNorm(nn.Module):
    """LayerNorm over the last dimension.

    Attributes the tests rely on: ``weight`` (d,) initialised to ones, ``bias`` (d,) to zeros
    (both ``nn.Parameter``), ``eps`` (float).
    """

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = eps
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(..., d)`` -> same shape; do not call ``F.layer_norm``."""
        ### BEGIN SCAFFOLD
        # mean and biased variance over the last dimension, keepdim=True
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        ### END SOLUTION


# %% [markdown]
# ## 3. GELU
#
# GPT-2 uses the tanh approximation of the Gaussian error linear unit:
#
# $$\mathrm{GELU}(x) = \tfrac12\, x \left(1 + \tanh\!\left(\sqrt{2/\pi}\,(x + 0.044715\, x^3)\right)\right).$$
#
# (`F.gelu(x, approximate="tanh")` computes the same; the exact, erf-based GELU differs by up
# to about 5e-4, enough to drift away from GPT-2's outputs.)

# %% task=gelu
def gelu(x: torch.Tensor) -> torch.Tensor:
    """GPT-2's tanh-approximated GELU, elementwise; same shape and dtype as ``x``.

    >>> gelu(torch.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1588,  0.0000,  0.8412])
    """
    ### BEGIN SOLUTION
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    ### END SOLUTION


# %% [markdown]
# ## 4. The feed-forward block (MLP)
#
# Each position goes through a 4x wider hidden layer: `c_fc` (d -> 4d), GELU, `c_proj`
# (4d -> d), then dropout.

# %% task=mlp
class MLP(nn.Module):
    """Attributes the tests rely on: ``c_fc`` = ``nn.Linear(d, 4d)``, ``c_proj`` =
    ``nn.Linear(4d, d)``, ``dropout`` = ``nn.Dropout(config.dropout)``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.c_fc = nn.Linear(config.d_model, 4 * config.d_model)
        self.c_proj = nn.Linear(4 * config.d_model, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, d)`` -> ``(B, T, d)``: ``dropout(c_proj(gelu(c_fc(x))))``."""
        ### BEGIN SOLUTION
        return self.dropout(self.c_proj(gelu(self.c_fc(x))))
        ### END SOLUTION


# %% [markdown]
# ## 5. Causal self-attention
#
# GPT-2 computes queries, keys and values with one projection, `c_attn` (d -> 3d), whose
# output is `[q | k | v]` in that order along the last dimension. Heads are split as in a03,
# attention is causal, and `c_proj` mixes the heads. With a cache, this call's keys and
# values are appended first and the queries (the last `T` positions) attend to every cached
# position: the causal mask is `causal_mask(T, T_k)`.

# %% task=attention
class CausalSelfAttention(nn.Module):
    """Attributes the tests rely on: ``c_attn`` = ``nn.Linear(d, 3d)``, ``c_proj`` =
    ``nn.Linear(d, d)``, ``n_heads`` (int), ``dropout`` (float, on the attention weights),
    ``resid_dropout`` = ``nn.Dropout(config.dropout)``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        assert config.d_model % config.n_heads == 0
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)
        self.c_proj = nn.Linear(config.d_model, config.d_model)
        self.n_heads, self.dropout = config.n_heads, config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``x``: ``(B, T, d)`` -> ``(B, T, d)``; ``cache`` (optional) holds earlier positions."""
        ### BEGIN SCAFFOLD
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=-1)     # each (B, T, d)
        q, k, v = (split_heads(t, self.n_heads) for t in (q, k, v))   # each (B, H, T, D)
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        if cache is not None:
            k, v = cache.append(k, v)                           # (B, H, T_k, D)
        mask = causal_mask(q.shape[2], k.shape[2], device=x.device)
        out = scaled_dot_product_attention(q, k, v, mask, self.dropout if self.training else 0.0)
        return self.resid_dropout(self.c_proj(merge_heads(out)))
        ### END SOLUTION


# %% [markdown]
# ## 6. The transformer block
#
# Pre-LN residual connections: normalize, transform, add back.
#
#     x = x + attn(ln_1(x))
#     x = x + mlp(ln_2(x))
#
# (The original transformer normalized *after* adding, `x = ln(x + f(x))`; GPT-2 moved the
# norm in front, which keeps the residual stream an unnormalized sum and trains deeper
# stacks stably.)

# %% task=block
class Block(nn.Module):
    """Attributes the tests rely on: ``ln_1``, ``attn`` (CausalSelfAttention), ``ln_2``, ``mlp``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.ln_1 = LayerNorm(config.d_model, config.layer_norm_eps)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.d_model, config.layer_norm_eps)
        self.mlp = MLP(config)
        ### END SCAFFOLD

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``(B, T, d)`` -> ``(B, T, d)``."""
        ### BEGIN SOLUTION
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))
        ### END SOLUTION


# %% [markdown]
# ## 7. The model
#
# Token embedding `wte` (V x d) plus learned position embedding `wpe` (context_length x d),
# dropout, the blocks, a final LayerNorm `ln_f`, and the head `lm_head` (d -> V, no bias)
# whose weight **is** `wte.weight` (weight tying: one matrix both reads and writes tokens,
# saving V x d parameters). With caches, the new tokens' positions continue after the
# cached ones.

# %% task=model
class GPT(nn.Module):
    """GPT-2. Attributes the tests rely on: ``config``, ``wte``, ``wpe``, ``drop``, ``h``
    (``nn.ModuleList`` of ``Block``), ``ln_f``, ``lm_head`` (``lm_head.weight is wte.weight``)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        ### BEGIN SCAFFOLD
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.context_length, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = LayerNorm(config.d_model, config.layer_norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        self.lm_head.weight = self.wte.weight
        ### END SOLUTION

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None) -> torch.Tensor:
        """Logits ``(B, T, V)`` for token ids ``idx`` ``(B, T)``.

        Args:
            idx: int64 token ids.
            caches: one ``KVCache`` per block, or None. The positions of ``idx`` start at
                ``len(caches[0])``.

        Raises:
            ValueError: if the positions would pass ``config.context_length``.
        """
        ### BEGIN SOLUTION
        start = len(caches[0]) if caches else 0
        t = idx.shape[1]
        if start + t > self.config.context_length:
            raise ValueError(f"{start + t} positions exceed the context length {self.config.context_length}")
        positions = torch.arange(start, start + t, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(positions))             # (B, T, d)
        for i, block in enumerate(self.h):
            x = block(x, caches[i] if caches else None)
        return self.lm_head(self.ln_f(x))                             # (B, T, V)
        ### END SOLUTION


def count_parameters(model: nn.Module) -> int:
    """Number of distinct parameters: a tied weight counts once.

    Example: GPT-2 small, ``GPT(GPTConfig())``, has 124,439,808.
    """
    ### BEGIN SOLUTION
    return sum(p.numel() for p in model.parameters())
    ### END SOLUTION


# %% [markdown]
# ## 8. Initialization
#
# GPT-2 draws every linear and embedding weight from $\mathcal N(0, 0.02^2)$ and sets biases
# to zero (LayerNorms: weight 1, bias 0). The two projections that write into the residual
# stream in every block, `attn.c_proj` and `mlp.c_proj`, get a smaller std,
# $0.02/\sqrt{2 \cdot n_{layers}}$: the stream adds $2 n_{layers}$ such contributions, and
# this keeps its variance from growing with depth. At initialization the logits are nearly
# zero, so the loss on any token is close to $\ln V$.

# %% task=init
def init_weights(model: GPT, generator: torch.Generator | None = None) -> None:
    """Initialize ``model`` in place as GPT-2 does (see above); draw with ``generator``."""
    ### BEGIN SOLUTION
    residual_std = 0.02 / math.sqrt(2 * model.config.n_layers)
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith("c_proj") else 0.02
                module.weight.normal_(0.0, std, generator=generator)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            elif isinstance(module, LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
    ### END SOLUTION


# %% [markdown]
# ## 9. Loading GPT-2's weights
#
# OpenAI's checkpoint, in Hugging Face's layout, names everything under `transformer.`
# and stores `c_attn`, `c_proj` and `c_fc` as `Conv1D` modules whose weights are the
# **transpose** of an `nn.Linear`'s: `(in, out)` instead of `(out, in)`. Square ones
# (`attn.c_proj`) load without complaint when you forget, and give wrong outputs.
# Older checkpoints also carry attention-mask buffers (`attn.bias`, `attn.masked_bias`),
# which are not weights; `lm_head.weight` may be absent because it is tied.

# %% task=hf_loading
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def load_hf_state_dict(model: GPT, hf_state: dict[str, torch.Tensor]) -> None:
    """Copy a Hugging Face ``GPT2LMHeadModel`` state dict into ``model`` (in place).

    Strips ``transformer.``, transposes the ``Conv1D`` weights listed in ``CONV1D``, skips
    mask buffers and ``lm_head.weight`` (tied), and fails loudly (``KeyError``) on a
    missing or unexpected weight.
    """
    ### BEGIN SOLUTION
    own = model.state_dict()
    loaded = set()
    with torch.no_grad():
        for name, tensor in hf_state.items():
            key = name.removeprefix("transformer.")
            if key.endswith((".attn.bias", ".attn.masked_bias")) or key == "lm_head.weight":
                continue
            if key not in own:
                raise KeyError(f"unexpected weight {name!r}")
            own[key].copy_(tensor.t() if key.endswith(CONV1D) else tensor)
            loaded.add(key)
    missing = set(own) - loaded - {"lm_head.weight"}
    if missing:
        raise KeyError(f"weights missing from the checkpoint: {sorted(missing)[:5]}")
    ### END SOLUTION


# %% [markdown]
# ## 10. Generation
#
# To generate, run the model, turn the last position's logits into a distribution, sample
# a token, append it, repeat. The distribution is shaped in this order:
#
# 1. **temperature** $T$: logits / $T$. $T \to 0$ approaches greedy decoding (argmax);
#    by convention `temperature=0` *is* greedy.
# 2. **top-k**: keep the logits that are at least the k-th largest (ties with the k-th all
#    stay), set the others to $-\infty$.
# 3. **top-p** (nucleus): sort the tokens by probability, most likely first; keep token
#    $j$ (in that order) iff the probabilities of the tokens before it sum to less than
#    $p$. This keeps the smallest prefix whose total reaches $p$, and always the most
#    likely token. For $q = [.5, .3, .15, .05]$ and $p = 0.5$ only the first is kept.
#
# The sequence fed to the model is cropped to its last `context_length` tokens.

# %% task=generation
def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """``(B, V)`` logits with the tokens outside top-k and then top-p set to ``-inf``
    (rules above). ``None`` disables a filter. Same shape and dtype.

    >>> logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    >>> filter_logits(logits, top_p=0.5).isfinite()         # 0.5 alone reaches p
    tensor([[ True, False, False, False]])
    >>> filter_logits(logits, top_p=0.6).isfinite()         # 0.5 < 0.6: the next one stays too
    tensor([[ True,  True, False, False]])
    >>> filter_logits(logits, top_k=3).isfinite()
    tensor([[ True,  True,  True, False]])
    """
    ### BEGIN SOLUTION
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        probs, order = torch.sort(torch.softmax(logits, dim=-1), dim=-1, descending=True)
        before = probs.cumsum(dim=-1) - probs                  # total of the strictly earlier tokens
        drop_sorted = before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits
    ### END SOLUTION


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Next token ids ``(B,)`` int64 from last-position logits ``(B, V)``.

    ``temperature == 0`` returns the argmax. Otherwise samples (``torch.multinomial`` with
    ``generator``) from ``softmax(filter_logits(logits / temperature, top_k, top_p))``.
    """
    ### BEGIN SOLUTION
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    ### END SOLUTION


@torch.no_grad()
def generate(model: GPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, use_cache: bool = False,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Extend ``idx`` ``(B, T)`` by ``max_new_tokens`` sampled tokens: ``(B, T + max_new_tokens)``.

    The model sees at most the last ``context_length`` tokens. With ``use_cache``, the prompt
    is run once and each step feeds only the new token, with one ``KVCache`` per block; once
    the sequence no longer fits, each step runs the cropped window afresh (as without a
    cache), so both paths give identical tokens. Call ``model.eval()`` first.
    """
    ### BEGIN SCAFFOLD
    context = model.config.context_length
    caches = None
    for _ in range(max_new_tokens):
        if not use_cache:
            logits = model(idx[:, -context:])                    # (B, T, V)
        elif caches is None or len(caches[0]) + 1 > context:
            caches = [KVCache() for _ in model.h]                # (re)fill the caches with the window
            logits = model(idx[:, -context:], caches)
        else:
            logits = model(idx[:, -1:], caches)                  # only the newest token
        ### END SCAFFOLD
        ### BEGIN SOLUTION
        next_id = sample_next(logits[:, -1], temperature, top_k, top_p, generator)   # (B,)
        idx = torch.cat([idx, next_id[:, None]], dim=1)
    return idx
    ### END SOLUTION


### BEGIN STANDARD
# %% [markdown]
# ## 11. Questions
#
# Answer by returning a value (work it out by hand or with code; only the value is checked).

# %% task=questions
def q1_embedding_share() -> float:
    """What fraction of GPT-2 small's 124,439,808 parameters is the token embedding ``wte``?"""
    ### BEGIN SOLUTION
    return 50257 * 768 / 124_439_808
    ### END SOLUTION


def q2_untied_parameters() -> int:
    """How many parameters would GPT-2 small have if ``lm_head`` had its own weight (untied)?"""
    ### BEGIN SOLUTION
    return 124_439_808 + 50257 * 768
    ### END SOLUTION


def q3_positions_per_cached_step() -> int:
    """Generating with a KV cache, after the prompt: how many positions does each block run
    through ``c_attn`` per new token?"""
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION
### END STANDARD
