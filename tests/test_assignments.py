"""Every assignment end to end: the reference scores full marks, each untouched release
scores zero by NotImplementedError alone, and a notebook grades exactly like the same code
in a .py (checked on a buggy submission, so failures must match too)."""

from __future__ import annotations

import pytest

from autograder import config
from autograder.release import cells, notebook, variants
from autograder.release.stubs import make_stub
from tests.conftest import ROOT, mutants_of, outcomes, selected_assignments

COURSE = config.load(ROOT)
CASES = [(aid, v) for aid, a in COURSE.assignments.items() for v in COURSE.variants]


@pytest.fixture(scope="module", autouse=True)
def graded_ahead(request, grade):
    wanted = selected_assignments(request)
    grade.ahead([(aid, COURSE.reference_dir(aid), v) for aid, v in CASES if aid in wanted]
                + [(aid, COURSE.release_dir(v, aid), v) for aid, v in CASES if aid in wanted])


@pytest.mark.slow
@pytest.mark.parametrize("aid, variant", CASES)
def test_reference_scores_full_marks(course, grade, aid, variant):
    doc = grade(aid, course.reference_dir(aid), variant)
    assert doc["score"] == doc["extra_data"]["max_score"] == course.assignment(aid).max_points(variant)
    assert set(outcomes(doc).values()) == {"passed"}, [t["output"][:300] for t in doc["tests"] if t["status"] != "passed"]
    assert {t["extra_data"]["public"] for t in doc["tests"]} == {True, False}


@pytest.mark.slow
@pytest.mark.parametrize("aid, variant", CASES)
def test_untouched_release_scores_zero_by_not_implemented(course, grade, aid, variant):
    doc = grade(aid, course.release_dir(variant, aid), variant)
    assert doc["score"] == 0
    assert set(outcomes(doc).values()) == {"not_implemented"}, \
        [t["output"][:200] for t in doc["tests"] if t["extra_data"]["outcome"] != "not_implemented"]
    assert all(t["output"].startswith(f"NOT IMPLEMENTED: {aid}.") for t in doc["tests"])


@pytest.mark.slow
@pytest.mark.parametrize("aid", list(COURSE.assignments))
def test_notebook_grades_exactly_like_the_py(course, grade, tmp_path, aid):
    a = course.assignment(aid)
    rel = f"reference/{aid}/{a.module}.py"
    text = (course.reference_dir(aid) / f"{a.module}.py").read_text()
    short = {t for t, v in a.tasks_for("standard").items() if v.timeout_s <= 60}    # no training runs
    mutants = [m for m in mutants_of(course, aid) if m.task in short and m.variant == "standard"]
    mutants = [m for i, m in enumerate(mutants) if m.task not in {n.task for n in mutants[:i]}][:2]
    for mutant in mutants:
        text = mutant.apply(text)
    solved = variants.render(text, "standard", rel, make_stub(aid, rel), solved=True)
    as_py, as_nb = tmp_path / "py", tmp_path / "nb"
    as_py.mkdir(), as_nb.mkdir()
    (as_py / f"{a.module}.py").write_text(solved)
    (as_nb / f"{a.module}.ipynb").write_text(notebook.build(cells.split(solved, rel)[1], "notebook", {}))
    # The question is how the whole file is read out of each format, not what each test checks:
    # the graded tasks are the two buggy ones and the first correct one (every cell is still
    # read; grading every task would only repeat minutes of the same tests on the same code).
    buggy = [m.task for m in mutants]
    tasks = buggy + [next(t for t in a.tasks_for("standard") if t in short and t not in buggy)]
    doc_py, doc_nb = grade(aid, as_py, tasks=tasks), grade(aid, as_nb, tasks=tasks)
    assert doc_nb["extra_data"]["submission"]["graded_file"] == f"{a.module}.ipynb"
    assert 0 < doc_py["score"] < doc_py["extra_data"]["max_score"]
    assert outcomes(doc_py) == outcomes(doc_nb)
    assert [t["score"] for t in doc_py["tests"]] == [t["score"] for t in doc_nb["tests"]]
