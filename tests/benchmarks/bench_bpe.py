"""Benchmark: BPE training, the reference's fast trainer against its naive one and Hugging
Face ``tokenizers``, on tinyshakespeare (if ../shared/data has it) and a synthetic corpus.

    .venv/bin/python tests/benchmarks/bench_bpe.py [--vocab-size 1000] [--threads 1]

- ``train_bpe_fast``: the reference's incremental trainer (pair counts updated only where a
  merge happens, a pair -> pre-tokens index, a lazily updated heap);
- ``train_bpe``: the naive reference, which recounts every pair of every distinct
  pre-token after each merge;
- HF ``tokenizers`` ``BpeTrainer``, set up as close to ours as it allows: GPT-4's split
  pattern (isolated), then byte-level mapping without its own regex, the 256 bytes as the
  initial alphabet, the same special token and vocabulary size. What differs: it breaks
  ties its own way, not by the tokens' bytes (the benchmark prints where the merges part
  and whether that is a tie), it maps bytes to printable characters internally, and it is
  Rust, run on ``--threads`` threads (1 by default, for a like-for-like comparison).

Each time includes pre-tokenization. Prints the times and the ratios; the goal is the fast
trainer at least 20x faster than the naive one.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder.harness import local

corpus = local.load_file("_a01_corpus", ROOT / "assignments" / "a01_tokenization" / "hidden" / "corpus.py")

SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
SPECIAL = "<|endoftext|>"


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def hf_train(text: str, vocab_size: int, pattern: str):
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[SPECIAL], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([text], trainer)
    return tok


def bench(name: str, text: str, vocab_size: int, ref) -> None:
    fast_s, (_, fast_merges) = timed(ref.train_bpe_fast, text, vocab_size, [SPECIAL])
    naive_s, (_, naive_merges) = timed(ref.train_bpe, text, vocab_size, [SPECIAL])
    hf_s, hf = timed(hf_train, text, vocab_size, ref.GPT4_SPLIT_PATTERN)
    assert fast_merges == naive_merges, "train_bpe_fast and train_bpe disagree"
    to_byte = {ch: b for b, ch in enumerate(_bytes_to_unicode())}
    hf_merges = [tuple(bytes(to_byte[c] for c in part) for part in merge) for merge in _hf_merges(hf)]
    agree = next((i for i, (a, b) in enumerate(zip(fast_merges, hf_merges)) if a != b), len(fast_merges))
    counts = pair_counts(ref, text, fast_merges[:agree], [fast_merges[agree], hf_merges[agree]]) \
        if agree < min(len(fast_merges), len(hf_merges)) else None
    print(f"\n{name}: {len(text) / 1e6:.2f} MB, vocab_size {vocab_size} ({len(fast_merges)} merges)")
    print(f"  train_bpe_fast (reference)  {fast_s:8.2f} s")
    print(f"  train_bpe (naive reference) {naive_s:8.2f} s   naive / fast = {naive_s / fast_s:5.1f}x")
    print(f"  HF tokenizers BpeTrainer    {hf_s:8.2f} s   fast / HF    = {fast_s / hf_s:5.1f}x")
    if counts is None:
        print(f"  merges equal to HF's: all {agree}")
    else:
        why = "a tie, broken differently" if counts[0] == counts[1] else "not a tie"
        print(f"  merges equal to HF's: the first {agree}; then ours {fast_merges[agree]} and HF's "
              f"{hf_merges[agree]}, counts {counts[0]} and {counts[1]} ({why})")


def pair_counts(ref, text: str, merges: list, pairs: list) -> list[int]:
    """How often each of ``pairs`` (of tokens) occurs after applying ``merges``."""
    words = ref.count_pretokens(text, [SPECIAL])
    ids = {bytes([i]): i for i in range(256)}
    for n, (a, b) in enumerate(merges):
        ids[a + b] = 256 + n
        words = {tuple(ref.merge(list(w), (ids[a], ids[b]), 256 + n)): c for w, c in words.items()}
    stats: dict = {}
    for word, count in words.items():
        for pair, n in ref.get_stats(word).items():
            stats[pair] = stats.get(pair, 0) + n * count
    return [stats.get((ids[a], ids[b]), 0) for a, b in pairs]


def _hf_merges(tok) -> list[tuple[str, str]]:
    import json
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


def _bytes_to_unicode() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes, in byte order (what ByteLevel uses)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    extra = iter(range(256, 512))
    return [chr(b) if b in keep else chr(next(extra)) for b in range(256)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="threads for HF tokenizers")
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    if args.threads == 1:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    ref = local.load_file("_bench_tokenizer", ROOT / "reference" / "a01_tokenization" / "tokenizer.py")
    if SHAKESPEARE.is_file():
        bench("tinyshakespeare", SHAKESPEARE.read_text(encoding="utf-8"), args.vocab_size, ref)
    else:
        print(f"(skipping tinyshakespeare: {SHAKESPEARE} not found)")
    r = random.Random(0)
    text = corpus.corpus(r, 200_000, corpus.lexicon(r, 20_000, letters="abcdefghijklmnopqrstuvwxyz", unicode=True),
                         corpus.SPECIALS[:1])
    bench("synthetic (Zipf words, Unicode)", text, args.vocab_size, ref)


if __name__ == "__main__":
    main()
