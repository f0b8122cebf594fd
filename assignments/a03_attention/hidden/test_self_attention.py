"""Hidden tests, task self_attention: the single-head layer against the reference."""

import pytest

from autograder.grade import checks, draw

pytestmark = pytest.mark.task("self_attention")
# float64: correct code (the reference, einsum- and Hugging Face-style) uses at most 1e-6 of this
# tolerance; the bugs caught here give another shape or values off by O(1), far outside it
# (tests/benchmarks/tolerances.py a03_attention, seeds 1-3).
RTOL, ATOL = 1e-8, 1e-10


@pytest.mark.parametrize("bias", [False, True], ids=["no_bias", "bias"])
def test_matches_reference(student, reference, reference_module, gen, bias):
    b, t, d_in, d_out = draw.integer(gen, 1, 3), draw.integer(gen, 3, 8), draw.integer(gen, 4, 10), draw.integer(gen, 3, 9)
    state = draw.state_like(reference_module.SelfAttention(d_in, d_out, bias=bias).state_dict(), gen)
    x = draw.normal(gen, b, t, d_in)
    mask = reference.causal_mask(t)
    checks.close(student.self_attention_forward(state, d_in, d_out, x, mask, bias),
                 reference.self_attention_forward(state, d_in, d_out, x, mask, bias),
                 what=f"SelfAttention({d_in}, {d_out}, bias={bias}) with a causal mask", rtol=RTOL, atol=ATOL)
