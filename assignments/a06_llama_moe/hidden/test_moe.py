"""Hidden tests, task moe: the mixture-of-experts layer against the reference (output and
router logits), its gradient into the router, and the active and total parameter counts."""

import pytest
import torch

from autograder.grade import checks, draw

from .common import ATOL, RTOL, moe_setup

pytestmark = pytest.mark.task("moe")


def dense_mixture(state, x, top_k, renormalize):
    """Every expert on every token, weighted by the full softmax: a soft mixture."""
    flat = x.reshape(-1, x.shape[-1])
    probs = torch.softmax(flat @ state["router.weight"].T, -1)
    outs = torch.stack([(torch.nn.functional.silu(flat @ g.T) * (flat @ u.T)) @ dn.T
                        for g, u, dn in zip(state["gate_proj"], state["up_proj"], state["down_proj"])], 1)
    return (outs * probs[..., None]).sum(1).reshape(x.shape)


@pytest.mark.parametrize("renormalize", [True, False])
def test_matches_reference(student, reference, reference_module, gen, renormalize):
    d, hidden, n_experts, top_k, state, x = moe_setup(reference_module, gen)
    top_k = max(top_k, 2)
    args = (d, hidden, n_experts, top_k, renormalize, state, x)
    out, logits = student.moe_forward(*args)
    want_out, want_logits = reference.moe_forward(*args)
    checks.close(logits, want_logits, what="MoE router logits (N, E)", rtol=RTOL, atol=ATOL)
    diagnoses = [("the experts are mixed densely with the full softmax; only the top-k experts run",
                  dense_mixture(state, x, top_k, renormalize)),
                 ("the weights are " + ("not " if renormalize else "") + "renormalized over the chosen k",
                  reference.moe_forward(d, hidden, n_experts, top_k, not renormalize, state, x)[0])]
    checks.close(out, want_out, what=f"MoE output (E={n_experts}, k={top_k}, renormalize={renormalize})",
                 rtol=RTOL, atol=ATOL, diagnoses=diagnoses)


def test_router_gets_gradients(student, reference, reference_module, gen):
    d, hidden, n_experts, _, state, x = moe_setup(reference_module, gen, top_k=2)
    args = (d, hidden, n_experts, 2, True, state, x)
    got = student.moe_router_grad(*args)
    if got is None:
        checks.fail("the router weight got no gradient: the expert outputs must be scaled by the routing weights "
                    "inside the autograd graph (no .detach(), no torch.no_grad())")
    checks.close(got, reference.moe_router_grad(*args), what="d(out.sum()) / d(router.weight)", rtol=1e-7, atol=1e-9)


def test_parameter_counts(student, reference, gen):
    for _ in range(3):
        args = (draw.integer(gen, 8, 4096), draw.integer(gen, 8, 14336), draw.integer(gen, 2, 64), 0)
        args = (*args[:3], draw.integer(gen, 1, min(args[2], 8)))
        expected = reference.moe_parameter_counts(*args)
        checks.equal(tuple(student.moe_parameter_counts(*args)), expected,
                     what=f"moe_parameter_counts{args} (total, active)",
                     hint="each expert has 3 * d * hidden parameters; the router (d * E) counts in both, since "
                          "every token is scored against every expert")
