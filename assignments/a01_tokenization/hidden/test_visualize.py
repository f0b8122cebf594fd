"""Hidden tests, task visualize: visualize equal to the reference's (colours, blocks of
tokens that end inside a character), stripping the colours gives the text back, and
tokens_per_word."""

import pytest
import regex

from autograder.grade import checks

from . import corpus, expect

pytestmark = pytest.mark.task("visualize")
ANSI = regex.compile(r"\x1b\[[0-9;]*m")


def test_matches_reference(student, reference, reference_module, gen):
    _, vocab, merges, specials, texts = corpus.trained(reference_module, gen)
    texts = texts[:10] + ["👋🏽 東京 e\u0301", "<|endoftext|>hello<|pad|>", "plain ascii words"]
    actual = student.run_visualize(vocab, merges, specials, texts)
    expected = reference.run_visualize(vocab, merges, specials, texts)
    for text, got, want in zip(texts, actual, expected):
        if got != want:
            blocks = ANSI.split(want)
            checks.fail(f"visualize({expect.short(text)}) returned {expect.short(got, 160)}; expected "
                        f"{expect.short(want, 160)}. Block k is '\\x1b[' + str(COLOURS[k % 6]) + 'm' + its text "
                        f"+ RESET ({len([b for b in blocks if b])} blocks here); tokens that end inside a character "
                        "share a block with the next ones.")


def test_removing_the_colours_gives_the_text(student, reference_module, gen):
    r, vocab, merges, specials, _ = corpus.trained(reference_module, gen)
    texts = [corpus.random_text(r, r.randint(1, 60)) for _ in range(60)]
    for text, shown in zip(texts, student.run_visualize(vocab, merges, specials, texts)):
        if not isinstance(shown, str) or ANSI.sub("", shown) != text:
            checks.fail(f"removing the escape codes from visualize({expect.short(text)}) must give the text back; it "
                        f"gave {expect.short(ANSI.sub('', shown) if isinstance(shown, str) else shown)}. A token "
                        "that ends inside a character cannot be decoded alone: join it with the next tokens.")


def test_tokens_per_word(student, reference, reference_module, gen):
    _, vocab, merges, specials, texts = corpus.trained(reference_module, gen)
    texts = [t for t in texts if t.split()] + ["one", "  two   words  ", "a\tb\nc d"]
    actual = student.run_tokens_per_word(vocab, merges, specials, texts)
    expected = reference.run_tokens_per_word(vocab, merges, specials, texts)
    for text, got, want in zip(texts, actual, expected):
        if not isinstance(got, float) or abs(got - want) > 1e-12:
            checks.fail(f"tokens_per_word({expect.short(text)}) returned {checks.describe(got)}; expected {want} "
                        f"= {round(want * len(text.split()))} tokens / {len(text.split())} words (text.split())")
