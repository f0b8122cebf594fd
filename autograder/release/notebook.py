"""Cells -> a Jupyter notebook with nbgrader v3 cell metadata.

Cells that hold a stub (or, in an nbgrader source, a ``### BEGIN SOLUTION`` region) become
nbgrader *solution* cells (``grade_id`` = the task id, suffixed ``_2``, ``_3``... when a task
spans several cells); cells with points (``grade_cells``) become *autograded tests* (code) or
*manually graded task* (markdown) cells. A release notebook carries what ``nbgrader
generate_assignment`` adds (checksums, cell types, locks), so nbgrader's release of the source
and ours are the same cells; a source (``source=True``) carries only what an instructor's
nbgrader source holds. Other cells carry no nbgrader metadata. Cell ids are deterministic so
that regenerating gives identical bytes.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from . import markers
from .cells import Cell

STUB_MARK = "# YOUR CODE HERE"


def _is_solution(cell: Cell) -> bool:
    return STUB_MARK in cell.source or any(markers.marker(line) == ("BEGIN", "SOLUTION")
                                           for line in cell.source.splitlines())


def _nbgrader(cell: Cell, seen: dict[str, int]) -> dict | None:
    """The ``nbgrader`` metadata of ``cell`` as an instructor writes it (None: a plain cell)."""
    meta = {"grade": False, "locked": False, "schema_version": 3, "solution": False, "task": False}
    if cell.points is not None:
        key = "grade" if cell.kind == "code" else "task"
        return {**meta, key: True, "locked": True, "grade_id": cell.grade_id, "points": cell.points}
    if cell.kind == "code" and _is_solution(cell):
        if cell.task is None:
            raise ValueError(f"stubbed cell without a task:\n{cell.source[:200]}")
        seen[cell.task] = seen.get(cell.task, 0) + 1
        grade_id = cell.task if seen[cell.task] == 1 else f"{cell.task}_{seen[cell.task]}"
        return {**meta, "solution": True, "grade_id": grade_id}
    return None


def build(cells: list[Cell], banner: str, metadata: dict, source: bool = False) -> str:
    """The notebook's JSON text (nbformat 4.5, nbformat's canonical formatting)."""
    from nbgrader.utils import compute_checksum  # imported late: nbgrader is slow to import

    nb_cells = [new_markdown_cell(banner)]
    seen: dict[str, int] = {}
    ids: set[str] = set()
    for cell in cells:
        nb_cell = new_markdown_cell(cell.source) if cell.kind == "markdown" else new_code_cell(cell.source)
        if cell.tags:
            nb_cell.metadata["tags"] = list(cell.tags)
        meta = _nbgrader(cell, seen)
        if meta is not None:
            if meta["grade_id"] in ids:
                raise ValueError(f"two nbgrader cells named {meta['grade_id']!r}: rename a task")
            ids.add(meta["grade_id"])
            nb_cell.metadata["nbgrader"] = meta
            if not source:                        # what generate_assignment's LockCells and ComputeChecksums add
                nb_cell.metadata["deletable"] = False
                if meta["locked"]:
                    nb_cell.metadata["editable"] = False
                nb_cell.metadata["nbgrader"]["checksum"] = compute_checksum(nb_cell)
                nb_cell.metadata["nbgrader"]["cell_type"] = nb_cell.cell_type
        nb_cells.append(nb_cell)
    for index, nb_cell in enumerate(nb_cells):
        nb_cell["id"] = f"cell-{index:03d}"
    nb = new_notebook(cells=nb_cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        **metadata})
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"
