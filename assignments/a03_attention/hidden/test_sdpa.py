"""Hidden tests, task sdpa: attention weights and outputs against the reference (float64,
random shapes and masks with a fully masked row), their properties, and dropout."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("sdpa")
RTOL, ATOL = 1e-8, 1e-10      # float64; the reference and any correct order of operations agree to ~1e-14


def inputs(gen, heads=True):
    b, h, t_q, t_k, d, d_v = (draw.integer(gen, 1, 3), draw.integer(gen, 2, 4), draw.integer(gen, 3, 8),
                              draw.integer(gen, 4, 9), draw.choice(gen, [4, 8, 16]), draw.integer(gen, 3, 6))
    lead = (b, h) if heads else (b,)
    q, k, v = (draw.normal(gen, *lead, t, n) for t, n in ((t_q, d), (t_k, d), (t_k, d_v)))
    mask = draw.bernoulli(gen, *lead, t_q, t_k, p=0.7)
    mask[..., 0, :] = False                   # the first query may attend to nothing
    mask[..., 1, :] = True                    # the second to everything
    empty = ~mask.any(-1, keepdim=True)       # any other row the draw left empty (0.3^t_k, ~1% at t_k = 4)
    empty[..., 0, :] = False                  # gets the last key: only the first row is fully masked
    return q, k, v, mask | (empty & (torch.arange(t_k) == t_k - 1))


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "random_mask"])
def test_weights_match_reference(student, reference, reference_module, gen, masked):
    q, k, _, mask = inputs(gen)
    mask = mask if masked else None
    checks.close(student.attention_weights(q, k, mask), reference.attention_weights(q, k, mask),
                 what="attention_weights(q, k, mask)", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.weights(reference_module, q, k, mask))


def test_weights_are_a_distribution(student, gen):
    q, k, _, mask = inputs(gen, heads=False)
    w = checks.tensor(student.attention_weights(q, k, mask), what="attention_weights(q, k, mask)",
                      shape=(*q.shape[:-1], k.shape[-2]), dtype=q.dtype, finite=False)
    if torch.isnan(w).any():
        checks.fail("attention_weights gives NaN for a query whose mask is all False; the convention is "
                    "all-zero weights (see softmax)")
    if (w < 0).any():
        checks.fail("attention weights must be >= 0")
    if (w[~mask.expand_as(w)] != 0).any():
        checks.fail("masked positions (mask False) must get weight exactly 0: set their scores to -inf "
                    "before the softmax")
    sums = w.sum(-1)
    # float64 row sums are 1 to ~1e-16; a softmax over the queries misses by 2 or more. (rtol is
    # allclose's default 1e-5, so the tolerance is 1e-5.)
    if not torch.allclose(sums[..., 1:], torch.ones_like(sums[..., 1:]), atol=1e-10):
        checks.fail(f"each query's weights must sum to 1 over the keys; row sums are {sums[0, 1:4].tolist()}... "
                    "(is the softmax over the last dimension?)")
    if not torch.equal(sums[..., 0], torch.zeros_like(sums[..., 0])):
        checks.fail("a query that may attend to nothing must get all-zero weights")


def test_output_matches_reference(student, reference, reference_module, gen):
    q, k, v, mask = inputs(gen)
    checks.close(student.scaled_dot_product_attention(q, k, v, mask),
                 reference.scaled_dot_product_attention(q, k, v, mask),
                 what="scaled_dot_product_attention(q, k, v, mask)", rtol=RTOL, atol=ATOL,
                 diagnoses=bugs.outputs(reference_module, q, k, v, mask))


def test_float32_in_float32_out(student, reference, gen):
    q, k, v, mask = (t.float() if t.is_floating_point() else t for t in inputs(gen))
    # float32, with the dtype checked: other orders of operation (einsum, an upcast softmax) use
    # under 1% of the tolerance, the wrong scale 1.7e4 times over it.
    checks.close(student.scaled_dot_product_attention(q, k, v, mask),
                 reference.scaled_dot_product_attention(q, k, v, mask),
                 what="scaled_dot_product_attention on float32 inputs", rtol=1e-4, atol=1e-5)


def test_dropout_zeroes_and_rescales_weights(student, reference, gen, seed):
    # With v = [I | 1] the output is the dropped-out weights followed by their row sum, so
    # dropout on the weights can be told apart from dropout on the output.
    b, t_q, t_k, d, p = 4, 32, 32, 8, 0.3
    q, k = draw.normal(gen, b, t_q, d), draw.normal(gen, b, t_k, d)
    v = torch.cat([torch.eye(t_k, dtype=torch.float64).expand(b, t_k, t_k),
                   torch.ones(b, t_k, 1, dtype=torch.float64)], dim=-1)
    weights = reference.attention_weights(q, k, None)
    out = checks.tensor(student.sdpa_with_dropout(q, k, v, None, p, seed),
                        what="scaled_dot_product_attention(..., dropout_p=0.3)", shape=(b, t_q, t_k + 1))
    dropped, row_sums = out[..., :t_k], out[..., t_k]
    zero = dropped == 0
    n, rate = zero.numel(), zero.double().mean().item()
    sigma = (p * (1 - p) / n) ** 0.5
    if abs(rate - p) > 6 * sigma:
        checks.fail(f"with dropout_p={p}, {rate:.1%} of the attention weights were zeroed; expected about "
                    f"{p:.0%} (is dropout applied to the weights, and only when dropout_p > 0?)")
    # float64: a correct rescaling uses under 1e-5 of these tolerances; no rescaling or dropout on the
    # output is 3e9 times over them (seeds 1-3, tests/benchmarks/tolerances.py).
    if not torch.allclose(dropped[~zero], weights[~zero] / (1 - p), rtol=1e-10, atol=1e-12):
        ratio = (dropped[~zero] / weights[~zero]).median().item()
        checks.fail(f"surviving weights must be scaled by 1/(1-p) = {1 / (1 - p):.4f}; they were scaled by "
                    f"{ratio:.4f}")
    if not torch.allclose(row_sums, dropped.sum(-1), rtol=1e-10, atol=1e-12):
        checks.fail("dropout must zero attention weights, before multiplying by v, not entries of the output")
