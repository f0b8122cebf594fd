"""The README's assignment table is checked against grading.toml and the mutants: every
assignment has a row, and its points and mutant count are the real ones."""

from __future__ import annotations

import re

from autograder import config
from tests.conftest import ROOT, mutants_of

ROW = re.compile(r"^\| `(a\d\d_\w+)` \| (.+?) \| ([\d.]+) / ([\d.]+) \| (\d+) \|$")


def expected_row(course: config.Course, aid: str) -> tuple[str, str, str]:
    a = course.assignment(aid)
    return f"{a.max_points('standard'):g}", f"{a.max_points('hardmode'):g}", str(len(mutants_of(course, aid)))


def test_the_assignment_table_matches_the_course():
    course = config.load(ROOT)
    rows = {m.group(1): m.groups()[2:] for line in (ROOT / "README.md").read_text().splitlines()
            if (m := ROW.match(line))}
    assert set(rows) == set(course.assignments), "README.md's assignment table must list exactly grading.toml's"
    wrong = {aid: (rows[aid], expected_row(course, aid)) for aid in rows if rows[aid] != expected_row(course, aid)}
    assert not wrong, "README.md rows (points standard / hardmode, mutants): got, expected: " + repr(wrong)
