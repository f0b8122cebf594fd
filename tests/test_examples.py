"""The bundled example class grades as labelled in examples/<assignment>/expected.json."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

EXAMPLES = ROOT / "assignments" / "a03_attention" / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())


def path_of(name):
    return EXAMPLES / name if (EXAMPLES / name).is_dir() else EXAMPLES / f"{name}.zip"


@pytest.fixture(scope="module", autouse=True)
def graded_ahead(grade):
    grade.ahead([("a03_attention", path_of(name)) for name in EXPECTED])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_grades_as_labelled(grade, name):
    doc = grade("a03_attention", path_of(name))
    got = {task: row["score"] for task, row in doc["extra_data"]["tasks"].items()}
    assert got == pytest.approx(EXPECTED[name]["tasks"], abs=1e-6), doc["output"]
    assert doc["score"] == pytest.approx(EXPECTED[name]["total"], abs=1e-6)


def test_every_example_is_labelled():
    on_disk = {p.stem for p in EXAMPLES.iterdir() if p.is_dir() or p.suffix == ".zip"}
    assert on_disk == set(EXPECTED)
