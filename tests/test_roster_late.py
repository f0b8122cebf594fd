"""A roster and a late policy: per-student variants, penalties from the submission time,
the LMS exports, and who is unknown or missing."""

from __future__ import annotations

import csv
import datetime
import os
import re
import subprocess
import sys
import zipfile
from datetime import UTC

import pytest

from autograder import config
from autograder.grade import batch, late, roster, run
from autograder.grade.digest import grade_digest
from tests import toy

LATE = """
[assignments.a99_toy.late]
due = 2026-03-01T23:59:00Z
due_by_variant = { hardmode = 2026-03-08T23:59:00Z }
grace_minutes = 15
percent_per_day = 10
max_percent = 30
zero_after_days = 7
"""
ROSTER = """login,student_id,name,email,lms_id,section,variant,extension
alice,1001,Alice Ash,alice@uni.edu,501,S1,,
bob,1002,Bob Birch,bob@uni.edu,502,S1,hardmode,
carol,1003,Carol Cedar,carol@uni.edu,503,S2,,2d
dan,1004,Dan Dale,dan@uni.edu,504,S2,,
"""
# name -> submission time (alice and dan hand in nothing); carol is 1.4 days past her extended due date (2 started days: 20%)
HANDED_IN = {"bob": "2026-03-03T10:00:00+00:00",
             "carol": "2026-03-05T10:00:00+00:00", "zed": "2026-03-01T10:00:00+00:00"}


def toy_course(tmp_path, extra=LATE):
    # toy's 8 s import budget is meant for hangs; on a loaded 2-core machine a plain import can take longer.
    grading = toy.GRADING.replace("startup_timeout_s = 8", "startup_timeout_s = 60") + extra
    return config.load(toy.write_course(tmp_path / "course", grading=grading))


def test_a_roster_is_checked_and_matches_folders_and_moodle_names(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER.replace("login,", "Folder,"))
    r = roster.load(path, ("standard", "hardmode"))
    assert r.match("ALICE").name == "Alice Ash" and r.match("bob_birch_502").login == "bob"
    assert r.match("carol").extension_days == 2 and r.match("nobody") is None
    matched, unknown, missing = r.split(["alice", "zed"])
    assert list(matched) == ["alice"] and unknown == ["zed"] and [s.login for s in missing] == ["bob", "carol", "dan"]
    for text, message in [("login,colour\nx,red\n", "unknown column 'colour'"),
                          ("name\nAlice\n", "the column 'login' (or 'folder') is required"),
                          ("login,variant\nx,expert\n", "row 2, column variant: 'expert' is not one of"),
                          ("login,extension\nx,soon\n", "row 2, column extension: expected days"),
                          ("login\nx\nX\n", "row 3, column login: 'X' appears twice")]:
        path.write_text(text)
        with pytest.raises(config.ConfigError, match=re.escape(message)):
            roster.load(path, ("standard", "hardmode"))


@pytest.mark.parametrize("table, message", [
    ("due = 2026-03-01T23:59:00Z\ncolour = 1", "assignments.a99_toy.late.colour: unknown key"),
    ("due = 2026-03-01T23:59:00", "assignments.a99_toy.late.due: expected a date and time with its UTC offset"),
    ("due = 2026-03-01", "assignments.a99_toy.late.due: expected datetime, got date"),
    ("due = 2026-03-01T23:59:00Z\npercent_per_day = '10'", "assignments.a99_toy.late.percent_per_day: expected int"),
    ("due = 2026-03-01T23:59:00Z\ndue_by_variant = { expert = 2026-03-01T23:59:00Z }",
     "assignments.a99_toy.late.due_by_variant.expert: not a variant"),
    ("due = 2026-03-01T23:59:00Z\nmax_percent = 150", "assignments.a99_toy.late.max_percent: at most 100"),
])
def test_a_bad_late_policy_is_an_error_naming_the_key(tmp_path, table, message):
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        toy_course(tmp_path, f"\n[assignments.a99_toy.late]\n{table}\n")


def test_the_penalty_rule_and_a_moved_due_date_does_not_regrade(tmp_path):
    course = toy_course(tmp_path)
    policy = course.assignment("a99_toy").late
    hour = 3600
    assert late.penalty(policy, 10 * 60) == (0, 0.0)                  # within the grace period
    assert late.penalty(policy, 20 * 60) == (1, 10.0)
    assert late.penalty(policy, 50 * hour) == (3, 30.0)                # capped at 30%
    assert late.penalty(policy, 8 * 24 * hour) == (8, 100.0)           # zero after 7 days
    moved = toy_course(tmp_path / "moved", LATE.replace("2026-03-01T23:59", "2026-04-01T23:59"))
    assert grade_digest(course, "a99_toy", "cpu") == grade_digest(moved, "a99_toy", "cpu")
    document = {"score": 10.0, "extra_data": {"variant": "standard"}}
    when = datetime.datetime(2026, 3, 3, 12, tzinfo=UTC)
    once = late.apply(document, policy, when)
    assert once["score"] == 8.0 and once["extra_data"]["late"]["raw_score"] == 10.0 and document["score"] == 10.0
    again = late.apply(once, policy, when, extension_days=2)            # from the raw score, not the penalised one
    assert again["score"] == 10.0 and again["extra_data"]["late"]["days_late"] == 0
    assert late.apply(document, policy, None)["extra_data"]["late"]["note"].startswith("the submission records no time")


