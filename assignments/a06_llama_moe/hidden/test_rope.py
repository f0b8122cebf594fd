"""Hidden tests, task rope: the frequencies, the rotation in both pairing conventions
(output layout included: a layout bug is invisible in attention scores), positions with an
offset, float16 inputs with float32 angles, and the Meta-to-HF permutation."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs
from .common import ATOL, RTOL

pytestmark = pytest.mark.task("rope")


def test_frequencies(student, reference, gen):
    d = 2 * draw.integer(gen, 2, 16)
    theta = draw.choice(gen, [100.0, 10000.0, 500000.0])
    expected = reference.rope_frequencies_float64(d, theta)
    off_by_one = 1.0 / theta ** (torch.arange(1, d // 2 + 1, dtype=torch.float64) * 2 / d)
    checks.close(student.rope_frequencies_float64(d, theta), expected, what=f"rope_frequencies({d}, {theta:g})",
                 rtol=RTOL, atol=ATOL, diagnoses=[("the exponent starts at j = 1; theta ** (-2j / D) starts at j = 0",
                                                   off_by_one),
                                                  ("the exponent is -j / D; it is -2j / D",
                                                   1.0 / theta ** (torch.arange(d // 2, dtype=torch.float64) / d))])


@pytest.mark.parametrize("interleaved", [False, True])
def test_rotation_matches_reference(student, reference, reference_module, gen, interleaved):
    d = 2 * draw.integer(gen, 2, 8)
    t = draw.integer(gen, 3, 9)
    x = draw.normal(gen, 2, draw.integer(gen, 1, 3), t, d)
    start = draw.integer(gen, 1, 40)                 # an offset, as when decoding after a cache
    positions = torch.arange(start, start + t)
    theta = draw.choice(gen, [100.0, 10000.0])
    checks.close(student.apply_rope(x, positions, theta, interleaved),
                 reference.apply_rope(x, positions, theta, interleaved),
                 what=f"apply_rope(x, positions {start}..{start + t - 1}, theta={theta:g}, interleaved={interleaved})",
                 rtol=RTOL, atol=ATOL, diagnoses=bugs.rope(reference_module, x, positions, theta, interleaved))


@pytest.mark.parametrize("interleaved", [False, True])
def test_float16_with_float32_angles(student, reference, gen, interleaved):
    # Positions near 3000: in float16 the angle m * 1 rad is rounded to a multiple of 2, so
    # float16 angles are wrong by up to 1 rad; float32 angles are exact to ~1e-4 rad.
    # Tolerance: 2 float16 ulps of outputs of size ~1 (atol 4e-3).
    x = draw.normal(gen, 1, 2, 4, 8).half()
    positions = torch.arange(3000, 3004) + draw.integer(gen, 0, 50)
    checks.close(student.apply_rope(x, positions, 10000.0, interleaved),
                 reference.apply_rope(x, positions, 10000.0, interleaved),
                 what=f"apply_rope on float16 x at positions near 3000 (interleaved={interleaved})", rtol=2e-3, atol=4e-3,
                 diagnoses=[("the angles are computed in float16: compute them in at least float32",
                             reference.apply_rope(x.float(), positions.half().float(), 10000.0, interleaved).half())])


def test_permute_qk(student, reference, reference_module, gen):
    n_heads, d_head = draw.integer(gen, 2, 4), draw.choice(gen, [8, 12])     # D >= 8: the inverse differs
    w = draw.normal(gen, n_heads * d_head, draw.integer(gen, 4, 12))
    checks.close(student.permute_qk(w, n_heads), reference.permute_qk(w, n_heads), what="permute_qk(w, n_heads)",
                 rtol=0, atol=0, diagnoses=bugs.permute_qk(reference_module, w, n_heads))


def test_permuted_weights_give_meta_scores(student, gen):
    # The property the permutation exists for: with your permute_qk and your apply_rope,
    # rotate_half on permuted projections gives the attention scores of interleaved RoPE on Meta's.
    n_heads, d_head, d_in, t = 2, 8, 10, 6
    wq, wk = draw.normal(gen, n_heads * d_head, d_in), draw.normal(gen, n_heads * d_head, d_in)
    x = draw.normal(gen, t, d_in)
    positions = torch.arange(t)

    def scores(q_w, k_w, interleaved):
        q = (x @ q_w.T).reshape(t, n_heads, d_head).transpose(0, 1)
        k = (x @ k_w.T).reshape(t, n_heads, d_head).transpose(0, 1)
        q, k = student.apply_rope(q, positions, 10000.0, interleaved), student.apply_rope(k, positions, 10000.0, interleaved)
        return q @ k.transpose(-1, -2)

    meta = scores(wq, wk, True)
    hf = scores(student.permute_qk(wq, n_heads), student.permute_qk(wk, n_heads), False)
    checks.close(hf, meta, what="scores with rotate_half on permute_qk(w) vs interleaved RoPE on Meta's w",
                 rtol=RTOL, atol=1e-9)
