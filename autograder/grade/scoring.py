"""Outcomes of tests -> points. Pure functions; no pytest, no I/O.

A task's points are split evenly over its tests (public and hidden) in the graded variant;
a test scores its share only when it passed. Every outcome other than ``passed`` scores 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OUTCOMES = {           # outcome -> the headline a student reads before the message
    "passed": "PASSED",
    "failed": "WRONG RESULT",
    "error": "EXCEPTION IN YOUR CODE",
    "not_implemented": "NOT IMPLEMENTED",
    "timeout": "TIMED OUT",
    "crashed": "CRASHED",
    "unloadable": "COULD NOT LOAD YOUR SUBMISSION",
    "not_run": "NOT RUN",
}


@dataclass(frozen=True)
class TestResult:
    nodeid: str
    name: str
    task: str
    public: bool
    outcome: str
    message: str
    duration_s: float
    max_score: float
    recorded: dict = field(default_factory=dict)    # what the test recorded (bars, trusted measurements)

    @property
    def score(self) -> float:
        return self.max_score if self.outcome == "passed" else 0.0


def shares(points: float, n: int) -> list[float]:
    """``points`` split into ``n`` shares of 4 decimals that sum to ``points`` exactly."""
    if n == 0:
        return []
    each = round(points / n, 4)
    return [each] * (n - 1) + [round(points - each * (n - 1), 4)]


def allocate(task_points: dict[str, float], tests: list[tuple[str, str]]) -> dict[str, float]:
    """Max score of each test: ``tests`` is ``[(nodeid, task)]`` in run order."""
    by_task: dict[str, list[str]] = {}
    for nodeid, task in tests:
        by_task.setdefault(task, []).append(nodeid)
    out = {}
    for task, nodeids in by_task.items():
        out.update(zip(nodeids, shares(task_points[task], len(nodeids))))
    return out


def task_totals(results: list[TestResult], titles: dict[str, str]) -> dict[str, dict]:
    """``{task: {"title", "score", "max_score", "passed", "tests"}}`` in grading.toml order."""
    out = {t: {"title": title, "score": 0.0, "max_score": 0.0, "passed": 0, "tests": 0} for t, title in titles.items()}
    for r in results:
        row = out[r.task]
        row["score"] = round(row["score"] + r.score, 4)
        row["max_score"] = round(row["max_score"] + r.max_score, 4)
        row["passed"] += r.outcome == "passed"
        row["tests"] += 1
    return out
