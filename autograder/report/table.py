"""Plain-text tables for the terminal: one submission's tasks, or a class's gradebook."""

from __future__ import annotations

from ..grade.results import points


def gradebook(documents: dict[str, dict]) -> str:
    """One row per submission, one column per task, then the total."""
    if not documents:
        return "(no submissions)"
    tasks = list(dict.fromkeys(t for doc in documents.values() for t in doc["extra_data"]["tasks"]))   # variants mixed
    header = ["submission", *tasks, "total", "status"]
    rows = []
    for name, doc in documents.items():
        per_task = doc["extra_data"]["tasks"]
        cells = [f"{points(per_task[t]['score'])}/{points(per_task[t]['max_score'])}" if t in per_task else "-"
                 for t in tasks]
        status = "NEEDS REVIEW" if doc["extra_data"].get("status") == "needs_review" else ""
        rows.append([name, *cells, f"{points(doc['score'])}/{points(doc['extra_data']['max_score'])}", status])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r):
        return "  ".join(c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def failures(document: dict, limit: int = 3) -> str:
    """The first failing tests of one submission, one line each (for the terminal)."""
    out = []
    for test in document["tests"]:
        if test["status"] != "passed" and len(out) < limit:
            first = test["output"].splitlines()[0] if test["output"] else ""
            out.append(f"    x {test['name']}: {first[:150]}")
    return "\n".join(out)
