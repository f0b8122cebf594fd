"""Render one variant of a marked-up file: keep, drop or stub each region.

==========  ======================  =====================
region      standard                hardmode
==========  ======================  =====================
SOLUTION    stub                    stub
SCAFFOLD    kept (markers dropped)  stub
HARDMODE    dropped                 kept
STANDARD    kept                    dropped
==========  ======================  =====================

So in hardmode a function whose body is scaffold and solution becomes a single stub:
stubs separated only by removed or blank lines merge into one. A stub is dedented to the
enclosing code that is still there (its marker may sit inside a loop that hardmode removed).
"""

from __future__ import annotations

from typing import Callable

from . import markers
from .markers import indent

Stub = Callable[[list[str], int], list[str]]


def render(text: str, variant: str, path: str, stub: Stub | None = None, solved: bool = False,
           marked: bool = False) -> str:
    """``text`` as released in ``variant``; ``stub(lines, i)`` makes the stub for the
    region opened at line ``i`` (None: stubbed regions are not allowed in this file).
    ``solved=True`` keeps every SOLUTION and SCAFFOLD region instead: what a student who
    finished the variant would hand in. ``marked=True`` keeps SOLUTION regions with their
    marker lines: an nbgrader source, whose ``ClearSolutions`` makes the stubs."""
    lines = text.splitlines()
    dropped = [False] * len(lines)
    stubs: dict[int, list[str]] = {}
    for region in markers.parse(lines, path):
        span = range(region.begin, region.end + 1)
        keep = marked and region.kind == "SOLUTION"
        if not keep:
            dropped[region.begin] = dropped[region.end] = True
        in_dropped_block = region.block is not None and region.block.lower() != variant
        if region.kind in markers.BLOCKS:
            removed = region.kind.lower() != variant
        else:
            removed = not solved and not keep and (region.kind == "SOLUTION" or variant == "hardmode")
            if removed and not in_dropped_block:
                if stub is None:
                    raise markers.MarkerError(path, region.begin + 1, f"{region.kind} regions are only allowed in code")
                stubs[region.begin] = stub(lines, region.begin)
        if removed:
            for i in span:
                dropped[i] = True

    out: list[str] = []
    last_stub: list[str] | None = None
    for i, line in enumerate(lines):
        if i in stubs:
            new = _fit(stubs[i], out)
            if new != last_stub:
                out.extend(new)
            last_stub = new
        elif not dropped[i]:
            out.append(line)
            if line.strip():
                last_stub = None
    text = "\n".join(out) + "\n"
    while "\n\n\n\n" in text:                 # a removed block leaves no gap wider than two lines
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text


def _fit(stub: list[str], out: list[str]) -> list[str]:
    """Dedent ``stub`` to the last kept statement when that one is less indented."""
    previous = next((line for line in reversed(out) if line.strip()), None)
    have = indent(stub[0])
    if previous is None or previous.rstrip().endswith(":") or indent(previous) >= have:
        return stub
    cut = have - indent(previous)
    return [line[cut:] for line in stub]
