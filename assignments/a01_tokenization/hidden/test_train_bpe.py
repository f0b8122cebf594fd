"""Hidden tests, task train_bpe: merges and vocabulary exactly equal to the reference's on
corpora drawn at grade time (ties, runs of one letter, Unicode, special tokens, GPT-2's
pattern), stopping early, and speed against the reference."""

import pytest

from autograder.grade import checks

from . import bugs, corpus, expect

pytestmark = pytest.mark.task("train_bpe")


def check(student, reference, reference_module, text, vocab_size, specials=(), pattern=None):
    pattern = pattern or reference_module.GPT4_SPLIT_PATTERN
    args = (text, vocab_size, list(specials), pattern)
    actual = student.train_bpe(*args)
    what = (f"train_bpe(<{len(text):,} characters>, vocab_size={vocab_size}, special_tokens={list(specials)}"
            + (", pattern=GPT2_SPLIT_PATTERN)" if pattern != reference_module.GPT4_SPLIT_PATTERN else ")"))
    expect.training(actual, reference.train_bpe(*args), what=what,
                    diagnoses=bugs.training(reference_module, *args))
    return actual


def test_zipf_words(student, reference, reference_module, gen):
    r = corpus.rng(gen)
    text = corpus.corpus(r, 3_000, corpus.lexicon(r, 300))
    check(student, reference, reference_module, text, 256 + r.randint(60, 120))


def test_ties_everywhere(student, reference, reference_module, gen):
    # Every word occurs equally often, from an alphabet of 4 letters: most choices are ties.
    r = corpus.rng(gen)
    text = corpus.even_corpus(r, corpus.lexicon(r, 60, letters="abcd"), r.randint(2, 4))
    check(student, reference, reference_module, text, 256 + r.randint(40, 80))


def test_runs_of_one_letter(student, reference, reference_module, gen):
    r = corpus.rng(gen)
    words = [c * r.randint(1, 9) for c in "aaaaabbbz" for _ in range(8)]
    text = " ".join(r.choice(words) for _ in range(400)) + " " + "a" * r.randint(20, 40)
    check(student, reference, reference_module, text, 256 + r.randint(20, 40))


def test_unicode(student, reference, reference_module, gen):
    r = corpus.rng(gen)
    text = corpus.corpus(r, 2_000, corpus.lexicon(r, 200, unicode=True))
    check(student, reference, reference_module, text, 256 + r.randint(80, 150))


def test_special_tokens(student, reference, reference_module, gen):
    r = corpus.rng(gen)
    specials = ["<|endoftext|>", "<|endoftext|><|endoftext|>", "<|pad|>"]
    text = corpus.corpus(r, 3_000, corpus.lexicon(r, 200), specials)
    _, merges = check(student, reference, reference_module, text, 256 + r.randint(60, 120) + 3, specials)
    for a, b in merges:
        if b"<|" in a + b or b"|>" in a + b:
            checks.fail(f"the merge {(a, b)!r} builds part of a special token: special tokens are cut out of "
                        "the text before counting pairs")


def test_gpt2_pattern(student, reference, reference_module, gen):
    r = corpus.rng(gen)
    text = corpus.corpus(r, 2_000, corpus.lexicon(r, 200, unicode=True))
    check(student, reference, reference_module, text, 256 + r.randint(60, 120),
          pattern=reference_module.GPT2_SPLIT_PATTERN)


def test_stops_when_no_pair_is_left(student, reference, reference_module):
    # "ab ab cd": pre-tokens "ab", " ab", " cd": four merges, then every pre-token is one token.
    vocab, _ = check(student, reference, reference_module, "ab ab cd", 400, ["<|endoftext|>"])
    if vocab.get(260) != b"<|endoftext|>":
        checks.fail(f"after the last possible merge the special token must take the next id (260); vocab[260] is "
                    f"{vocab.get(260)!r}")


def test_speed(student, reference, bars):
    # A fixed 150 KB corpus, 2,000 distinct words, 200 merges; the bar (speed_factor) and why
    # it sits where it does are in grading.toml.
    text = corpus.speed_corpus()
    args = (text, 456, corpus.SPECIALS)
    actual, timing = student.measure("train_bpe", *args)
    expected, ref_timing = reference.measure("train_bpe", *args)
    expect.training(actual, expected, what="train_bpe on the speed corpus")
    ratio = timing["seconds"] / ref_timing["seconds"]
    if ratio > bars["speed_factor"]:
        checks.fail(f"train_bpe took {timing['seconds']:.2f} s, {ratio:.1f}x the reference's "
                    f"{ref_timing['seconds']:.2f} s on the same corpus (allowed: {bars['speed_factor']:g}x). Count each "
                    "distinct pre-token once, weighted by how often it occurs, instead of every occurrence.")
