"""Gradebook -> CSV: one row per student, points per task, total, maximum, and the record
of how the grade was made (variant, profile, device, torch, seed, submission digest).
``status`` is ``graded`` or ``needs_review`` (the grader could not load the submission; the
reason is in ``needs_review``), so a needs-review zero is never mistaken for a real one."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def write_csv(rows: list[dict], tasks: list[str], path: Path) -> int:
    """Write ``rows`` (``Gradebook.rows``) to ``path``; returns the number of students."""
    fields = ["student", "status", *tasks, "total", "max_score", "needs_review", "variant", "profile", "device", "torch", "seed",
              "submission_sha256", "graded_at", "complete"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            document = json.loads(row["results"])
            per_task = document["extra_data"]["tasks"]
            writer.writerow({
                "student": row["student"], "status": row.get("status", "graded"),
                "needs_review": document["extra_data"].get("needs_review", "").split("\n")[0],
                **{t: per_task.get(t, {}).get("score", "") for t in tasks},
                "total": row["score"], "max_score": row["max_score"], "variant": row["variant"],
                "profile": row["profile"], "device": row["device"], "torch": row["torch"], "seed": row["seed"],
                "submission_sha256": row["submission_sha256"], "graded_at": row["graded_at"],
                "complete": document["extra_data"].get("complete", False)})
    return len(rows)
