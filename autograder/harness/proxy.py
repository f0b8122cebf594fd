"""One mistake, one task: while a task is graded, the submission's calls into the functions
of OTHER tasks are answered by the reference, on the grader's side.

For the length of one operation call, the worker replaces the named top-level functions of
the student's module with proxies. A proxy sends ``(name, args, kwargs)`` back over the
channel as a callback; the grader (``grade/oracle.py``) runs the reference function of that
name and replies with the result. The reference never enters this process. Arguments must
be plain data (tensors, numbers, bools, None, and lists, tuples and dicts of those: no text,
no objects, no huge integers); a call with anything else runs the student's own function.

Randomness stays exact: the proxy sends torch's CPU generator state and adopts the state the
reference left, so dropout draws what the reference would have drawn in this process.
Gradients flow: with a tensor argument that requires grad, the proxy is a
``torch.autograd.Function`` whose backward calls back for the reference's vector-Jacobian
product (the grader recomputes the forward from the same generator state).

    worker -> grader   {"kind": "callback", "id": n, "name": f, "mode": "call" | "vjp"}
    grader -> worker   {"kind": "answer", "id": n, "ok": bool, "error"?: {...}}

Leaves out: classes (a student's class of another task is still the student's own),
arguments that a function mutates through attributes (``p.grad``), the CUDA generator,
double backward.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
import types

import torch
from torch.utils import _pytree

MAX_INT = 1 << 24          # larger integers (sizes of a trusted-side allocation) are not answered


class CallbackRefused(RuntimeError):
    """The grader would not answer a callback (or broke the protocol)."""


def plain(value, depth: int = 0) -> bool:
    """True for what the grader answers: tensors, numbers, bools, None, and containers of them."""
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
    if isinstance(value, dict):
        return type(value) is dict and all(isinstance(k, str) and plain(v, depth + 1) for k, v in value.items())
    return False


class Link:
    """Callbacks to the grader during one operation call ``call_id``."""

    def __init__(self, channel, call_id, device: str):
        self.channel, self.call_id, self.device = channel, call_id, device
        self.lock = threading.Lock()

    def ask(self, name: str, mode: str, payload: dict):
        from .dispatch import to_device
        with self.lock:
            self.channel.send({"kind": "callback", "id": self.call_id, "name": name, "mode": mode}, payload)
            header, value = self.channel.read()
        if header is None:
            raise SystemExit(0)                   # the grader is gone
        if header.get("kind") != "answer" or header.get("id") != self.call_id:
            raise CallbackRefused("the grader broke the callback protocol")
        if not header.get("ok"):
            error = header.get("error") or {}
            base = getattr(builtins, str(error.get("type")), None)
            cls = base if isinstance(base, type) and issubclass(base, Exception) else CallbackRefused
            raise cls(f"{error.get('message', '')} (raised by the reference `{name}`, which answers calls "
                      "into other tasks' functions while a task is graded)")
        if isinstance(value, dict) and isinstance(value.get("rng"), torch.Tensor):
            torch.set_rng_state(value["rng"])
        return to_device(value, self.device)


def _device(leaves) -> str:
    return next((str(x.device) for x in leaves if isinstance(x, torch.Tensor)), "cpu")


def make(name: str, own, link: Link):
    """The proxy standing in for the student's function ``own`` of another task."""

    def proxy(*args, **kwargs):
        if not plain((args, kwargs)):
            return own(*args, **kwargs)
        leaves, spec = _pytree.tree_flatten((list(args), kwargs))
        spots = [i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor)]
        if torch.is_grad_enabled() and any(leaves[i].requires_grad for i in spots):
            return _Remote.apply(name, link, leaves, spec, spots, *(leaves[i] for i in spots))
        return _forward(name, link, leaves, spec, spots)

    proxy.__name__ = proxy.__qualname__ = name
    proxy.__wrapped__ = own
    return proxy


def _forward(name, link, leaves, spec, spots):
    args, kwargs = _pytree.tree_unflatten([_detach(x) for x in leaves], spec)
    link.device = _device(leaves)
    answer = link.ask(name, "call", {"args": args, "kwargs": kwargs, "rng": torch.get_rng_state(),
                                     "grad": torch.is_grad_enabled()})
    for i, value in answer.get("mutated", []):     # the reference changed an argument in place
        if i in spots and isinstance(value, torch.Tensor):
            with torch.no_grad():
                leaves[i].copy_(value)
    return answer.get("result")


def _detach(x):
    return x.detach() if isinstance(x, torch.Tensor) else x


class _Remote(torch.autograd.Function):
    @staticmethod
    def forward(ctx, name, link, leaves, spec, spots, *tensors):
        ctx.name, ctx.link, ctx.leaves, ctx.spec, ctx.spots = name, link, leaves, spec, spots
        ctx.rng = torch.get_rng_state()
        ctx.save_for_backward(*tensors)
        out = _forward(name, link, leaves, spec, spots)
        if isinstance(out, list):
            out = tuple(out)
        return out

    @staticmethod
    def backward(ctx, *grads):
        tensors = ctx.saved_tensors
        leaves = list(ctx.leaves)
        for i, t in zip(ctx.spots, tensors):
            leaves[i] = t.detach()
        wrt = [ctx.spots[j] for j, need in enumerate(ctx.needs_input_grad[5:]) if need]
        args, kwargs = _pytree.tree_unflatten(leaves, ctx.spec)
        answer = ctx.link.ask(ctx.name, "vjp", {"args": args, "kwargs": kwargs, "rng": ctx.rng,
                                                 "grad_outputs": list(grads), "wrt": wrt})
        got = dict(zip(wrt, answer.get("grads", [])))
        return (None,) * 5 + tuple(got.get(i) for i in ctx.spots)


@contextlib.contextmanager
def installed(module, names, link: Link):
    """Proxies for ``names`` (top-level functions of ``module``) for the length of the block."""
    namespace = vars(module)
    saved = {n: namespace[n] for n in names if isinstance(namespace.get(n), types.FunctionType)}
    for n, own in saved.items():
        namespace[n] = make(n, own, link)
    try:
        yield
    finally:
        namespace.update(saved)
