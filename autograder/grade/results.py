"""results.json in Gradescope's schema, with this grader's record in ``extra_data``.

Top level: ``score``, ``execution_time``, ``output`` (a per-task summary), ``visibility``,
``stdout_visibility`` and ``tests[]``; each test has ``name``, ``number``, ``score``,
``max_score``, ``status`` (passed|failed), ``output``, ``visibility`` and ``tags`` (its task).
Everything else the grader knows (outcome per test, per-task totals, variant, profile,
device, torch version, seed, submission digest, sandbox mode) is in ``extra_data``, so the
gradebook and the exports are projections of this one document.
"""

from __future__ import annotations

import json
from pathlib import Path

from .scoring import OUTCOMES, TestResult


def summary(assignment: str, variant: str, tasks: dict[str, dict], total: float, max_total: float) -> str:
    lines = [f"{assignment} ({variant}): {points(total)} / {points(max_total)} points"]
    width = max((len(t) for t in tasks), default=0)
    for task, row in tasks.items():
        lines.append(f"  {task:<{width}}  {points(row['score']):>6} / {points(row['max_score']):<6}"
                     f"  {row['passed']}/{row['tests']} tests passed")
    return "\n".join(lines)


def points(x: float) -> str:
    """Points for people: at most two decimals, no trailing zeros (``16.33``, ``34``)."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def build(*, assignment: str, variant: str, results: list[TestResult], tasks: dict[str, dict],
          public_visibility: str, hidden_visibility: str, execution_time: float, extra: dict) -> dict:
    total = round(sum(r.score for r in results), 4)
    max_total = round(sum(r.max_score for r in results), 4)
    tests = []
    for number, r in enumerate(results, start=1):
        status = "passed" if r.outcome == "passed" else "failed"
        output = OUTCOMES[r.outcome] if r.outcome == "passed" else f"{OUTCOMES[r.outcome]}: {r.message}".strip()
        tests.append({
            "name": f"{r.task}: {r.name}", "number": str(number), "score": r.score, "max_score": r.max_score,
            "status": status, "output": output, "output_format": "text",
            "visibility": public_visibility if r.public else hidden_visibility, "tags": [r.task],
            "extra_data": {"task": r.task, "outcome": r.outcome, "public": r.public, "nodeid": r.nodeid,
                           "duration_s": round(r.duration_s, 3), **({"recorded": r.recorded} if r.recorded else {})}})
    return {
        "score": total, "execution_time": round(execution_time, 2),
        "output": summary(assignment, variant, tasks, total, max_total), "output_format": "text",
        "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
        "extra_data": {"assignment": assignment, "variant": variant, "max_score": max_total, "tasks": tasks,
                       "complete": all(r.outcome != "not_run" for r in results), **extra},
    }


def merge(parts: list[dict], order: list[str]) -> dict:
    """One document from parts of one grading (the same submission and seed, disjoint tasks):
    tests and task totals in ``order`` (grading.toml's), scores, summary and completeness
    recomputed; everything else of ``extra_data`` is the first part's."""
    tasks = {t: row for part in parts for t, row in part["extra_data"]["tasks"].items()}
    tasks = {t: tasks[t] for t in order if t in tasks}
    tests = sorted((dict(t) for part in parts for t in part["tests"]), key=lambda t: order.index(t["extra_data"]["task"]))
    for number, test in enumerate(tests, start=1):
        test["number"] = str(number)
    total, max_total = round(sum(t["score"] for t in tests), 4), round(sum(t["max_score"] for t in tests), 4)
    first = parts[0]["extra_data"]
    review = next((p["extra_data"]["needs_review"] for p in parts if p["extra_data"].get("status") == "needs_review"), "")
    extra = {**first, "tasks": tasks, "max_score": max_total,
             "complete": all(t["extra_data"]["outcome"] != "not_run" for t in tests),
             **({"status": "needs_review", "needs_review": review} if review else {})}
    output = summary(first["assignment"], first["variant"], tasks, total, max_total)
    return {**parts[0], "score": total, "execution_time": round(max(p["execution_time"] for p in parts), 2),
            "output": f"NEEDS REVIEW: {review}\n\n{output}" if review else output, "tests": tests, "extra_data": extra}


def write(path: Path, document: dict) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
