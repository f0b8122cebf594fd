"""One mistake, one task: while a task is graded, the submission's calls into the functions
and layers of OTHER tasks are answered by the reference, on the grader's side.

For the length of one operation call, the worker replaces the named top-level functions of
the student's module with proxies, and the ``forward`` of the named ``nn.Module`` classes.
A proxy sends ``(name, args, kwargs)`` back over the channel as a callback; the grader
(``grade/oracle.py``) runs the reference of that name and replies with the result. The
reference never enters this process. Arguments must be plain data or forms of it
(``forms.py``: tensors, numbers, configs, caches; no text, no huge integers); a call with
anything else runs the student's own code.

A layer's call also sends what the grader needs to rebuild it: the arguments its
constructor got (recorded while the proxies were in place) and its ``state_dict``. The
grader builds the reference class with those arguments and runs it with the student's
weights (``torch.func.functional_call``). A layer it cannot rebuild that way (other
parameter names or shapes) is answered "unanswerable", and the student's own ``forward``
runs.

An object of the graded task's own class (its ``KVCache``) stays here: while the grader
answers, it may ask about it (``remote`` frames), and ``Link.serve`` runs the student's own
method on it. Other objects travel by state and are written back (``forms.py``).

Randomness stays exact: the proxy sends torch's CPU generator state and adopts the state the
reference left, so dropout draws what the reference would have drawn in this process.
Gradients flow: with a tensor argument (or a layer's parameter) that requires grad, the
result comes out of a ``torch.autograd.Function`` whose backward calls back for the
reference's vector-Jacobian product (the grader recomputes the forward from the same
generator state).

    worker -> grader   {"kind": "callback", "id": n, "name": f, "mode": "call" | "vjp"}
    grader -> worker   {"kind": "remote", "id": n}  value = {"op": "len" | "getattr" | "call", ...}
    worker -> grader   {"kind": "remote_result", "id": n, "ok": bool}
    grader -> worker   {"kind": "answer", "id": n, "ok": bool, "error"?: {...}}

Leaves out: methods other than ``forward`` (a ``KVCache.append`` of another task still runs
the student's code), gradients through an object's state or a remote object, arguments
that a function mutates through attributes (``p.grad``), the CUDA generator, double
backward.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
import types

import torch
from torch.utils import _pytree

from .forms import Forms, plain

INIT = "_autograder_init"  # where a proxied layer keeps the form of its constructor's arguments


class CallbackRefused(RuntimeError):
    """The grader would not answer a callback (or broke the protocol)."""


class Unanswerable(Exception):
    """The grader cannot rebuild this layer as the reference: the student's own code runs."""


class Link:
    """Callbacks to the grader during one operation call ``call_id``, on ``module`` (the
    student's), while the names ``others`` are other tasks' and ``mine`` the graded task's."""

    def __init__(self, channel, call_id, device: str, module_name: str = "", others=(), mine=()):
        self.channel, self.call_id, self.device = channel, call_id, device
        self.module_name, self.others, self.mine = module_name, tuple(others), tuple(mine)
        self.lock = threading.RLock()
        self.remotes: list = []           # the graded task's objects the grader may ask about
        self.serving = False              # running student code for the grader: no callbacks

    def forms(self) -> Forms:
        return Forms(self.module_name, self.mine, self.remotes)

    def ask(self, name: str, mode: str, payload: dict):
        from .dispatch import to_device
        with self.lock:
            self.channel.send({"kind": "callback", "id": self.call_id, "name": name, "mode": mode}, payload)
            header, value = self.channel.read()
            while header is not None and header.get("kind") == "remote" and header.get("id") == self.call_id:
                self.channel.send(*self.serve(value))
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
            raise cls(f"{error.get('message', '')} (raised by the reference `{name}`, which stands in for your "
                      f"`{name}` of another task while this task is graded, on what your code gave it)")
        if isinstance(value, dict) and isinstance(value.get("rng"), torch.Tensor):
            torch.set_rng_state(value["rng"])
        return to_device(value, self.device)

    def serve(self, request) -> tuple[dict, object]:
        """Run the grader's read or method call on one of ``remotes``, with the student's code."""
        from .dispatch import to_device
        reply = {"kind": "remote_result", "id": self.call_id}
        try:
            ident, op, name = request.get("id"), request.get("op"), request.get("name")
            if not (type(ident) is int and 0 <= ident < len(self.remotes)) or \
                    (op != "len" and not (isinstance(name, str) and not name.startswith("_"))):
                raise CallbackRefused("the grader asked for what it may not")
            obj, self.serving = self.remotes[ident], True
            if op == "len":
                value = len(obj)
            elif op == "getattr":
                attr = getattr(obj, name)
                value = {"method": True} if callable(attr) else {"value": attr}
            elif op == "call" and isinstance(request.get("args"), list) and isinstance(request.get("kwargs"), dict):
                args, kwargs = to_device((request["args"], request["kwargs"]), self.device)
                value = getattr(obj, name)(*args, **kwargs)
            else:
                raise CallbackRefused(f"no remote operation {op!r}")
            if not plain(value):
                raise TypeError(f"your {type(obj).__name__}.{name or '__len__'} gave back something other than "
                                "tensors and numbers")
            return dict(reply, ok=True), value
        except Exception as exc:  # noqa: BLE001 - student code may raise anything
            return dict(reply, ok=False, error={"type": type(exc).__name__, "message": str(exc)[:2000]}), None
        finally:
            self.serving = False


