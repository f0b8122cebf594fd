"""Batch grading, the gradebook, and what comes out of it: CSV, feedback, Gradescope zip."""

from __future__ import annotations

import csv
import html.parser
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from autograder import config
from autograder.grade import batch
from autograder.grade.gradebook import Gradebook
from autograder.report import feedback, gradescope
from tests import toy
from tests.conftest import ROOT

STUDENTS = 6


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return config.load(toy.write_course(tmp_path_factory.mktemp("course")))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    for i in range(STUDENTS):           # different content, so different digests
        toy.submission(folder, f"student{i}", {"toy.py": toy.GOOD + f"\nSTUDENT = {i}\n"})
    return folder


def cli(course, *args, **kw):
    return subprocess.Popen([sys.executable, "-m", "autograder", "--course", str(course.root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def rows(gradebook):
    db = sqlite3.connect(gradebook)
    try:
        return (db.execute("SELECT student, COUNT(*) FROM grades GROUP BY student").fetchall(),
                db.execute("SELECT student FROM current").fetchall())
    finally:
        db.close()


@pytest.mark.slow
def test_a_batch_killed_with_sigkill_resumes_without_losing_or_duplicating(course, klass, tmp_path):
    out = tmp_path / "out"
    first = cli(course, "grade", "a99_toy", str(klass), "--out", str(out), "--profile", "cpu")
    deadline = time.monotonic() + 300          # breaks as soon as two are graded; long only on a loaded machine
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if (out / "gradebook.sqlite").exists() and len(rows(out / "gradebook.sqlite")[0]) >= 2:
            break
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    graded_before = len(rows(out / "gradebook.sqlite")[0])
    assert 2 <= graded_before < STUDENTS

    second = cli(course, "grade", "a99_toy", str(klass), "--out", str(out), "--profile", "cpu", "--jobs", "2")
    output = second.communicate(timeout=300)[0]
    assert second.returncode == 0, output
    assert f"{STUDENTS - graded_before} graded, {graded_before} unchanged" in output
    per_student, current = rows(out / "gradebook.sqlite")
    assert sorted(per_student) == [(f"student{i}", 1) for i in range(STUDENTS)]
    assert len(current) == STUDENTS


@pytest.fixture(scope="module")
def graded_class(course, klass, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = batch.grade_class(course, "a99_toy", batch.submissions_in(klass), out, variant="standard",
                               profile="cpu", jobs=2, progress=lambda *a: None)
    for student, document in result.documents.items():
        feedback.write(out / student, document, student, course.hidden_feedback)
    return out, result


@pytest.mark.slow
def test_only_changed_submissions_are_graded_again(course, klass, graded_class):
    out, first = graded_class
    assert first.graded == STUDENTS and first.skipped == 0
    again = batch.grade_class(course, "a99_toy", batch.submissions_in(klass), out, variant="standard",
                              profile="cpu", progress=lambda *a: None)
    assert again.graded == 0 and again.skipped == STUDENTS
    (klass / "student0" / "toy.py").write_text(toy.CHAOS)
    try:
        changed = batch.grade_class(course, "a99_toy", batch.submissions_in(klass), out, variant="standard",
                                    profile="cpu", progress=lambda *a: None)
    finally:
        (klass / "student0" / "toy.py").write_text(toy.GOOD + "\nSTUDENT = 0\n")
    assert changed.graded == 1 and changed.documents["student0"]["score"] == 6
    book = Gradebook(out / "gradebook.sqlite")
    assert book.current("a99_toy")["student0"]["score"] == 6 and book.count("a99_toy") == STUDENTS + 1
    book.close()


@pytest.mark.slow
def test_export_csv_is_a_spreadsheet_row_per_student(course, graded_class, tmp_path):
    out, _ = graded_class
    proc = cli(course, "export", "a99_toy", "--csv", str(tmp_path / "grades.csv"), "--out", str(out))
    assert proc.wait() == 0
    with open(tmp_path / "grades.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert sorted(r["student"] for r in table) == [f"student{i}" for i in range(STUDENTS)]
    for row in table:
        assert float(row["add"]) == 2 and float(row["total"]) <= float(row["max_score"]) == 12
        assert row["torch"].startswith("2.13") and row["profile"] == "cpu" and int(row["seed"]) >= 0
        assert row["complete"] == "False"           # the GPU task was not run on CPU


class _Checker(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


@pytest.mark.slow
def test_feedback_shows_public_details_and_hidden_counts(graded_class):
    out, result = graded_class
    md = (out / "student1" / "feedback.md").read_text()
    assert "| `add` add | 2 / 2 | 1/1 | 1/1 |" in md and "hidden tests: 0 of 1 passed" in md
    assert "NOT RUN: needs a CUDA GPU" in md                     # the diagnosis of the hidden GPU test
    assert "test_on_gpu" not in md                               # summary mode: no hidden test names
    page = (out / "student1" / "feedback.html").read_text()
    checker = _Checker()
    checker.feed(page)
    assert checker.stack == [] and "<table>" in page


@pytest.mark.slow
def test_gradescope_autograder_zip(tmp_path):
    real = config.load(ROOT)
    archive = gradescope.build(real, "a03_attention", "standard", tmp_path / "ag.zip")
    base = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert {"setup.sh", "run_autograder", "source/grading.toml", "source/pyproject.toml"} <= set(names)
        assert all(n.startswith(("source/", "setup.sh", "run_autograder")) for n in names)
        z.extractall(base)
    assert subprocess.run(["bash", "-n", str(base / "setup.sh")]).returncode == 0
    submission = base / "submission"
    submission.mkdir()
    (submission / "attention.py").write_text((ROOT / "assignments/a03_attention/examples/alice_correct/attention.py").read_text())
    env = {**os.environ, "AUTOGRADER_BASE": str(base), "AUTOGRADER_PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(base / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)
    results = json.loads((base / "results" / "results.json").read_text())
    assert results["score"] == 34, proc.stdout + proc.stderr
    assert all(t["visibility"] in ("visible", "hidden") for t in results["tests"])
    summaries = [t for t in results["tests"] if t.get("extra_data", {}).get("summary_of_hidden")]
    assert summaries and all(t["visibility"] == "visible" and t["max_score"] == 0 for t in summaries)


def test_gradescope_shows_hidden_diagnoses_in_visible_summaries():
    hidden = "FAILED: softmax rows do not sum to 1\nexpected 1.0, got 0.5\nLikely mistake: dividing by the max\nsrc"
    doc = {"score": 1.0, "output": "a03 (standard): 1 / 3 points", "tests": [
        {"name": "softmax: test_public", "status": "passed", "output": "passed", "visibility": "visible",
         "score": 1.0, "max_score": 1.0, "extra_data": {"task": "softmax", "public": True}},
        {"name": "softmax: test_secret_inputs", "status": "failed", "output": hidden, "visibility": "hidden",
         "score": 0.0, "max_score": 2.0, "extra_data": {"task": "softmax", "public": False}}],
        "extra_data": {"tasks": {"softmax": {"title": "Softmax", "score": 1.0, "max_score": 3.0}},
                       "submission": {"note": "graded attention.ipynb: attention.py is unchanged from the release"}}}
    shown = gradescope.gradescope_document(doc, "summary", "hidden")
    summary = shown["tests"][-1]
    assert summary["visibility"] == "visible" and summary["max_score"] == 0 and summary["status"] == "failed"
    assert "hidden tests: 0 of 1 passed" in summary["output"]
    assert "Likely mistake: dividing by the max" in summary["output"]
    assert "test_secret_inputs" not in summary["output"] and "src" not in summary["output"].split("\n")[-1][-3:]
    assert shown["output"].startswith("Note: graded attention.ipynb") and shown["score"] == 1.0
    counts = gradescope.gradescope_document(doc, "counts", "hidden")["tests"][-1]["output"]
    assert counts == "hidden tests: 0 of 1 passed"
    assert len(gradescope.gradescope_document(doc, "summary", "visible")["tests"]) == 2
    assert len(doc["tests"]) == 2                                 # the grader's own document is unchanged


THIEF = """
import glob
for path in glob.glob("/tmp/**/source/reference/a03_attention/attention.py", recursive=True):
    try:
        exec(open(path).read(), globals())
    except OSError:
        pass
"""


@pytest.mark.slow
def test_gradescope_bundle_without_a_sandbox_keeps_the_reference_private(tmp_path):
    """The bundle as Gradescope runs it where bubblewrap cannot: a submission that reads the
    bundled reference gets what its own code deserves (the untouched stub: 0)."""
    from autograder.grade import unprivileged
    if unprivileged.possible() is not None:
        if os.environ.get("AUTOGRADER_REQUIRE_SANDBOX") == "1":
            pytest.fail(unprivileged.possible())
        pytest.skip(unprivileged.possible())
    real = config.load(ROOT)
    base = Path(tempfile.mkdtemp(prefix="autograder-gradescope-"))
    try:
        base.chmod(0o755)                        # as on Gradescope: the course starts out readable
        with zipfile.ZipFile(gradescope.build(real, "a03_attention", "standard", tmp_path / "ag.zip")) as z:
            z.extractall(base)
        (base / "submission").mkdir()
        stub = (ROOT / "release/standard/a03_attention/attention.py").read_text()
        (base / "submission" / "attention.py").write_text(stub + THIEF)
        env = {**os.environ, "AUTOGRADER_BASE": str(base), "AUTOGRADER_PYTHON": sys.executable,
               "AUTOGRADER_SANDBOX": "off"}
        proc = subprocess.run(["bash", str(base / "run_autograder")], env=env, capture_output=True, text=True,
                              timeout=300)
        results = json.loads((base / "results" / "results.json").read_text())
        work = json.loads((base / "work" / "submission" / "results.json").read_text())
        assert work["extra_data"]["isolation"]["mode"] == "unprivileged", proc.stdout + proc.stderr
        assert results["score"] == 0, [t["name"] for t in results["tests"] if t["status"] == "passed"]
        assert os.stat(base / "source").st_mode & 0o077 == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)
