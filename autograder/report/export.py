"""Gradebook -> CSV, in three shapes (``--format``):

- ``full`` (default): one row per student: the roster's columns when a roster is given,
  ``status``, points per task, the raw total, the late penalty, the total, the maximum,
  when it was submitted and due, and the record of how the grade was made (variant,
  profile, device, torch, seed, submission digest). ``status`` is ``graded``,
  ``needs_review`` (the grader could not load the submission; the reason is in
  ``needs_review``, so a needs-review zero is never mistaken for a real one) or, with a
  roster, ``missing`` (on the roster, nothing handed in). A task the student's variant does
  not have reads ``n/a (standard)``: not a zero, not forgotten.
- ``canvas``: Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login ID,
  Section`` and one column for the assignment (``--lms-column``, e.g. ``A3 attention
  (12345)`` to match an existing Canvas assignment by its id), the penalised total, with
  the ``Points Possible`` row Canvas exports. Needs a roster (``ID`` is the roster's
  ``lms_id``).
- ``gradescope``: the columns of Gradescope's score export: ``Name, SID, Email, Sections,
  Total Score, Max Points, Status, Submission Time, Lateness (H:M:S)``.

Leaves out: uploading to an LMS (these are files to import by hand).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..config import Assignment, ConfigError
from ..grade.roster import Roster, Student

SHAPES = ("full", "canvas", "gradescope")
RECORD = ["needs_review", "variant", "profile", "device", "torch", "seed", "submission_sha256", "graded_at", "complete"]
PERSON = ["student_id", "name", "email", "lms_id", "section"]


def _joined(rows: list[dict], roster: Roster | None) -> list[tuple[Student | None, dict | None]]:
    """``(roster entry or None, gradebook row or None)``: graded students, then missing ones."""
    if roster is None:
        return [(None, row) for row in rows]
    matched, _, missing = roster.split([row["student"] for row in rows])
    return [(matched.get(row["student"]), row) for row in rows] + [(s, None) for s in missing]


def _full(pairs, a: Assignment, roster) -> tuple[list[str], list[dict]]:
    tasks = list(a.tasks)
    fields = ["student", *(PERSON if roster else []), "status", *tasks, "raw_total", "late_penalty_percent", "total",
              "max_score", "submitted_at", "due", "days_late", *RECORD]
    out = []
    for person, row in pairs:
        line = {"student": row["student"] if row else person.login,
                **({k: getattr(person, k) if person else "" for k in PERSON} if roster else {})}
        if row is None:
            out.append({**line, "status": "missing"})
            continue
        document = json.loads(row["results"])
        extra = document["extra_data"]
        late = extra.get("late") or {}
        per_task = extra["tasks"]
        line.update({t: per_task[t]["score"] if t in per_task else
                     (f"n/a ({row['variant']})" if row["variant"] not in a.tasks[t].variants else "") for t in tasks})
        line.update({"status": row.get("status", "graded"), "raw_total": late.get("raw_score", row["score"]),
                     "late_penalty_percent": late.get("penalty_percent", ""), "total": row["score"],
                     "max_score": row["max_score"], "submitted_at": late.get("submitted_at", ""),
                     "due": late.get("due", ""), "days_late": late.get("days_late", ""),
                     "needs_review": extra.get("needs_review", "").split("\n")[0],
                     "complete": extra.get("complete", False),
                     **{k: row[k] for k in RECORD if k in row}})
        out.append(line)
    return fields, out


def _lateness(late: dict) -> str:
    seconds = int(round(max(late.get("late_s", 0.0), 0.0)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def write_csv(rows: list[dict], a: Assignment, path: Path, *, roster: Roster | None = None, shape: str = "full",
              lms_column: str | None = None, points_possible: float | None = None) -> int:
    """Write ``rows`` (``Gradebook.rows``) to ``path`` in ``shape``; returns the number of rows.
    ``points_possible`` goes in Canvas's row of that name (one number for a class of mixed
    variants: the CLI gives the first variant's maximum)."""
    if shape not in SHAPES:
        raise ConfigError(f"--format {shape!r}: expected one of {', '.join(SHAPES)}")
    if shape == "canvas" and roster is None:
        raise ConfigError("--format canvas needs --roster (Canvas matches students by the roster's lms_id)")
    pairs = _joined(rows, roster)
    if shape == "full":
        fields, out = _full(pairs, a, roster)
    else:
        column = lms_column or a.id
        fields = (["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column] if shape == "canvas" else
                  ["Name", "SID", "Email", "Sections", "Total Score", "Max Points", "Status", "Submission Time",
                   "Lateness (H:M:S)"])
        out = [{"Student": "Points Possible", column: points_possible}] if shape == "canvas" else []
        for person, row in pairs:
            p = person or Student(login=row["student"])
            late = (json.loads(row["results"])["extra_data"].get("late") or {}) if row else {}
            if shape == "canvas":
                if person is not None:           # Canvas cannot take a row for someone not on the roster
                    out.append({"Student": p.name or p.login, "ID": p.lms_id, "SIS User ID": p.student_id,
                                "SIS Login ID": p.login, "Section": p.section, column: row["score"] if row else ""})
            else:
                out.append({"Name": p.name or p.login, "SID": p.student_id, "Email": p.email, "Sections": p.section,
                            "Total Score": row["score"] if row else "", "Max Points": row["max_score"] if row else "",
                            "Status": "Graded" if row else "Missing",
                            "Submission Time": late.get("submitted_at", ""), "Lateness (H:M:S)": _lateness(late) if row else ""})
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(out)
    return len(out)