def make(name: str, own, link: Link):
    """The proxy standing in for the student's function ``own`` of another task."""

    def proxy(*args, **kwargs):
        forms = link.forms()
        pack = forms((list(args), kwargs))
        if link.serving or not plain(pack):
            return own(*args, **kwargs)
        return _remote(name, link, pack, {}, forms, lambda: own(*args, **kwargs))

    proxy.__name__ = proxy.__qualname__ = name
    proxy.__wrapped__ = own
    return proxy


def make_layer(cls, link: Link):
    """``(__init__, forward)`` standing in for those of the student's layer ``cls`` of another task."""
    own_init, own_forward = cls.__init__, cls.forward

    def __init__(self, *args, **kwargs):
        own_init(self, *args, **kwargs)
        forms = link.forms()
        if type(self) is cls and plain(form := forms({"args": list(args), "kwargs": kwargs})) and not forms.remote_sent:
            self.__dict__[INIT] = form

    def forward(self, *args, **kwargs):
        init, forms = self.__dict__.get(INIT) if type(self) is cls else None, link.forms()
        state = dict(self.state_dict(keep_vars=True)) if init is not None else {}
        pack = forms((list(args), kwargs))
        if init is None or link.serving or not plain(pack) or not plain({k: v.detach() for k, v in state.items()}):
            return own_forward(self, *args, **kwargs)
        return _remote(cls.__name__, link, pack + (state,), {"init": init, "training": self.training}, forms,
                       lambda: own_forward(self, *args, **kwargs))

    forward.__wrapped__ = own_forward
    return __init__, forward


def _remote(name, link, pack, extra, forms: Forms, own):
    """The reference's answer for ``pack`` (the call's arguments), differentiable when any
    tensor in it requires grad; ``own()`` when the grader cannot answer."""
    leaves, spec = _pytree.tree_flatten(pack)
    spots = [i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor)]
    grad = torch.is_grad_enabled() and any(leaves[i].requires_grad for i in spots)
    if grad and forms.remote_sent:        # a backward would run the student's methods again
        return own()
    rng = torch.get_rng_state()
    try:
        out = _forward(name, link, leaves, spec, spots, dict(extra, rng=rng), forms)
    except Unanswerable:
        torch.set_rng_state(rng)
        return own()
    if grad:
        out = _Remote.apply(name, link, leaves, spec, spots, dict(extra, rng=rng), out, *(leaves[i] for i in spots))
    return out


def _forward(name, link, leaves, spec, spots, extra, forms: Forms):
    pack = _pytree.tree_unflatten([_detach(x) for x in leaves], spec)
    link.device = next((str(x.device) for x in leaves if isinstance(x, torch.Tensor)), "cpu")
    answer = link.ask(name, "call", dict(extra, pack=pack, grad=torch.is_grad_enabled()))
    for i, value in answer.get("mutated", []):     # the reference changed an argument in place
        if i in spots and isinstance(value, torch.Tensor):
            with torch.no_grad():
                leaves[i].copy_(value)
    forms.write_back(answer.get("objects"))
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
        namespace[n] = make(n, own, link)
    for cls in patched:
        cls.__init__, cls.forward = make_layer(cls, link)
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
