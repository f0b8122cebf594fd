"""Correct code in another style gets full marks: outside-style implementations, adapted
only to each assignment's API, kept under tests/outside/<assignment>_<style>/."""

from __future__ import annotations

from pathlib import Path

import pytest

OUTSIDE = Path(__file__).resolve().parent / "outside"
CASES = [(aid, folder, variant) for aid, folder in (("a03_attention", "a03_einsum"), ("a04_gpt", "a04_nanogpt"),
                                                ("a10_evaluation", "a10_harness"))
         for variant in ("standard", "hardmode")]


@pytest.mark.slow
@pytest.mark.parametrize("aid, folder, variant", CASES, ids=[f"{f}-{v}" for _, f, v in CASES])
def test_outside_implementation_gets_full_marks(grade, aid, folder, variant):
    grade.ahead([(a, OUTSIDE / f, v) for a, f, v in CASES])
    doc = grade(aid, OUTSIDE / folder, variant)
    lost = {t["name"]: t["output"][:300] for t in doc["tests"] if t["status"] != "passed"}
    assert not lost and doc["score"] == pytest.approx(doc["extra_data"]["max_score"]), lost
