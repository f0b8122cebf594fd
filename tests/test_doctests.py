"""The worked examples in the student-facing docstrings are the spec: each runs as a
doctest against the reference solution, for every assignment in grading.toml."""

from __future__ import annotations

import doctest
import sys

import pytest

from autograder import config
from autograder.harness import local
from tests.conftest import ROOT

COURSE = config.load(ROOT)


@pytest.mark.parametrize("aid", list(COURSE.assignments))
def test_docstring_examples_hold_for_the_reference(aid):
    a = COURSE.assignment(aid)
    folders = [str(COURSE.reference_dir(r)) for r in (aid, *a.needs)]
    sys.path[:0] = folders
    try:
        module = local.load_file(f"_doctest_{a.module}", COURSE.reference_dir(aid) / f"{a.module}.py")
    finally:
        del sys.path[:len(folders)]
    tests = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    assert tests, f"reference/{aid}/{a.module}.py has no worked example (>>>) in any docstring"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of reference/{aid} fail (see the output)"
