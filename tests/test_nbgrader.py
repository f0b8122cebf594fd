"""The nbgrader round trip: source -> nbgrader's release = ours -> validate -> autograde -> our grades in its gradebook."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader import preprocessors as pp

from autograder import cli, config
from autograder.grade import batch
from autograder.harness import source
from autograder.harness.notebook_tests import NotebookModule
from autograder.release import build, grade_cells, nbgrader_source
from autograder.release.stubs import NBGRADER_STUB
from tests import toy
from tests.conftest import ROOT

AIDS = list(config.load(ROOT).assignments)
# generate_assignment's preprocessors, in its order, less those that need its database or files
STARTUP_S = 60     # this test runs kernels and a grader at once: on a busy 2-core machine torch imports slowly
GENERATE = (pp.LockCells, pp.ClearSolutions, pp.ClearOutput, pp.CheckCellMetadata, pp.ComputeChecksums,
            pp.ClearHiddenTests, pp.ClearMarkScheme, pp.ComputeChecksums, pp.CheckCellMetadata)


def _cells(text: str) -> list:
    return nbformat.reads(text, as_version=4).cells


@pytest.mark.parametrize("aid", AIDS)
def test_nbgrader_clears_the_source_into_our_standard_notebook(course, aid):
    """Cell by cell, metadata included; the stub is nbgrader's, and the source holds the solutions."""
    src = nbformat.reads(nbgrader_source.source_notebook(course, aid), as_version=4)
    assert any("### BEGIN SOLUTION" in c.source for c in src.cells)
    resources: dict = {}
    for preprocessor in GENERATE:
        src, resources = preprocessor().preprocess(src, resources)
    module = course.assignment(aid).module
    ours = _cells(build.student_module(course, aid, nbgrader_source.VARIANT)[f"{module}.ipynb"])
    assert len(src.cells) == len(ours)
    for index, (theirs, mine) in enumerate(zip(src.cells, ours)):
        assert theirs == mine, f"cell {index}"
    assert NBGRADER_STUB[1] in "\n".join(c.source for c in ours)


@pytest.mark.parametrize("variant", ["standard", "hardmode"])
def test_each_task_has_one_scoring_cell_worth_its_points(course, variant):
    for aid in AIDS:
        a = course.assignment(aid)
        cells = _cells(build.student_module(course, aid, variant)[f"{a.module}.ipynb"])
        scoring = {c.metadata.nbgrader["grade_id"]: c for c in cells
                   if c.metadata.get("nbgrader", {}).get("points") is not None}
        public = grade_cells.public_tests(course, aid)
        assert set(scoring) == {grade_cells.grade_id(t, public.get(t, 0) > 0) for t in a.tasks_for(variant)}
        assert sum(c.metadata.nbgrader["points"] for c in scoring.values()) == a.max_points(variant)
        for cell in scoring.values():       # grade cells run in the student's kernel only, never in grading
            assert cell.cell_type == "markdown" or source.SKIP_TAG in cell.metadata.tags


def test_grade_cells_see_and_set_the_notebooks_namespace():
    """Adapters read the student's names live and may swap one (a03 records its KV cache so)."""
    namespace = {"f": lambda: 1}
    module = NotebookModule(namespace)
    assert module.f() == 1 and not hasattr(module, "g")
    module.g = 2
    assert namespace["g"] == 2
    del module.g
    assert "g" not in namespace


def _nbgrader(course_dir: Path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    cfg = PyFileConfigLoader(nbgrader_source.CONFIG, path=str(course_dir)).load_config()
    assert cfg.Execute.timeout == 4 + STARTUP_S      # the toy's one public test (4 s) and the start-up allowance
    cfg.Exchange.root = str(course_dir / "exchange")
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg, root=str(course_dir)), config=cfg), cfg


