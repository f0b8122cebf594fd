"""One mistake, one task: calls into other tasks' functions and layers are answered by the
reference (grade/oracle.py, harness/proxy.py), with exact randomness and gradients, objects
passed by state, only for the names and the data the grader allows, and not at all in an
``integration`` task."""

from __future__ import annotations

import tomllib

import pytest

from autograder import config
from autograder.grade import run
from tests import toy

GRADING = toy.GRADING.split("[assignments.a99_toy]")[0] + """
[assignments.a98_pair]
title = "Pair"
module = "pair"

[assignments.a98_pair.tasks]
double = { title = "double", points = 1 }
quad = { title = "quad, through double", points = 1 }
noise = { title = "dropout", points = 1 }
noisy = { title = "two dropouts", points = 1 }
whole = { title = "double plus one, graded whole", points = 1, integration = true }
scale = { title = "a layer", points = 1 }
stack = { title = "two of them, trained", points = 1 }
tally = { title = "an object the layers are given", points = 1 }
"""

REFERENCE = '''
"""Pair reference."""
from dataclasses import dataclass

import torch


# %% task=double
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


# %% task=quad
def quad(x):
    ### BEGIN SOLUTION
    return double(double(x))
    ### END SOLUTION


def quad_grad(x):
    x = x.clone().requires_grad_(True)
    (quad(x) * x).sum().backward()
    return x.grad


# %% task=noise
def noise(x):
    ### BEGIN SOLUTION
    return torch.nn.functional.dropout(x, 0.5, training=True)
    ### END SOLUTION


# %% task=noisy
def noisy(x, seed):
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    return noise(x) + 10 * noise(x) + torch.rand(x.shape, dtype=x.dtype)
    ### END SOLUTION


# %% task=whole
def whole(x):
    ### BEGIN SOLUTION
    return double(x) + 1
    ### END SOLUTION


# %%
@dataclass
class Config:
    d: int = 4
    p: float = 0.5


class Memo:
    def __init__(self):
        self.seen = 0
        self.last = None

    def note(self, x):
        self.seen, self.last = self.seen + x.shape[0], x.sum()


# %% task=scale
class Scale(torch.nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.full((config.d,), 2.0))
        self.p = config.p

    def forward(self, x, memo=None):
        ### BEGIN SOLUTION
        if memo is not None:
            memo.note(x)
        return torch.nn.functional.dropout(x * self.weight, self.p, self.training)
        ### END SOLUTION


def scale(x):
    with torch.no_grad():
        return Scale(Config(d=x.shape[-1])).eval()(x)


# %% task=stack
class Stack(torch.nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        self.a, self.b = Scale(config), Scale(config)

    def forward(self, x, memo=None):
        ### BEGIN SOLUTION
        return self.b(self.a(x, memo), memo) + 1
        ### END SOLUTION


def stack_trained(x, seed):
    """Train-mode outputs (dropout drawn after seeding) and the weights' gradients."""
    model = Stack(Config(d=x.shape[-1]))
    torch.manual_seed(seed)
    y = model(x)
    (y * y).sum().backward()
    return y.detach(), model.a.weight.grad, model.b.weight.grad


def stack_memo(x):
    memo = Memo()
    with torch.no_grad():
        y = Stack(Config(d=x.shape[-1])).eval()(x, memo)
    return y, memo.seen, memo.last


# %% task=tally
class Tally:
    def __init__(self):
        self.rows = 0

    def note(self, x):
        ### BEGIN SOLUTION
        self.rows += x.shape[0]
        ### END SOLUTION


def tally_stack(x):
    tally = Tally()
    with torch.no_grad():
        y = Stack(Config(d=x.shape[-1])).eval()(x, tally)
    return y, tally.rows
'''

HIDDEN = '''
import pytest
import torch

from autograder.grade import checks, draw


@pytest.mark.parametrize("op", [pytest.param(n, marks=pytest.mark.task(t), id=n) for n, t in
                                (("double", "double"), ("quad", "quad"), ("quad_grad", "quad"), ("whole", "whole"))])
def test_op(student, reference, gen, op):
    x = draw.normal(gen, 3, 4)
    checks.close(getattr(student, op)(x), getattr(reference, op)(x), what=op, rtol=0, atol=0)


@pytest.mark.parametrize("op", [pytest.param(n, marks=pytest.mark.task(t), id=n) for n, t in
                                (("scale", "scale"), ("stack_trained", "stack"), ("stack_memo", "stack"),
                                 ("tally_stack", "tally"))])
def test_layer(student, reference, gen, seed, op):
    x = draw.normal(gen, 3, 4)
    args = (x, seed) if op == "stack_trained" else (x,)
    for got, want in zip(getattr(student, op)(*args), getattr(reference, op)(*args)):
        checks.close(torch.as_tensor(got), torch.as_tensor(want), what=op, rtol=0, atol=0)


@pytest.mark.task("noise")
def test_noise(student, gen):
    assert (student.noise(draw.normal(gen, 100)) == 0).any()


@pytest.mark.task("noisy")
def test_noisy(student, reference, gen, seed):
    x = draw.normal(gen, 50)
    checks.close(student.noisy(x, seed), reference.noisy(x, seed), what="noisy", rtol=0, atol=0)
'''

