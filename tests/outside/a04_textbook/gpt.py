# An outside-style a04 submission: GPT-2 written the way Sebastian Raschka's "Build a Large
# Language Model (From Scratch)" writes it (ch. 4 GPTModel, ch. 5 generate), filled into the
# hardmode handout and adapted only to its API: GPT-2's attribute names (the book's scale /
# shift, W_query / out_proj, tok_emb / out_head, ... renamed), the fused c_attn, a KV cache, a
# tied head, top-p and ValueError past the context as the handout states them. Correct, so it
# must get full marks in both variants (tests/test_outside.py). From the book on purpose: a
# registered triu "mask" buffer (1 = masked) with masked_fill_(-inf), sqrt(2/pi) as a float32
# torch.tensor, view/transpose head splitting, torch.softmax inline, shortcut connections.
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
from attention import KVCache, causal_mask, merge_heads, scaled_dot_product_attention, split_heads  # noqa: F401  (given; the book writes its own)

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
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))     # the book's `scale`
        self.bias = nn.Parameter(torch.zeros(d))      # the book's `shift`

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(..., d)`` -> same shape; do not call ``F.layer_norm``."""
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, unbiased=False)
        norm_x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight * norm_x + self.bias


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
    return 0.5 * x * (1 + torch.tanh(
        torch.sqrt(torch.tensor(2.0 / torch.pi)) *
        (x + 0.044715 * torch.pow(x, 3))
    ))


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
        self.c_fc = nn.Linear(config.d_model, 4 * config.d_model)
        self.c_proj = nn.Linear(4 * config.d_model, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, d)`` -> ``(B, T, d)``: ``dropout(c_proj(gelu(c_fc(x))))``."""
        # the book's nn.Sequential(Linear, GELU(), Linear), under GPT-2's names, then dropout
        for layer in (self.c_fc, gelu, self.c_proj, self.dropout):
            x = layer(x)
        return x


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
        assert config.d_model % config.n_heads == 0, "d_out must be divisible by num_heads"
        self.d_out = config.d_model
        self.n_heads = config.n_heads
        self.head_dim = config.d_model // config.n_heads   # reduce the projection dim to match desired output dim
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)   # W_query | W_key | W_value, fused as GPT-2 does
        self.c_proj = nn.Linear(config.d_model, config.d_model)       # the book's out_proj: combines head outputs
        self.dropout = config.dropout                                  # on the attention weights
        self.resid_dropout = nn.Dropout(config.dropout)
        self.register_buffer(
            "mask",
            torch.triu(torch.ones(config.context_length, config.context_length), diagonal=1)
        )

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``x``: ``(B, T, d)`` -> ``(B, T, d)``; ``cache`` (optional) holds earlier positions."""
        b, num_tokens, d_in = x.shape
        queries, keys, values = self.c_attn(x).split(self.d_out, dim=2)   # each (b, num_tokens, d_out)

        # We implicitly split the matrix by adding a `num_heads` dimension
        # Unroll last dim: (b, num_tokens, d_out) -> (b, num_tokens, num_heads, head_dim)
        keys = keys.view(b, num_tokens, self.n_heads, self.head_dim)
        values = values.view(b, num_tokens, self.n_heads, self.head_dim)
        queries = queries.view(b, num_tokens, self.n_heads, self.head_dim)

        # Transpose: (b, num_tokens, num_heads, head_dim) -> (b, num_heads, num_tokens, head_dim)
        keys = keys.transpose(1, 2)
        queries = queries.transpose(1, 2)
        values = values.transpose(1, 2)

        if cache is not None:   # earlier positions first; the queries are the last num_tokens of them
            keys, values = cache.append(keys, values)
        num_keys = keys.shape[2]

        # Compute scaled dot-product attention (aka self-attention) with a causal mask
        attn_scores = queries @ keys.transpose(2, 3)  # Dot product for each head

        # Original mask truncated to the number of tokens and converted to boolean
        mask_bool = self.mask.bool()[num_keys - num_tokens:num_keys, :num_keys]

        # Use the mask to fill attention scores
        attn_scores.masked_fill_(mask_bool, -torch.inf)

        attn_weights = torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1)
        attn_weights = nn.functional.dropout(attn_weights, p=self.dropout, training=self.training)

        # Shape: (b, num_tokens, num_heads, head_dim)
        context_vec = (attn_weights @ values).transpose(1, 2)

        # Combine heads, where self.d_out = self.num_heads * self.head_dim
        context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)
        context_vec = self.c_proj(context_vec)  # optional projection
        return self.resid_dropout(context_vec)


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
        self.ln_1 = LayerNorm(config.d_model, config.layer_norm_eps)   # norm1
        self.attn = CausalSelfAttention(config)                          # att
        self.ln_2 = LayerNorm(config.d_model, config.layer_norm_eps)   # norm2
        self.mlp = MLP(config)                                           # ff

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``(B, T, d)`` -> ``(B, T, d)``."""
        # Shortcut connection for attention block
        shortcut = x
        x = self.ln_1(x)
        x = self.attn(x, cache)   # Shape [batch_size, num_tokens, emb_size]
        x = x + shortcut  # Add the original input back

        # Shortcut connection for feed forward block
        shortcut = x
        x = self.ln_2(x)
        x = self.mlp(x)
        x = x + shortcut  # Add the original input back
        return x


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
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)        # tok_emb
        self.wpe = nn.Embedding(config.context_length, config.d_model)    # pos_emb
        self.drop = nn.Dropout(config.dropout)                            # drop_emb
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layers)])   # trf_blocks
        self.ln_f = LayerNorm(config.d_model, config.layer_norm_eps)      # final_norm
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)   # out_head
        self.lm_head.weight = self.wte.weight    # weight tying, as OpenAI's GPT-2 (ch. 5, loading)

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None) -> torch.Tensor:
        """Logits ``(B, T, V)`` for token ids ``idx`` ``(B, T)``.

        Args:
            idx: int64 token ids.
            caches: one ``KVCache`` per block, or None. The positions of ``idx`` start at
                ``len(caches[0])``.

        Raises:
            ValueError: if the positions would pass ``config.context_length``.
        """
        batch_size, seq_len = idx.shape
        past = len(caches[0]) if caches is not None else 0
        if past + seq_len > self.config.context_length:
            raise ValueError(f"positions {past}..{past + seq_len - 1} pass the context length "
                             f"{self.config.context_length}")
        tok_embeds = self.wte(idx)
        pos_embeds = self.wpe(torch.arange(past, past + seq_len, device=idx.device))
        x = tok_embeds + pos_embeds  # Shape [batch_size, num_tokens, emb_size]
        x = self.drop(x)
        for i, block in enumerate(self.h):
            x = block(x, caches[i] if caches is not None else None)
        x = self.ln_f(x)
        logits = self.lm_head(x)
        return logits


