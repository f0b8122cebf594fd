"""a03_attention end to end: the reference scores full marks, the releases score zero by
NotImplementedError alone, and a notebook grades exactly like the same code in a .py."""

from __future__ import annotations

import pytest

from autograder.release import cells, notebook, variants
from autograder.release.stubs import make_stub
from tests.conftest import outcomes
from tests.mutants.a03_attention import MUTANTS

AID = "a03_attention"


@pytest.mark.parametrize("variant", ["standard", "hardmode"])
def test_reference_scores_full_marks(course, grade, variant):
    doc = grade(AID, course.reference_dir(AID), variant)
    assert doc["score"] == doc["extra_data"]["max_score"] == course.assignment(AID).max_points(variant)
    assert set(outcomes(doc).values()) == {"passed"}
    assert {t["extra_data"]["public"] for t in doc["tests"]} == {True, False}


@pytest.mark.parametrize("variant", ["standard", "hardmode"])
def test_untouched_release_scores_zero_by_not_implemented(course, grade, variant):
    doc = grade(AID, course.release_dir(variant, AID), variant)
    assert doc["score"] == 0
    assert set(outcomes(doc).values()) == {"not_implemented"}, \
        [t["output"][:200] for t in doc["tests"] if t["extra_data"]["outcome"] != "not_implemented"]
    assert all(t["output"].startswith(f"NOT IMPLEMENTED: {AID}.") for t in doc["tests"])


def test_notebook_grades_exactly_like_the_py(course, grade, tmp_path):
    ref_path = course.reference_dir(AID) / "attention.py"
    rel = f"reference/{AID}/attention.py"
    text = variants.render(ref_path.read_text(), "standard", rel, make_stub(AID, rel), solved=True)
    for mutant in (m for m in MUTANTS if m.name in ("sdpa_no_scaling", "cache_wrong_axis")):
        for old, new in mutant.replace:
            text = text.replace(old.replace("### END SOLUTION\n", ""), new.replace("### END SOLUTION\n", ""))
    as_py, as_nb = tmp_path / "py", tmp_path / "nb"
    as_py.mkdir(), as_nb.mkdir()
    (as_py / "attention.py").write_text(text)
    (as_nb / "attention.ipynb").write_text(notebook.build(cells.split(text, rel)[1], "notebook", {}))
    doc_py, doc_nb = grade(AID, as_py), grade(AID, as_nb)
    assert doc_nb["extra_data"]["submission"]["graded_file"] == "attention.ipynb"
    assert 0 < doc_py["score"] < doc_py["extra_data"]["max_score"]
    assert outcomes(doc_py) == outcomes(doc_nb)
    assert [t["score"] for t in doc_py["tests"]] == [t["score"] for t in doc_nb["tests"]]
