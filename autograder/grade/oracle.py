"""The grader's side of "one mistake, one task": answer a submission's calls into other
tasks' functions and layers with the reference.

``owners`` reads which top-level functions and classes belong to which task from the
reference's cells (``# %% task=<id>``). While a task's tests run, the worker is told the
names of every other task's (``Oracle.others``); the proxies it installs call back here, and
the answerer runs the reference of that name on the data sent.

Only the names sent with the current call are answered (``seam.py`` checks), only plain
functions and ``nn.Module`` classes defined in the reference module are ever run, and only
on plain data and its forms (``harness/forms.py``: no text, no huge integers), so a
submission can make this process run nothing but the reference's own computations. A layer
is rebuilt from its constructor's arguments and run with the student's ``state_dict``
(``rebuild.py``); one whose size, parameter names or shapes do not match what was sent is
"unanswerable" and the student's code runs. An object of the graded task stays in the
worker, and what the reference does with it is asked of the worker (``remote``).
A task with ``integration = true`` in grading.toml sees the student's code throughout.

Leaves out: the worker side of the protocol (``harness/proxy.py``).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import torch
from torch.utils import _pytree

from ..harness import codec, forms, proxy
from ..release import cells
from . import rebuild


def owners(path: Path) -> dict[str, str]:
    """``{function or class name: task}`` for the top-level definitions of the reference at
    ``path`` that sit in a cell with a task."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    return {node.name: task for node in ast.parse(text).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            and (task := cells.task_at(lines, node.lineno - 1)) is not None}


class Oracle:
    """Answers callbacks with ``module`` (the reference, loaded in this process)."""

    def __init__(self, owned: dict[str, str], integration: set[str]):
        self.owned, self.integration = owned, integration

    def others(self, task: str) -> tuple[str, ...]:
        """The functions and layers the worker proxies while ``task`` is graded."""
        if task in self.integration:
            return ()
        return tuple(sorted(name for name, owner in self.owned.items() if owner != task))

    def mine(self, task: str) -> tuple[str, ...]:
        """The names ``task`` owns: an object of one of its classes stays in the worker."""
        return tuple(sorted(name for name, owner in self.owned.items() if owner == task))

    def direct(self, others, reference) -> list[str]:
        """The operations among ``others`` that a test calls directly and the reference answers
        (``student.causal_mask(6)`` in a test of another task): the functions of the reference
        (``reference``: a LocalSubmission) that are not also adapters."""
        return [n for n in others if inspect.isfunction(getattr(reference.module, n, None))
                and getattr(reference.module, n).__module__ == reference.module.__name__
                and not callable(getattr(reference.adapters, n, None))]

    def answerer(self, module):
        functions = {name: fn for name in self.owned if inspect.isfunction(fn := getattr(module, name, None))
                     and fn.__module__ == module.__name__}
        layers = {cls.__name__: cls for cls in proxy.layers(module, self.owned)}
        built: dict = {}

        def answer(name: str, mode, value, remote=None):
            """The reference's answer; ``remote(request)`` asks the worker about the graded
            task's own objects (``rebuild.Stub``)."""
            if not isinstance(value, dict) or mode not in ("call", "vjp"):
                raise TypeError("a callback carries a dict of plain data")
            if name in functions:
                pack = _pack(value, 2)
                return _answer(lambda args, kwargs: functions[name](*args, **kwargs), pack, mode, value, module, remote)
            if name in layers:
                pack = _pack(value, 3)
                layer, keys = rebuild.layer(module, layers[name], value, pack[2], built)
                return _answer(lambda args, kwargs, state: torch.func.functional_call(
                    layer, {k: state[k] for k in keys}, tuple(args), kwargs, strict=False),
                    pack, mode, value, module, remote)
            raise PermissionError(f"{name!r} is not a function or layer of the reference")
        return answer


def answer_frame(call_id: int, header: dict, value, others: tuple[str, ...], answer, remote=None) -> bytes:
    """The frame answering a worker's callback; only names in ``others`` (sent with this call)."""
    reply = {"kind": "answer", "id": call_id}
    name = header.get("name")
    if answer is None or name not in others:
        return codec.pack(dict(reply, ok=False, error={"type": "PermissionError",
                                                       "message": f"no callback for {name!r} here"}))
    try:
        return codec.pack(dict(reply, ok=True), answer(name, header.get("mode"), value, remote))
    except Exception as exc:  # noqa: BLE001 - the reference failed on the student's arguments
        return codec.pack(dict(reply, ok=False, error={"type": type(exc).__name__, "message": str(exc)[:2000]}))


def _pack(value, size: int) -> tuple:
    """``(args, kwargs)`` of a function's call, ``(args, kwargs, state)`` of a layer's."""
    pack = value.get("pack")
    if not isinstance(pack, (list, tuple)) or len(pack) != size or not forms.plain(list(pack)) or \
            not isinstance(pack[0], (list, tuple)) or not isinstance(pack[1], dict) or \
            (size == 3 and not (isinstance(pack[2], dict) and all(isinstance(t, torch.Tensor) for t in pack[2].values()))):
        raise TypeError("a callback carries plain data only (tensors, numbers, bools, None)")
    return tuple(pack)


def _answer(run, pack: tuple, mode: str, value: dict, module, remote) -> dict:
    """Run ``run`` on ``pack`` rebuilt: the result, the generator's state after it, the tensors
    it changed in place and the objects' new state; or, for "vjp", the gradients (never with
    a remote object: a second forward would run the student's methods again)."""
    rng, objects = value.get("rng"), []
    with torch.random.fork_rng(devices=[]):
        if rng is not None:
            torch.set_rng_state(rng)
        if mode == "call":                  # in the caller's grad mode: the function may train
            with torch.set_grad_enabled(value.get("grad") is True):
                leaves = _pytree.tree_leaves(pack)
                versions = [x._version if isinstance(x, torch.Tensor) else None for x in leaves]
                result = run(*rebuild.arguments(pack, module, forms.MAX_INT, objects, remote))
                mutated = [[i, x] for i, (x, v) in enumerate(zip(leaves, versions))
                           if isinstance(x, torch.Tensor) and x._version != v]
                return {"result": result, "rng": torch.get_rng_state(), "mutated": mutated,
                        "objects": [dict(vars(o)) for o in objects]}
        return _vjp(lambda *p: run(*rebuild.arguments(p, module, forms.MAX_INT, [])), pack,
                    value.get("grad_outputs"), value.get("wrt"))


def _vjp(run, pack, grad_outputs, wrt) -> dict:
    leaves, spec = _pytree.tree_flatten(pack)
    if not isinstance(grad_outputs, list) or not isinstance(wrt, list) or not forms.plain(grad_outputs) or \
            not all(isinstance(i, int) and 0 <= i < len(leaves) and isinstance(leaves[i], torch.Tensor)
                    and leaves[i].is_floating_point() for i in wrt):
        raise TypeError("a gradient callback names floating-point tensor arguments by position")
    for i in wrt:
        leaves[i] = leaves[i].detach().requires_grad_(True)
    pack = _pytree.tree_unflatten(leaves, spec)
    with torch.enable_grad():
        out = run(*pack)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    pairs = [(o, g) for o, g in zip(outs, grad_outputs)
             if isinstance(o, torch.Tensor) and o.requires_grad and isinstance(g, torch.Tensor)]
    if not pairs or not wrt:
        return {"grads": [None] * len(wrt)}
    grads = torch.autograd.grad([o for o, _ in pairs], [leaves[i] for i in wrt], [g for _, g in pairs],
                                allow_unused=True)
    return {"grads": list(grads)}
