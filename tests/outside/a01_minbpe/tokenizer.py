"""An outside-style a01 submission: a byte-level BPE tokenizer written the way Karpathy's minbpe
(karpathy/minbpe: base.py, basic.py, regex.py, gpt4.py) writes it, from the student handout
only, adapted only to the assignment's API (names, signatures, bytes-keyed merges, the
tie-break, tiktoken's allowed_special values, the text file format, streaming, the questions).
Correct, so it must get full marks in both variants (tests/test_outside.py).

minbpe's shapes, kept on purpose: ``get_stats``/``merge`` as the two primitives, a vocab built
from the merges, encoding that repeatedly takes the adjacent pair of lowest rank with
``min(stats, key=...)``, special tokens cut with ``re.split`` on an alternation of escaped
specials (longest first), and cl100k's merges recovered with minbpe's ``bpe(..., max_rank)``
helper. Added where the API needs it: a bounded pre-token cache, a line-boundary streaming
buffer, and an incremental heap trainer (``train_bpe_fast``). The handout's given code
(``BaseTokenizer.__init__``, ``BasicTokenizer.encode``, the split patterns and constants) is
copied unchanged.
"""

import heapq
import json
from collections.abc import Iterable, Iterator

import regex as re

# -----------------------------------------------------------------------------
# the two primitives (minbpe base.py)


def get_stats(ids, counts=None):
    """Counts of consecutive pairs, added to ``counts`` if given."""
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids, pair, idx):
    """Replace every consecutive occurrence of ``pair`` in ``ids`` by ``idx``."""
    newids = []
    i = 0
    while i < len(ids):
        if ids[i] == pair[0] and i < len(ids) - 1 and ids[i + 1] == pair[1]:
            newids.append(idx)
            i += 2
        else:
            newids.append(ids[i])
            i += 1
    return newids


# -----------------------------------------------------------------------------
# the data of a tokenizer, and its file


class BaseTokenizer:
    """vocab (id -> bytes), merges (rank order), special_tokens (str -> id), pattern."""

    def __init__(self, vocab: dict[int, bytes], merges: list[tuple[bytes, bytes]],
                 special_tokens: Iterable[str] = (), pattern: str = ""):
        self.vocab = dict(vocab)
        self.merges = list(merges)
        self.pattern = pattern
        self.special_tokens: dict[str, int] = {}
        ids = {token: i for i, token in self.vocab.items()}
        for special in special_tokens:
            token = special.encode("utf-8")
            if token not in ids:
                ids[token] = max(self.vocab, default=-1) + 1
                self.vocab[ids[token]] = token
            self.special_tokens[special] = ids[token]

    def save(self, path):
        lines = ["bpe-tokenizer v1", f"pattern {json.dumps(self.pattern)}", f"vocab {len(self.vocab)}"]
        for idx in sorted(self.vocab):
            lines.append(f"{idx} {self.vocab[idx].hex()}")
        lines.append(f"merges {len(self.merges)}")
        for a, b in self.merges:
            lines.append(f"{a.hex()} {b.hex()}")
        lines.append(f"specials {len(self.special_tokens)}")
        for special, idx in self.special_tokens.items():
            lines.append(f"{idx} {json.dumps(special)}")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[0] == "bpe-tokenizer v1", f"not a tokenizer file: {lines[0]!r}"
        pattern = json.loads(lines[1][len("pattern "):])
        n = int(lines[2].split()[1])
        vocab = {}
        for line in lines[3:3 + n]:
            idx, token = line.split(" ", 1)
            vocab[int(idx)] = bytes.fromhex(token)
        at = 3 + n
        m = int(lines[at].split()[1])
        merges = []
        for line in lines[at + 1:at + 1 + m]:
            a, b = line.split(" ")
            merges.append((bytes.fromhex(a), bytes.fromhex(b)))
        at += 1 + m
        k = int(lines[at].split()[1])
        specials = {}
        for line in lines[at + 1:at + 1 + k]:
            idx, special = line.split(" ", 1)
            specials[json.loads(special)] = int(idx)
        tok = cls(vocab, merges, list(specials), pattern)
        tok.special_tokens = specials          # the saved ids, exactly
        return tok


