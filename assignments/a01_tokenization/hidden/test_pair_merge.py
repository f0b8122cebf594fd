"""Hidden tests, task pair_merge: get_stats and merge against the reference on id lists
with long runs (overlapping pairs) and repeated pairs."""

from itertools import pairwise

import pytest

from autograder.grade import checks

from . import bugs, corpus
from .expect import likely

pytestmark = pytest.mark.task("pair_merge")


def id_lists(gen, n=6):
    """Lists of ids from a small alphabet, with runs like [7, 7, 7, 7]; one empty, one single."""
    r = corpus.rng(gen)
    out = [[], [r.randint(0, 255)]]
    while len(out) < n:
        ids = []
        while len(ids) < r.randint(5, 40):
            ids += [r.choice([7, 8, 9, 300])] * r.choice([1, 1, 2, 3, 4])
        out.append(ids)
    return out


def test_get_stats_matches_reference(student, reference, gen):
    for ids in id_lists(gen):
        actual, expected = student.get_stats(ids), reference.get_stats(ids)
        if not isinstance(actual, dict) or actual != expected:
            checks.fail(f"get_stats({ids}) returned {checks.describe(actual)}; expected {expected}"
                        + likely(actual, bugs.get_stats(ids)))


def test_get_stats_adds_to_counts(student, reference, gen):
    first, second = id_lists(gen)[2:4]
    counts = reference.get_stats(first)
    actual = student.get_stats(second, dict(counts))
    expected = reference.get_stats(second, dict(counts))
    if actual != expected:
        checks.fail(f"get_stats(ids, counts) must add the pairs of ids to counts and return it: with counts = "
                    f"{counts} and ids = {second} it returned {checks.describe(actual)}, expected {expected}")


def test_merge_matches_reference(student, reference, gen):
    r = corpus.rng(gen)
    for ids in id_lists(gen)[2:]:
        pairs = list(pairwise(ids))
        for pair in [max(pairs, key=lambda p: p[0] == p[1]), r.choice(pairs)]:
            actual, expected = student.merge(ids, pair, 1000), reference.merge(ids, pair, 1000)
            if actual != expected:
                checks.fail(f"merge({ids}, {pair}, 1000) returned {checks.describe(actual)}; expected {expected}"
                            + likely(actual, bugs.merge(ids, pair, 1000)))


def test_merge_of_an_absent_pair_changes_nothing(student, gen):
    ids = id_lists(gen)[3]
    actual = student.merge(ids, (1, 2), 1000)
    checks.equal(actual, ids, what=f"merge({ids}, (1, 2), 1000), a pair that does not occur")
