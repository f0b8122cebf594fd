"""Fixtures shared by the project's tests: the course, and grading with a result cache."""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path

import pytest

from autograder import config
from autograder.grade import run
from autograder.harness import local

# The course under test: this checkout, or another course folder (tests/test_new_assignment.py
# runs the project's generic tests on a copy that holds one assignment more).
ROOT = Path(os.environ.get("AUTOGRADER_TEST_COURSE") or Path(__file__).resolve().parent.parent)


@pytest.fixture(scope="session")
def course() -> config.Course:
    return config.load(ROOT)


@pytest.fixture(scope="session")
def grade(course, tmp_path_factory):
    """``grade(aid, submission, variant=..., tasks=...)`` -> results document (cached per
    arguments for the whole session, so several tests can inspect one grading run).
    ``grade.ahead([(aid, submission, variant), ...])`` grades many, two at a time, first."""
    cache: dict = {}
    # Made here, in this thread: pytest creates its base temp folder lazily and not thread-safely,
    # so two of ahead()'s threads creating it at once saw two different folders.
    tmp_path_factory.getbasetemp()

    def key_of(aid, submission, variant="standard", tasks=None, seed=1234):
        return aid, str(submission), variant, tuple(tasks or ()), seed

    def run_one(key) -> dict:
        aid, submission, variant, tasks, seed = key
        return run.grade(course, aid, Path(submission), tmp_path_factory.mktemp("graded"), variant=variant,
                         profile="cpu", seed=seed, tasks=list(tasks) or None)

    def _grade(aid: str, submission: Path, variant: str = "standard", tasks=None, seed: int = 1234) -> dict:
        key = key_of(aid, submission, variant, tasks, seed)
        if key not in cache:
            cache[key] = run_one(key)
        return cache[key]

    def ahead(cases) -> None:
        todo = [k for k in (key_of(*case) for case in cases) if k not in cache]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for k, doc in zip(todo, pool.map(run_one, todo)):
                cache[k] = doc

    _grade.ahead = ahead
    return _grade


def selected_assignments(request) -> set[str]:
    """The assignments the selected tests of the requesting module are about (``-k`` and
    ``-m`` respected), so a module's up-front grading covers only what will be checked."""
    module = request.node.path if hasattr(request.node, "path") else None
    return {item.callspec.params["aid"] for item in request.session.items
            if item.path == module and hasattr(item, "callspec") and "aid" in item.callspec.params}


def mutants_of(course: config.Course, aid: str) -> list:
    """The realistic mutants kept with an assignment (``assignments/<id>/mutants.py``)."""
    path = course.mutants_path(aid)
    return local.load_file(f"_mutants_{aid}", path).MUTANTS if path.is_file() else []


def outcomes(document: dict) -> dict[str, str]:
    """nodeid -> outcome of a results document."""
    return {t["extra_data"]["nodeid"]: t["extra_data"]["outcome"] for t in document["tests"]}
