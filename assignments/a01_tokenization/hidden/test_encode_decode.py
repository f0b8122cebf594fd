"""Hidden tests, task encode_decode: ids equal to the reference's, round trips on random
Unicode, ids in range, no merge across pre-tokens, special tokens (never split, never
formed, longest first, allowed_special), ids that are not byte values, decoding with
replacement."""

import pytest
import regex

from autograder.grade import checks
from autograder.grade.seam import StudentException

from . import bugs, corpus, expect

pytestmark = pytest.mark.task("encode_decode")
def with_specials(reference_module, vocab, specials):
    """``vocab`` plus the ids a Tokenizer gives special tokens it lacks (for messages)."""
    return reference_module.Tokenizer(vocab, [], specials).vocab


def check_encode(student, reference, reference_module, vocab, merges, specials, texts, allowed="none_raise",
                 pattern=None, what="encode"):
    pattern = pattern or reference_module.GPT4_SPLIT_PATTERN
    actual = student.run_encode(vocab, merges, specials, texts, allowed, pattern)

    def ref(pat):
        return reference.run_encode(vocab, merges, specials, texts, allowed, pat)
    expect.ids(actual, ref(pattern), texts, what=what, vocab=with_specials(reference_module, vocab, specials),
               diagnoses=bugs.encoding(reference_module, ref, pattern))


def test_matches_reference(student, reference, reference_module, gen):
    r, vocab, merges, specials, texts = corpus.trained(reference_module, gen)
    texts += [corpus.random_text(r, r.randint(1, 60)) for _ in range(20)]
    check_encode(student, reference, reference_module, vocab, merges, specials, texts)


def test_matches_reference_with_gpt2_pattern(student, reference, reference_module, gen):
    pattern = reference_module.GPT2_SPLIT_PATTERN
    _, vocab, merges, specials, texts = corpus.trained(reference_module, gen, pattern=pattern)
    check_encode(student, reference, reference_module, vocab, merges, specials, texts, pattern=pattern,
                 what="encode with pattern=GPT2_SPLIT_PATTERN")


def test_ids_need_not_be_byte_values(student, reference, reference_module, gen):
    # The same tokenizer with its ids shuffled and spread out, as in cl100k where b"!" has id 0.
    r, vocab, merges, specials, texts = corpus.trained(reference_module, gen)
    shuffled = corpus.shuffle_ids(r, vocab)
    check_encode(student, reference, reference_module, shuffled, merges, specials, texts,
                 what="encode with a vocabulary whose ids are shuffled")


def test_round_trip_on_random_unicode(student, reference_module, gen):
    r, vocab, merges, specials, _ = corpus.trained(reference_module, gen)
    texts = [corpus.random_text(r, r.randint(0, 80)) for _ in range(200)]
    encoded = student.run_encode(vocab, merges, specials, texts, "none")
    for text, ids in zip(texts, encoded):
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            checks.fail(f"encode({expect.short(text)}) should return a list of int; got {checks.describe(ids)}")
        bad = [i for i in ids if i not in vocab]
        if bad:
            checks.fail(f"encode({expect.short(text)}) returned id {bad[0]}, which is not in the vocabulary "
                        f"(ids 0..{len(vocab) - 1})")
    decoded = student.run_decode(vocab, merges, specials, encoded)
    for text, ids, back in zip(texts, encoded, decoded):
        if back != text:
            checks.fail(f"decode(encode(text)) must give text back; for {expect.short(text)} it gave "
                        f"{expect.short(back)} (ids {expect.short(ids)})")


def test_no_merge_crosses_a_pre_token_boundary(student, reference_module, gen):
    # Property: encoding a text equals encoding its pre-tokens one by one and concatenating.
    # These merges were learned on whole lines, so many join the end of one word to the
    # next ("a " + "bcb"): a tokenizer that merges inside pre-tokens only never applies them.
    r = corpus.rng(gen)
    lex = corpus.lexicon(r, 100, unicode=True)
    vocab, merges = reference_module.train_bpe_fast(corpus.corpus(r, 1_500, lex), 400, [], r"[^\n]+|\n+")
    pattern = reference_module.GPT4_SPLIT_PATTERN
    for text in [corpus.corpus(r, r.randint(2, 12), lex) for _ in range(12)]:
        pieces = regex.findall(pattern, text)
        whole, *parts = student.run_encode(vocab, merges, [], [text] + pieces)
        if whole != [i for part in parts for i in part]:
            checks.fail(f"encode({expect.short(text)}) is not the concatenation of the encodings of its pre-tokens "
                        f"{expect.short(pieces)}: a merge crossed a pre-token boundary. Cut the text with "
                        "self.pattern first and merge inside each pre-token only.")


