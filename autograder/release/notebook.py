"""Cells -> a Jupyter notebook with nbgrader v3 cell metadata.

Code cells that hold a stub become nbgrader *solution* cells (``grade_id`` = the task id,
suffixed ``_2``, ``_3``... when a task spans several cells) with nbgrader's own checksum,
as ``nbgrader generate_assignment`` would write them. Other cells carry no nbgrader
metadata. Cell ids are deterministic so that regenerating gives identical bytes.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .cells import Cell

STUB_MARK = "# YOUR CODE HERE"


def build(cells: list[Cell], banner: str, metadata: dict) -> str:
    """The notebook's JSON text (nbformat 4.5, nbformat's canonical formatting)."""
    from nbgrader.utils import compute_checksum  # imported late: nbgrader is slow to import

    nb_cells = [new_markdown_cell(banner)]
    seen: dict[str, int] = {}
    for cell in cells:
        if cell.kind == "markdown":
            nb_cell = new_markdown_cell(cell.source)
        else:
            nb_cell = new_code_cell(cell.source)
            if STUB_MARK in cell.source:
                if cell.task is None:
                    raise ValueError(f"stubbed cell without a task:\n{cell.source[:200]}")
                seen[cell.task] = seen.get(cell.task, 0) + 1
                grade_id = cell.task if seen[cell.task] == 1 else f"{cell.task}_{seen[cell.task]}"
                nb_cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                                "schema_version": 3, "solution": True, "task": False}
                nb_cell.metadata["nbgrader"]["checksum"] = compute_checksum(nb_cell)
        if cell.tags:
            nb_cell.metadata["tags"] = list(cell.tags)
        nb_cells.append(nb_cell)
    for index, nb_cell in enumerate(nb_cells):
        nb_cell["id"] = f"cell-{index:03d}"
    nb = new_notebook(cells=nb_cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        **metadata})
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"
