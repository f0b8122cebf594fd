"""Hidden tests, task adamw: against torch.optim.AdamW over many steps with a large
learning rate and weight decay (exposes the decay order and eps placement), a parameter
without a gradient, and a learning rate changed between steps."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("adamw")

# float64 over 60 steps: a correct AdamW follows torch's to ~1e-14; eps inside the root with
# eps = 1e-3 and small gradients moves the weights by more than 1e-3, decay after the update
# by lr^2 * wd per step (~1e-4 here).
RTOL, ATOL = 1e-9, 1e-11


def _torch_history(params, grads, lr, betas, eps, wd, lrs=None):
    ps = [torch.nn.Parameter(p.clone()) for p in params]
    opt = torch.optim.AdamW(ps, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    out = []
    for i, gs in enumerate(grads):
        for p, g in zip(ps, gs):
            p.grad = None if g is None else g.clone()
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[i]
        opt.step()
        out.append([p.detach().clone() for p in ps])
    return out


def _problem(gen, steps):
    params = [draw.normal(gen, 3, 4), draw.normal(gen, 5), draw.normal(gen, 2)]
    scales = [1e-3, 0.5, 1.0]                       # small gradients make eps matter
    grads = [[draw.normal(gen, *p.shape, scale=s) for p, s in zip(params, scales)] for _ in range(steps)]
    for gs in grads:
        gs[2] = None                                 # a frozen parameter: never updated, never decayed
    return params, grads


def _check(student, params, grads, lr, betas, eps, wd, lrs=None):
    got = student.adamw_run(params, grads, lr, betas, eps, wd, lrs)
    want = _torch_history(params, grads, lr, betas, eps, wd, lrs)
    if not isinstance(got, list) or len(got) != len(want):
        checks.fail(f"adamw_run returned {checks.describe(got)}")
    diagnoses = bugs.adamw(params[:2], [g[:2] for g in grads], lr, betas, eps, wd, lrs)
    for i, (g_step, w_step) in enumerate(zip(got, want)):
        checks.close(g_step[2], w_step[2], what=f"the parameter without a gradient after step {i + 1}",
                     rtol=0, atol=0)
        checks.close(g_step[1], w_step[1], what=f"the parameters after step {i + 1} (lr={lr}, "
                     f"weight_decay={wd}, eps={eps})", rtol=RTOL, atol=ATOL,
                     diagnoses=[(label, h[i]) for label, h in diagnoses])
        checks.close(g_step[0], w_step[0], what=f"the small-gradient parameter after step {i + 1} (eps={eps})",
                     rtol=RTOL, atol=ATOL)


def test_matches_torch_many_steps(student, gen):
    params, grads = _problem(gen, 60)
    _check(student, params, grads, lr=0.1, betas=(0.9, 0.99), eps=1e-3, wd=0.5)


def test_matches_torch_with_schedule(student, gen):
    params, grads = _problem(gen, 25)
    lrs = [0.05 * (1 + i % 5) for i in range(25)]
    _check(student, params, grads, lr=1.0, betas=(0.8, 0.95), eps=1e-6, wd=0.2, lrs=lrs)
