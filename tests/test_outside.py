"""Correct code in another style gets full marks: outside-style implementations, adapted
only to each assignment's API, kept under tests/outside/<assignment>_<style>/."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import config

OUTSIDE = Path(__file__).resolve().parent / "outside"
STYLES = (("a01_tokenization", "a01_minbpe"), ("a03_attention", "a03_einsum"), ("a03_attention", "a03_hf"),
          ("a04_gpt", "a04_nanogpt"), ("a04_gpt", "a04_textbook"), ("a07_pretraining", "a07_nanogpt"),
          ("a10_evaluation", "a10_harness"))
# a07's threshold task trains the whole pipeline to a loss band (about 90 s a run); its tests
# and the code they run are the same in both variants, so it is graded in the standard one.
LEFT_TO_STANDARD = {("a07_pretraining", "hardmode"): {"threshold"}}
COURSE = config.load(Path(__file__).resolve().parents[1])
CASES = [(aid, folder, variant, tuple(t for t in COURSE.assignment(aid).tasks_for(variant)
                                      if t not in LEFT_TO_STANDARD.get((aid, variant), ())))
         for aid, folder in STYLES for variant in ("standard", "hardmode")]


@pytest.mark.slow
@pytest.mark.parametrize("aid, folder, variant, tasks", CASES, ids=[f"{f}-{v}" for _, f, v, _ in CASES])
def test_outside_implementation_gets_full_marks(grade, aid, folder, variant, tasks):
    grade.ahead([(a, OUTSIDE / f, v, t) for a, f, v, t in CASES])
    doc = grade(aid, OUTSIDE / folder, variant, tasks)
    lost = {t["name"]: t["output"][:300] for t in doc["tests"] if t["status"] != "passed"}
    graded = doc["extra_data"]["tasks"]
    assert set(graded) == set(tasks), f"graded {sorted(graded)}, not {sorted(tasks)}"
    assert not lost and all(v["score"] == pytest.approx(v["max_score"]) for v in graded.values()), lost


def test_given_code_in_an_outside_submission_is_the_handouts():
    """A submission holds the handout's given cells (a10's adapters build its WordTokenizer); the
    copy in a10_harness must be the release's, word for word, or it would test stale code."""
    ours = (OUTSIDE / "a10_harness" / "evaluation.py").read_text()
    release = (OUTSIDE.parent.parent / "release" / "hardmode" / "a10_evaluation" / "evaluation.py").read_text()
    given = release[release.index("class WordTokenizer:"):release.index("# %%", release.index("class WordTokenizer:"))]
    assert given.rstrip() in ours
