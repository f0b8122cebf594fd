"""How the tests call your code: build your classes from a state dict, run them, return data.

Given code (do not edit): the public tests on your machine and the grader's hidden tests
both go through these functions, so they see your module exactly the same way. Each takes
your module ``m`` first. Weights arrive as a state dict with the attribute names stated in
the docstrings of ``attention.py``; tensors arrive in the dtype the test chose (float64 for
numerical checks), and the model is converted to that dtype before loading.

Functions of your module that take and return plain tensors (``softmax``,
``scaled_dot_product_attention``, ``causal_mask``, ...) are called directly and need no
adapter here.
"""

import torch

from _harness.adapt import load_state

Tensor = torch.Tensor
State = dict[str, Tensor]          # parameter name -> weight, as named in attention.py's docstrings


def _load(model: torch.nn.Module, state: State) -> torch.nn.Module:
    return load_state(model, state)


def self_attention_forward(m, state: State, d_in: int, d_out: int, x: Tensor, mask: Tensor | None = None,
                           bias: bool = False) -> Tensor:
    """``SelfAttention(d_in, d_out, bias)`` with ``state`` loaded, applied to ``x`` ``(B, T, d_in)``
    with ``mask`` ``(T, T)`` bool (True = may attend): ``(B, T, d_out)``."""
    with torch.no_grad():
        return _load(m.SelfAttention(d_in, d_out, bias=bias), state)(x, mask)


def mha_forward(m, state: State, d_model: int, n_heads: int, x: Tensor, mask: Tensor | None = None) -> Tensor:
    """``MultiHeadAttention(d_model, n_heads)`` in eval mode, applied to ``x`` ``(B, T, d_model)``:
    ``(B, T, d_model)``."""
    with torch.no_grad():
        return _load(m.MultiHeadAttention(d_model, n_heads), state)(x, mask)


def mha_dropout(m, state: State, d_model: int, n_heads: int, dropout: float, x: Tensor, seed: int) -> list[Tensor]:
    """Two calls in eval mode and two in training mode: ``[eval, eval, train, train]``."""
    model = _load(m.MultiHeadAttention(d_model, n_heads, dropout=dropout), state)
    torch.manual_seed(seed)
    with torch.no_grad():
        outs = [model(x), model(x)]
        model.train()
        outs += [model(x), model(x)]
    return outs


def sdpa_with_dropout(m, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, seed: int) -> Tensor:
    """``scaled_dot_product_attention`` with dropout, after seeding torch's generator:
    ``q`` ``(..., T_q, D)``, ``k`` and ``v`` ``(..., T_k, D)`` -> ``(..., T_q, D)``."""
    torch.manual_seed(seed)
    return m.scaled_dot_product_attention(q, k, v, mask, dropout_p)


def kv_cache_appends(m, chunks: list[tuple[Tensor, Tensor]]) -> list[tuple[Tensor, Tensor, int]]:
    """Append ``[(k, v), ...]`` to a fresh ``KVCache``; return what each append returned
    and ``len(cache)`` after it."""
    cache = m.KVCache()
    out = []
    for k, v in chunks:
        k_all, v_all = cache.append(k, v)
        out.append((k_all, v_all, len(cache)))
    return out


def _cached(m, model: torch.nn.Module, x: Tensor, chunk: int) -> tuple[Tensor, list]:
    """Run ``incremental_forward``; also record the shapes of the cache's keys and values
    after every call of ``model``."""
    shapes = []

    def record(module, args, kwargs, out):
        cache = kwargs.get("cache", args[2] if len(args) > 2 else None)
        if cache is not None and cache.k is not None:
            shapes.append((tuple(cache.k.shape), tuple(cache.v.shape)))

    handle = model.register_forward_hook(record, with_kwargs=True)
    try:
        with torch.no_grad():
            out = m.incremental_forward(model, x, chunk)
    finally:
        handle.remove()
    return out, shapes


def mha_incremental(m, state: State, d_model: int, n_heads: int, x: Tensor, chunk: int) -> tuple[Tensor, list]:
    """``incremental_forward`` with your ``MultiHeadAttention``: ``(output, cache shapes)``,
    the shapes of the cached keys and values after every step."""
    return _cached(m, _load(m.MultiHeadAttention(d_model, n_heads), state), x, chunk)


def gqa_forward(m, state: State, d_model: int, n_heads: int, n_kv_heads: int, x: Tensor,
                mask: Tensor | None = None) -> Tensor:
    """``GroupedQueryAttention(d_model, n_heads, n_kv_heads)`` in eval mode, applied to ``x``."""
    with torch.no_grad():
        return _load(m.GroupedQueryAttention(d_model, n_heads, n_kv_heads), state)(x, mask)


def gqa_incremental(m, state: State, d_model: int, n_heads: int, n_kv_heads: int, x: Tensor,
                    chunk: int) -> tuple[Tensor, list]:
    """``incremental_forward`` with your ``GroupedQueryAttention``: ``(output, cache shapes)``."""
    return _cached(m, _load(m.GroupedQueryAttention(d_model, n_heads, n_kv_heads), state), x, chunk)
