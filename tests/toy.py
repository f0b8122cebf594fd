"""A minimal course, written into a temporary folder, for testing the engine itself.

One assignment, ``a99_toy`` (module ``toy``), with one task per behaviour the grader must
survive. ``GOOD`` is a correct submission; ``CHAOS`` is one whose functions each misbehave
differently: graded once, it shows that every failure costs its own test only.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

GRADING = """
[course]
name = "Toy course"
variants = ["standard", "hardmode"]
startup_timeout_s = 8
test_timeout_s = 4

[profiles.cpu]
device = "cpu"
limits = { memory_mb = 4096, cpu_s = 120, file_size_mb = 8, processes = 64, output_kb = 16 }

[profiles.gpu]
device = "cuda"

[assignments.a99_toy]
title = "Toy"
module = "toy"

[assignments.a99_toy.tasks]
add = { title = "add", points = 2 }
scale = { title = "scale a tensor", points = 3 }
crash = { title = "crashes", points = 1 }
hang = { title = "hangs", points = 1 }
raises = { title = "raises", points = 1 }
returns_object = { title = "returns an object", points = 1 }
returns_nan = { title = "returns NaN", points = 1 }
prints = { title = "prints a lot", points = 1 }
on_gpu = { title = "needs a GPU", points = 1 }
extra = { title = "hardmode only", points = 1, variants = ["hardmode"] }
"""

REFERENCE = '''
"""Toy reference."""

# %% task=add
def add(a, b):
    """Sum of two numbers."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION


# %% task=scale
def scale(x, factor):
    """``x * factor`` for a tensor ``x``."""
    ### BEGIN SCAFFOLD
    y = x.clone()
    ### END SCAFFOLD
    ### BEGIN SOLUTION
    return y * factor
    ### END SOLUTION


# %% task=crash
def crash(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% task=hang
def hang(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% task=raises
def raises(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% task=returns_object
def returns_object(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% task=returns_nan
def returns_nan(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% task=prints
def prints(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


# %% task=on_gpu
def on_gpu(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION


### BEGIN HARDMODE
# %% task=extra
def extra(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION
### END HARDMODE
'''

PUBLIC_TESTS = '''
import pytest


@pytest.mark.task("add")
def test_add_small(student):
    assert student.add(2, 3) == 5, "add(2, 3) should be 5"
'''

HIDDEN_TESTS = '''
import pytest
import torch

from autograder.grade import checks, draw


@pytest.mark.task("add")
def test_add(student, reference, gen):
    a, b = draw.integer(gen, -100, 100), draw.integer(gen, -100, 100)
    checks.equal(student.add(a, b), reference.add(a, b), what=f"add({a}, {b})")


@pytest.mark.task("scale")
def test_scale(student, reference, gen):
    x = draw.normal(gen, 3, 4)
    checks.close(student.scale(x, 2.0), reference.scale(x, 2.0), what="scale(x, 2)", rtol=1e-12, atol=0)


@pytest.mark.task("scale")
def test_scale_keeps_dtype(student, gen):
    x = draw.normal(gen, 3, dtype=torch.float32)
    checks.tensor(student.scale(x, 3.0), what="scale(x, 3) of float32 x", shape=(3,), dtype=torch.float32)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.task(n), id=n) for n in
                                  ("crash", "hang", "raises", "returns_object", "returns_nan", "prints")])
def test_identity(student, gen, name):
    x = draw.normal(gen, 4)
    checks.close(getattr(student, name)(x), x, what=f"{name}(x)", rtol=0, atol=0)


@pytest.mark.task("on_gpu")
@pytest.mark.gpu
def test_on_gpu(student, gen):
    x = draw.normal(gen, 4)
    checks.close(student.on_gpu(x), x, what="on_gpu(x)", rtol=0, atol=0)


@pytest.mark.task("extra")
def test_extra(student):
    assert student.extra(1) == 1
'''

GOOD = '''
def add(a, b):
    return a + b


def scale(x, factor):
    return x * factor


def crash(x):
    return x


hang = raises = returns_object = returns_nan = prints = on_gpu = extra = crash
'''

CHAOS = '''
import os
import time

import torch


def add(a, b):
    return a + b


def scale(x, factor):
    return x * factor


def crash(x):
    os._exit(3)


def hang(x):
    while True:
        time.sleep(0.1)


def raises(x):
    raise ValueError("the student's own error")


class AlwaysEqual:
    def __eq__(self, other):
        return True


def returns_object(x):
    return AlwaysEqual()


def returns_nan(x):
    return x * float("nan")


def prints(x):
    for _ in range(200_000):
        print("spam " * 20)
    return x


def on_gpu(x):
    return x


def extra(x):
    return x
'''


def write_course(root: Path, hidden_tests: str = HIDDEN_TESTS, grading: str = GRADING) -> Path:
    """Write the toy course under ``root`` and return it."""
    files = {
        "grading.toml": grading,
        "reference/a99_toy/toy.py": REFERENCE,
        "assignments/a99_toy/README.md": "# Toy\n\nA toy assignment.\n",
        "assignments/a99_toy/test_toy.py": PUBLIC_TESTS,
        "assignments/a99_toy/hidden/test_hidden.py": hidden_tests,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def submission(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    """A submission folder ``root/name`` holding ``files``."""
    folder = root / name
    folder.mkdir(parents=True)
    for rel, content in files.items():
        path = folder / rel
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip())
    return folder
