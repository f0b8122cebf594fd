"""One mistake, one task: while a task is graded, the submission's calls into the functions
and layers of OTHER tasks are answered by the reference, on the grader's side.

For the length of one operation call, the worker replaces the named top-level functions of
the student's module with proxies, and the ``forward`` of the named ``nn.Module`` classes.
A proxy sends ``(name, args, kwargs)`` back over the channel as a callback; the grader
(``grade/oracle.py``) runs the reference of that name and replies with the result. The
reference never enters this process. Arguments must be plain data (tensors, numbers, bools,
None, and lists, tuples and dicts of those: no text, no objects, no huge integers); a call
with anything else runs the student's own code.

A layer's call also sends what the grader needs to rebuild it: the arguments its
constructor got (recorded while the proxies were in place; a dataclass of the module, such
as a config, travels as its name and fields, ``to_forms``) and its ``state_dict``. The grader builds the
reference class with those arguments and runs it with the student's weights
(``torch.func.functional_call``). A layer it cannot rebuild that way (other parameter names,
shapes, a constructor given objects) is answered "unanswerable", and the student's own
``forward`` runs.

Randomness stays exact: the proxy sends torch's CPU generator state and adopts the state the
reference left, so dropout draws what the reference would have drawn in this process.
Gradients flow: with a tensor argument (or a layer's parameter) that requires grad, the
result comes out of a ``torch.autograd.Function`` whose backward calls back for the
reference's vector-Jacobian product (the grader recomputes the forward from the same
generator state).

    worker -> grader   {"kind": "callback", "id": n, "name": f, "mode": "call" | "vjp"}
    grader -> worker   {"kind": "answer", "id": n, "ok": bool, "error"?: {...}}

Objects travel by state: a ``KVCache`` argument goes as its class's name and its
attributes; the grader rebuilds the reference's class of that name around them, and the
state it has after the call is written back into the student's object.

Leaves out: methods other than ``forward`` (a ``KVCache.append`` of another task still runs
the student's code), gradients through an object's state, arguments that a function mutates
through attributes (``p.grad``), the CUDA generator, double backward.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import threading
import types

import torch
from torch.utils import _pytree

MAX_INT = 1 << 24          # larger integers (sizes of a trusted-side allocation) are not answered
FORM = "__autograder_form__"
KINDS = ("dataclass", "object", "device", "dtype")
INIT = "_autograder_init"  # where a proxied layer keeps the plain form of its constructor's arguments


class CallbackRefused(RuntimeError):
    """The grader would not answer a callback (or broke the protocol)."""


class Unanswerable(Exception):
    """The grader cannot rebuild this layer as the reference: the student's own code runs."""


def plain(value, depth: int = 0) -> bool:
    """True for what the grader answers: tensors, numbers, bools, None, containers of them,
    and the forms ``to_forms`` gives dataclasses and objects."""
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
    """A dataclass or an object in the form ``to_forms`` gives it."""
    return type(value) is dict and set(value) == {FORM, "name", "fields"} and value[FORM] in KINDS \
        and isinstance(value["name"], str) and len(value["name"]) <= 100 and type(value["fields"]) is dict


def to_forms(value, module_name: str, objects: list, depth: int = 0):
    """``value`` with each dataclass defined in the student's module as
    ``{FORM: "dataclass", "name", "fields"}`` and each other object of a plain class (a
    ``KVCache``) as ``{FORM: "object", "name", "fields": vars(obj)}``; the objects are appended
    to ``objects``, so that the state the grader sends back can be written into them. A
    ``torch.device`` or ``torch.dtype`` goes by name (the grader computes on its CPU)."""
    if depth > 16:
        return value
    if isinstance(value, (torch.device, torch.dtype)):
        kind = "device" if isinstance(value, torch.device) else "dtype"
        return {FORM: kind, "name": str(value).removeprefix("torch."), "fields": {}}
    if type(value) in (list, tuple):
        return type(value)(to_forms(v, module_name, objects, depth + 1) for v in value)
    if type(value) is dict:
        return {k: to_forms(v, module_name, objects, depth + 1) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and type(value).__module__ == module_name:
        return {FORM: "dataclass", "name": type(value).__name__,
                "fields": {f.name: to_forms(getattr(value, f.name), module_name, objects, depth + 1)
                           for f in dataclasses.fields(value)}}
    if type(getattr(value, "__dict__", None)) is dict and not callable(value) and not isinstance(value, type) \
            and type(value).__module__.partition(".")[0] not in ("builtins", "torch", "numpy"):
        objects.append(value)
        return {FORM: "object", "name": type(value).__name__,
                "fields": {k: to_forms(v, module_name, objects, depth + 1) for k, v in vars(value).items()}}
    return value


def write_back(objects: list, states) -> None:
    """Give the student's objects the state the reference left in its copies of them."""
    if isinstance(states, list) and len(states) == len(objects):
        for obj, state in zip(objects, states):
            if type(state) is dict:
                vars(obj).clear()
                vars(obj).update(state)


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
            if error.get("type") == Unanswerable.__name__:
                raise Unanswerable(error.get("message", ""))
            base = getattr(builtins, str(error.get("type")), None)
            cls = base if isinstance(base, type) and issubclass(base, Exception) else CallbackRefused
            raise cls(f"{error.get('message', '')} (raised by the reference `{name}`, which answers calls "
                      "into other tasks' code while a task is graded)")
        if isinstance(value, dict) and isinstance(value.get("rng"), torch.Tensor):
            torch.set_rng_state(value["rng"])
        return to_device(value, self.device)


def make(name: str, own, link: Link, module_name: str):
    """The proxy standing in for the student's function ``own`` of another task."""

    def proxy(*args, **kwargs):
        objects = []
        pack = to_forms((list(args), kwargs), module_name, objects)
        if not plain(pack):
            return own(*args, **kwargs)
        return _remote(name, link, pack, {}, objects, lambda: own(*args, **kwargs))

    proxy.__name__ = proxy.__qualname__ = name
    proxy.__wrapped__ = own
    return proxy


def make_layer(cls, link: Link, module_name: str):
    """``(__init__, forward)`` standing in for those of the student's layer ``cls`` of another task."""
    own_init, own_forward = cls.__init__, cls.forward

    def __init__(self, *args, **kwargs):
        own_init(self, *args, **kwargs)
        if type(self) is cls and plain(form := to_forms({"args": list(args), "kwargs": kwargs}, module_name, [])):
            self.__dict__[INIT] = form

    def forward(self, *args, **kwargs):
        init, objects = self.__dict__.get(INIT) if type(self) is cls else None, []
        state = dict(self.state_dict(keep_vars=True)) if init is not None else {}
        pack = to_forms((list(args), kwargs), module_name, objects)
        if init is None or not plain(pack) or not plain({k: v.detach() for k, v in state.items()}):
            return own_forward(self, *args, **kwargs)
        return _remote(cls.__name__, link, pack + (state,), {"init": init, "training": self.training}, objects,
                       lambda: own_forward(self, *args, **kwargs))

    forward.__wrapped__ = own_forward
    return __init__, forward


def _remote(name, link, pack, extra, objects, own):
    """The reference's answer for ``pack`` (the call's arguments), differentiable when any
    tensor in it requires grad; ``own()`` when the grader cannot answer."""
    leaves, spec = _pytree.tree_flatten(pack)
    spots = [i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor)]
    rng = torch.get_rng_state()
    try:
        out = _forward(name, link, leaves, spec, spots, dict(extra, rng=rng), objects)
    except Unanswerable:
        torch.set_rng_state(rng)
        return own()
    if torch.is_grad_enabled() and any(leaves[i].requires_grad for i in spots):
        out = _Remote.apply(name, link, leaves, spec, spots, dict(extra, rng=rng), out, *(leaves[i] for i in spots))
    return out


