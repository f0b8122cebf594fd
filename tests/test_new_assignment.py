"""Adding an assignment touches grading.toml, reference/<id>/ and assignments/<id>/ only:
the project's generic tests discover it. Proved on a copy of the course with a throwaway
assignment added; the engine and tests/ are copied unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

GRADING = '''
[assignments.a98_throwaway]
title = "A throwaway assignment"
module = "throwaway"
requires = ["a03_attention"]

[assignments.a98_throwaway.tasks.double]
title = "Doubling"
points = 2

[assignments.a98_throwaway.tasks.halve]
title = "Halving"
points = 1

[assignments.a98_throwaway.tasks.negate]
title = "Negating"
points = 1
'''

REFERENCE = '''
# %% [markdown]
# # A throwaway assignment

# %% task=double
import torch

from attention import softmax  # noqa: F401  (given code from a03, shipped through requires)


def double(x: torch.Tensor) -> torch.Tensor:
    """Twice ``x``, same shape and dtype.

    >>> double(torch.tensor([1.0, 2.0]))
    tensor([2., 4.])
    """
    ### BEGIN SOLUTION
    return x * 2
    ### END SOLUTION


# %% task=halve
def halve(x: torch.Tensor) -> torch.Tensor:
    """Half of ``x``.

    >>> halve(torch.tensor([2.0]))
    tensor([1.])
    """
    ### BEGIN SOLUTION
    return x / 2
    ### END SOLUTION


# %% task=negate
def negate(x: torch.Tensor) -> torch.Tensor:
    """Minus ``x``.

    >>> negate(torch.tensor([2.0]))
    tensor([-2.])
    """
    ### BEGIN SOLUTION
    return -x
    ### END SOLUTION
'''

FILES = {
    "reference/a98_throwaway/throwaway.py": REFERENCE,
    "assignments/a98_throwaway/README.md": "# A throwaway assignment\n\nImplement `double`.\n",
    "assignments/a98_throwaway/test_throwaway.py": '''
        import pytest
        import torch


        @pytest.mark.task("double")
        def test_double(student):
            torch.testing.assert_close(student.double(torch.ones(3)), torch.full((3,), 2.0))


        @pytest.mark.task("halve")
        def test_halve(student):
            torch.testing.assert_close(student.halve(torch.ones(2)), torch.full((2,), 0.5))


        @pytest.mark.task("negate")
        def test_negate(student):
            torch.testing.assert_close(student.negate(torch.ones(2)), torch.full((2,), -1.0))
        ''',
    "assignments/a98_throwaway/hidden/__init__.py": "",
    "assignments/a98_throwaway/hidden/test_double.py": '''
        import pytest

        from autograder.grade import checks, draw


        @pytest.mark.task("double")
        def test_double_on_drawn_inputs(student, reference, gen):
            x = draw.normal(gen, 4, 5)
            checks.close(student.double(x), reference.double(x), what="double(x)", rtol=0, atol=0,
                         diagnoses=[("x squared instead of doubled", x * x)])


        @pytest.mark.task("halve")
        def test_halve_on_drawn_inputs(student, reference, gen):
            x = draw.normal(gen, 3)
            checks.close(student.halve(x), reference.halve(x), what="halve(x)", rtol=0, atol=0)


        @pytest.mark.task("negate")
        def test_negate_on_drawn_inputs(student, reference, gen):
            x = draw.normal(gen, 3)
            checks.close(student.negate(x), reference.negate(x), what="negate(x)", rtol=0, atol=0)
        ''',
    "assignments/a98_throwaway/mutants.py": '''
        from autograder.grade.mutant import Mutant

        MUTANTS = [Mutant("squares", "double", (("return x * 2", "return x * x"),), "squared instead of doubled"),
                   Mutant("doubles", "halve", (("return x / 2", "return x * 2"),), "halve(x) is wrong"),
                   Mutant("identity", "negate", (("return -x", "return x"),), "negate(x) is wrong")]
        ''',
    "assignments/a98_throwaway/examples/right/throwaway.py": "def double(x):\n    return x + x\n\n\ndef halve(x):\n    return x * 0.5\n\n\ndef negate(x):\n    return 0 - x\n",
    "assignments/a98_throwaway/examples/expected.json": json.dumps({"right": {"total": 4.0, "tasks": {"double": 2.0, "halve": 1.0, "negate": 1.0}}}),
}


@pytest.mark.slow
def test_a_new_assignment_is_discovered_by_the_projects_tests(tmp_path):
    course = tmp_path / "course"
    for name in ("autograder", "reference", "assignments", "release", "tests", "grading.toml", "pyproject.toml"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, course / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, course / name)
    (course / "grading.toml").write_text((course / "grading.toml").read_text() + GRADING)
    for rel, text in FILES.items():
        (course / rel).parent.mkdir(parents=True, exist_ok=True)
        (course / rel).write_text(textwrap.dedent(text).lstrip())
    env = {**os.environ, "AUTOGRADER_TEST_COURSE": str(course)}
    release = subprocess.run([sys.executable, "-m", "autograder", "release", "a98_throwaway"], cwd=course, env=env,
                             capture_output=True, text=True)
    assert release.returncode == 0, release.stdout + release.stderr
    tests = ["tests/test_assignments.py", "tests/test_mutants.py", "tests/test_release.py", "tests/test_examples.py",
             "tests/test_doctests.py"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, "-k", "a98_throwaway"],
                          cwd=course, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert " passed" in summary and int(summary.split(" passed")[0].split()[-1]) >= 8, summary
    assert (course / "release/standard/a98_throwaway/throwaway.ipynb").is_file()
