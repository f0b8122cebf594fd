"""Hidden tests, task bootstrap (hardmode): the percentile interval exactly as specified (same
generator, same draws), and its width against the normal approximation."""

import math

import pytest
import torch

from autograder.grade import checks, draw

pytestmark = pytest.mark.task("bootstrap")


def test_interval_matches_reference(student, reference, gen, seed):
    n = draw.integer(gen, 50, 300)
    correct = draw.bernoulli(gen, n, p=0.3 + 0.4 * torch.rand(1, generator=gen).item())
    for resamples, confidence in ((500, 0.95), (200, 0.8)):
        got = student.bootstrap(correct, resamples, confidence, seed)
        expected = reference.bootstrap(correct, resamples, confidence, seed)
        if not isinstance(got, (tuple, list)) or len(got) != 2 or any(not isinstance(x, float) for x in got):
            checks.fail(f"bootstrap_ci must return (low, high) floats; got {checks.describe(got)}")
        if max(abs(a - b) for a, b in zip(got, expected)) > 1e-12:
            checks.fail(f"bootstrap_ci on {n} items, {resamples} resamples, confidence {confidence}: got "
                        f"({got[0]:.6f}, {got[1]:.6f}); expected ({expected[0]:.6f}, {expected[1]:.6f}): draw "
                        "torch.randint(0, N, (n_resamples, N), generator=generator) and take the (1 - c) / 2 and "
                        "(1 + c) / 2 quantiles")


def test_width_is_about_the_normal_approximation(student, gen, seed):
    n = 2000
    correct = draw.bernoulli(gen, n, p=0.6)
    p = correct.double().mean().item()
    low, high = student.bootstrap(correct, 2000, 0.95, seed)
    normal = 2 * 1.96 * math.sqrt(p * (1 - p) / n)          # 0.043 for p = 0.6
    # 2000 resamples: the percentile interval's width is within ~5% of the normal one; 20% is a wide margin
    if not (low < p < high) or abs((high - low) - normal) > 0.2 * normal:
        checks.fail(f"bootstrap_ci on {n} items with accuracy {p:.3f} gave ({low:.4f}, {high:.4f}), width {high - low:.4f}; "
                    f"the 95% interval should contain {p:.3f} and be about {normal:.4f} wide (resample the items "
                    "with replacement)")
