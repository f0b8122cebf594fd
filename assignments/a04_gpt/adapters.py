"""How the tests call your code: build your layers from a config and a state dict, run them,
return data.

Given code (do not edit): the public tests on your machine and the grader's hidden tests
both go through these functions. Each takes your module ``m`` first. ``config`` is a dict of
``GPTConfig`` fields; weights arrive as a state dict with the attribute names stated in
your docstrings, in the dtype the test chose (float64 for numerical checks): the module is
converted to that dtype before loading. Plain functions of your module (``gelu``,
``filter_logits``, ...) are called directly and need no adapter.
"""

import torch

from _harness.adapt import load_state

Tensor = torch.Tensor
State = dict[str, Tensor]          # parameter name -> weight, as named in gpt.py's docstrings
Config = dict                      # GPTConfig's fields: vocab_size, context_length, d_model, n_heads, n_layers, ...


def _load(model: torch.nn.Module, state: State | None) -> torch.nn.Module:
    return load_state(model, state, may_be_missing=("lm_head.weight",))    # the head may be tied


def _gpt(m, config: Config, state: State | None) -> torch.nn.Module:
    return _load(m.GPT(m.GPTConfig(**config)), state)


def layer_norm_forward(m, state: State, d: int, eps: float, x: Tensor) -> Tensor:
    with torch.no_grad():
        return _load(m.LayerNorm(d, eps), state)(x)


def mlp_forward(m, config: Config, state: State, x: Tensor, train: bool = False, seed: int = 0) -> Tensor:
    """Your ``MLP``; in training mode (dropout active) when ``train``, after seeding torch."""
    model = _load(m.MLP(m.GPTConfig(**config)), state)
    torch.manual_seed(seed)
    with torch.no_grad():
        return model.train(train)(x)


def attention_forward(m, config: Config, state: State, x: Tensor, chunk: int | None = None) -> Tensor:
    """Your ``CausalSelfAttention`` on ``x`` ``(B, T, d_model)`` -> ``(B, T, d_model)``; with
    ``chunk``, fed ``chunk`` positions at a time through one a03 ``KVCache``."""
    model = _load(m.CausalSelfAttention(m.GPTConfig(**config)), state)
    with torch.no_grad():
        if chunk is None:
            return model(x)
        cache = m.KVCache()
        return torch.cat([model(x[:, s:s + chunk], cache) for s in range(0, x.shape[1], chunk)], dim=1)


def attention_eval_twice(m, config: Config, state: State, x: Tensor) -> tuple[Tensor, Tensor]:
    """Two eval-mode calls (dropout must be off)."""
    model = _load(m.CausalSelfAttention(m.GPTConfig(**config)), state)
    with torch.no_grad():
        return model(x), model(x)


def block_forward(m, config: Config, state: State, x: Tensor) -> Tensor:
    """Your ``Block`` in eval mode on ``x`` ``(B, T, d_model)`` -> ``(B, T, d_model)``."""
    with torch.no_grad():
        return _load(m.Block(m.GPTConfig(**config)), state)(x)


def model_logits(m, config: Config, state: State, idx: Tensor, chunk: int | None = None) -> Tensor:
    """Your ``GPT``'s logits ``(B, T, V)`` for ``idx`` ``(B, T)`` int64; with ``chunk``, fed ``chunk`` tokens at a time with
    one a03 ``KVCache`` per block."""
    model = _gpt(m, config, state)
    with torch.no_grad():
        if chunk is None:
            return model(idx)
        caches = [m.KVCache() for _ in model.h]
        return torch.cat([model(idx[:, s:s + chunk], caches) for s in range(0, idx.shape[1], chunk)], dim=1)


def parameter_count(m, config: Config) -> int:
    """``count_parameters`` of a fresh ``GPT(GPTConfig(**config))``."""
    return m.count_parameters(m.GPT(m.GPTConfig(**config)))


def vocab_matrices(m, config: Config) -> int:
    """How many distinct parameters of a fresh ``GPT`` have the shape ``(vocab_size, d_model)``:
    1 when the head is tied to the token embedding."""
    shape = (config["vocab_size"], config["d_model"])
    return sum(1 for p in m.GPT(m.GPTConfig(**config)).parameters() if tuple(p.shape) == shape)


def initialized_state(m, config: Config, seed: int) -> State:
    """The parameters of a fresh ``GPT`` after ``init_weights`` with a seeded generator (a tied
    head once, under the embedding's name; buffers, such as a causal-mask buffer, are not sent)."""
    model = m.GPT(m.GPTConfig(**config))
    m.init_weights(model, torch.Generator().manual_seed(seed))
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def model_dropout(m, config: Config, state: State, idx: Tensor, seed: int) -> list[Tensor]:
    """Logits of two eval-mode and two training-mode calls: ``[eval, eval, train, train]``."""
    model = _gpt(m, config, state)
    torch.manual_seed(seed)
    with torch.no_grad():
        outs = [model(idx), model(idx)]
        model.train()
        return outs + [model(idx), model(idx)]


def load_hf_then_logits(m, config: Config, hf_state: State, idx: Tensor) -> Tensor:
    """A fresh ``GPT`` loaded with ``load_hf_state_dict(model, hf_state)``; its logits for ``idx``."""
    model = m.GPT(m.GPTConfig(**config))
    first = next(iter(hf_state.values()))
    model = model.to(dtype=first.dtype)
    m.load_hf_state_dict(model, hf_state)
    with torch.no_grad():
        return model.eval()(idx)


def sample_many(m, logits: Tensor, n: int, temperature: float, top_k: int | None, top_p: float | None,
                seed: int) -> Tensor:
    """``n`` draws of ``sample_next`` for the single row ``logits`` ``(V,)``: ``(n,)`` ids."""
    generator = torch.Generator(device=logits.device).manual_seed(seed)
    return m.sample_next(logits.expand(n, -1), temperature, top_k, top_p, generator)


def generate_tokens(m, config: Config, state: State, idx: Tensor, max_new_tokens: int, temperature: float = 1.0,
                    top_k: int | None = None, top_p: float | None = None, use_cache: bool = False,
                    seed: int = 0) -> tuple[Tensor, list[int]]:
    """``generate`` with your model and a seeded generator; also the length of the input of
    every call of the model, ``(tokens, lengths)``."""
    model = _gpt(m, config, state)
    lengths = []
    model.register_forward_pre_hook(lambda module, args: lengths.append(args[0].shape[1]))
    generator = torch.Generator(device=idx.device).manual_seed(seed)
    tokens = m.generate(model, idx, max_new_tokens, temperature, top_k, top_p, use_cache, generator)
    return tokens, lengths