def _solved(release_nb: str, source_nb: str) -> str:
    """The release notebook with each solution cell filled in from the source: a student's work."""
    nb, src = nbformat.reads(release_nb, as_version=4), nbformat.reads(source_nb, as_version=4)
    for cell, solved in zip(nb.cells, src.cells):
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n".join(ln for ln in solved.source.splitlines() if "SOLUTION" not in ln)
            cell.source = cell.source.replace("return y * factor", "return y * factor + 1")   # scale: wrong
    return nbformat.writes(nb)


@pytest.mark.slow
def test_a_tiny_nbgrader_course_end_to_end(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    from nbgrader.validator import Validator

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # nbgrader's alembic
    course = config.load(toy.write_course(tmp_path / "toy", grading=toy.GRADING.replace(
        "startup_timeout_s = 8", f"startup_timeout_s = {STARTUP_S}")))
    course_dir, db = tmp_path / "nbcourse", f"sqlite:///{tmp_path / 'nbcourse' / 'gradebook.db'}"
    nbgrader_source.write(course, ["a99_toy"], course_dir)
    api, cfg = _nbgrader(course_dir)
    result = api.generate_assignment("a99_toy")
    assert result["success"], result.get("error")

    released = (course_dir / "release" / "a99_toy" / "toy.ipynb").read_text()
    ours = build.student_module(course, "a99_toy", "standard")["toy.ipynb"]
    assert _cells(released) == _cells(ours)
    assert not (course_dir / "release" / "a99_toy" / "toy.py").exists()

    failed = Validator(config=cfg).validate(str(course_dir / "release" / "a99_toy" / "toy.ipynb"))["failed"]
    assert len(failed) == 1 and "test_add_small: NotImplementedError" in failed[0]["raw_error"], failed

    work = course_dir / "submitted" / "alice" / "a99_toy"
    work.mkdir(parents=True)
    for path in (course_dir / "release" / "a99_toy").rglob("*"):
        if path.is_file():
            (work / path.relative_to(course_dir / "release" / "a99_toy")).parent.mkdir(parents=True, exist_ok=True)
            (work / path.relative_to(course_dir / "release" / "a99_toy")).write_bytes(path.read_bytes())
    (work / "toy.ipynb").write_text(_solved(released, (course_dir / "source" / "a99_toy" / "toy.ipynb").read_text()))
    result = api.autograde("a99_toy", "alice")
    assert result["success"], result.get("error")
    with Gradebook(db, "") as gb:
        submission = gb.find_submission("a99_toy", "alice")
        assert submission.max_score == course.assignment("a99_toy").max_points("standard") == 12
        assert gb.find_grade("add_tests", "toy", "a99_toy", "alice").auto_score == 2

    out = tmp_path / "out"
    assert batch.is_class_folder(course_dir / "submitted", "toy")          # nbgrader's submitted/ is a class folder
    graded = batch.grade_class(course, "a99_toy", batch.submissions_in(course_dir / "submitted"), out,
                               variant="standard", profile="cpu", seed=7, progress=lambda *a: None)
    doc = graded.documents["alice"]
    tasks = doc["extra_data"]["tasks"]
    assert tasks["add"]["score"] == 2 and tasks["scale"]["score"] == 1.5 and 0 < doc["score"] < 12
    assert cli.main(["--course", str(course.root), "nbgrader-export", "a99_toy", "--db", db, "--out", str(out)]) == 0
    with Gradebook(db, "") as gb:
        assert gb.find_submission("a99_toy", "alice").score == pytest.approx(doc["score"])
        for task, row in tasks.items():
            grade = gb.find_grade(grade_cells.grade_id(task, task == "add"), "toy", "a99_toy", "alice")
            assert (grade.score, grade.max_score, grade.needs_manual_grade) == (row["score"], row["max_score"], False)
        remark = gb.find_comment("scale", "toy", "a99_toy", "alice").comment
        assert "Task scale" in remark and "Hidden tests: 1 of 2 passed" in remark, remark
