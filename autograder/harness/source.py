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

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

SKIP_TAG = "skip-grading"
CELL_MARK = "# %% notebook cell "
HEADER = "# autograder: the code cells of "
CHOICE_RULE = ("If your folder holds both {module}.py and {module}.ipynb, the grader grades the one you changed: "
               "a file that differs from the released stub only in whitespace counts as unchanged. If both "
               "changed, {module}.py is graded. Your feedback always says which file was graded.")
PRELUDE = (
    "class _NotebookOnly:\n"
    "    # stands in for what exists only in Colab or Jupyter: any attribute or call does nothing\n"
    "    def __getattr__(self, name):\n        return self\n"
    "    def __call__(self, *args, **kwargs):\n        return self\n"
    "def display(*args, **kwargs):\n    return None\n"
    "def get_ipython():\n    return _NotebookOnly()\n")
PLOT_ROOTS = {"plt", "pyplot", "matplotlib", "sns", "seaborn", "px"}
PLOT_METHODS = {"show", "plot", "imshow", "hist", "scatter", "bar", "savefig", "figure", "subplots", "legend",
                "title", "xlabel", "ylabel", "tight_layout", "heatmap", "lineplot"}
COLAB_FROM = re.compile(r"^(\s*)from\s+google\.colab(?:\.\w+)*\s+import\s+\(?([^)#]+)\)?\s*(#.*)?$")
COLAB_IMPORT = re.compile(r"^(\s*)import\s+google\.colab(?:\.\w+)*(?:\s+as\s+(\w+))?\s*(#.*)?$")


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
    return notebook_source(text, name)[0]


def notebook_source(text: str, name: str = "notebook") -> tuple[str, list[str], dict]:
    """``(code, notes, metadata)``: the gradable code of a notebook, what was neutralised in
    it (one note per change, naming the cell), and the notebook's metadata."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{name} is not a valid notebook: invalid JSON at line {exc.lineno} "
                          f"column {exc.colno} ({exc.msg})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise SourceError(f"{name} is not a valid notebook: it has no list of cells")
    parts, notes = [], []
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
            notes.append(f"cell {number}: skipped (a cell magic, {source.lstrip().splitlines()[0][:40]})")
            continue
        code = _without_magics(source, number, notes)
        parts.append(CELL_MARK + f"{number}\n" + _without_top_level_output(code, number, notes))
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    return HEADER + f"{name}\n" + PRELUDE + "\n\n".join(parts) + "\n", notes, metadata


def _without_magics(source: str, number: int, notes: list[str]) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        colab_from, colab_import = COLAB_FROM.match(line), COLAB_IMPORT.match(line)
        if stripped.startswith(("%", "!")):
            lines.append(f"{indent}pass  # notebook magic removed: {stripped[:60]}")
            notes.append(f"cell {number}: removed the notebook-only line `{stripped[:60]}`")
        elif colab_from or colab_import:
            if colab_from:
                names = [n.split(" as ")[-1].strip() for n in colab_from.group(2).split(",") if n.strip()]
            else:
                names = [colab_import.group(2) or "google"]
            lines.append(f"{indent}{' = '.join(names)} = _NotebookOnly()  # Colab-only import neutralised")
            notes.append(f"cell {number}: `{stripped[:60]}` works only in Colab; {', '.join(names)} now do nothing")
        else:
            lines.append(line)
    return "\n".join(lines)


def _is_output_call(node) -> bool:
    """A top-level call that only shows something: plotting, ``display``, ``.show()``."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    if isinstance(func, ast.Name):
        return func.id == "display"
    root = func
    while isinstance(root, (ast.Attribute, ast.Call)):
        root = root.value if isinstance(root, ast.Attribute) else root.func
    return isinstance(func, ast.Attribute) and (
        (isinstance(root, ast.Name) and root.id in PLOT_ROOTS) or func.attr in PLOT_METHODS)


