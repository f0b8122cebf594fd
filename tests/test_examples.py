"""Every assignment's bundled example class (``assignments/<id>/examples/``) grades as
labelled in its ``expected.json``; assignments are discovered from grading.toml."""

from __future__ import annotations

import json

import pytest

from autograder import config
from tests.conftest import ROOT, selected_assignments

COURSE = config.load(ROOT)
EXPECTED = {aid: json.loads((COURSE.examples_dir(aid) / "expected.json").read_text())
            for aid in COURSE.assignments if (COURSE.examples_dir(aid) / "expected.json").is_file()}
CASES = [(aid, name) for aid, labels in EXPECTED.items() for name in labels]


def path_of(aid, name):
    folder = COURSE.examples_dir(aid)
    return folder / name if (folder / name).is_dir() else folder / f"{name}.zip"


@pytest.fixture(scope="module")
def graded_ahead(request, grade):
    wanted = selected_assignments(request)
    grade.ahead([(aid, path_of(aid, name)) for aid, name in CASES if aid in wanted])


@pytest.mark.slow
@pytest.mark.parametrize("aid, name", CASES, ids=[f"{aid}-{name}" for aid, name in CASES])
def test_example_grades_as_labelled(graded_ahead, grade, aid, name):
    doc = grade(aid, path_of(aid, name))
    got = {task: row["score"] for task, row in doc["extra_data"]["tasks"].items()}
    assert got == pytest.approx(EXPECTED[aid][name]["tasks"], abs=1e-6), doc["output"]
    assert doc["score"] == pytest.approx(EXPECTED[aid][name]["total"], abs=1e-6)


@pytest.mark.parametrize("aid", list(EXPECTED))
def test_every_example_is_labelled(aid):
    folder = COURSE.examples_dir(aid)
    on_disk = {p.stem for p in folder.iterdir() if p.is_dir() or p.suffix == ".zip"}
    assert on_disk == set(EXPECTED[aid])
