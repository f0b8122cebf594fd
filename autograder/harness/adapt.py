"""Helpers for an assignment's ``adapters.py``: build a student's module from a state dict.

Adapters run beside student code (in the worker, and in a release folder under plain
pytest) and in the trusted process for the reference; this one loader gives every
assignment the same rules and the same messages.
"""

from __future__ import annotations

import torch


def load_state(model: torch.nn.Module, state: dict | None, *, may_be_missing: tuple[str, ...] = ()) -> torch.nn.Module:
    """``model`` converted to the device and dtype of ``state``, ``state`` loaded, in eval mode.

    The keys must be the parameters the specification names: a key the model lacks, or a
    parameter of the model that ``state`` does not set, is a ``KeyError`` that says which.
    Buffers (a causal-mask buffer named ``bias`` or ``mask``, as nanoGPT and textbooks
    register one) are the student's own business and never compared. ``may_be_missing``
    names parameters a state may leave out because the specification ties them to an
    embedding (a head tied to the token embedding). A model that does not tie one gets the
    embedding's values in it, so that its outputs are what its code computes with the given
    weights: tying is judged where it is specified, by the model's own structural test, and
    an untied head costs no test of causality, batching or generation. The embedding is the
    model's first ``nn.Embedding`` whose weight has that shape and is in ``state`` (the
    token embedding comes before the positions' in a GPT); with none, it is a ``KeyError``.
    """
    if not state:
        return model.eval()
    first = next(iter(state.values()))
    model = model.to(device=first.device, dtype=first.dtype)
    params = dict(model.named_parameters(remove_duplicate=False))
    name = type(model).__name__
    unexpected = [k for k in state if k not in params and k not in model.state_dict()]
    if unexpected:
        have = ", ".join(params) or "none"
        raise KeyError(f"your {name} has no parameter {unexpected[0]!r} (it has: {have}); "
                       "use the attribute names given in the docstrings")
    missing = [k for k in params if k not in state and k not in may_be_missing]
    if missing:
        raise KeyError(f"your {name} has parameters the specification does not name: {missing[:5]}")
    model.load_state_dict(state, strict=False)
    loaded = {params[k].data_ptr() for k in state if k in params}
    embeddings = [f"{m}.weight" if m else "weight" for m, module in model.named_modules()
                  if isinstance(module, torch.nn.Embedding)]
    for k in [k for k in params if k not in state and params[k].data_ptr() not in loaded]:
        source = next((e for e in embeddings if e in state and params[e].shape == params[k].shape), None)
        if source is None:
            raise KeyError(f"your {name}'s {k!r} is not in the state dict and is tied to no embedding of its shape "
                           f"{tuple(params[k].shape)}: the specification ties it (self.{k} = the token "
                           "embedding's weight)")
        with torch.no_grad():
            params[k].copy_(params[source])
    return model.eval()