def _forward(name, link, leaves, spec, spots, extra, objects=()):
    pack = _pytree.tree_unflatten([_detach(x) for x in leaves], spec)
    link.device = next((str(x.device) for x in leaves if isinstance(x, torch.Tensor)), "cpu")
    answer = link.ask(name, "call", dict(extra, pack=pack, grad=torch.is_grad_enabled()))
    for i, value in answer.get("mutated", []):     # the reference changed an argument in place
        if i in spots and isinstance(value, torch.Tensor):
            with torch.no_grad():
                leaves[i].copy_(value)
    write_back(list(objects), answer.get("objects"))
    out = answer.get("result")
    return tuple(out) if isinstance(out, list) else out


def _detach(x):
    return x.detach() if isinstance(x, torch.Tensor) else x


class _Remote(torch.autograd.Function):
    """Passes the reference's forward result through; its backward asks for the reference's vjp."""

    @staticmethod
    def forward(ctx, name, link, leaves, spec, spots, extra, out, *tensors):
        ctx.name, ctx.link, ctx.leaves, ctx.spec, ctx.spots, ctx.extra = name, link, leaves, spec, spots, extra
        ctx.save_for_backward(*tensors)
        if isinstance(out, tuple):
            return tuple(o.view_as(o) if isinstance(o, torch.Tensor) else o for o in out)
        return out.view_as(out) if isinstance(out, torch.Tensor) else out

    @staticmethod
    def backward(ctx, *grads):
        leaves = list(ctx.leaves)
        for i, t in zip(ctx.spots, ctx.saved_tensors):
            leaves[i] = t.detach()
        wrt = [ctx.spots[j] for j, need in enumerate(ctx.needs_input_grad[7:]) if need]
        answer = ctx.link.ask(ctx.name, "vjp", dict(ctx.extra, pack=_pytree.tree_unflatten(leaves, ctx.spec),
                                                     grad_outputs=list(grads), wrt=wrt))
        got = dict(zip(wrt, answer.get("grads", [])))
        return (None,) * 7 + tuple(got.get(i) for i in ctx.spots)


def layers(module, names) -> list[type]:
    """The classes among ``names``: ``nn.Module`` subclasses of ``module`` with their own forward."""
    found = [vars(module).get(n) for n in names]
    return [c for c in found if isinstance(c, type) and issubclass(c, torch.nn.Module)
            and "forward" in vars(c) and c.__module__ == module.__name__]


@contextlib.contextmanager
def installed(module, names, link: Link):
    """Proxies for ``names`` (top-level functions and layers of ``module``) for the length of the block."""
    namespace = vars(module)
    saved = {n: namespace[n] for n in names if isinstance(namespace.get(n), types.FunctionType)}
    patched = {cls: {k: vars(cls)[k] for k in ("__init__", "forward") if k in vars(cls)}
               for cls in layers(module, names)}
    for n, own in saved.items():
        namespace[n] = make(n, own, link, module.__name__)
    for cls in patched:
        cls.__init__, cls.forward = make_layer(cls, link, module.__name__)
    try:
        yield
    finally:
        namespace.update(saved)
        for cls, own in patched.items():
            for k in ("__init__", "forward"):
                if k in own:
                    setattr(cls, k, own[k])
                else:
                    delattr(cls, k)
