"""The grading engine on a toy course: every test accounted for, whatever the submission does."""

from __future__ import annotations

import json
import zipfile

import pytest

from autograder import config
from autograder.grade import run
from tests import toy
from tests.conftest import outcomes


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory):
    return config.load(toy.write_course(tmp_path_factory.mktemp("course")))


@pytest.fixture(scope="module")
def grade_toy(toy_course, tmp_path_factory):
    """Grade a toy submission (each submission and variant graded once per module)."""
    cache = {}

    def _grade(submission, variant="standard"):
        if (submission, variant) not in cache:
            cache[submission, variant] = run.grade(toy_course, "a99_toy", submission, tmp_path_factory.mktemp("out"),
                                                   variant=variant, profile="cpu", seed=7)
        return cache[submission, variant]
    return _grade


def by_test(doc):
    return {t["extra_data"]["nodeid"].split("::")[-1]: t for t in doc["tests"]}


def test_reference_passes_everything_that_runs_on_cpu(grade_toy, toy_course):
    doc = grade_toy(toy_course.reference_dir("a99_toy"))
    tests = by_test(doc)
    assert {n for n, t in tests.items() if t["status"] != "passed"} == {"test_on_gpu"}
    gpu = tests["test_on_gpu"]
    assert gpu["extra_data"]["outcome"] == "not_run" and gpu["score"] == 0 and "GPU" in gpu["output"]
    assert doc["extra_data"]["complete"] is False           # a GPU test was not run: never "passed"
    assert doc["score"] == doc["extra_data"]["max_score"] - 1


def test_each_failure_costs_its_own_test_only(grade_toy, tmp_path):
    doc = grade_toy(toy.submission(tmp_path, "chaos", {"toy.py": toy.CHAOS}))
    tests = by_test(doc)
    outcome = {n: t["extra_data"]["outcome"] for n, t in tests.items()}
    assert outcome["test_add"] == outcome["test_add_small"] == outcome["test_scale"] == "passed"
    assert outcome["test_identity[crash]"] == "crashed" and "exit status 3" in tests["test_identity[crash]"]["output"]
    assert outcome["test_identity[hang]"] == "timeout" and "4 s limit" in tests["test_identity[hang]"]["output"]
    assert outcome["test_identity[raises]"] == "error"
    assert "ValueError: the student's own error" in tests["test_identity[raises]"]["output"]
    assert outcome["test_identity[returns_object]"] == "error"
    assert "cannot send an object of type" in tests["test_identity[returns_object]"]["output"]
    assert outcome["test_identity[returns_nan]"] == "failed" and "NaN" in tests["test_identity[returns_nan]"]["output"]
    assert outcome["test_identity[prints]"] == "passed"      # 20 MB of output, drained and bounded
    assert doc["extra_data"]["worker_starts"] == 3           # restarted after the crash and the hang
    assert doc["score"] == 2 + 3 + 1                          # add, scale, prints


@pytest.mark.parametrize("files, phrase", [
    ({"toy.py": "def add(a, b)\n    return a + b\n"}, "SyntaxError: expected ':' (toy.py, line 1)"),
    ({"toy.py": b"# caf\xe9\ndef add(a, b):\n    return a + b\n"}, "toy.py is not valid UTF-8 (byte 0xe9 at offset 5)"),
    ({"toy.ipynb": "{not json"}, "toy.ipynb is not a valid notebook: invalid JSON"),
    ({"other.py": "x = 1\n"}, "found no toy.py or toy.ipynb in the submission (it holds: other.py)"),
    ({"toy.py": "import sys\nsys.exit(0)\n"}, "your code called sys.exit(0)"),
    ({"toy.py": "import os\nos._exit(0)\n"}, "exited while importing it (exit status 0)"),
    pytest.param({"toy.py": "while True:\n    pass\n"}, "importing your module took longer than 8 s",
                 marks=pytest.mark.slow, id="import_hangs"),        # waits out the 8 s start-up limit
], ids=["syntax_error", "not_utf8", "bad_notebook", "missing_file", "sys_exit", "os_exit", "import_hangs"])
def test_unloadable_submission_scores_zero_with_a_reason(grade_toy, tmp_path, files, phrase):
    doc = grade_toy(toy.submission(tmp_path, "bad", files))
    assert doc["score"] == 0
    assert {t["extra_data"]["outcome"] for t in doc["tests"]} <= {"unloadable", "not_run"}
    unloadable = [t for t in doc["tests"] if t["extra_data"]["outcome"] == "unloadable"]
    assert phrase in unloadable[0]["output"] and phrase in doc["extra_data"]["needs_review"], unloadable[0]["output"]
    assert doc["extra_data"]["status"] == "needs_review" and doc["output"].startswith("NEEDS REVIEW: ")
    assert all("the reason is given once" in t["output"] for t in unloadable[1:])     # said once, not per test


