"""A careless class: every way a real class hands in work wrongly, graded in one run.

Each case must end either graded by its honest content (with a note saying what the grader
did about the mistake) or flagged ``needs_review`` with a message naming the problem: never
a silent zero. The run's summary, exit status, CSV and gradebook tell the two apart; a
mistyped path, a missing device and the small usage errors are errors (exit 2), not grades.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile

import pytest

from tests import toy

FULL = 11                       # toy's CPU points: everything but the GPU task


def nb(*cells: str, metadata: dict | None = None) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata or {},
                       "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                                  "execution_count": None} for c in cells]})


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buffer.getvalue()


HABITS = nb("from google.colab import drive\ndrive.mount('/content/drive')\n!pip install -q einops\n%matplotlib inline",
            toy.GOOD, "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\ndisplay(add(1, 2))",
            metadata={"course": {"variant": "hardmode"}})
BROKEN_CELL = nb(toy.GOOD, "x = 1\nraise RuntimeError('oops in my notebook')")

# name -> (files or bytes, expected score or None for needs_review, phrase the message or note must hold)
CASES = {
    "empty": ({}, None, "found no toy.py or toy.ipynb in the submission (it holds: nothing)"),
    "final": ({"toy_final.py": toy.GOOD}, FULL, "graded toy_final.py as toy.py"),
    "copy_of": ({"Copy of toy.ipynb": nb(toy.GOOD)}, FULL, "graded Copy of toy.ipynb as toy.ipynb"),
    "capital": ({"Toy.py": toy.GOOD}, FULL, "graded Toy.py as toy.py"),
    "numbered": ({"toy (1).py": toy.GOOD}, FULL, "graded toy (1).py as toy.py"),
    "ambiguous": ({"Toy.py": toy.GOOD, "toy_final.py": toy.GOOD}, None,
                  "found several files that could be your toy.py: Toy.py, toy_final.py"),
    "syntax": ({"toy.py": "def add(a, b)\n    return a + b\n"}, None, "SyntaxError"),
    "import_error": ({"toy.py": "import no_such_package_here\n" + toy.GOOD}, None,
                     "No module named 'no_such_package_here'"),
    "habits": ({"toy.ipynb": HABITS}, FULL, "removed the notebook-only line `!pip install -q einops`"),
    "broken_cell": ({"toy.ipynb": BROKEN_CELL}, None, "toy.ipynb, cell 2"),
    "nested.zip": (zipped({"hw/deeper/toy.py": toy.GOOD, "hw/notes.txt": "x"}), FULL, ""),
    "zip_of_zip.zip": (zipped({"inner.zip": zipped({"toy.py": toy.GOOD})}), FULL, ""),
    "bad.zip": (b"this is not a zip at all", None, "bad.zip is not a readable zip file"),
}
LMS = {  # flat downloads: student -> file names as Canvas / Moodle write them
    "smithalice": "smithalice_12345_67890_toy.py",
    "jonesbob": "jonesbob_late_222_333_toy-1.py",
    "carol_diaz_777": "Carol Diaz_777_assignsubmission_file_toy.py",
}
NOT_SUBMISSIONS = ("README.md", "expected.json")


def cli(course_root, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "autograder", "--course", str(course_root), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("careless")
    # Importing matplotlib (the notebook-habits case) takes seconds on a loaded 2-core machine:
    # toy's 8 s import budget is meant for hangs, not for a real notebook's imports.
    course_root = toy.write_course(root / "course", grading=toy.GRADING.replace("startup_timeout_s = 8",
                                                                                 "startup_timeout_s = 60"))
    released = cli(course_root, "release", "a99_toy")
    assert released.returncode == 0, released.stdout + released.stderr
    stub = (course_root / "release/standard/a99_toy/toy.py").read_text()
    klass = root / "class"
    klass.mkdir()
    for name, (content, _, _) in CASES.items():
        if isinstance(content, bytes):
            (klass / name).write_bytes(content)
        else:
            folder = klass / name
            folder.mkdir()
            for rel, text in content.items():
                (folder / rel).write_text(text)
    both = klass / "both"                      # a .py touched by whitespace only, and a finished notebook
    both.mkdir()
    (both / "toy.py").write_text(stub + "\n\n   \n")
    (both / "toy.ipynb").write_text(nb(toy.GOOD))
    for student, filename in LMS.items():
        (klass / filename).write_text(toy.GOOD + f"\nSTUDENT = {student!r}\n")
    for name in NOT_SUBMISSIONS:
        (klass / name).write_text("{}\n" if name.endswith(".json") else "# examples\n")
    out = root / "out"
    proc = cli(course_root, "grade", "a99_toy", str(klass), "--out", str(out), "--profile", "cpu", "--jobs", "2",
               "--seed", "5")
    docs = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    return {"proc": proc, "docs": docs, "out": out, "course": course_root, "class": klass}


def message_of(doc: dict) -> str:
    extra = doc["extra_data"]
    return "\n".join([extra.get("needs_review", ""), (extra.get("submission") or {}).get("note") or "",
                      *[t["output"] for t in doc["tests"]]])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_each_careless_case_is_graded_honestly_or_flagged(graded, name):
    _, score, phrase = CASES[name]
    doc = graded["docs"][name.removesuffix(".zip")]
    assert phrase in message_of(doc), message_of(doc)[:1500]
    if score is None:
        assert doc["extra_data"]["status"] == "needs_review" and doc["score"] == 0
        assert phrase in doc["extra_data"]["needs_review"] and doc["output"].startswith("NEEDS REVIEW: ")
        said = [t for t in doc["tests"] if phrase in t["output"]]
        assert len(said) <= 1, "the reason a submission cannot load is said once, not per test"
        md = (graded["out"] / name.removesuffix(".zip") / "feedback.md").read_text()
        assert "Needs review:" in md
    else:
        assert doc["extra_data"]["status"] == "graded"
        assert doc["score"] == score, [(t["name"], t["output"][:300]) for t in doc["tests"] if t["status"] != "passed"]


@pytest.mark.slow
def test_notebook_habits_are_neutralised_with_a_note(graded):
    note = graded["docs"]["habits"]["extra_data"]["submission"]["note"]
    for said in ("`from google.colab import drive` works only in Colab", "`%matplotlib inline`",
                 "did not run the top-level output call `plt.show()`", "`display(add(1, 2))`",
                 "released for the hardmode variant, but you are graded on the standard variant"):
        assert said in note, note
    md = (graded["out"] / "habits" / "feedback.md").read_text()
    html = (graded["out"] / "habits" / "feedback.html").read_text()
    assert "Note: " in md and "google.colab" in md and "google.colab" in html


@pytest.mark.slow
def test_the_file_that_changed_beyond_whitespace_is_graded(graded):
    doc = graded["docs"]["both"]
    assert doc["score"] == FULL
    assert doc["extra_data"]["submission"]["graded_file"] == "toy.ipynb"
    assert "toy.py is unchanged from the release (whitespace aside)" in doc["extra_data"]["submission"]["note"]


@pytest.mark.slow
def test_flat_lms_downloads_become_students(graded):
    for student in LMS:
        assert graded["docs"][student]["score"] == FULL, student
    assert "graded toy-1.py as toy.py" in graded["docs"]["jonesbob"]["extra_data"]["submission"]["note"]


@pytest.mark.slow
def test_summary_exit_status_csv_and_gradebook_tell_review_from_zeros(graded, tmp_path):
    proc = graded["proc"]
    review = sorted(n.removesuffix(".zip") for n, (_, score, _) in CASES.items() if score is None)
    expected_students = {n.removesuffix(".zip") for n in CASES} | {"both"} | set(LMS)
    assert set(graded["docs"]) == expected_students, "README.md and expected.json are not students"
    assert proc.returncode == 3, proc.stdout + proc.stderr
    for name in NOT_SUBMISSIONS:
        assert f"WARNING: skipped {name}: not a submission" in proc.stderr
    assert f"{len(review)} need review (could not be loaded: not real zeros), 0 grader error(s)" in proc.stdout
    for name in review:
        assert f"NEEDS REVIEW {name}: " in proc.stderr
    assert "NEEDS REVIEW" in proc.stdout                  # the gradebook table's status column
    exported = cli(graded["course"], "export", "a99_toy", "--csv", str(tmp_path / "g.csv"), "--out", str(graded["out"]))
    assert exported.returncode == 0, exported.stderr
    with open(tmp_path / "g.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert sorted(s for s, r in rows.items() if r["status"] == "needs_review") == review
    assert all(rows[s]["needs_review"] for s in review) and rows["final"]["status"] == "graded"

    removed = cli(graded["course"], "gradebook", "a99_toy", "remove", "empty", "--out", str(graded["out"]))
    assert removed.returncode == 0 and "removed empty: 1 grade(s)" in removed.stdout, removed.stderr
    listed = cli(graded["course"], "gradebook", "a99_toy", "list", "--out", str(graded["out"]))
    assert "empty\t" not in listed.stdout and "final\t11/12\tgraded" in listed.stdout
    unknown = cli(graded["course"], "gradebook", "a99_toy", "remove", "nobody_here", "--out", str(graded["out"]))
    assert unknown.returncode == 2 and "nobody_here: not in the gradebook" in unknown.stderr


@pytest.mark.slow
@pytest.mark.parametrize("args, phrase", [
    (["grade", "a99_toy", "does/not/exist"], "no such file or folder: does/not/exist (nothing was graded)"),
    (["grade", "a99_toy", "CLASS", "--jobs", "0"], "--jobs 0: expected a whole number of at least 1"),
    (["grade", "a99_toy", "CLASS", "--jobs", "-3"], "--jobs -3: expected a whole number of at least 1"),
    (["grade", "a99_toy", "CLASS", "--profile", "gpu"], "profile 'gpu' grades on cuda, but"),
    (["gradescope", "a99_toy", "--variant", "nonsense"], "--variant 'nonsense': grading.toml has standard, hardmode"),
    (["feedback", "a99_toy", "--out", "NOWHERE"], "no gradebook at"),
])
def test_usage_errors_exit_2_and_write_nothing(graded, tmp_path, args, phrase):
    import torch
    if "gpu" in args and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    args = [a.replace("CLASS", str(graded["class"])).replace("NOWHERE", str(tmp_path / "none")) for a in args]
    before = sorted(p.name for p in graded["out"].iterdir())
    proc = cli(graded["course"], *args, "--out", str(tmp_path / "o")) if args[0] == "grade" else \
        cli(graded["course"], *args)
    assert proc.returncode == 2 and phrase in proc.stderr, proc.stdout + proc.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "none").exists()
    assert sorted(p.name for p in graded["out"].iterdir()) == before


def test_a_mistyped_course_is_an_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(tmp_path / "nope"), "release", "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "no grading.toml there" in proc.stderr