def _without_top_level_output(code: str, number: int, notes: list[str]) -> str:
    """Top-level plotting and display statements become ``pass`` (line numbers kept)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code                      # reported when the module is imported, with its cell and line
    lines = code.split("\n")
    for node in tree.body:
        if _is_output_call(node) and node.end_lineno is not None:
            first = lines[node.lineno - 1]
            indent = first[: len(first) - len(first.lstrip())]
            notes.append(f"cell {number}: did not run the top-level output call `{first.strip()[:60]}`")
            lines[node.lineno - 1] = f"{indent}pass  # top-level output call not run when grading"
            for i in range(node.lineno, node.end_lineno):
                lines[i] = ""
    return "\n".join(lines)


def cell_location(code: str, lineno: int) -> tuple[str, int, int] | None:
    """``(notebook name, cell, line in cell)`` of line ``lineno`` of code made by
    ``notebook_source``; None for code that did not come from a notebook."""
    lines = code.splitlines()
    if not lines or not lines[0].startswith(HEADER):
        return None
    name = lines[0][len(HEADER):]
    for index in range(min(lineno, len(lines)) - 1, -1, -1):
        if lines[index].startswith(CELL_MARK):
            return name, int(lines[index][len(CELL_MARK):]), lineno - index - 1
    return None


def loose_digest(code: str) -> str:
    """Digest of code ignoring whitespace-only differences (trailing spaces, blank lines)."""
    kept = [line.rstrip() for line in code.replace("\r\n", "\n").split("\n") if line.strip()]
    return hashlib.sha256("\n".join(kept).encode("utf-8")).hexdigest()


def _normal(stem: str) -> str:
    """A file stem as a careless student might have changed it, brought back to the module name."""
    s = stem.strip().lower()
    s = re.sub(r"^(copy of|copy_of|kopie von)\s*", "", s)
    for _ in range(3):
        s = re.sub(r"\s*\(\d+\)$", "", s)                            # "attention (1)"
        s = re.sub(r"[\s_-]+(final|copy|submission|v\d+|\d+)$", "", s)  # "_final", "-1", " copy", "_v2"
    return re.sub(r"[\s-]+", "_", s)


def find(folder: Path, module: str, ext: str) -> tuple[Path | None, str]:
    """``<module><ext>`` in ``folder``, or its only near-miss (with a note for the student)."""
    exact = folder / f"{module}{ext}"
    if exact.is_file():
        return exact, ""
    if not folder.is_dir():
        return None, ""
    candidates = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ext
                        and not p.name.startswith(".") and _normal(p.stem) == _normal(module))
    if len(candidates) > 1:
        raise SourceError(f"found several files that could be your {module}{ext}: "
                          f"{', '.join(p.name for p in candidates)}; keep exactly one, named {module}{ext}")
    if candidates:
        return candidates[0], (f"graded {candidates[0].name} as {module}{ext}; please name it exactly "
                               f"{module}{ext} next time")
    return None, ""


def choose(folder: Path, module: str, released: dict[str, str] | None = None, *,
           stubs: dict[str, str] | None = None, variant: str | None = None) -> Source:
    """Pick ``<module>.py`` or ``<module>.ipynb`` in ``folder`` (or their only near-misses)
    and return its code, by ``CHOICE_RULE``.

    ``stubs`` maps ``"py"``/``"ipynb"`` to the released stubs' code (compared ignoring
    whitespace); else ``released`` maps them to digests: ``loose_digest`` under
    ``"py_loose"``/``"ipynb_loose"``, or ``code_digest`` under ``"py"``/``"ipynb"``. Without
    either, the ``.py`` is preferred whenever it exists. ``variant``: the graded variant,
    compared with the one a notebook was released for.
    """
    py, py_note = find(folder, module, ".py")
    nb, nb_note = find(folder, module, ".ipynb")
    if py is None and nb is None:
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        listing = ", ".join(found[:10]) + (" ..." if len(found) > 10 else "") if found else "nothing"
        raise SourceError(f"found no {module}.py or {module}.ipynb in the submission (it holds: {listing})")
    if nb is None:
        return Source(py, read_text(py), py_note)
    try:
        nb_code, nb_notes, metadata = notebook_source(read_text(nb), nb.name)
    except SourceError as exc:
        if py is None:
            raise
        return Source(py, read_text(py), _join(py_note, f"graded {py.name}; {nb.name} was not readable ({exc})"))
    meta = metadata.get("course") if isinstance(metadata.get("course"), dict) else {}
    if variant and isinstance(meta.get("variant"), str) and meta["variant"] != variant:
        nb_notes.append(f"this notebook was released for the {meta['variant']} variant, but you are graded "
                        f"on the {variant} variant: its tasks are the ones graded")
    nb_source = Source(nb, nb_code, _join(nb_note, *(["notebook: " + "; ".join(nb_notes)] if nb_notes else [])))
    if py is None:
        return nb_source
    py_code = read_text(py)
    if stubs is not None:
        py_changed = loose_digest(py_code) != loose_digest(stubs.get("py", ""))
        nb_changed = loose_digest(nb_code) != loose_digest(stubs.get("ipynb", ""))
    elif released and "py_loose" in released:
        py_changed = loose_digest(py_code) != released.get("py_loose")
        nb_changed = loose_digest(nb_code) != released.get("ipynb_loose")
    else:
        released = released or {}
        py_changed = code_digest(py_code) != released.get("py")
        nb_changed = code_digest(nb_code) != released.get("ipynb")
    if nb_changed and not py_changed:
        return Source(nb, nb_code, _join(f"graded {nb.name}: {py.name} is unchanged from the release "
                                         "(whitespace aside)", nb_source.note))
    if nb_changed:
        return Source(py, py_code, _join(f"both {py.name} and {nb.name} changed; graded {py.name}", py_note))
    return Source(py, py_code, _join(f"graded {py.name}: {nb.name} is unchanged from the release", py_note)
                  if py_changed else py_note)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)
