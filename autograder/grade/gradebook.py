"""The gradebook: every grade ever given, in SQLite (WAL mode, one writer).

A grade is keyed by assignment, student, the digest of the submission's content, the
digest of everything that decides a grade (``grade.digest``: grading.toml, the
assignment's reference, handout, public and hidden tests, and the grader's own code),
variant and profile. Re-grading an unchanged submission under unchanged tests finds its
key and is skipped. ``current`` points each student at the grade of the submission they
handed in last, so exports show one row per student. Each grade is one transaction: a
batch killed at any moment leaves every finished grade exactly once and no half grade.

Each grade carries a ``status``: ``graded``, or ``needs_review`` when the grader could not
load the submission (no module found, ambiguous files, a bad archive, an import error), so
those are told apart from real zeros. ``remove`` deletes a student's grades.

Only the grading command's main thread writes (SQLite allows one writer; WAL lets the
exports read meanwhile).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    assignment TEXT NOT NULL, student TEXT NOT NULL, submission_sha256 TEXT NOT NULL,
    config_sha256 TEXT NOT NULL, variant TEXT NOT NULL, profile TEXT NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, device TEXT, torch TEXT, seed INTEGER,
    isolation TEXT, graded_at TEXT NOT NULL, results TEXT NOT NULL,
    PRIMARY KEY (assignment, student, submission_sha256, config_sha256, variant, profile));
CREATE TABLE IF NOT EXISTS current (
    assignment TEXT NOT NULL, student TEXT NOT NULL, submission_sha256 TEXT NOT NULL,
    config_sha256 TEXT NOT NULL, variant TEXT NOT NULL, profile TEXT NOT NULL,
    PRIMARY KEY (assignment, student));
"""


class Gradebook:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(grades)")}
        if "status" not in columns:          # gradebooks written before needs_review existed
            self.db.execute("ALTER TABLE grades ADD COLUMN status TEXT NOT NULL DEFAULT 'graded'")

    def close(self) -> None:
        self.db.close()

    def find(self, key: dict) -> dict | None:
        """The results document graded under exactly ``key``, if any."""
        row = self.db.execute(
            "SELECT results FROM grades WHERE assignment=:assignment AND student=:student AND "
            "submission_sha256=:submission_sha256 AND config_sha256=:config_sha256 AND variant=:variant AND "
            "profile=:profile", key).fetchone()
        return json.loads(row[0]) if row else None

    def record(self, key: dict, document: dict) -> None:
        """Store a grade and make it the student's current one, in one transaction."""
        extra = document.get("extra_data", {})
        row = dict(key, score=document["score"], max_score=extra.get("max_score", 0.0), device=extra.get("device"),
                   torch=extra.get("torch"), seed=extra.get("seed"),
                   isolation=json.dumps(extra.get("isolation", {})),
                   graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                   results=json.dumps(document), status=extra.get("status", "graded"))
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO grades (assignment, student, submission_sha256, config_sha256, variant, "
                "profile, score, max_score, device, torch, seed, isolation, graded_at, results, status) VALUES "
                "(:assignment, :student, :submission_sha256, :config_sha256, :variant, :profile, :score, :max_score, "
                ":device, :torch, :seed, :isolation, :graded_at, :results, :status)", row)
            self._set_current(key)

    def restate(self, key: dict, document: dict) -> None:
        """Replace a grade's document and score, not when it was graded: a late penalty
        applied again after the due date or an extension changed (no regrading)."""
        with self.db:
            self.db.execute("UPDATE grades SET score=:score, results=:results WHERE assignment=:assignment AND "
                            "student=:student AND submission_sha256=:submission_sha256 AND config_sha256=:config_sha256 "
                            "AND variant=:variant AND profile=:profile",
                            dict(key, score=document["score"], results=json.dumps(document)))

    def make_current(self, key: dict) -> None:
        """Point the student at an existing grade (their submission is unchanged)."""
        with self.db:
            self._set_current(key)

    def _set_current(self, key: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO current VALUES (:assignment, :student, :submission_sha256, "
                        ":config_sha256, :variant, :profile)", key)

    def current(self, assignment: str) -> dict[str, dict]:
        """Each student's current results document, by student."""
        rows = self.db.execute(
            "SELECT g.student, g.results FROM current c JOIN grades g USING (assignment, student, "
            "submission_sha256, config_sha256, variant, profile) WHERE c.assignment=? ORDER BY g.student",
            (assignment,)).fetchall()
        return {student: json.loads(results) for student, results in rows}

    def rows(self, assignment: str) -> list[dict]:
        """Each student's current grade with its record (for exports)."""
        cursor = self.db.execute(
            "SELECT g.student, g.score, g.max_score, g.status, g.variant, g.profile, g.device, g.torch, g.seed, "
            "g.submission_sha256, g.graded_at, g.results FROM current c JOIN grades g USING (assignment, student, "
            "submission_sha256, config_sha256, variant, profile) WHERE c.assignment=? ORDER BY g.student",
            (assignment,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def students(self, assignment: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT student FROM grades WHERE assignment=? ORDER BY student", (assignment,))]

    def remove(self, assignment: str, student: str) -> int:
        """Delete every grade of ``student`` (and their current pointer); returns how many."""
        with self.db:
            self.db.execute("DELETE FROM current WHERE assignment=? AND student=?", (assignment, student))
            return self.db.execute("DELETE FROM grades WHERE assignment=? AND student=?",
                                   (assignment, student)).rowcount

    def count(self, assignment: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM grades WHERE assignment=?", (assignment,)).fetchone()[0]