WRONG_DOUBLE = REFERENCE.replace("return 2 * x", "return 3 * x").replace("# %%", "#")
WRONG_SCALE = REFERENCE.replace("x * self.weight, self.p", "x * self.weight * 1.5, self.p").replace("# %%", "#")
# Its Tally (an object the reference's Stack is given while tally is graded) counts wrong:
# the reference calls the student's own Tally.note, in the worker.
WRONG_TALLY = REFERENCE.replace("self.rows += x.shape[0]", "self.rows += x.shape[1]").replace("# %%", "#")
# Correct, but its Scale names its weight otherwise: the grader cannot rebuild it as the
# reference, so its own forward runs (and is right).
RENAMED = REFERENCE.replace("self.weight = ", "self.w = ").replace("x * self.weight", "x * self.w").replace(
    "model.a.weight.grad, model.b.weight.grad", "model.a.w.grad, model.b.w.grad").replace("# %%", "#")

# A submission that takes the proxy's link out of its closure and asks for what it may not:
# its own task's function, a name that is not a function of the reference, and text.
SNEAKY = REFERENCE.replace("# %%", "#").replace('''    return double(double(x))''', '''    link = next(c.cell_contents for c in double.__closure__ if type(c.cell_contents).__name__ == "Link")
    refused = []
    for name, args in (("quad", [x]), ("__import__", [x]), ("double", ["rm -rf /"]), ("double", [x])):
        try:
            link.ask(name, "call", {"pack": [args, {}], "rng": None})
            refused.append("")
        except Exception as exc:
            refused.append(str(exc))
    assert "no callback" in refused[0] and "no callback" in refused[1], refused
    assert "plain data" in refused[2] and refused[3] == "", refused
    huge = {"__autograder_form__": "dataclass", "name": "Config", "fields": {"d": 1 << 24, "p": 0.0}}
    for init in ({"args": [huge], "kwargs": {}}, {"args": [dict(huge, name="Memo")], "kwargs": {}}):
        try:
            link.ask("Scale", "call", {"pack": [[x], {}, {"weight": x[0]}], "init": init, "training": False,
                                       "rng": None})
            raise AssertionError("a layer larger than the weights sent was built")
        except Exception as exc:
            assert type(exc).__name__ == "Unanswerable", exc
    return 4 * x''')


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("pair")
    for rel, text in {"grading.toml": GRADING, "reference/a98_pair/pair.py": REFERENCE,
                      "assignments/a98_pair/README.md": "# Pair\n",
                      "assignments/a98_pair/hidden/test_pair.py": HIDDEN}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return config.load(root)


def graded(course, tmp_path, text):
    folder = toy.submission(tmp_path, "sub", {"pair.py": text})
    doc = run.grade(course, "a98_pair", folder, tmp_path / "out", variant="standard", profile="cpu", seed=3)
    return {t["extra_data"]["nodeid"].split("::")[-1]: t for t in doc["tests"]}


@pytest.mark.slow
def test_a_mistake_costs_its_own_task_and_integration_tasks_only(course, tmp_path):
    tests = graded(course, tmp_path, WRONG_DOUBLE)
    failed = sorted(name for name, t in tests.items() if t["status"] != "passed")
    assert failed == ["test_op[double]", "test_op[whole]"], {n: tests[n]["output"][:300] for n in failed}


@pytest.mark.slow
def test_a_layer_mistake_costs_its_own_task_only(course, tmp_path):
    for text, lost in ((WRONG_SCALE, "test_layer[scale]"), (WRONG_TALLY, "test_layer[tally_stack]")):
        tests = graded(course, tmp_path / lost, text)
        failed = sorted(name for name, t in tests.items() if t["status"] != "passed")
        assert failed == [lost], {n: tests[n]["output"][:300] for n in failed}


@pytest.mark.slow
def test_a_layer_the_grader_cannot_rebuild_runs_the_students_own_code(course, tmp_path):
    tests = graded(course, tmp_path, RENAMED)
    assert {name: t["status"] for name, t in tests.items()} == dict.fromkeys(tests, "passed"), \
        {n: t["output"][:400] for n, t in tests.items() if t["status"] != "passed"}


@pytest.mark.slow
def test_callbacks_keep_randomness_and_gradients_and_refuse_the_rest(course, tmp_path):
    tests = graded(course, tmp_path, SNEAKY)
    assert {name: t["status"] for name, t in tests.items()} == dict.fromkeys(tests, "passed"), \
        {n: t["output"][:400] for n, t in tests.items() if t["status"] != "passed"}


def test_integration_must_be_a_bool(course):
    data = tomllib.loads((course.root / "grading.toml").read_text())
    data["assignments"]["a98_pair"]["tasks"]["whole"]["integration"] = "yes"
    with pytest.raises(config.ConfigError, match=r"a98_pair.tasks.whole.integration: expected bool"):
        config.parse(data, course.root)
