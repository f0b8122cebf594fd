"""Correct code in another style gets full marks: outside-style implementations, adapted
only to each assignment's API, kept under tests/outside/<assignment>_<style>/."""

from __future__ import annotations

from pathlib import Path

import pytest

OUTSIDE = Path(__file__).resolve().parent / "outside"
CASES = [(aid, folder, variant) for aid, folder in (("a01_tokenization", "a01_minbpe"), ("a03_attention", "a03_einsum"),
                                                ("a04_gpt", "a04_nanogpt"), ("a10_evaluation", "a10_harness"))
         for variant in ("standard", "hardmode")]


@pytest.mark.slow
@pytest.mark.parametrize("aid, folder, variant", CASES, ids=[f"{f}-{v}" for _, f, v in CASES])
def test_outside_implementation_gets_full_marks(grade, aid, folder, variant):
    grade.ahead([(a, OUTSIDE / f, v) for a, f, v in CASES])
    doc = grade(aid, OUTSIDE / folder, variant)
    lost = {t["name"]: t["output"][:300] for t in doc["tests"] if t["status"] != "passed"}
    assert not lost and doc["score"] == pytest.approx(doc["extra_data"]["max_score"]), lost


def test_given_code_in_an_outside_submission_is_the_handouts():
    """A submission holds the handout's given cells (a10's adapters build its WordTokenizer); the
    copy in a10_harness must be the release's, word for word, or it would test stale code."""
    ours = (OUTSIDE / "a10_harness" / "evaluation.py").read_text()
    release = (OUTSIDE.parent.parent / "release" / "hardmode" / "a10_evaluation" / "evaluation.py").read_text()
    given = release[release.index("class WordTokenizer:"):release.index("# %%", release.index("class WordTokenizer:"))]
    assert given.rstrip() in ours
