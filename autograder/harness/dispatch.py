"""Resolve a test's operation to student code and call it.

Tests never touch student objects; they ask for an *operation* by name with data arguments:

- an **adapter**: a function in the assignment's ``adapters.py`` (given code, shipped with
  the release), called as ``adapter(module, *args, **kwargs)``. Adapters build the student's
  classes from a state dict, run them, and return data (the CS336 adapter pattern);
- otherwise a **public function of the student's module**, called as ``fn(*args, **kwargs)``.

Tensor arguments are moved to the grading device first, and every tensor the call returns
must be on that device too (a GPU runner catches code that creates tensors on the CPU).

Leaves out: timeouts and process isolation (the grader's side of the seam owns those).
"""

from __future__ import annotations

import contextlib
import inspect

import torch


class MissingOperation(AttributeError):
    """The module lacks a function the tests need (misspelled or deleted)."""


class WrongDevice(RuntimeError):
    """The call returned a tensor on another device than its inputs."""


def resolve(module, adapters, op: str):
    """Return ``(callable, is_adapter)`` for operation ``op``."""
    if op.startswith("_"):
        raise MissingOperation(f"{op!r} is not an operation the tests may call")
    if adapters is not None and callable(getattr(adapters, op, None)):
        return getattr(adapters, op), True
    name = getattr(module, "__name__", "your module")
    if not hasattr(module, op):
        raise MissingOperation(
            f"{name} defines no `{op}`: keep the name and signature of the stub you were given")
    fn = getattr(module, op)
    if not callable(fn):
        raise MissingOperation(f"`{op}` in {name} is a {type(fn).__name__}, not a function")
    return fn, False


def call(module, adapters, op: str, args, kwargs, device: str = "cpu", around=contextlib.nullcontext):
    """Run operation ``op`` on ``device`` and return its (unencoded) result; the call itself
    runs inside the context ``around()`` (the operation is resolved before it)."""
    fn, is_adapter = resolve(module, adapters, op)
    args, kwargs = to_device(list(args), device), to_device(dict(kwargs), device)
    if not is_adapter:
        _check_signature(fn, op, args, kwargs)
    with around():
        result = fn(module, *args, **kwargs) if is_adapter else fn(*args, **kwargs)
    _check_device(result, torch.device(device).type, op)
    return result


def to_device(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, list):
        return [to_device(v, device) for v in value]
    if isinstance(value, tuple):
        return tuple(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def _check_signature(fn, op, args, kwargs):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        given = ", ".join(["<arg>"] * len(args) + [f"{k}=..." for k in kwargs])
        raise TypeError(f"the tests call {op}({given}) but your {op}{signature} does not accept that "
                        f"({exc}); keep the signature of the stub") from None


def _check_device(value, device_type, op):
    if isinstance(value, torch.Tensor):
        if value.device.type != device_type:
            raise WrongDevice(f"`{op}` returned a tensor on {value.device} but its inputs were on "
                              f"{device_type}: create new tensors with device=x.device")
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_device(v, device_type, op)
    elif isinstance(value, dict):
        for v in value.values():
            _check_device(v, device_type, op)
