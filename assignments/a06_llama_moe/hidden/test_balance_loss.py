"""Hidden tests, task balance_loss: both forms against the reference (one layer and a list
of layers), their values at uniform routing (tied logits: ties broken either way give the
same value) and under collapse, the z-loss on large logits, and unknown kinds refused."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL

pytestmark = pytest.mark.task("balance_loss")
KINDS = ["mixtral", "switch"]


def scalar(actual, expected, what, diagnoses=(), rtol=RTOL, atol=ATOL):
    if isinstance(actual, torch.Tensor) and actual.dim() == 1 and actual.numel() == 1:
        checks.fail(f"{what} should be a 0-dim tensor; got shape {tuple(actual.shape)}")
    checks.close(actual, torch.as_tensor(expected, dtype=torch.float64), what=what, rtol=rtol, atol=atol,
                 diagnoses=diagnoses)


@pytest.mark.parametrize("kind", KINDS)
def test_matches_reference(student, reference, gen, kind):
    n_experts, top_k = draw.integer(gen, 4, 8), draw.integer(gen, 1, 3)
    layers = [draw.normal(gen, draw.integer(gen, 6, 20), n_experts, scale=2.0) for _ in range(2)]
    scalar(student.load_balancing_loss(layers[0], top_k, kind), reference.load_balancing_loss(layers[0], top_k, kind),
           f"load_balancing_loss(logits, top_k={top_k}, kind={kind!r})",
           bugs.balance_loss(layers[0], top_k, kind))
    scalar(student.load_balancing_loss(layers, top_k, kind), reference.load_balancing_loss(layers, top_k, kind),
           f"load_balancing_loss([two layers' logits], top_k={top_k}, kind={kind!r}); the layers are concatenated "
           "along the tokens first", bugs.balance_loss(torch.cat(layers), top_k, kind))


@pytest.mark.parametrize("kind", KINDS)
def test_uniform_routing(student, gen, kind):
    n_experts, top_k = draw.integer(gen, 4, 8), 2
    logits = draw.normal(gen, 10, 1).expand(10, n_experts).contiguous()    # every row tied: probabilities 1/E
    expected = float(top_k) if kind == "mixtral" else 1.0
    scalar(student.load_balancing_loss(logits, top_k, kind), expected,
           f"load_balancing_loss at uniform routing (E={n_experts}, k={top_k}, kind={kind!r}); the {kind} form is "
           f"{expected:g} there", bugs.balance_loss(logits, top_k, kind))


@pytest.mark.parametrize("kind", KINDS)
def test_collapsed_routing(student, reference, gen, kind):
    n_experts, top_k = draw.integer(gen, 4, 8), 2
    logits = draw.normal(gen, 12, n_experts, scale=0.1)
    logits[:, 0] += 40.0                    # every token: expert 0 first with probability ~1,
    logits[:, 1] += 30.0                    # then expert 1; the loss is ~E in both forms
    scalar(student.load_balancing_loss(logits, top_k, kind), reference.load_balancing_loss(logits, top_k, kind),
           f"load_balancing_loss of a collapsed router (E={n_experts}, kind={kind!r}), about E",
           bugs.balance_loss(logits, top_k, kind))


def test_z_loss(student, reference, gen):
    # logits near 800 in half the rows: exp overflows even float64 (past 709); logsumexp
    # subtracts the max first
    logits = draw.normal(gen, 2 * draw.integer(gen, 2, 6), 6, scale=3.0)
    logits[::2] += 800.0
    scalar(student.router_z_loss(logits), reference.router_z_loss(logits), "router_z_loss(logits)",
           [("the sum over tokens is used; the z-loss is the mean", torch.logsumexp(logits, -1).pow(2).sum()),
            ("logsumexp is not squared", torch.logsumexp(logits, -1).mean())])


def test_unknown_kind(student, gen):
    checks.raises(ValueError, student.load_balancing_loss, draw.normal(gen, 4, 4), 2, "deepseek",
                  what='load_balancing_loss(kind="deepseek")', why="only 'mixtral' and 'switch' are defined")
