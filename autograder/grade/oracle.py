"""The grader's side of "one mistake, one task": answer a submission's calls into other
tasks' functions with the reference.

``owners`` reads which top-level functions belong to which task from the reference's
cells (``# %% task=<id>``). While a task's tests run, the worker is told the functions of
every other task (``Oracle.others``); the proxies it installs call back here, and
``Oracle.answer`` runs the reference function of that name on the data sent.

Only the names sent with the current call are answered (``seam.py`` checks), only plain
functions defined in the reference module are ever run, and only on plain data
(``harness.proxy.plain``: no text, no objects, no huge integers), so a submission can make
this process run nothing but the reference's own computations. A task with
``integration = true`` in grading.toml sees the student's code throughout.

Leaves out: classes (see ``harness/proxy.py``), and the worker side of the protocol.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import torch
from torch.utils import _pytree

from ..harness import codec, proxy
from ..release import cells


def owners(path: Path) -> dict[str, str]:
    """``{function name: task}`` for the top-level functions of the reference at ``path``
    that sit in a cell with a task."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    return {node.name: task for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)
            and (task := cells.task_at(lines, node.lineno - 1)) is not None}


class Oracle:
    """Answers callbacks with ``module`` (the reference, loaded in this process)."""

    def __init__(self, owned: dict[str, str], integration: set[str]):
        self.owned, self.integration = owned, integration

    def others(self, task: str) -> tuple[str, ...]:
        """The functions the worker proxies while ``task`` is graded."""
        if task in self.integration:
            return ()
        return tuple(sorted(name for name, owner in self.owned.items() if owner != task))

    def answerer(self, module):
        functions = {name: fn for name in self.owned if inspect.isfunction(fn := getattr(module, name, None))
                     and fn.__module__ == module.__name__}

        def answer(name: str, mode, value):
            if name not in functions:
                raise PermissionError(f"{name!r} is not a function of the reference")
            return _answer(functions[name], mode, value)
        return answer


def answer_frame(call_id: int, header: dict, value, others: tuple[str, ...], answer) -> bytes:
    """The frame answering a worker's callback; only names in ``others`` (sent with this call)."""
    reply = {"kind": "answer", "id": call_id}
    name = header.get("name")
    if answer is None or name not in others:
        return codec.pack(dict(reply, ok=False, error={"type": "PermissionError",
                                                       "message": f"no callback for {name!r} here"}))
    try:
        return codec.pack(dict(reply, ok=True), answer(name, header.get("mode"), value))
    except Exception as exc:  # noqa: BLE001 - the reference failed on the student's arguments
        return codec.pack(dict(reply, ok=False, error={"type": type(exc).__name__, "message": str(exc)[:2000]}))


def _answer(fn, mode, value) -> dict:
    if not isinstance(value, dict) or not proxy.plain(value) or mode not in ("call", "vjp"):
        raise TypeError("a callback carries plain data only (tensors, numbers, bools, None)")
    args, kwargs = value.get("args"), value.get("kwargs")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise TypeError("a callback needs args (a list) and kwargs (a dict)")
    rng = value.get("rng")
    with torch.random.fork_rng(devices=[]):
        if rng is not None:
            torch.set_rng_state(rng)
        if mode == "call":                  # in the caller's grad mode: the function may train
            with torch.set_grad_enabled(value.get("grad") is True):
                return _call(fn, args, kwargs)
        return _vjp(fn, args, kwargs, value.get("grad_outputs"), value.get("wrt"))


def _call(fn, args, kwargs) -> dict:
    leaves = [x for x in _pytree.tree_leaves((args, kwargs))]
    versions = [x._version if isinstance(x, torch.Tensor) else None for x in leaves]
    result = fn(*args, **kwargs)
    mutated = [[i, x] for i, (x, v) in enumerate(zip(leaves, versions))
               if isinstance(x, torch.Tensor) and x._version != v]
    return {"result": result, "rng": torch.get_rng_state(), "mutated": mutated}


def _vjp(fn, args, kwargs, grad_outputs, wrt) -> dict:
    leaves, spec = _pytree.tree_flatten((args, kwargs))
    if not isinstance(grad_outputs, list) or not isinstance(wrt, list) or \
            not all(isinstance(i, int) and 0 <= i < len(leaves) and isinstance(leaves[i], torch.Tensor)
                    and leaves[i].is_floating_point() for i in wrt):
        raise TypeError("a gradient callback names floating-point tensor arguments by position")
    for i in wrt:
        leaves[i] = leaves[i].detach().requires_grad_(True)
    args, kwargs = _pytree.tree_unflatten(leaves, spec)
    with torch.enable_grad():
        out = fn(*args, **kwargs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    pairs = [(o, g) for o, g in zip(outs, grad_outputs)
             if isinstance(o, torch.Tensor) and o.requires_grad and isinstance(g, torch.Tensor)]
    if not pairs or not wrt:
        return {"grads": [None] * len(wrt)}
    grads = torch.autograd.grad([o for o, _ in pairs], [leaves[i] for i in wrt], [g for _, g in pairs],
                                allow_unused=True)
    return {"grads": list(grads)}
