"""The stub that replaces a SOLUTION region: nbgrader's, with the task id in the message.

    # YOUR CODE HERE
    raise NotImplementedError("a03_attention.sdpa: implement scaled_dot_product_attention")

The task comes from the enclosing cell header (``# %% task=sdpa``), the name from the
enclosing ``def`` (and its class). A SOLUTION region outside any function would raise at
import time, so it is an error, as is one outside a task cell.

Notebooks get nbgrader's own stub instead (``named=False``: ``raise NotImplementedError()``),
so that ``nbgrader generate_assignment`` on the nbgrader source gives the same notebook; there
the cell's ``grade_id`` names the task.
"""

from __future__ import annotations

import re

from .cells import task_at
from .markers import MarkerError, indent

DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
CLASS = re.compile(r"^(\s*)class\s+(\w+)")


def owner(lines: list[str], index: int) -> str | None:
    """``Class.method`` or ``function`` enclosing line ``index``, or None at module level."""
    depth, func = indent(lines[index]), None
    for line in reversed(lines[:index]):
        if not line.strip() or indent(line) >= depth:
            continue
        depth = indent(line)           # an enclosing statement
        if func is None and (m := DEF.match(line)):
            func = m.group(2)
        elif func is not None and (m := CLASS.match(line)):
            return f"{m.group(2)}.{func}"
        elif func is not None and DEF.match(line):
            return func                 # a function nested in a function
        if depth == 0:
            break
    return func


NBGRADER_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")     # ClearSolutions.code_stub["python"]


def make_stub(assignment: str, path: str, named: bool = True):
    """A ``variants.Stub`` for files of ``assignment`` (``named=False``: nbgrader's stub)."""
    def stub(lines: list[str], index: int) -> list[str]:
        task = task_at(lines, index)
        if task is None:
            raise MarkerError(path, index + 1, "SOLUTION region outside a task cell (add task=<id> to its '# %%' header)")
        name = owner(lines, index)
        if name is None:
            raise MarkerError(path, index + 1, "SOLUTION region outside a function would raise on import")
        pad = lines[index][: indent(lines[index])]
        if not named:
            return [pad + line for line in NBGRADER_STUB]
        return [f"{pad}# YOUR CODE HERE",
                f'{pad}raise NotImplementedError("{assignment}.{task}: implement {name}")']
    return stub
