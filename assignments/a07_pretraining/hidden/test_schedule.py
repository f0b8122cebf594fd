"""Hidden tests, task schedule: every step of a short run (warm-up, cosine, floor, past the end)."""

import math

import pytest

from autograder.grade import checks, draw

from . import bugs

pytestmark = pytest.mark.task("schedule")


def expected(t, max_lr, min_lr, warmup, total):
    if t < warmup:
        return max_lr * t / warmup
    if t > total:
        return min_lr
    return min_lr + 0.5 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) * (max_lr - min_lr)


def test_every_step(student, gen):
    max_lr = draw.choice(gen, [1.0, 3e-3, 0.5])
    min_lr = max_lr * draw.choice(gen, [0.1, 0.05])
    warmup, total = draw.integer(gen, 3, 9), draw.integer(gen, 15, 30)
    for t in range(total + 5):
        got = student.lr_at(t, max_lr, min_lr, warmup, total)
        want = expected(t, max_lr, min_lr, warmup, total)
        if not isinstance(got, (int, float)) or abs(got - want) > 1e-12 * max_lr:
            hint = next((label for label, alt in bugs.lr_at(t, max_lr, min_lr, warmup, total)
                         if isinstance(got, (int, float)) and abs(got - alt) <= 1e-12 * max_lr), "")
            checks.fail(f"lr_at({t}, max_lr={max_lr}, min_lr={min_lr}, warmup_steps={warmup}, total_steps={total}): "
                        f"expected {want:.6g}, got {checks.describe(got)}" + (f"\nLikely mistake: {hint}." if hint else ""))