# -----------------------------------------------------------------------------
# basic: BPE on the whole text (minbpe basic.py)


def best_pair(stats, vocab):
    """Most frequent pair; ties go to the greatest (vocab[a], vocab[b])."""
    return max(stats, key=lambda p: (stats[p], vocab[p[0]], vocab[p[1]]))


class BasicTokenizer(BaseTokenizer):

    def __init__(self, vocab, merges, special_tokens=(), pattern=""):
        super().__init__(vocab, merges, special_tokens, pattern)
        self.ranks = {}
        for i, pair in enumerate(self.merges):
            self.ranks.setdefault(tuple(pair), i)
        self.ids = {token: idx for idx, token in self.vocab.items()}

    def encode_pretoken(self, piece):
        # work on bytes objects, look the ids up at the end (minbpe's encode_chunk)
        parts = [bytes([b]) for b in piece.encode("utf-8")]
        while len(parts) >= 2:
            stats = get_stats(parts)
            pair = min(stats, key=lambda p: self.ranks.get(p, float("inf")))
            if pair not in self.ranks:
                break  # nothing else can be merged
            parts = merge(parts, pair, pair[0] + pair[1])
        return [self.ids[part] for part in parts]

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``, the whole text as one piece: ``self.encode_pretoken(text)``.

        Example:
            >>> BasicTokenizer({i: bytes([i]) for i in range(256)}, []).encode("hé")
            [104, 195, 169]
        """
        return self.encode_pretoken(text)

    def decode(self, ids):
        text_bytes = b"".join(self.vocab[idx] for idx in ids)
        return text_bytes.decode("utf-8", errors="replace")


# -----------------------------------------------------------------------------
# regex: pre-tokenization and special tokens (minbpe regex.py)

# The pre-tokenization patterns of GPT-2 (r50k_base) and GPT-4 (cl100k_base), exactly as
# tiktoken 0.14 writes them (tiktoken_ext/openai_public.py). minbpe's copies are older
# forms that differ only for whitespace at the very end of a text.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
GPT4_SPLIT_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""


def split_on_specials(text, special_tokens):
    specials = sorted({s for s in special_tokens if s}, key=len, reverse=True)  # the longest match wins
    if not specials:
        return [text] if text else []
    special_pattern = "(" + "|".join(re.escape(s) for s in specials) + ")"
    return [part for part in re.split(special_pattern, text) if part]


def _pretokens(text, pattern):
    return re.findall(pattern, text) if pattern else [text]


def count_pretokens(text, special_tokens=(), pattern=GPT4_SPLIT_PATTERN):
    specials = set(special_tokens)
    compiled = re.compile(pattern) if pattern else None
    counts = {}
    for part in split_on_specials(text, specials):
        if part in specials:
            continue
        for chunk in (compiled.findall(part) if compiled else [part]):
            key = tuple(chunk.encode("utf-8"))
            counts[key] = counts.get(key, 0) + 1
    return counts


def train_bpe(text, vocab_size, special_tokens=(), pattern=GPT4_SPLIT_PATTERN):
    special_tokens = list(special_tokens)
    num_merges = vocab_size - 256 - len(special_tokens)
    words = count_pretokens(text, special_tokens, pattern)
    vocab = {idx: bytes([idx]) for idx in range(256)}
    merges = []
    for i in range(max(num_merges, 0)):
        stats = {}
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                stats[pair] = stats.get(pair, 0) + n
        if not stats:
            break
        pair = best_pair(stats, vocab)
        idx = 256 + i
        merges.append((vocab[pair[0]], vocab[pair[1]]))
        vocab[idx] = vocab[pair[0]] + vocab[pair[1]]
        merged = {}
        for word, n in words.items():
            if len(word) > 1 and pair[0] in word:
                word = tuple(merge(word, pair, idx))
            merged[word] = merged.get(word, 0) + n
        words = merged
    for special in special_tokens:
        vocab[len(vocab)] = special.encode("utf-8")
    return vocab, merges


CACHE_SIZE = 1 << 14        # pre-tokens whose ids are kept (cleared when full: memory stays bounded)


class RegexTokenizer(BasicTokenizer):

    def __init__(self, vocab, merges, special_tokens=(), pattern=GPT4_SPLIT_PATTERN):
        super().__init__(vocab, merges, special_tokens, pattern)
        self.regex = re.compile(pattern) if pattern else None
        self.cache = {}

    def encode_ordinary(self, text):
        ids = []
        for chunk in (self.regex.findall(text) if self.regex else ([text] if text else [])):
            chunk_ids = self.cache.get(chunk)
            if chunk_ids is None:
                chunk_ids = self.encode_pretoken(chunk)
                if len(self.cache) >= CACHE_SIZE:
                    self.cache.clear()
                self.cache[chunk] = chunk_ids
            ids.extend(chunk_ids)
        return ids

    def encode(self, text, allowed_special="none_raise"):
        special = None
        if allowed_special == "all":
            special = self.special_tokens
        elif allowed_special == "none":
            special = {}
        elif allowed_special == "none_raise":
            special = {}
            for token in self.special_tokens:
                if token in text:
                    raise ValueError(f"special token {token!r} found in text, and allowed_special is 'none_raise'")
        elif isinstance(allowed_special, (set, frozenset, list, tuple)):
            special = {k: v for k, v in self.special_tokens.items() if k in allowed_special}
        else:
            raise ValueError(f"allowed_special={allowed_special!r} not understood")
        if not special:
            return self.encode_ordinary(text)
        ids = []
        for part in split_on_specials(text, special):
            if part in special:
                ids.append(special[part])
            else:
                ids.extend(self.encode_ordinary(part))
        return ids


# -----------------------------------------------------------------------------
# streaming

STREAM_BUFFER = 1 << 16        # characters to gather before encoding: fewer, larger calls to encode


class Tokenizer(RegexTokenizer):

    def encode_iterable(self, chunks, allowed_special="none_raise") -> Iterator[int]:
        buffer, size = [], 0
        for chunk in chunks:
            if not chunk:
                continue
            # safe to cut between "x\n" and "y" when neither x nor y is whitespace
            if (size >= STREAM_BUFFER and buffer[-1].endswith("\n") and not chunk[0].isspace()):
                last = buffer[-1][-2:-1] or (buffer[-2][-1:] if len(buffer) > 1 else "")
                if last and not last.isspace():
                    yield from self.encode("".join(buffer), allowed_special)
                    buffer, size = [], 0
            buffer.append(chunk)
            size += len(chunk)
        yield from self.encode("".join(buffer), allowed_special)


# -----------------------------------------------------------------------------
# gpt4: cl100k from tiktoken's ranks (minbpe gpt4.py)


def bpe(mergeable_ranks, token, max_rank):
    # helper function used in recover_merges to reconstruct the merge forest
    parts = [bytes([b]) for b in token]
    while True:
        min_idx = None
        min_rank = None
        for i, pair in enumerate(zip(parts[:-1], parts[1:])):
            rank = mergeable_ranks.get(pair[0] + pair[1])
            if rank is not None and (min_rank is None or rank < min_rank):
                min_idx = i
                min_rank = rank
        if min_rank is None or (max_rank is not None and min_rank >= max_rank):
            break
        assert min_idx is not None
        parts = parts[:min_idx] + [parts[min_idx] + parts[min_idx + 1]] + parts[min_idx + 2:]
    return parts


def recover_merges(mergeable_ranks):
    merges = {}
    for token, rank in mergeable_ranks.items():
        if len(token) == 1:
            continue  # skip raw bytes
        pair = tuple(bpe(mergeable_ranks, token, max_rank=rank))
        assert len(pair) == 2
        merges[pair] = rank
    return [pair for pair, _ in sorted(merges.items(), key=lambda item: item[1])]


def from_tiktoken(mergeable_ranks, special_tokens, pattern):
    vocab = {rank: token for token, rank in mergeable_ranks.items()}
    for special, idx in special_tokens.items():
        vocab[idx] = special.encode("utf-8")
    tok = Tokenizer(vocab, recover_merges(mergeable_ranks), list(special_tokens), pattern)
    tok.special_tokens = dict(special_tokens)
    return tok


# -----------------------------------------------------------------------------
# looking at tokens

COLOURS = (41, 42, 43, 44, 45, 46)      # ANSI background colours: red, green, yellow, blue, magenta, cyan
RESET = "\x1b[0m"


def visualize(tokenizer, text):
    out = []
    pending = b""
    for idx in tokenizer.encode(text, allowed_special="all"):
        pending += tokenizer.vocab[idx]
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue  # a character is cut: the next tokens join this block
        out.append(f"\x1b[{COLOURS[len(out) % len(COLOURS)]}m{piece}{RESET}")
        pending = b""
    if pending:
        out.append(f"\x1b[{COLOURS[len(out) % len(COLOURS)]}m{pending.decode('utf-8', errors='replace')}{RESET}")
    return "".join(out)


def tokens_per_word(tokenizer, text):
    return len(tokenizer.encode(text)) / len(text.split())


# -----------------------------------------------------------------------------
# advanced build (hardmode): an incremental trainer with a lazily updated heap


def _desc(token):
    # a str key whose order is the reverse of the order of ``token``: bytes map to chr(256 - b)
    # and a terminator chr(257) sorts a prefix after its extensions
    return "".join(map(chr, (256 - b for b in token))) + chr(257)


def train_bpe_fast(text, vocab_size, special_tokens=(), pattern=GPT4_SPLIT_PATTERN):
    special_tokens = list(special_tokens)
    num_merges = vocab_size - 256 - len(special_tokens)
    counted = count_pretokens(text, special_tokens, pattern)
    words = [list(w) for w in counted]
    freqs = list(counted.values())
    vocab = {idx: bytes([idx]) for idx in range(256)}
    keys = {idx: _desc(vocab[idx]) for idx in range(256)}
    stats, where = {}, {}
    for j, word in enumerate(words):
        n = freqs[j]
        for pair in zip(word, word[1:]):
            stats[pair] = stats.get(pair, 0) + n
            where.setdefault(pair, set()).add(j)
    heap = [(-c, keys[p[0]] + keys[p[1]], p) for p, c in stats.items()]
    heapq.heapify(heap)
    merges = []
    for i in range(max(num_merges, 0)):
        pair = None
        while heap:
            negc, _, p = heapq.heappop(heap)
            if stats.get(p, 0) == -negc and negc < 0:
                pair = p
                break
        if pair is None:
            break
        idx = 256 + i
        merges.append((vocab[pair[0]], vocab[pair[1]]))
        vocab[idx] = vocab[pair[0]] + vocab[pair[1]]
        keys[idx] = _desc(vocab[idx])
        changed = {}
        for j in where.pop(pair, ()):
            word, n = words[j], freqs[j]
            new = merge(word, pair, idx)
            if len(new) == len(word):
                continue  # stale entry of the index
            for p in zip(word, word[1:]):
                changed[p] = changed.get(p, 0) - n
            for p in zip(new, new[1:]):
                changed[p] = changed.get(p, 0) + n
                if idx in p:
                    where.setdefault(p, set()).add(j)
            words[j] = new
        for p, d in changed.items():
            if d:
                c = stats.get(p, 0) + d
                if c > 0:
                    stats[p] = c
                    heapq.heappush(heap, (-c, keys[p[0]] + keys[p[1]], p))
                else:
                    stats.pop(p, None)
        stats.pop(pair, None)
    for special in special_tokens:
        vocab[len(vocab)] = special.encode("utf-8")
    return vocab, merges


# -----------------------------------------------------------------------------
# questions (standard variant)


def q1_utf8_lengths():
    return tuple(len(c.encode("utf-8")) for c in ("a", "é", "€", "👋"))


def q2_number_of_merges():
    return 1000 - 256 - 2


def q3_embedding_growth():
    return 2 * 4096 * (100277 - 50257)


def q4_digit_tokens():
    return 5            # " ", "314", "159", "265", "3"
