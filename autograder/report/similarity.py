"""Similar submissions: pairs whose graded code overlaps beyond a threshold.

Fingerprints are copydetect's (the maintained MOSS-style winnowing library: code tokenised
and normalised, so renamed variables and moved comments still match): k-grams of
``NOISE`` tokens, winnowed so any match of ``GUARANTEE`` tokens is found. Fingerprints of
the boilerplate (the released stub and scaffolding every student starts from) are
discarded first, so two untouched stubs are not "similar". A pair's similarity is the
smaller of the two shares of each file's fingerprinted tokens found in the other: both
must be mostly the other's code (a short correct solution is contained in every longer
one; both shares are listed).

Leaves out: judging. A high score is a reason to look, never a verdict.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import combinations

NOISE, GUARANTEE = 25, 30          # copydetect's defaults: k-gram length, and the match length always found


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float             # the smaller of the two shares, 0..1
    shares: tuple[float, float]   # share of a's tokens found in b, and of b's in a
    tokens: int                   # overlapping tokens


def _fingerprint(code: str, boilerplate=None):
    from copydetect import CodeFingerprint
    return CodeFingerprint("submission.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def pairs(codes: dict[str, str], boilerplate: list[str], threshold: float) -> list[Pair]:
    """Every pair of ``codes`` (name -> code) at least ``threshold`` similar, most similar first."""
    from copydetect import compare_files
    ignored = sorted({h for text in boilerplate for h in _fingerprint(text).hashes})
    prints = {name: _fingerprint(code, ignored) for name, code in codes.items()}
    found = []
    for a, b in combinations(sorted(prints), 2):
        if not prints[a].token_coverage or not prints[b].token_coverage:
            continue
        tokens, (share_a, share_b), _ = compare_files(prints[a], prints[b])
        similarity = min(float(share_a), float(share_b))
        if similarity >= threshold:
            found.append(Pair(a, b, similarity, (float(share_a), float(share_b)), int(tokens)))
    return sorted(found, key=lambda p: -p.similarity)
