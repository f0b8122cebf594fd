"""Which file of a submission is graded, and the Python code it holds.

A student may complete either ``<module>.py`` or ``<module>.ipynb``; both grade the same.
From a notebook the code cells are taken in order, except:

- cells tagged ``skip-grading`` (exploration, plots, long experiments);
- cells that start with a cell magic (``%%bash``, ``%%time``...): they are not plain Python;
- line magics and shell escapes (``%matplotlib``, ``!pip``) become ``pass`` statements.

When both files are present, the one the student changed is graded: a file identical to
the released stub does not count. If both changed, the ``.py`` wins and the choice is said.

Leaves out: executing the notebook (its outputs are ignored) and any cell metadata other
than tags.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

SKIP_TAG = "skip-grading"


class SourceError(Exception):
    """The submission has no gradable code; the message is meant for the student."""


@dataclass(frozen=True)
class Source:
    path: Path        # the file that was graded
    code: str         # its Python code (for a notebook: the extracted cells)
    note: str = ""    # why this file was chosen, when there was a choice


def code_digest(code: str) -> str:
    """Digest of code with line endings normalised; compares a file with its released stub."""
    return hashlib.sha256(code.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    """UTF-8 text of ``path``, or a ``SourceError`` a student can act on."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path.name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it with UTF-8 encoding and submit again") from None


def notebook_code(text: str, name: str = "notebook") -> str:
    """The gradable Python code of a notebook given as JSON text (see the module docstring)."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{name} is not a valid notebook: invalid JSON at line {exc.lineno} "
                          f"column {exc.colno} ({exc.msg})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise SourceError(f"{name} is not a valid notebook: it has no list of cells")
    parts = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise SourceError(f"{name}: cell {number} has a malformed source field")
        metadata = cell.get("metadata")
        tags = metadata.get("tags", []) if isinstance(metadata, dict) else []
        if isinstance(tags, list) and SKIP_TAG in tags:
            continue
        if source.lstrip().startswith("%%"):
            continue
        parts.append(f"# %% notebook cell {number}\n" + _without_magics(source))
    return "\n\n".join(parts) + "\n"


def _without_magics(source: str) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}pass  # notebook magic removed: {stripped[:60]}")
        else:
            lines.append(line)
    return "\n".join(lines)


def choose(folder: Path, module: str, released: dict[str, str] | None = None) -> Source:
    """Pick ``<module>.py`` or ``<module>.ipynb`` in ``folder`` and return its code.

    ``released`` maps ``"py"``/``"ipynb"`` to the ``code_digest`` of the released stubs;
    without it, the ``.py`` is preferred whenever it exists.
    """
    py, nb = folder / f"{module}.py", folder / f"{module}.ipynb"
    have_py, have_nb = py.is_file(), nb.is_file()
    if not have_py and not have_nb:
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        listing = ", ".join(found[:10]) + (" ..." if len(found) > 10 else "") if found else "nothing"
        raise SourceError(f"found no {module}.py or {module}.ipynb in the submission (it holds: {listing})")
    if have_py and not have_nb:
        return Source(py, read_text(py))
    if not have_py:
        return Source(nb, notebook_code(read_text(nb), nb.name))
    py_code = read_text(py)
    try:
        nb_code = notebook_code(read_text(nb), nb.name)
    except SourceError as exc:
        return Source(py, py_code, f"graded {py.name}; {nb.name} was not readable ({exc})")
    released = released or {}
    py_changed = code_digest(py_code) != released.get("py")
    nb_changed = code_digest(nb_code) != released.get("ipynb")
    if nb_changed and not py_changed:
        return Source(nb, nb_code, f"graded {nb.name}: {py.name} is unchanged from the release")
    if nb_changed:
        return Source(py, py_code, f"both {py.name} and {nb.name} changed; graded {py.name}")
    return Source(py, py_code)
