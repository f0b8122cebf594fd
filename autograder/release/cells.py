"""Cells of a reference file in (a subset of) jupytext's percent format.

    \"\"\"Module docstring: only in the .py, not in the notebook.\"\"\"

    # %% [markdown]
    # ## 1. Scaled dot-product attention
    # Text, one '# ' per line.

    # %% task=sdpa tags=skip-grading
    def scaled_dot_product_attention(q, k, v, mask=None): ...

A header is ``# %%``, optionally ``[markdown]``, then ``key=value`` pairs: ``task`` (the
grading.toml task this cell belongs to) and ``tags`` (comma-separated notebook tags).
Everything before the first header is the preamble.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .markers import MarkerError

HEADER = re.compile(r"^# %%(?P<rest>(?:\s.*)?)$")
KEYS = ("task", "tags")


@dataclass(frozen=True)
class Cell:
    kind: str                  # "code" or "markdown"
    source: str
    task: str | None = None
    tags: tuple[str, ...] = ()
    grade_id: str | None = None     # set on nbgrader grade (code) and task (markdown) cells only
    points: float | None = None


def parse_header(line: str, path: str = "?", lineno: int = 0) -> dict | None:
    """``{"kind", "task", "tags"}`` for a header line, None for any other line."""
    m = HEADER.match(line)
    if not m:
        return None
    out = {"kind": "code", "task": None, "tags": ()}
    for token in m.group("rest").split():
        if token == "[markdown]":
            out["kind"] = "markdown"
        elif "=" in token and token.split("=", 1)[0] in KEYS:
            key, value = token.split("=", 1)
            out[key] = value if key == "task" else tuple(t for t in value.split(",") if t)
        else:
            raise MarkerError(path, lineno, f"unknown cell header token {token!r} "
                              "(use [markdown], task=<id>, tags=a,b)")
    return out


def task_at(lines: list[str], index: int) -> str | None:
    """The task of the cell holding line ``index``."""
    for line in reversed(lines[:index]):
        header = parse_header(line)
        if header is not None:
            return header["task"]
    return None


def split(text: str, path: str) -> tuple[str, list[Cell]]:
    """``(preamble, cells)`` of percent-format ``text``; blank edges are trimmed."""
    preamble: list[str] = []
    cells: list[tuple[dict, list[str], int]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        header = parse_header(line, path, lineno)
        if header is not None:
            cells.append((header, [], lineno))
        elif cells:
            cells[-1][1].append(line)
        else:
            preamble.append(line)
    out = []
    for header, body, lineno in cells:
        if header["kind"] == "markdown":
            body = [_uncomment(line, path, lineno + i + 1) for i, line in enumerate(body)]
        source = "\n".join(body).strip("\n")
        if source.strip():
            out.append(Cell(header["kind"], source, header["task"], header["tags"]))
    return "\n".join(preamble).strip("\n"), out


def _uncomment(line: str, path: str, lineno: int) -> str:
    if not line.strip():
        return ""
    if line == "#" or line.startswith("# "):
        return line[2:]
    raise MarkerError(path, lineno, "a markdown cell line must start with '# '")
