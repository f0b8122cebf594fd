"""The marker grammar of reference files, checked before anything is generated.

Markers are whole lines, in Python (``### BEGIN SOLUTION``) or Markdown
(``<!-- BEGIN HARDMODE -->``) comment form:

==========  =========================================================================
SOLUTION    the answer: replaced by a ``NotImplementedError`` stub in every variant
SCAFFOLD    given code and hints: kept in standard, part of the stub in hardmode
HARDMODE    a block that exists only in hardmode (advanced builds)
STANDARD    a block that exists only in standard (conceptual questions, guided steps)
==========  =========================================================================

SOLUTION and SCAFFOLD regions may sit inside a HARDMODE or STANDARD block; no other
nesting is allowed. Any comment line that looks like a marker but does not parse (a typo
would otherwise leak a solution) is an error, as is an unbalanced marker; each error names
the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("SOLUTION", "SCAFFOLD", "HARDMODE", "STANDARD")
BLOCKS = ("HARDMODE", "STANDARD")       # variant blocks: may contain the other two kinds
MARKER = re.compile(r"^\s*(?:#+|<!--)\s*(BEGIN|END)\s+(SOLUTION|SCAFFOLD|HARDMODE|STANDARD)\s*(?:-->)?\s*$")
LOOKALIKE = re.compile(r"^\s*(?:#+|<!--)\s*(BEGIN|END)\s+[A-Z]+")


class MarkerError(ValueError):
    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = path, line


@dataclass(frozen=True)
class Region:
    kind: str
    begin: int                 # index of the BEGIN line (0-based)
    end: int                   # index of the END line
    block: str | None = None   # enclosing variant block, if any


def indent(line: str) -> int:
    """The width of a line's leading whitespace."""
    return len(line) - len(line.lstrip())


def marker(line: str) -> tuple[str, str] | None:
    """``("BEGIN" | "END", kind)`` if ``line`` is a marker line, else None."""
    m = MARKER.match(line)
    return (m.group(1), m.group(2)) if m else None


def parse(lines: list[str], path: str) -> list[Region]:
    """All regions of ``lines``, outermost first; raises ``MarkerError``."""
    regions: list[Region] = []
    stack: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        found = marker(line)
        if found is None:
            if LOOKALIKE.match(line):
                raise MarkerError(path, index + 1, f"malformed marker {line.strip()!r}; "
                                  f"markers are '### BEGIN|END <{'|'.join(KINDS)}>'")
            continue
        verb, kind = found
        if verb == "BEGIN":
            if stack:
                outer, at = stack[-1]
                if not (outer in BLOCKS and kind not in BLOCKS):
                    raise MarkerError(path, index + 1, f"BEGIN {kind} nested inside {outer} "
                                      f"opened at line {at + 1}")
            stack.append((kind, index))
            continue
        if not stack:
            raise MarkerError(path, index + 1, f"END {kind} without a matching BEGIN")
        open_kind, at = stack.pop()
        if open_kind != kind:
            raise MarkerError(path, index + 1, f"END {kind} closes {open_kind} opened at line {at + 1}")
        block = stack[-1][0] if stack else None
        regions.append(Region(kind, at, index, block))
    if stack:
        kind, at = stack[-1]
        raise MarkerError(path, at + 1, f"BEGIN {kind} is never closed")
    return sorted(regions, key=lambda r: r.begin)


def solution_lines(text: str, path: str) -> list[str]:
    """The lines inside SOLUTION regions: what must never appear in a release."""
    lines = text.splitlines()
    out = []
    for region in parse(lines, path):
        if region.kind == "SOLUTION":
            out.extend(lines[region.begin + 1:region.end])
    return out
