"""Known mistakes in a01, recomputed on the trusted side from the reference's pieces.

Each function returns ``[(label, thunk), ...]``: ``thunk()`` is what a submission with
that mistake would return on the same inputs (``expect`` calls them only when a result is
wrong). ``patched`` (``checks.patched``) swaps functions of the reference module, or methods
of its ``Tokenizer``, for buggy ones while a result is recomputed.
"""

from __future__ import annotations

from itertools import pairwise

from autograder.grade.checks import patched

WHOLE = r"(?s).+"          # a "pattern" that keeps each piece of text whole: no pre-tokenization


def get_stats(ids) -> list:
    once = {pair: 1 for pair in pairwise(ids)}
    apart: dict = {}
    i = 0
    while i + 1 < len(ids):
        apart[(ids[i], ids[i + 1])] = apart.get((ids[i], ids[i + 1]), 0) + 1
        i += 2 if ids[i] == ids[i + 1] else 1
    return [("each pair is counted once however often it occurs (a set, or counts[pair] = 1)", lambda: once),
            ("overlapping occurrences are not all counted: [7, 7, 7] holds the pair (7, 7) twice", lambda: apart)]


def merge(ids, pair, new_id) -> list:
    def scan(step_after_merge, first_only=False, keep_last=True):
        out, i, done = [], 0, False
        while i < len(ids) if keep_last else i + 1 < len(ids):
            if not done and i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
                out.append(new_id)
                i += step_after_merge
                done = first_only
            else:
                out.append(ids[i])
                i += 1
        return out

    def merge_reversed():
        rev, out, i = ids[::-1], [], 0
        while i < len(rev):
            if i + 1 < len(rev) and (rev[i + 1], rev[i]) == tuple(pair):
                out.append(new_id)
                i += 2
            else:
                out.append(rev[i])
                i += 1
        return out

    return [(("after merging a pair the scan moves on by one item instead of two, so overlapping "
              "occurrences are merged twice"), lambda: scan(1)),
            ("only the first occurrence of the pair is merged", lambda: scan(2, first_only=True)),
            ("the last item is lost when it is not part of a merged pair", lambda: scan(2, keep_last=False)),
            ("occurrences are merged from the right: merge greedily from the left", lambda: merge_reversed()[::-1])]


def training(ref, text, vocab_size, specials, pattern) -> list:
    """Reference training with one mistake each."""
    def run(size=vocab_size, pat=pattern, **patch):
        def thunk():
            with patched(ref, **patch):
                vocab, merges = ref.train_bpe(text, size, specials, pat)
            return vocab, merges
        return thunk

    split = ref.split_on_specials
    count = ref.count_pretokens

    def joined(text, special_tokens):
        rest = "".join(p for p in split(text, special_tokens) if p not in set(special_tokens))
        return [rest] if rest else []

    out = [
        ("ties go to the smallest pair; the rule is the lexicographically greatest (vocab[a], vocab[b])",
         run(best_pair=lambda stats, vocab: min(stats, key=lambda p: (-stats[p], vocab[p[0]], vocab[p[1]])))),
        ("ties are broken by comparing token ids; compare the tokens' bytes, (vocab[a], vocab[b])",
         run(best_pair=lambda stats, vocab: max(stats, key=lambda p: (stats[p], p)))),
        ("ties go to the pair counted first; break them by comparing (vocab[a], vocab[b])",
         run(best_pair=lambda stats, vocab: max(stats, key=stats.get))),
        ("merges cross pre-token boundaries: count pairs inside each pre-token only", run(pat=WHOLE)),
        ("a pre-token's pairs are not weighted by how often the pre-token occurs",
         run(count_pretokens=lambda *a: {word: 1 for word in count(*a)})),
        ("a pair that occurs several times in one pre-token is counted once",
         run(get_stats=lambda ids, counts=None: {pair: 1 for pair in pairwise(ids)})),
    ]
    if specials:
        out += [
            ("the special tokens' text is counted as ordinary text: cut the special tokens out first",
             run(split_on_specials=lambda text, special_tokens: [text] if text else [])),
            ("pairs are counted across special tokens: pre-tokenize each piece between them separately",
             run(split_on_specials=joined)),
            ("vocab_size does not count the special tokens: learn vocab_size - 256 - len(special_tokens) merges",
             run(size=vocab_size + len(specials))),
        ]
    if pattern != ref.GPT4_SPLIT_PATTERN:
        out.append(("the pattern argument is ignored", run(pat=ref.GPT4_SPLIT_PATTERN)))
    return out


def _merge_all(parts, pair, new):
    out, i = [], 0
    while i < len(parts):
        if tuple(parts[i:i + 2]) == tuple(pair):
            out.append(new)
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


def _leftmost_first(tok, piece):
    """Merges the leftmost adjacent pair that is a merge, whatever its rank."""
    parts = [bytes([b]) for b in piece.encode("utf-8")]
    while (pair := next((p for p in pairwise(parts) if p in tok.ranks), None)) is not None:
        parts = _merge_all(parts, pair, pair[0] + pair[1])
    return [tok.ids[p] for p in parts]


def _byte_ids(tok, piece):
    """Starts from the raw byte values as ids and merges pairs of ids."""
    if not hasattr(tok, "_id_ranks"):
        tok._id_ranks = {(tok.ids[a], tok.ids[b]): (r, tok.ids[a + b]) for (a, b), r in tok.ranks.items()}
    ids = list(piece.encode("utf-8"))
    while len(ids) > 1:
        pair = min(pairwise(ids), key=lambda p: tok._id_ranks.get(p, (len(tok.ranks),))[0])
        if pair not in tok._id_ranks:
            break
        ids = _merge_all(ids, pair, tok._id_ranks[pair][1])
    return ids


def encoding(ref, encode, pattern) -> list:
    """``encode(pattern)`` recomputes the ids with the reference module's Tokenizer."""
    def run(method=None, whole=False):
        def thunk():
            replace = {"encode_pretoken": method} if method else {}
            with patched(ref.Tokenizer, **replace):
                return encode(WHOLE if whole else pattern)
        return thunk

    return [("merges are applied in the order found, leftmost first; apply the pair of lowest rank first",
             run(_leftmost_first)),
            ("the text is not cut into pre-tokens before merging", run(whole=True)),
            ("byte b is assumed to have id b; start from bytes objects and look ids up in vocab", run(_byte_ids))]
