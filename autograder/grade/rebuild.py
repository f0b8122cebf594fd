"""Rebuild, on the grader's side, what a callback's forms stand for (``harness/forms.py``):
the reference layer a student's layer stands in for, configs, objects, devices.

Only the reference's own classes are ever built: a dataclass the reference module defines,
a plain class defined by the course's reference code and named in the reference's
namespace (its ``KVCache``), an ``nn.Module`` class the oracle answers for. A layer is sized
on the meta device first and refused ("unanswerable") if it would be larger than the weights
sent; a constructor's integers may not exceed that number either, so a submission cannot make
this process allocate or loop more than its own data warrants.

Leaves out: running the rebuilt layer (``oracle.py``).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

from ..harness import codec, forms
from ..harness.proxy import Unanswerable

BUILT_CACHE = 32           # reference layers kept built, per grading


def layer(module, cls, value: dict, state: dict, built: dict):
    """The reference layer ``cls`` built from the constructor arguments sent, and the names of
    its distinct weights, checked against the ``state`` sent. Where the reference ties weights
    (a GPT's head to its token embedding) it reads the first name, as it would its own."""
    init, training = value.get("init"), value.get("training")
    if not isinstance(init, dict) or set(init) != {"args", "kwargs"} or not isinstance(training, bool) \
            or not forms.plain(init):
        raise TypeError("a layer's callback carries its constructor's plain arguments and its training flag")
    sent = sum(t.numel() for t in state.values())
    rebuilt = arguments(init, module, max(sent, 1 << 16), [])
    args, kwargs = rebuilt["args"], rebuilt["kwargs"]
    if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
        raise TypeError("a layer's constructor arguments are a list and a dict")
    key = (cls.__name__, codec.pack({}, init))
    found = built.get(key)
    if found is None:
        try:
            with torch.device("meta"):              # its size first, allocating nothing
                probe = cls(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - arguments the reference does not take
            raise Unanswerable(f"the reference {cls.__name__} does not take these arguments: {exc}") from None
        if sum(t.numel() for t in (*probe.parameters(), *probe.buffers())) > sent + (1 << 20):
            raise Unanswerable(f"the reference {cls.__name__} would be larger than the weights sent")
        with torch.random.fork_rng(devices=[]):
            found = cls(*args, **kwargs)
        if len(built) >= BUILT_CACHE:
            built.clear()
        built[key] = found
    found.train(training)
    expected, first = found.state_dict(keep_vars=True), {}
    if set(expected) != set(state) or any(tuple(state[k].shape) != tuple(v.shape) for k, v in expected.items()):
        raise Unanswerable(f"the weights of your {cls.__name__} are not named and shaped as the reference's")
    for k, v in expected.items():    # a weight the reference ties is read under its first name only
        first.setdefault(id(v), k)
    return found, list(first.values())


def arguments(value, module, bound: int, objects: list, remote=None):
    """Arguments from their forms: a device as the CPU, a dtype by name, a dataclass by the
    name of one ``module`` defines, an object by the name of a plain class of the reference
    (appended to ``objects``), a remote object as a ``Stub`` asking ``remote``; integers no
    larger than ``bound``."""
    kind = forms.kind(value)
    if kind == "device":
        return torch.device("cpu")                  # the answer moves to the caller's device
    if kind == "dtype":
        if not isinstance(dtype := getattr(torch, value["name"], None), torch.dtype):
            raise TypeError(f"no dtype {value['name']!r}")
        return dtype
    if kind == "remote":
        ident = value["fields"].get("id")
        if remote is None or type(ident) is not int:
            raise TypeError("an object of the graded task cannot be sent here")
        return Stub(remote, ident, value["name"])
    if kind is not None:
        cls = getattr(module, value["name"], None)
        fields = arguments(value["fields"], module, bound, objects, remote)
        if kind == "dataclass":
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__):
                raise Unanswerable(f"the reference defines no dataclass {value['name']!r}")
            try:
                return cls(**fields)
            except TypeError as exc:
                raise Unanswerable(str(exc)) from None
        return _object(cls, fields, module, objects)
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        if abs(value) > bound:
            raise Unanswerable(f"an integer argument ({value}) larger than the weights sent")
        return value
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(arguments(v, module, bound, objects, remote) for v in value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: arguments(v, module, bound, objects, remote) for k, v in value.items()}
    raise TypeError("arguments are plain data (tensors, numbers, bools, None)")


def _object(cls, fields: dict, module, objects: list):
    """An instance of the reference's plain class ``cls`` holding ``fields``, if a fresh one
    (``cls()``) has attributes of the same names."""
    home = sys.modules.get(getattr(cls, "__module__", ""), None)
    course = Path(module.__file__).resolve().parent.parent          # reference/
    if not (isinstance(cls, type) and not issubclass(cls, torch.nn.Module)
            and Path(getattr(home, "__file__", "") or "/").resolve().parent.parent == course):
        raise Unanswerable("the reference's code defines no such class")
    try:
        with torch.random.fork_rng(devices=[]):
            fresh = cls()
    except Exception as exc:  # noqa: BLE001 - one that needs arguments cannot be rebuilt from its state
        raise Unanswerable(f"cannot rebuild a {cls.__name__}: {exc}") from None
    if set(vars(fresh)) != set(fields):
        raise Unanswerable(f"your {cls.__name__} has other attributes than the reference's")
    obj = cls.__new__(cls)
    vars(obj).update(fields)
    objects.append(obj)
    return obj


class Stub:
    """A student's object of the graded task (its ``KVCache``), left in the worker: what the
    reference reads of it and calls on it runs there, on the student's own code."""

    __slots__ = ("_remote", "_id", "_name")

    def __init__(self, remote, ident: int, name: str):
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        got = self._remote({"op": "getattr", "id": self._id, "name": attr})
        if isinstance(got, dict) and got.get("method") is True:
            return lambda *args, **kwargs: self._remote({"op": "call", "id": self._id, "name": attr,
                                                         "args": list(args), "kwargs": kwargs})
        return got.get("value") if isinstance(got, dict) else None

    def __len__(self) -> int:
        n = self._remote({"op": "len", "id": self._id})
        if type(n) is not int or n < 0:
            raise TypeError(f"your {self._name}.__len__ gave {n!r}, not a length")
        return n

    def __setattr__(self, attr, value):
        raise AttributeError(f"the reference does not set attributes of your {self._name}")
