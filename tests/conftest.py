"""Fixtures shared by the project's tests: the course, and grading with a result cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import config
from autograder.grade import run

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def course() -> config.Course:
    return config.load(ROOT)


@pytest.fixture(scope="session")
def grade(course, tmp_path_factory):
    """``grade(aid, submission, variant=..., tasks=...)`` -> results document (cached per
    arguments for the whole session, so several tests can inspect one grading run)."""
    cache: dict = {}

    def _grade(aid: str, submission: Path, variant: str = "standard", tasks=None, seed: int = 1234) -> dict:
        key = (aid, str(submission), variant, tuple(tasks or ()), seed)
        if key not in cache:
            out = tmp_path_factory.mktemp("graded")
            cache[key] = run.grade(course, aid, Path(submission), out, variant=variant, profile="cpu",
                                   seed=seed, tasks=list(tasks) if tasks else None)
        return cache[key]
    return _grade


def outcomes(document: dict) -> dict[str, str]:
    """nodeid -> outcome of a results document."""
    return {t["extra_data"]["nodeid"]: t["extra_data"]["outcome"] for t in document["tests"]}