def test_missing_function_and_wrong_signature_are_explained(grade_toy, tmp_path):
    doc = grade_toy(toy.submission(tmp_path, "names", {"toy.py": "def scale(x):\n    return x\n"}))
    tests = by_test(doc)
    assert "toy defines no `add`: keep the name and signature" in tests["test_add"]["output"]
    assert "does not accept that" in tests["test_scale"]["output"] and "keep the signature" in tests["test_scale"]["output"]


def test_notebook_grades_like_the_py(grade_toy, tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# My work"},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": ["%matplotlib inline\n", toy.GOOD]},
             {"cell_type": "code", "metadata": {"tags": ["skip-grading"]}, "outputs": [], "execution_count": None,
              "source": "raise RuntimeError('exploration')"}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    as_notebook = grade_toy(toy.submission(tmp_path, "nb", {"toy.ipynb": json.dumps(nb)}))
    as_py = grade_toy(toy.submission(tmp_path, "py", {"toy.py": toy.GOOD}))
    assert outcomes(as_notebook) == outcomes(as_py)
    assert as_notebook["extra_data"]["submission"]["graded_file"] == "toy.ipynb"


def test_zip_with_a_folder_inside(grade_toy, tmp_path):
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("my_work/toy.py", toy.GOOD)
        z.writestr("__MACOSX/my_work/._toy.py", "junk")
    doc = grade_toy(archive)
    assert by_test(doc)["test_add"]["status"] == "passed"


@pytest.mark.parametrize("member, phrase", [("../evil.py", "refusing the unsafe path"),
                                            ("/abs/toy.py", "refusing the unsafe path")])
def test_zip_with_unsafe_paths_is_refused(grade_toy, tmp_path, member, phrase):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member, "x = 1\n")
    doc = grade_toy(archive)
    assert doc["score"] == 0 and phrase in doc["tests"][0]["output"]
    assert not (tmp_path / "evil.py").exists()


def test_variants_grade_their_own_tasks(grade_toy, toy_course):
    standard = by_test(grade_toy(toy_course.reference_dir("a99_toy"), "standard"))
    hardmode = by_test(grade_toy(toy_course.reference_dir("a99_toy"), "hardmode"))
    assert "test_extra" not in standard and hardmode["test_extra"]["status"] == "passed"


def test_results_follow_gradescope_schema(grade_toy, toy_course):
    doc = grade_toy(toy_course.reference_dir("a99_toy"))
    assert isinstance(doc["score"], float) and isinstance(doc["execution_time"], float)
    for test in doc["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] == ("visible" if test["extra_data"]["public"] else "hidden")
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(doc["extra_data"]["max_score"])
    for key in ("seed", "torch", "profile", "device", "isolation"):
        assert key in doc["extra_data"]


@pytest.mark.parametrize("hidden, phrase", [
    (toy.HIDDEN_TESTS.replace('@pytest.mark.task("add")\ndef test_add(', 'def test_add('),
     "test_hidden.py::test_add: every graded test needs exactly one @pytest.mark.task"),
    (toy.HIDDEN_TESTS.replace('@pytest.mark.task("add")\ndef test_add(', '@pytest.mark.task("ad")\ndef test_add('),
     "task 'ad' is not in grading.toml (assignments.a99_toy.tasks)"),
    (toy.HIDDEN_TESTS.replace('@pytest.mark.task("scale")', '@pytest.mark.task("add")'),
     "assignments.a99_toy.tasks.scale: no test is marked with this task"),
], ids=["no_task", "unknown_task", "task_without_test"])
def test_tests_and_tasks_must_match(tmp_path, hidden, phrase):
    course = config.load(toy.write_course(tmp_path / "course", hidden_tests=hidden))
    with pytest.raises(run.GraderError, match="failed before any test ran") as info:
        run.grade(course, "a99_toy", course.reference_dir("a99_toy"), tmp_path / "out", profile="cpu")
    assert phrase in str(info.value)


def test_a_dying_grader_still_accounts_for_every_test(tmp_path):
    hidden = toy.HIDDEN_TESTS + '\n\n@pytest.mark.task("add")\ndef test_kills_the_grader():\n    import os\n    os._exit(9)\n'
    course = config.load(toy.write_course(tmp_path / "course", hidden_tests=hidden))
    doc = run.grade(course, "a99_toy", course.reference_dir("a99_toy"), tmp_path / "out", profile="cpu")
    assert doc["score"] == 0 and doc["tests"]
    assert {t["extra_data"]["outcome"] for t in doc["tests"]} == {"not_run"}
    assert "the grader stopped (pytest status 9)" in doc["tests"][0]["output"]
    assert json.loads((tmp_path / "out" / "a99_toy" / "results.json").read_text())["score"] == 0
