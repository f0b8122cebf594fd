"""Hidden tests, task batched_moe (hardmode): moe_forward_batched equals the MoE layer, and
its number of torch calls does not grow with the number of experts or tokens."""

import pytest

from autograder.grade import checks, draw

from .common import ATOL, RTOL, moe_setup

pytestmark = pytest.mark.task("batched_moe")


@pytest.mark.parametrize("renormalize", [True, False])
def test_matches_the_moe_layer(student, reference, reference_module, gen, renormalize):
    d, hidden, n_experts, top_k, state, x = moe_setup(reference_module, gen)
    args = (d, hidden, n_experts, top_k, renormalize, state, x)
    out, logits, _ = student.moe_batched_forward(*args)
    want_out, want_logits = reference.moe_forward(*args)
    checks.close(logits, want_logits, what="moe_forward_batched router logits", rtol=RTOL, atol=ATOL)
    checks.close(out, want_out, what=f"moe_forward_batched output (E={n_experts}, k={top_k})", rtol=RTOL, atol=ATOL)


def test_torch_calls_do_not_grow_with_experts_or_tokens(student, reference_module, gen):
    calls = []
    for n_experts, length in ((4, 6), (16, 40)):
        d, hidden, _, _, state, x = moe_setup(reference_module, gen, d=8, n_experts=n_experts, top_k=2)
        x = draw.normal(gen, 2, length, d)
        calls.append(student.moe_batched_forward(d, hidden, n_experts, 2, True, state, x)[2])
    if calls[1] != calls[0]:
        checks.fail(f"moe_forward_batched made {calls[0]} torch calls with 4 experts and 12 tokens but {calls[1]} with "
                    "16 experts and 80 tokens: there is still a Python loop over experts or tokens")
