"""Hidden tests, task masks: exact causal and padding masks, and causality end to end."""

import pytest
import torch

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("masks")


def check_mask(actual, expected, what, diagnoses=()):
    checks.tensor(actual, what=what, shape=expected.shape, dtype=torch.bool)
    if not torch.equal(actual, expected):
        i, j = (int(n) for n in (actual != expected).nonzero()[0])
        message = (f"{what} is wrong at query {i}, key {j}: got {bool(actual[i, j])}, expected "
                   f"{bool(expected[i, j])} (True = may attend)")
        # Every known mistake that gives this exact mask is named: on some sizes two coincide
        # (with t_k = t_q + 1, a missing offset and a strict inequality give the same mask).
        labels = [label for label, alternative in diagnoses if torch.equal(actual, alternative)]
        if labels:
            message += "\nLikely mistake: " + "; or: ".join(labels) + (" (each gives this mask)." if len(labels) > 1 else ".")
        checks.fail(message)


def test_causal_mask_square(student, reference, gen):
    for t in (1, 2, draw.integer(gen, 3, 12)):
        check_mask(student.causal_mask(t), reference.causal_mask(t), f"causal_mask({t})", bugs.causal(t, t))


def test_causal_mask_queries_are_the_last_positions(student, reference, gen):
    t_q = draw.integer(gen, 1, 4)
    t_k = t_q + draw.integer(gen, 1, 6)
    check_mask(student.causal_mask(t_q, t_k), reference.causal_mask(t_q, t_k), f"causal_mask({t_q}, {t_k})",
               bugs.causal(t_q, t_k))


def test_padding_mask(student, reference, gen):
    b, t = draw.integer(gen, 2, 5), draw.integer(gen, 4, 9)
    lengths = torch.randint(1, t + 1, (b,), generator=gen)
    lengths[0] = t
    actual = student.padding_mask(lengths, t)
    expected = reference.padding_mask(lengths, t)
    checks.tensor(actual, what=f"padding_mask(lengths={lengths.tolist()}, {t})", shape=expected.shape, dtype=torch.bool)
    if not torch.equal(actual, expected):
        hint = " (inverted? True marks the real tokens)" if torch.equal(actual, ~expected) else ""
        checks.fail(f"padding_mask(lengths={lengths.tolist()}, {t}) is wrong: got {actual[:, 0, 0].int().tolist()}, "
                    f"expected {expected[:, 0, 0].int().tolist()}{hint}")


def test_future_positions_cannot_change_the_past(student, gen):
    """Prefix invariance: with your causal mask, editing positions >= s leaves outputs < s unchanged."""
    b, t, d = 2, draw.integer(gen, 5, 10), 8
    q, k, v = (draw.normal(gen, b, t, d) for _ in range(3))
    s = draw.integer(gen, 1, t - 1)
    mask = student.causal_mask(t)
    before = student.scaled_dot_product_attention(q, k, v, mask)
    q2, k2, v2 = (x.clone() for x in (q, k, v))
    for x in (q2, k2, v2):
        x[:, s:] = draw.normal(gen, b, t - s, d)
    after = student.scaled_dot_product_attention(q2, k2, v2, mask)
    checks.tensor(before, what="attention output", shape=(b, t, d))
    changed = (before[:, :s] - after[:, :s]).abs().amax(dim=(0, 2)) > 1e-12
    if changed.any():
        checks.fail(f"changing positions {s}..{t - 1} changed the output at position {int(changed.nonzero()[0])}: "
                    "information leaks from the future. causal_mask must allow key j for query i only if j <= i.")
