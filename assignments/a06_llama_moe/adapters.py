"""How the tests call your code: build your layers from a config and a state dict, run them,
return data.

Given code (do not edit): the public tests on your machine and the grader's hidden tests
both go through these functions. Each takes your module ``m`` first. ``config`` is a dict of
``LlamaConfig`` fields; weights arrive as a state dict with the attribute names stated in
your docstrings, in the dtype the test chose (float64 for numerical checks, float16 for the
upcast): the module is converted to that dtype before loading. Plain functions of your
module (``apply_rope``, ``route``, ``load_balancing_loss``, ...) are called directly.
"""

import torch

from _harness.adapt import load_state


def _load(model: torch.nn.Module, state: dict | None) -> torch.nn.Module:
    return load_state(model, state, may_be_missing=("lm_head.weight",))    # the head may be tied


def _chunked(model, x, caches, chunk):
    """``model`` run on ``chunk`` positions of ``x`` at a time, outputs concatenated."""
    return torch.cat([model(x[:, s:s + chunk], caches) for s in range(0, x.shape[1], chunk)], dim=1)


def rms_norm_forward(m, state, d, eps, x):
    with torch.no_grad():
        return _load(m.RMSNorm(d, eps), state)(x)


def swiglu_forward(m, d, hidden, state, x):
    with torch.no_grad():
        return _load(m.SwiGLU(d, hidden), state)(x)


def attention_forward(m, config, state, x, chunk=None):
    """Your ``LlamaAttention`` on ``x``; with ``chunk``, fed ``chunk`` positions at a time
    through one a03 ``KVCache``."""
    model = _load(m.LlamaAttention(m.LlamaConfig(**config)), state)
    with torch.no_grad():
        return model(x) if chunk is None else _chunked(model, x, m.KVCache(), chunk)


def block_forward(m, config, state, x, chunk=None):
    model = _load(m.LlamaBlock(m.LlamaConfig(**config)), state)
    with torch.no_grad():
        return model(x) if chunk is None else _chunked(model, x, m.KVCache(), chunk)


def model_logits(m, config, state, idx, chunk=None):
    """Your ``Llama``'s logits for ``idx``; with ``chunk``, fed ``chunk`` tokens at a time with
    one a03 ``KVCache`` per block."""
    model = _load(m.Llama(m.LlamaConfig(**config)), state)
    with torch.no_grad():
        return model(idx) if chunk is None else _chunked(model, idx, [m.KVCache() for _ in model.layers], chunk)


def model_structure(m, config):
    """Facts about a fresh ``Llama(LlamaConfig(**config))``: its parameter count, whether the
    head shares the embedding's storage, and its state-dict names and shapes."""
    model = m.Llama(m.LlamaConfig(**config))
    return {"count": m.count_parameters(model),
            "tied": model.lm_head.weight.data_ptr() == model.embed_tokens.weight.data_ptr(),
            "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}}


def generate_tokens(m, config, state, idx, max_new_tokens, use_cache=True):
    """``generate_greedy`` with your model; also the length of the input of every call of the
    model, ``(tokens, lengths)``."""
    model = _load(m.Llama(m.LlamaConfig(**config)), state)
    lengths = []
    model.register_forward_pre_hook(lambda module, args: lengths.append(args[0].shape[1]))
    return m.generate_greedy(model, idx, max_new_tokens, use_cache), lengths


def moe_forward(m, d, hidden, n_experts, top_k, renormalize, state, x):
    """Your ``MoE(d, hidden, n_experts, top_k, renormalize)`` on ``x``: ``(out, router_logits)``."""
    model = _load(m.MoE(d, hidden, n_experts, top_k, renormalize), state)
    with torch.no_grad():
        out, logits = model(x)
        return out, logits


def moe_router_grad(m, d, hidden, n_experts, top_k, renormalize, state, x):
    """The gradient of ``out.sum()`` with respect to the router weight of your ``MoE``."""
    model = _load(m.MoE(d, hidden, n_experts, top_k, renormalize), state)
    out, _ = model(x)
    out.sum().backward()
    return model.router.weight.grad


class _CountCalls(torch.overrides.TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        return func(*args, **(kwargs or {}))


def moe_batched_forward(m, d, hidden, n_experts, top_k, renormalize, state, x):
    """``moe_forward_batched`` with your ``MoE``: ``(out, router_logits, torch_calls)``, the
    last the number of torch functions and tensor methods the call used."""
    model = _load(m.MoE(d, hidden, n_experts, top_k, renormalize), state)
    counter = _CountCalls()
    with torch.no_grad(), counter:
        out, logits = m.moe_forward_batched(model, x)
    return out, logits, counter.calls


def rope_frequencies_float64(m, d_head, theta):
    """Your ``rope_frequencies(d_head, theta, torch.float64)``."""
    return m.rope_frequencies(d_head, theta, torch.float64)
