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
    names parameters a state may leave out because they are tied: each must be the same
    tensor as a parameter the state sets (a head tied to the embedding), else it would keep
    its random initialization and every model built would give other outputs.
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
    loaded = {params[k].data_ptr() for k in state if k in params}
    untied = [k for k in params if k not in state and params[k].data_ptr() not in loaded]
    if untied:
        k = untied[0]
        partners = [j for j in state if j in params and params[j].shape == params[k].shape]
        how = f": self.{k} = self.{partners[0]}" if len(partners) == 1 else ""
        raise KeyError(f"your {name}'s {k!r} is a parameter of its own, so it keeps its random initialization: "
                       f"the specification ties it to another parameter (the state dict has no entry for it). "
                       f"Make both the same tensor{how}")
    model.load_state_dict(state, strict=False)
    return model.eval()
