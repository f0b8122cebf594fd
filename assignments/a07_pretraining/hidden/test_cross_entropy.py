"""Hidden tests, task cross_entropy: against F.cross_entropy (float64), with 1000x logits
and ignored targets, on 2-D and 3-D inputs."""

import pytest
import torch
import torch.nn.functional as F

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("cross_entropy")

# float64: a correct loss agrees with F.cross_entropy to ~1e-15; the nearest mistakes (the
# denominator counting ignored targets, a mean per row) are off by 10% or more.
RTOL, ATOL = 1e-9, 1e-10


def _case(gen, shape, scale, ignore_frac):
    v = draw.integer(gen, 5, 40)
    logits = draw.normal(gen, *shape, v, scale=scale)
    targets = torch.randint(0, v, shape, generator=gen)
    targets[draw.bernoulli(gen, *shape, p=ignore_frac)] = -100
    targets.view(-1)[0] = int(torch.randint(0, v, (1,), generator=gen))     # at least one kept target
    return logits, targets


@pytest.mark.parametrize("shape, scale, ignore, what", [
    ((37,), 2.0, 0.0, "2-D logits"), ((4, 9), 2.0, 0.3, "3-D logits with ignored targets"),
    ((3, 11), 1000.0, 0.25, "1000x logits with ignored targets")], ids=["plain", "ignored", "huge"])
def test_matches_torch(student, gen, shape, scale, ignore, what):
    logits, targets = _case(gen, shape, scale, ignore)
    expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    got = student.cross_entropy(logits, targets)
    checks.close(got, expected, what=f"cross_entropy on {what}", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.cross_entropy(logits, targets))


def test_custom_ignore_index_and_gradient(student, gen):
    logits, targets = _case(gen, (5, 7), 3.0, 0.3)
    targets[targets == -100] = -1                                      # minGPT's convention
    expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
    checks.close(student.cross_entropy(logits, targets, -1), expected, what="cross_entropy(..., ignore_index=-1)",
                 rtol=RTOL, atol=ATOL, diagnoses=bugs.cross_entropy(logits, targets, -1))
    grad, ref_grad = student.cross_entropy_grad(logits, targets, -1), _grad(logits, targets, -1)
    checks.close(grad, ref_grad, what="the gradient of cross_entropy with respect to the logits",
                 rtol=1e-8, atol=1e-12)


def _grad(logits, targets, ignore):
    x = logits.clone().requires_grad_(True)
    F.cross_entropy(x.reshape(-1, x.shape[-1]), targets.reshape(-1), ignore_index=ignore).backward()
    return x.grad
