"""Comparisons for a01's hidden tests, written to teach: the first place a result differs,
what was expected there, what came back, and the likely mistake.

``diagnoses`` are ``[(label, thunk), ...]`` from ``bugs``, in the course's one diagnosis
protocol (``checks.likely_mistake``): ``thunk()`` recomputes the result with one known
mistake, only when a result is wrong, and the first that reproduces it is named.
"""

from __future__ import annotations

from autograder.grade.checks import describe, fail, likely_mistake


def likely(actual, diagnoses) -> str:
    label = likely_mistake(actual, diagnoses)
    return f"\nLikely mistake: {label}." if label else ""


def short(value, n: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _pairs(merges, what: str) -> list[tuple]:
    if not isinstance(merges, list):
        fail(f"{what}: merges should be a list of (bytes, bytes) tuples; got {describe(merges)}")
    for i, m in enumerate(merges):
        if not (isinstance(m, (tuple, list)) and len(m) == 2 and all(isinstance(t, bytes) for t in m)):
            fail(f"{what}: merge #{i} should be a pair of bytes objects; got {describe(m)}")
    return [tuple(m) for m in merges]


def training(actual, expected, *, what: str, diagnoses=()) -> None:
    """``actual == expected`` for ``(vocab, merges)``: merges in order, then the vocabulary."""
    if not (isinstance(actual, tuple) and len(actual) == 2):
        fail(f"{what} should return a tuple (vocab, merges); got {describe(actual)}")
    vocab, merges = actual
    e_vocab, e_merges = expected
    merges = _pairs(merges, what)
    if merges != e_merges:
        n = next((i for i, (a, b) in enumerate(zip(merges, e_merges)) if a != b), min(len(merges), len(e_merges)))
        if n < min(len(merges), len(e_merges)):
            detail = (f"merge #{n} is {merges[n]!r}, expected {e_merges[n]!r} (the first {n} merges agree)")
        else:
            detail = f"it learned {len(merges)} merges, expected {len(e_merges)} (the first {n} agree)"
        fail(f"{what}: {detail}" + likely((vocab, merges), diagnoses))
    if not isinstance(vocab, dict) or not all(isinstance(t, bytes) for t in vocab.values()):
        fail(f"{what}: vocab should be a dict {{id: bytes}}; got {describe(vocab)}")
    if vocab != e_vocab:
        wrong = sorted(k for k in e_vocab if vocab.get(k) != e_vocab[k])
        if not wrong:
            extra = sorted(map(repr, set(vocab) - set(e_vocab)))
            fail(f"{what}: the merges are right but vocab has ids it should not: {', '.join(extra[:5])} "
                 f"({len(vocab)} ids, expected {len(e_vocab)})")
        i = wrong[0]
        hint = ""
        if sorted(vocab.values()) == sorted(e_vocab.values()):
            hint = ("\nThe tokens are right but their ids are not: bytes 0..255 first (id b is bytes([b])), then "
                    "one id per merge in order, then the special tokens in the order given.")
        fail(f"{what}: the merges are right but vocab[{i}] is {short(vocab.get(i, 'missing'))}, expected "
             f"{short(e_vocab[i])} ({len(vocab)} ids, expected {len(e_vocab)}){hint}")


def ids(actual, expected, texts, *, what: str, vocab: dict, diagnoses=()) -> None:
    """Each ``actual[k] == expected[k]``, the ids of ``texts[k]``."""
    if not isinstance(actual, list) or len(actual) != len(expected):
        fail(f"{what}: expected a list of {len(expected)} id lists; got {describe(actual)}")
    for text, got, want in zip(texts, actual, expected):
        if got == want:
            continue
        if not isinstance(got, list) or not all(isinstance(i, int) for i in got):
            fail(f"{what}: encode should return a list of int; got {describe(got)} for {short(text)}")
        n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))

        def show(seq, n=n):
            return " ".join(f"{i}:{short(vocab.get(i, '?'), 20)}" for i in seq[n:n + 4]) or "(end)"
        fail(f"{what}: the ids of {short(text)} differ from position {n} on: got [{show(got)} ...], "
             f"expected [{show(want)} ...] (shown as id:token; {len(got)} ids in all, expected {len(want)})"
             + likely(actual, diagnoses))
