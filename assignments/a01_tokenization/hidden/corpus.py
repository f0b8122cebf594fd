"""Texts and tokenizers for the hidden tests, drawn at grade time.

Every text comes from a ``random.Random`` seeded from the test's ``gen`` (``rng(gen)``), so
a run is reproducible from the seed in results.json and every run sees new texts. The
speed tests use ``speed_corpus()``, fixed so that timings compare like with like.
"""

from __future__ import annotations

import random

from autograder.grade import draw

SPECIALS = ["<|endoftext|>", "<|pad|>"]
# Words whose bytes exercise UTF-8: accents, several scripts, emoji (with a skin-tone
# modifier and a ZWJ family), combining marks, contractions.
UNICODE_WORDS = ["naïve", "café", "Straße", "mañana", "élève", "東京", "中文字", "こんにちは", "Привет",
                 "γειά", "مرحبا", "नमस्ते", "🙂", "👋🏽", "👨\u200d👩\u200d👧", "🎉🎉", "e\u0301te\u0301", "n\u0303o",
                 "don't", "it's", "WE'LL", "1234567", "3.14159"]
WHITESPACE = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\u00a0", "\u3000"]
# Code point ranges for random text: long-established blocks only (tiktoken's and Python's
# Unicode tables agree on them), plus anything at all for the tests that need no tiktoken.
BLOCKS = [(0x20, 0x7E), (0xA0, 0x17F), (0x370, 0x3FF), (0x400, 0x4FF), (0x600, 0x6FF), (0x900, 0x97F),
          (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x1F300, 0x1F64F), (0x300, 0x36F)]


def rng(gen) -> random.Random:
    """A ``random.Random`` seeded from the test's torch generator."""
    return random.Random(draw.integer(gen, 0, 2**31 - 1))


def lexicon(r: random.Random, size: int, letters: str = "abcdefgh", unicode: bool = False) -> list[str]:
    """``size`` distinct words: random letters, runs of one letter ("aaaa"), and with
    ``unicode`` the words above and random ones from other scripts."""
    words: set[str] = set()
    while len(words) < size:
        x = r.random()
        if unicode and x < 0.25:
            word = r.choice(UNICODE_WORDS) + r.choice(["", "", r.choice(letters)])
        elif unicode and x < 0.4:
            low, high = r.choice(BLOCKS[3:])
            word = "".join(chr(r.randint(low, high)) for _ in range(r.randint(1, 4)))
        elif x < 0.55:
            word = r.choice(letters) * r.randint(2, 7)
        else:
            word = "".join(r.choice(letters) for _ in range(r.randint(1, 7)))
        words.add(word)
    return sorted(words)


def corpus(r: random.Random, n_words: int, lex: list[str], specials=(), zipf: float = 1.1) -> str:
    """``n_words`` words drawn from ``lex`` with Zipf-like frequencies, joined by spaces,
    punctuation, numbers and newlines; a special token now and then."""
    lex = list(lex)
    r.shuffle(lex)
    weights = [1 / (i + 1) ** zipf for i in range(len(lex))]
    out = []
    for word in r.choices(lex, weights, k=n_words):
        x = r.random()
        out.append(word)
        if specials and x < 0.02:
            out.append(r.choice(list(specials)))
        elif x < 0.08:
            out.append(r.choice([", ", ". ", "! ", "?\n", ".\n\n", " 2026 ", " 42, "]))
        elif x < 0.12:
            out.append(r.choice(WHITESPACE))
        else:
            out.append(" ")
    return "".join(out)


def even_corpus(r: random.Random, lex: list[str], repeats: int) -> str:
    """Every word of ``lex`` exactly ``repeats`` times, shuffled: pair counts tie a lot."""
    words = list(lex) * repeats
    r.shuffle(words)
    return " ".join(words)


def random_text(r: random.Random, length: int, any_code_point: bool = True) -> str:
    """Random text: letters, digits, whitespace runs, punctuation, CJK, emoji, combining
    marks; with ``any_code_point`` also any code point that is not a surrogate."""
    out = []
    while len(out) < length:
        x = r.random()
        if x < 0.3:
            out.append(r.choice("abcdefghij KLMNOP"))
        elif x < 0.4:
            out.append(r.choice(WHITESPACE))
        elif x < 0.45:
            out.append(str(r.randint(0, 10**r.randint(1, 8))))
        elif x < 0.55:
            out.append(r.choice(["'s", "'LL", "don't", "!", "?!", "...", "<", "|>", "$", "é", "ß", "\u200d"]))
        elif x < 0.9 or not any_code_point:
            low, high = r.choice(BLOCKS)
            out.append(chr(r.randint(low, high)))
        else:
            c = r.randint(0, 0x10FFFF)
            out.append(chr(c if not 0xD800 <= c <= 0xDFFF else c - 0x800))
    return "".join(out)


def paragraphs(r: random.Random, n: int, lex: list[str], specials=()) -> list[str]:
    """Paragraphs of lines: each starts with a non-space character and ends with a newline
    after a non-space character; some hold blank lines and lines with trailing spaces.
    Concatenated in any order, a boundary between two paragraphs is never inside a
    pre-token, so a stream of them encodes paragraph by paragraph."""
    def sentence() -> str:
        return " ".join(r.choice(lex) for _ in range(r.randint(1, 10))) + r.choice([".", "!", "?", "  .", ";", "", ""])

    out = []
    for _ in range(n):
        lines = []
        for _ in range(r.randint(1, 9)):
            lines.append(sentence() + r.choice(["\n", "\n", "\n", "  \n"]))
            if r.random() < 0.3:
                lines.append(r.choice(["\n", "\n", "  \n"]))
        lines.append(sentence() + "\n")
        lead = r.choice(list(specials)) if specials and r.random() < 0.3 else ""
        out.append(lead + "".join(lines))
    return out


def speed_corpus() -> str:
    """The fixed corpus of the speed tests (about 150 KB; the same in every run)."""
    r = random.Random(2026)
    return corpus(r, 30_000, lexicon(r, 2_000, letters="abcdefghijklmnopqrstuvwxyz"), SPECIALS)


def trained(reference_module, gen, specials=SPECIALS, pattern=None):
    """A tokenizer the reference trained on a Unicode corpus: ``(r, vocab, merges, specials, texts)``."""
    r = rng(gen)
    lex = lexicon(r, 300, unicode=True)
    pattern = pattern or reference_module.GPT4_SPLIT_PATTERN
    vocab, merges = reference_module.train_bpe_fast(corpus(r, 4_000, lex), 600, specials, pattern)
    texts = [corpus(r, r.randint(1, 40), lex) for _ in range(15)] + ["", " ", "\n\n\n", "a" * 30]
    return r, vocab, merges, specials, texts


def shuffle_ids(r, vocab):
    """``vocab`` with new ids: a random sample of 0..3n, so not contiguous either."""
    return dict(zip(r.sample(range(3 * len(vocab)), len(vocab)), vocab.values()))
