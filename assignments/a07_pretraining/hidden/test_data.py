"""Hidden tests, task data: the split, and batches of windows shifted by one (CS336's
statistical check: every start index equally likely, within a binomial band)."""

import math

import pytest
import torch

from autograder.grade import checks, draw

pytestmark = pytest.mark.task("data")


def test_split_ids(student, gen):
    n = draw.integer(gen, 200, 400)
    ids = torch.randint(0, 50, (n,), generator=gen)
    for fraction in (0.1, 0.25, 0.0):
        got = student.split_ids(ids, fraction)
        n_val = round(fraction * n)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            checks.fail(f"split_ids should return (train, val); got {checks.describe(got)}")
        checks.equal(got[0].tolist(), ids[:n - n_val].tolist(), what=f"split_ids(ids of length {n}, {fraction})[0]",
                     hint="train is the FIRST len(ids) - round(val_fraction * len(ids)) ids, in order")
        checks.equal(got[1].tolist(), ids[n - n_val:].tolist(), what=f"split_ids(ids of length {n}, {fraction})[1]",
                     hint="val is the rest, in order")


def test_windows_are_shifted_by_one(student, gen):
    ids = torch.randint(0, 1000, (500,), generator=gen)
    t, b = draw.integer(gen, 5, 12), draw.integer(gen, 3, 9)
    x, y = student.batch(ids, b, t, draw.integer(gen, 0, 1000))
    checks.tensor(x, what="x", shape=(b, t), dtype=torch.long)
    checks.tensor(y, what="y", shape=(b, t), dtype=torch.long)
    for row in range(b):
        starts = [s for s in range(len(ids) - t) if torch.equal(ids[s:s + t], x[row])]
        if not starts:
            checks.fail(f"x[{row}] = {x[row].tolist()} is not a window of consecutive ids")
        s = starts[0]
        if torch.equal(y[row], x[row]):
            checks.fail(f"y[{row}] equals x[{row}]: the targets must be the inputs shifted by one, "
                        "y[b] = ids[s + 1 : s + T + 1]")
        checks.equal(y[row].tolist(), ids[s + 1:s + t + 1].tolist(), what=f"y[{row}] for x[{row}] = ids[{s}:{s + t}]",
                     hint="the targets are the inputs shifted by one: y[b] = ids[s + 1 : s + T + 1]")


def test_start_indices_uniform(student, gen):
    """1000 draws of batch 32 from arange(100), context 7 (CS336): starts cover exactly
    0 .. 92 and each count lies within 5 sigma of its binomial mean."""
    n, t, b, draws = 100, 7, 32, 1000
    ids = torch.arange(n)
    seed = draw.integer(gen, 0, 2**30)
    firsts = student.batch_starts(ids, b, t, draws, seed)
    checks.tensor(firsts, what="the first ids of 1000 batches", shape=(draws, b), dtype=torch.long)
    counts = torch.bincount(firsts.reshape(-1), minlength=n)
    last = n - t - 1
    seen = counts.nonzero().flatten()
    if int(seen.min()) != 0 or int(seen.max()) != last:
        checks.fail(f"start indices ranged over {int(seen.min())} .. {int(seen.max())}; expected 0 .. {last} "
                    f"(len(ids) - T - 1): " + ("the last window is never drawn (randint's upper bound is exclusive: "
                                               "use len(ids) - T)" if int(seen.max()) < last else
                                               "a window would run past the end"))
    p = 1 / (last + 1)
    mean, sd = draws * b * p, math.sqrt(draws * b * p * (1 - p))
    worst = int((counts[:last + 1] - mean).abs().argmax())
    if abs(int(counts[worst]) - mean) > 5 * sd:
        checks.fail(f"start {worst} was drawn {int(counts[worst])} times in {draws * b}; expected {mean:.0f} +- "
                    f"{5 * sd:.0f} (every start in 0 .. {last} equally likely)")
