"""The data-only forms in which a call's arguments cross to the grader for a callback
(``proxy.py``), and what the grader may answer: plain data.

Plain data is tensors, numbers, bools, None, and lists, tuples and str-keyed dicts of
those; no text, no huge integers (a size the grader would allocate). Some values that are
not plain travel as a form, a dict ``{FORM: kind, "name": str, "fields": {...}}``:

- ``dataclass``: a dataclass defined in the student's module (a config), by class name and
  fields; the grader builds the reference's dataclass of that name;
- ``object``: an object of a plain class from elsewhere (a given module's ``KVCache``), by
  class name and attributes; the grader rebuilds the reference's class of that name around
  them and sends the state it has after the call back (``write_back``);
- ``remote``: an object of a class of the graded task (its own ``KVCache``), by a number: it stays in the worker, and the grader's reads
  and method calls on it are run there, on the student's own code (``Link.serve``);
- ``device``, ``dtype``: by name (the grader computes on its CPU).

Leaves out: the protocol (``proxy.py``) and the grader's side (``grade/oracle.py``).
"""

from __future__ import annotations

import dataclasses

import torch

MAX_INT = 1 << 24          # larger integers (sizes of a trusted-side allocation) are not answered
FORM = "__autograder_form__"
KINDS = ("dataclass", "object", "remote", "device", "dtype")


def plain(value, depth: int = 0) -> bool:
    """True for what the grader answers: plain data, and forms of plain data."""
    if depth > 16:
        return False
    if value is None or isinstance(value, (bool, float)):
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_INT
    if isinstance(value, torch.Tensor):
        # a parameter, or a leaf holding a .grad, may be read through its attributes (clipping)
        return type(value) is torch.Tensor and value.layout == torch.strided and not value.is_complex() \
            and not (value.is_leaf and value.grad is not None)
    if isinstance(value, (list, tuple)):
        return type(value) in (list, tuple) and all(plain(v, depth + 1) for v in value)
    if is_form(value):
        return plain(value["fields"], depth + 1)
    if isinstance(value, dict):
        return type(value) is dict and all(isinstance(k, str) and plain(v, depth + 1) for k, v in value.items())
    return False


def is_form(value) -> bool:
    return type(value) is dict and set(value) == {FORM, "name", "fields"} and value[FORM] in KINDS \
        and isinstance(value["name"], str) and len(value["name"]) <= 100 and type(value["fields"]) is dict


def kind(value) -> str | None:
    return value[FORM] if is_form(value) else None


class Forms:
    """Turns one call's arguments into forms, keeping the objects they stand for."""

    def __init__(self, module_name: str, mine=(), remotes: list | None = None):
        self.module_name, self.mine = module_name, set(mine)
        self.objects: list = []                              # sent by state, written back
        self.remotes = remotes if remotes is not None else []  # left in the worker, by number
        self.remote_sent = False

    def __call__(self, value, depth: int = 0):
        if depth > 16:
            return value
        if isinstance(value, (torch.device, torch.dtype)):
            name = "device" if isinstance(value, torch.device) else "dtype"
            return {FORM: name, "name": str(value).removeprefix("torch."), "fields": {}}
        if type(value) in (list, tuple):
            return type(value)(self(v, depth + 1) for v in value)
        if type(value) is dict:
            return {k: self(v, depth + 1) for k, v in value.items()}
        cls = type(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and cls.__module__ == self.module_name:
            return {FORM: "dataclass", "name": cls.__name__,
                    "fields": {f.name: self(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}}
        if type(getattr(value, "__dict__", None)) is dict and not callable(value) and not isinstance(value, type) \
                and cls.__module__.partition(".")[0] not in ("builtins", "torch", "numpy"):
            if cls.__module__ == self.module_name and cls.__name__ in self.mine:
                self.remote_sent = True
                self.remotes.append(value)
                return {FORM: "remote", "name": cls.__name__, "fields": {"id": len(self.remotes) - 1}}
            self.objects.append(value)
            return {FORM: "object", "name": cls.__name__, "fields": {k: self(v, depth + 1) for k, v in vars(value).items()}}
        return value

    def write_back(self, states) -> None:
        """Give the objects sent by state the state the reference left in its copies of them."""
        if isinstance(states, list) and len(states) == len(self.objects):
            for obj, state in zip(self.objects, states):
                if type(state) is dict:
                    vars(obj).clear()
                    vars(obj).update(state)