def test_special_tokens_are_kept_whole(student, reference, reference_module, gen):
    _, vocab, merges, specials, texts = corpus.trained(reference_module, gen)
    ids = {s: i for i, token in vocab.items() for s in specials if token == s.encode()}
    mixed = [f"{texts[0]}<|endoftext|>{texts[1]}<|pad|><|endoftext|>", "<|pad|>", f"x<|endoftext|>{texts[2]}"]
    check_encode(student, reference, reference_module, vocab, merges, specials, mixed, "all",
                 what="encode(..., allowed_special='all')")
    as_text = student.run_encode(vocab, merges, specials, mixed, "none")
    for text, got in zip(mixed, as_text):
        if set(got) & set(ids.values()):
            checks.fail(f"with allowed_special='none' the special tokens are ordinary text and their ids must not "
                        f"appear, but encoding {expect.short(text)} gave {expect.short(got)}: merges must never "
                        "form a special token")


def test_longest_special_token_wins(student, reference, reference_module, gen):
    _, vocab, merges, _, texts = corpus.trained(reference_module, gen, specials=[])
    specials = ["<|a|>", "<|a|><|a|>", "<|b|>"]
    mixed = ["<|a|><|a|>", "x<|a|><|a|><|a|>y", f"{texts[0]}<|a|><|b|><|a|><|a|>"]
    actual = student.run_encode(vocab, merges, specials, mixed, "all")
    expected = reference.run_encode(vocab, merges, specials, mixed, "all")

    def shortest_first():
        def split(text, special_tokens):
            pieces = regex.split("(" + "|".join(map(regex.escape, sorted(special_tokens, key=len))) + ")", text)
            return [piece for piece in pieces if piece]
        with checks.patched(reference_module, split_on_specials=split):
            return reference.run_encode(vocab, merges, specials, mixed, "all")
    expect.ids(actual, expected, mixed, what="encode with overlapping special tokens <|a|> and <|a|><|a|>",
               vocab=with_specials(reference_module, vocab, specials),
               diagnoses=[(("a shorter special token wins over a longer one that starts at the same place: try the "
                            "longest first"), shortest_first)])


def test_allowed_special_modes(student, reference, reference_module, gen):
    _, vocab, merges, specials, texts = corpus.trained(reference_module, gen)
    text = f"{texts[0]}<|pad|>{texts[1]}<|endoftext|>"
    try:
        student.run_encode(vocab, merges, specials, [text])
    except ValueError:
        pass
    else:
        checks.fail("encode(text) with the default allowed_special='none_raise' must raise ValueError when the "
                    "text contains a special token's text")
    everything = reference.run_encode(vocab, merges, specials, [text], "all")
    for allowed in ("none", ["<|pad|>"], []):
        actual = student.run_encode(vocab, merges, specials, [text], allowed)
        expect.ids(actual, reference.run_encode(vocab, merges, specials, [text], allowed), [text], vocab=vocab,
                   what=f"encode(text, allowed_special={allowed!r})",
                   diagnoses=[("only the special tokens in the set are allowed; the others are ordinary text",
                               lambda: everything)])


def test_decode_replaces_invalid_utf8(student, reference, reference_module, gen):
    _, vocab, merges, specials, _ = corpus.trained(reference_module, gen)
    emoji = [0xF0, 0x9F, 0x98]                          # the first 3 of an emoji's 4 bytes
    id_lists = [emoji, [104, 105] + emoji, [0xC3], [0xA9, 104]]
    try:
        actual = student.run_decode(vocab, merges, specials, id_lists)
    except NotImplementedError:
        raise
    except StudentException:        # UnicodeDecodeError, as the grader relays it
        checks.fail(f"decode({id_lists[0]}) raised an exception: those bytes are not valid UTF-8. Decode with "
                    "errors='replace', which turns them into U+FFFD")
    checks.equal(actual, reference.run_decode(vocab, merges, specials, id_lists),
                 what=f"decode of {id_lists} (invalid UTF-8)", hint="decode with errors='replace'")