def count_parameters(model: nn.Module) -> int:
    """Number of distinct parameters: a tied weight counts once.

    Example: GPT-2 small, ``GPT(GPTConfig())``, has 124,439,808.
    """
    return sum(p.numel() for p in model.parameters())   # parameters() yields a tied weight once


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
    std_proj = 0.02 / math.sqrt(2 * model.config.n_layers)
    done = set()     # the tied head is the embedding: draw it once
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if not isinstance(weight, nn.Parameter) or id(weight) in done:
            continue
        done.add(id(weight))
        if isinstance(module, nn.Linear):
            std = std_proj if name.endswith("c_proj") else 0.02
            torch.nn.init.normal_(module.weight, mean=0.0, std=std, generator=generator)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02, generator=generator)
        elif hasattr(module, "eps"):            # a LayerNorm: scale 1, shift 0
            torch.nn.init.ones_(module.weight)
            torch.nn.init.zeros_(module.bias)


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
    def assign(left, right):
        if left.shape != right.shape:
            raise ValueError(f"Shape mismatch. Left: {left.shape}, Right: {right.shape}")
        with torch.no_grad():       # in place, so the tied head stays tied
            left.copy_(right)

    params = dict(model.named_parameters())     # the tied head appears once, as wte.weight
    loaded = set()
    for key, value in hf_state.items():
        name = key.removeprefix("transformer.")
        if name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight":
            continue                            # mask buffers, and the tied head
        if name not in params:
            raise KeyError(f"unexpected weight {key!r} in the Hugging Face state dict")
        assign(params[name], value.t() if name.endswith(CONV1D) else value)
        loaded.add(name)
    missing = sorted(set(params) - loaded)
    if missing:
        raise KeyError(f"the Hugging Face state dict lacks {missing[:5]}")


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
    if top_k is not None:
        # Keep only top_k values
        top_logits, _ = torch.topk(logits, min(top_k, logits.shape[-1]))
        min_val = top_logits[..., -1:]
        logits = torch.where(logits < min_val, torch.tensor(float("-inf")).to(logits.device), logits)
    if top_p is not None:
        probs = torch.softmax(logits, dim=-1)
        sorted_probs, sorted_idx = torch.sort(probs, dim=-1, descending=True, stable=True)
        cum = torch.cumsum(sorted_probs, dim=-1)
        before = torch.cat([torch.zeros_like(cum[..., :1]), cum[..., :-1]], dim=-1)   # mass ahead of each token
        remove = (before >= top_p).scatter(-1, sorted_idx, before >= top_p)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Next token ids ``(B,)`` int64 from last-position logits ``(B, V)``.

    ``temperature == 0`` returns the argmax. Otherwise samples (``torch.multinomial`` with
    ``generator``) from ``softmax(filter_logits(logits / temperature, top_k, top_p))``.
    """
    if temperature == 0:   # Otherwise same as before: get idx of the vocab entry with the highest logits value
        return torch.argmax(logits, dim=-1)
    logits = logits / temperature
    logits = filter_logits(logits, top_k, top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)


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
    model.eval()
    context_size = model.config.context_length
    caches = None
    # For-loop is the same as before: Get logits, and only focus on last time step
    for _ in range(max_new_tokens):
        if not use_cache:
            logits = model(idx[:, -context_size:])           # Crop current context if it exceeds the supported context size
        elif caches is None or len(caches[0]) + 1 > context_size:
            caches = [KVCache() for _ in model.h]              # (re)fill the caches with the cropped window
            logits = model(idx[:, -context_size:], caches)
        else:
            logits = model(idx[:, -1:], caches)                # only the newest token
        logits = logits[:, -1, :]
        idx_next = sample_next(logits, temperature, top_k, top_p, generator)   # (batch_size,)
        idx = torch.cat((idx, idx_next[:, None]), dim=1)       # (batch_size, num_tokens+1)
    return idx


# %% [markdown]
# ## 11. Questions (the standard variant's section 11, answered so this file grades in both)

# %% task=questions
def q1_embedding_share() -> float:
    """What fraction of GPT-2 small's 124,439,808 parameters is the token embedding ``wte``?"""
    return 50257 * 768 / 124_439_808


def q2_untied_parameters() -> int:
    """How many parameters would GPT-2 small have if ``lm_head`` had its own weight (untied)?"""
    return 124_439_808 + 50257 * 768


def q3_positions_per_cached_step() -> int:
    """Generating with a KV cache, after the prompt: how many positions does each block run
    through ``c_attn`` per new token?"""
    return 1
