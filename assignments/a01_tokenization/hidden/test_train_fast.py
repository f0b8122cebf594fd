"""Hidden tests, task train_fast (hardmode): train_bpe_fast returns exactly what the
reference train_bpe returns, runs close to the reference fast trainer, and beats the
naive one clearly."""

import pytest

from autograder.grade import checks

from . import bugs, corpus, expect

pytestmark = pytest.mark.task("train_fast")
# Each fast trainer is timed twice and the faster run counts: at 0.1 s, one run can be off by
# a scheduling hiccup. The bars (naive_speedup, fast_factor) and their measurements are in grading.toml.
MERGES = 500


@pytest.mark.parametrize("kind", ["words", "unicode_and_specials", "ties"])
def test_same_result_as_train_bpe(student, reference, reference_module, gen, kind):
    r = corpus.rng(gen)
    specials = corpus.SPECIALS if kind == "unicode_and_specials" else []
    if kind == "ties":
        text = corpus.even_corpus(r, corpus.lexicon(r, 80, letters="abcd"), 3)
    else:
        text = corpus.corpus(r, 3_000, corpus.lexicon(r, 300, unicode=kind != "words"), specials)
    args = (text, 256 + r.randint(80, 160) + len(specials), specials, reference_module.GPT4_SPLIT_PATTERN)
    expect.training(student.train_bpe_fast(*args), reference.train_bpe(*args),
                    what=f"train_bpe_fast on a corpus of {kind.replace('_', ' ')}",
                    diagnoses=bugs.training(reference_module, *args))


def best_of_two(submission, *args):
    (result, first), (_, second) = (submission.measure("train_bpe_fast", *args) for _ in range(2))
    return result, min(first["seconds"], second["seconds"])


def test_speed(student, reference, bars):
    args = (corpus.speed_corpus(), 256 + MERGES + len(corpus.SPECIALS), corpus.SPECIALS)
    actual, seconds = best_of_two(student, *args)
    expected, fast = best_of_two(reference, *args)
    expect.training(actual, expected, what="train_bpe_fast on the speed corpus")
    _, naive = reference.measure("train_bpe", *args)
    if naive["seconds"] / seconds < bars["naive_speedup"]:
        checks.fail(f"train_bpe_fast took {seconds:.2f} s, only {naive['seconds'] / seconds:.1f}x faster than the "
                    f"reference train_bpe ({naive['seconds']:.2f} s); it must be at least {bars['naive_speedup']:g}x faster. "
                    "After a merge, update only the pre-tokens that contain the pair.")
    if seconds / fast > bars["fast_factor"]:
        checks.fail(f"train_bpe_fast took {seconds:.2f} s, {seconds / fast:.1f}x the reference train_bpe_fast "
                    f"({fast:.2f} s; allowed: {bars['fast_factor']:g}x). Find the best pair without scanning every pair "
                    "(a heap), and visit only the pre-tokens that contain the merged pair.")