def cli(course, *args):
    return subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), *args],
                          capture_output=True, text=True)


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_a_roster_driven_grading_gives_variants_penalties_and_lms_csvs(tmp_path):
    course = toy_course(tmp_path)
    klass = tmp_path / "class"
    for name, when in HANDED_IN.items():
        folder = toy.submission(klass, name, {"toy.py": toy.GOOD + f"\nNAME = {name!r}\n"})
        stamp = datetime.datetime.fromisoformat(when).timestamp()
        for path in [folder, *folder.rglob("*")]:
            os.utime(path, (stamp, stamp))
    (tmp_path / "roster.csv").write_text(ROSTER)
    out, rost = tmp_path / "out", str(tmp_path / "roster.csv")
    graded = cli(course, "grade", "a99_toy", str(klass), "--roster", rost, "--out", str(out), "--jobs", "2", "--seed", "1")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "NOT ON ROSTER: zed" in graded.stderr and "MISSING: Dan Dale (dan)" in graded.stderr
    assert "ETA" in graded.stderr                                        # plain progress lines: not a terminal
    feedback = (out / "carol" / "feedback.md").read_text()
    assert "feedback for Carol Cedar (carol)" in feedback and "2 day(s) late): 20% off, 11 -> 8.8 points" in feedback

    assert cli(course, "export", "a99_toy", "--csv", str(tmp_path / "full.csv"), "--roster", rost, "--out", str(out)).returncode == 0
    header, *rows = read(tmp_path / "full.csv")
    table = {r[0]: dict(zip(header, r)) for r in rows}
    assert table["bob"]["variant"] == "hardmode" and table["bob"]["extra"] == "1.0" and table["bob"]["max_score"] == "13.0"
    assert table["zed"]["extra"] == "n/a (standard)" and table["zed"]["total"] == "11.0"
    assert (table["carol"]["raw_total"], table["carol"]["late_penalty_percent"], table["carol"]["total"]) == ("11.0", "20.0", "8.8")
    assert table["dan"]["status"] == table["alice"]["status"] == "missing" and table["zed"]["lms_id"] == ""

    assert cli(course, "export", "a99_toy", "--csv", str(tmp_path / "canvas.csv"), "--format", "canvas", "--roster", rost,
               "--lms-column", "Toy (777)", "--out", str(out)).returncode == 0
    assert read(tmp_path / "canvas.csv") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Toy (777)"], ["Points Possible", "", "", "", "", "12.0"],
        ["Bob Birch", "502", "1002", "bob", "S1", "12.0"], ["Carol Cedar", "503", "1003", "carol", "S2", "8.8"],
        ["Alice Ash", "501", "1001", "alice", "S1", ""], ["Dan Dale", "504", "1004", "dan", "S2", ""]]
    assert cli(course, "export", "a99_toy", "--csv", str(tmp_path / "gs.csv"), "--format", "gradescope", "--roster", rost,
               "--out", str(out)).returncode == 0
    header, *rows = read(tmp_path / "gs.csv")
    assert header[:5] == ["Name", "SID", "Email", "Sections", "Total Score"]
    assert dict(zip(header, rows[1]))["Lateness (H:M:S)"] == "34:01:00"

    (tmp_path / "roster.csv").write_text(ROSTER.replace("S2,,2d", "S2,,7d"))
    again = cli(course, "grade", "a99_toy", str(klass), "--roster", rost, "--out", str(out), "--seed", "1")
    assert "0 graded, 3 unchanged" in again.stdout                       # a week's extension: no regrading
    assert cli(course, "export", "a99_toy", "--csv", str(tmp_path / "full.csv"), "--roster", rost, "--out", str(out)).returncode == 0
    header, *rows = read(tmp_path / "full.csv")
    assert {r[0]: dict(zip(header, r)) for r in rows}["carol"]["total"] == "11.0"


def test_the_submission_time_is_the_lms_files_or_the_zip_entries(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    lms = klass / "smithalice_late_12_34_toy.py"
    lms.write_text(toy.GOOD)
    stamp = datetime.datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    os.utime(lms, (stamp.timestamp(), stamp.timestamp()))
    with zipfile.ZipFile(klass / "bob.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo("bob/toy.py", date_time=(2026, 3, 1, 22, 0, 0)), toy.GOOD)
        archive.writestr(zipfile.ZipInfo("bob/notes.txt", date_time=(2026, 2, 27, 9, 0, 0)), "notes")
    found = batch.collect(klass, tmp_path / "lms")
    times = {run.submission_name(p): late.submitted_at(p) for p in found.paths}
    assert times == {"smithalice": stamp, "bob": datetime.datetime(2026, 3, 1, 22, tzinfo=UTC)}
