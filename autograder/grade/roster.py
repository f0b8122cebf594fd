"""The class roster: who is in the course, under which login, and what each is owed.

A CSV file with a header row. Columns (only ``login`` is required; ``folder`` is accepted
as its name, since the login is what names a student's submission folder or LMS file):

    login, student_id, name, email, lms_id, section, variant, extension

``variant`` is the release the student works in (empty: the command's ``--variant``);
``extension`` extends their due date: days (``2``, ``1.5``), or ``36h`` / ``2d``. A
submission matches a student by its name (folder, zip stem, or the student part of a
Canvas/Moodle file name), case-insensitively, or, for Moodle's ``<name>_<id>``, by the
trailing LMS id. An unknown column, a repeated login or a bad value is a ``ConfigError``
naming the row and the column.

Leaves out: reading an LMS's own roster export (rename its columns to these).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError

COLUMNS = ("login", "student_id", "name", "email", "lms_id", "section", "variant", "extension")
EXTENSION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[dh]?)$")


@dataclass(frozen=True)
class Student:
    login: str
    student_id: str = ""
    name: str = ""
    email: str = ""
    lms_id: str = ""
    section: str = ""
    variant: str = ""
    extension_days: float = 0.0

    def label(self) -> str:
        """How feedback names the student: ``Alice Smith (smithalice)``, or the login alone."""
        return f"{self.name} ({self.login})" if self.name else self.login


@dataclass(frozen=True)
class Roster:
    students: dict[str, Student]          # by login, lower case

    def match(self, submission: str) -> Student | None:
        name = submission.lower()
        if name in self.students:
            return self.students[name]
        return next((s for s in self.students.values() if s.lms_id and name.endswith(f"_{s.lms_id.lower()}")), None)

    def split(self, submissions: list[str]) -> tuple[dict[str, Student], list[str], list[Student]]:
        """``(submission -> student, unknown submissions, students with no submission)``."""
        matched = {name: s for name in submissions if (s := self.match(name)) is not None}
        unknown = [name for name in submissions if name not in matched]
        seen = {s.login for s in matched.values()}
        return matched, unknown, [s for s in self.students.values() if s.login not in seen]


def _extension(value: str, where: str) -> float:
    if not value.strip():
        return 0.0
    match = EXTENSION.match(value.strip().lower())
    if not match:
        raise ConfigError(f"{where}: expected days (2, 1.5) or hours (36h), got {value!r}")
    return float(match["n"]) / (24 if match["unit"] == "h" else 1)


def load(path: Path, variants: tuple[str, ...]) -> Roster:
    """Read and check the roster at ``path``; ``variants`` are grading.toml's."""
    if not path.is_file():
        raise ConfigError(f"--roster {path}: no such file")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
        header = ["login" if h == "folder" else h for h in header]
        for column in header:
            if column not in COLUMNS:
                raise ConfigError(f"{path}: unknown column {column!r} (allowed: {', '.join(COLUMNS)}; 'folder' for login)")
        if "login" not in header:
            raise ConfigError(f"{path}: the column 'login' (or 'folder') is required")
        students: dict[str, Student] = {}
        for number, raw in enumerate(reader, start=2):
            if not any(cell.strip() for cell in raw):
                continue
            row = {column: cell.strip() for column, cell in zip(header, raw)}
            where = f"{path} row {number}"
            login = row.get("login", "")
            if not login:
                raise ConfigError(f"{where}, column login: empty")
            if login.lower() in students:
                raise ConfigError(f"{where}, column login: {login!r} appears twice")
            variant = row.get("variant", "")
            if variant and variant not in variants:
                raise ConfigError(f"{where}, column variant: {variant!r} is not one of {', '.join(variants)}")
            students[login.lower()] = Student(
                login=login, student_id=row.get("student_id", ""), name=row.get("name", ""),
                email=row.get("email", ""), lms_id=row.get("lms_id", ""), section=row.get("section", ""),
                variant=variant, extension_days=_extension(row.get("extension", ""), f"{where}, column extension"))
    return Roster(students)
