"""Hidden tests, task clipping: against torch.nn.utils.clip_grad_norm_ with a frozen
parameter, above and below the threshold."""

import pytest
import torch

from autograder.grade import checks, draw

pytestmark = pytest.mark.task("clipping")


def _grads(gen, scale):
    return [draw.normal(gen, 4, 3, scale=scale), None, draw.normal(gen, 7, scale=scale), draw.normal(gen, 2, 2, scale=scale)]


def _expected(grads, max_norm):
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(g.shape if g is not None else (3,), dtype=torch.float64))
        p.grad = None if g is None else g.clone()
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return total, [None if p.grad is None else p.grad for p in params]


@pytest.mark.parametrize("scale, max_norm, what", [(1.0, 0.5, "above"), (0.01, 1.0, "below")], ids=["above", "below"])
def test_matches_torch(student, gen, scale, max_norm, what):
    grads = _grads(gen, scale)
    total, clipped = student.clip_run(grads, max_norm)
    want_total, want = _expected(grads, max_norm)
    per_param = [None if g is None else g * torch.clamp(max_norm / (g.norm() + 1e-6), max=1.0) for g in grads]
    checks.close(total, want_total, what=f"the total norm returned (gradients {what} max_norm)", rtol=1e-10, atol=1e-12,
                 diagnoses=[("the norm returned is the one after clipping; return the norm before",
                             torch.clamp(want_total, max=max_norm))])
    if clipped[1] is not None:
        checks.fail("the frozen parameter (no .grad) was given a gradient; skip parameters whose .grad is None")
    for i in (0, 2, 3):
        checks.close(clipped[i], want[i], what=f"gradient {i} after clipping (global norm {float(want_total):.3g}, "
                     f"max_norm {max_norm})", rtol=1e-10, atol=1e-13,
                     diagnoses=[("each parameter is clipped by its own norm; clip by the global norm of all gradients",
                                 per_param[i]),
                                ("gradients below max_norm were scaled up: the factor is min(1, max_norm / norm)",
                                 grads[i] * max_norm / (want_total + 1e-6))])
