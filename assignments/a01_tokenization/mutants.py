"""Mutants of reference/a01_tokenization/tokenizer.py: the mistakes students make."""

from autograder.grade.mutant import Mutant

M = Mutant
SLOW_TRAINER = (  # counts every occurrence of every pre-token instead of each distinct one once
    ("    words = count_pretokens(text, special_tokens, pattern)      # {pre-token as byte ids: count}",
     "    words = [(w, 1) for w, c in count_pretokens(text, special_tokens, pattern).items() for _ in range(c)]"),
    ("        for word, count in words.items():\n            for pair, n in get_stats(word).items():",
     "        for word, count in words:\n            for pair, n in get_stats(word).items():"),
    ("        words = {tuple(merge(word, pair, new_id)): count for word, count in words.items()}",
     "        words = [(tuple(merge(word, pair, new_id)), count) for word, count in words]"),
)
BYTE_IDS_ENCODER = """        ids = list(piece.encode("utf-8"))
        by_ids = {(self.ids[a], self.ids[b]): (rank, self.ids[a + b]) for (a, b), rank in self.ranks.items()}
        while len(ids) > 1:
            pair = min(pairwise(ids), key=lambda p: by_ids.get(p, (len(self.ranks),))[0])
            if pair not in by_ids:
                break
            ids = merge(ids, pair, by_ids[pair][1])
        return ids
"""
STREAM_BODY = """            if (len(buffer) >= STREAM_BUFFER and buffer[-1] == "\\n" and not buffer[-2].isspace()
                    and chunk[:1] and not chunk[0].isspace()):
                yield from self.encode(buffer, allowed_special)
                buffer = ""
            buffer += chunk
"""
MUTANTS = [
    # counting pairs and merging
    M("get_stats_counts_presence", "pair_merge",
      (("counts[pair] = counts.get(pair, 0) + 1", "counts[pair] = 1"),), "counted once however often"),
    M("get_stats_ignores_counts", "pair_merge",
      (("counts = {} if counts is None else counts", "counts = {}"),), "must add the pairs"),
    M("merge_steps_by_one", "pair_merge",
      (("            out.append(new_id)\n            i += 2", "            out.append(new_id)\n            i += 1"),),
      "moves on by one item"),
    M("merge_drops_last", "pair_merge", (("    while i < len(ids):\n        if i + 1 < len(ids)",
                                          "    while i + 1 < len(ids):\n        if i + 1 < len(ids)"),),
      "last item is lost"),
    # training
    M("tie_smallest", "train_bpe",
      (("return max(stats, key=lambda pair: (stats[pair], vocab[pair[0]], vocab[pair[1]]))",
        "return min(stats, key=lambda pair: (-stats[pair], vocab[pair[0]], vocab[pair[1]]))"),), "smallest pair"),
    M("tie_by_ids", "train_bpe",
      (("return max(stats, key=lambda pair: (stats[pair], vocab[pair[0]], vocab[pair[1]]))",
        "return max(stats, key=lambda pair: (stats[pair], pair))"),), "comparing token ids"),
    M("tie_first_counted", "train_bpe",
      (("return max(stats, key=lambda pair: (stats[pair], vocab[pair[0]], vocab[pair[1]]))",
        "return max(stats, key=stats.get)"),), "counted first"),
    M("no_pretokenization", "train_bpe",
      (("        for word in regex.findall(pattern, piece):", "        for word in [piece]:"),),
      "cross pre-token boundaries"),
    M("specials_counted_as_text", "train_bpe",
      (("    for piece in split_on_specials(text, specials):\n        if piece in specials:",
        "    for piece in [text]:\n        if piece in specials:"),), "counted as ordinary text"),
    M("specials_pieces_joined", "train_bpe",
      (("    for piece in split_on_specials(text, specials):\n        if piece in specials:",
        ("    for piece in [\"\".join(p for p in split_on_specials(text, specials) if p not in specials)]:\n"
        "        if piece in specials:")),), "across special tokens"),
    M("counts_not_weighted", "train_bpe",
      (("stats[pair] = stats.get(pair, 0) + n * count", "stats[pair] = stats.get(pair, 0) + n"),), "not weighted"),
    M("vocab_size_ignores_specials", "train_bpe",
      (("    for new_id in range(256, vocab_size - len(special_tokens)):\n        # 1.",
        "    for new_id in range(256, vocab_size):\n        # 1."),), "does not count the special tokens"),
    M("specials_reversed", "train_bpe",
      ((("    for special in special_tokens:\n        vocab[len(vocab)] = special.encode(\"utf-8\")\n"
        "    return vocab, merges\n    ### END SCAFFOLD"),
        ("    for special in reversed(special_tokens):\n        vocab[len(vocab)] = special.encode(\"utf-8\")\n"
        "    return vocab, merges\n    ### END SCAFFOLD")),), "their ids are not"),
    M("train_never_stops", "train_bpe", (("        if not stats:\n            break\n        pair = best_pair",
                                          "        pair = best_pair"),)),
    M("train_counts_every_occurrence", "train_bpe", SLOW_TRAINER, "distinct pre-token once"),
    # encoding and decoding
    M("encode_leftmost_pair_first", "encode_decode",
      (("pair = min(pairwise(parts), key=lambda p: self.ranks.get(p, len(self.ranks)))",
        "pair = next((p for p in pairwise(parts) if p in self.ranks), (None, None))"),), "leftmost first"),
    M("encode_without_pretokens", "encode_decode",
      (("        for piece in self.regex.findall(text):", "        for piece in [text] if text else []:"),),
      "not cut into pre-tokens"),
    M("encode_byte_b_is_id_b", "encode_decode",
      ((("        parts = [bytes([b]) for b in piece.encode(\"utf-8\")]\n        while len(parts) > 1:\n"
        "            pair = min(pairwise(parts), key=lambda p: self.ranks.get(p, len(self.ranks)))\n"
        "            if pair not in self.ranks:\n                break\n"
        "            parts = merge(parts, pair, pair[0] + pair[1])\n        return [self.ids[part] for part in parts]\n"),
        BYTE_IDS_ENCODER),), "byte b is assumed to have id b"),
    M("none_raise_does_not_raise", "encode_decode",
      (("if allowed_special == \"none_raise\" else []", "if False else []"),), "must raise ValueError"),
    M("none_means_all", "encode_decode",
      (("        if allowed_special == \"all\":\n", "        if allowed_special in (\"all\", \"none\"):\n"),),
      "their ids must not appear"),
    M("allowed_set_means_all", "encode_decode",
      (("allowed = set(allowed_special) & set(self.special_tokens)", "allowed = set(self.special_tokens)"),),
      "only the special tokens in the set"),
    M("specials_shortest_first", "encode_decode",
      (("specials = sorted(special_tokens, key=len, reverse=True)", "specials = sorted(special_tokens)"),),
      "try the longest first"),
    M("decode_strict", "encode_decode",
      (("decode(\"utf-8\", errors=\"replace\")", "decode(\"utf-8\")"),), "errors='replace'"),
    M("decode_token_by_token", "encode_decode",
      (("return b\"\".join(self.vocab[i] for i in ids).decode(\"utf-8\", errors=\"replace\")",
        "return \"\".join(self.vocab[i].decode(\"utf-8\", errors=\"replace\") for i in ids)"),),
      "must give text back"),
    # streaming, saving and loading
    M("stream_chunk_by_chunk", "stream_save", ((STREAM_BODY, "            yield from self.encode(chunk, allowed_special)\n"),),
      "splits a pre-token"),
    M("stream_flush_at_any_newline", "stream_save",
      ((STREAM_BODY, STREAM_BODY.replace('buffer[-1] == "\\n" and not buffer[-2].isspace()\n'
                                         '                    and chunk[:1] and not chunk[0].isspace()',
                                         'buffer.endswith("\\n")')),), "after blank lines"),
    M("stream_flush_after_trailing_spaces", "stream_save",
      ((STREAM_BODY, STREAM_BODY.replace(' and not buffer[-2].isspace()', '')),), "after spaces before a newline"),
    M("stream_joins_everything", "stream_save",
      (("        buffer = \"\"\n        for chunk in chunks:", "        buffer = \"\".join(chunks)\n        for chunk in ():"),),
      "MB more memory"),
    M("stream_lists_the_chunks", "stream_save",
      (("        buffer = \"\"\n        for chunk in chunks:", "        buffer = \"\"\n        for chunk in list(chunks):"),),
      "MB more memory"),
    M("load_ignores_pattern", "stream_save",
      (("        return cls(vocab, merges, specials, pattern)", "        return cls(vocab, merges, specials)"),),
      "GPT-2's pattern"),
    M("load_forgets_specials", "stream_save",
      (("        return cls(vocab, merges, specials, pattern)", "        return cls(vocab, merges, [], pattern)"),),
      "special tokens"),
    M("save_sorts_merges", "stream_save",
      (("for a, b in self.merges]", "for a, b in sorted(self.merges)]"),), "saved and loaded back"),
    M("load_renumbers_ids", "stream_save",
      (("vocab = {int(i): bytes.fromhex(token) for i, token in section(\"vocab\")}",
        "vocab = {k: bytes.fromhex(token) for k, (_, token) in enumerate(section(\"vocab\"))}"),), "shuffled ids"),
    # GPT-4's tokenizer
    M("cl100k_bytes_get_ids_0_to_255", "tiktoken",
      (("    vocab = {rank: token for token, rank in mergeable_ranks.items()}\n",
        "    vocab = {rank: token for token, rank in mergeable_ranks.items()} | {b: bytes([b]) for b in range(256)}\n"),)),
    M("cl100k_without_specials", "tiktoken",
      (("return Tokenizer(vocab, recover_merges(mergeable_ranks), list(special_tokens), pattern)",
        "return Tokenizer(vocab, recover_merges(mergeable_ranks), [], pattern)"),), "allowed_special='all'"),
    M("recover_first_split", "tiktoken",
      (("        while len(parts) > 2:            # BPE with ranks below `rank`: merge the lowest pair\n",
        ("        split = next((i for i in range(1, len(token)) if token[:i] in mergeable_ranks and "
        "token[i:] in mergeable_ranks), None)\n        parts = [token[:split], token[split:]] if split else parts\n"
        "        while len(parts) > 2:            # BPE with ranks below `rank`: merge the lowest pair\n")),),
      "the two parts BPE reaches", variant="hardmode"),
    # looking at tokens
    M("visualize_token_by_token", "visualize",
      (("piece = pending.decode(\"utf-8\")", "piece = pending.decode(\"utf-8\", errors=\"replace\")"),),
      "must give the text back"),
    M("tokens_per_word_split_on_spaces", "visualize",
      (("return len(tokenizer.encode(text)) / len(text.split())", "return len(tokenizer.encode(text)) / len(text.split(\" \"))"),),
      "text.split()"),
    # conceptual questions (standard)
    M("questions_common_slips", "questions",
      (("return (1, 2, 3, 4)", "return (1, 1, 1, 1)"), ("return 1000 - 256 - 2", "return 1000 - 256"),
       ("return (100_277 - 50_257) * 4096 * 2", "return (100_277 - 50_257) * 4096"), ("return 5", "return 10")),
      "vocab_size counts"),
    # advanced build (hardmode)
    M("fast_never_subtracts", "train_fast",
      (("                stats[old] -= freq\n                touched.add(old)\n", "                touched.add(old)\n"),),
      variant="hardmode"),
    M("fast_ties_ascending", "train_fast",
      (("        return tuple(255 - b for b in token) + (256,)", "        return tuple(token)"),), "smallest pair",
      variant="hardmode"),
    M("fast_is_naive", "train_fast",
      (("    special_tokens = list(special_tokens)\n    counted = count_pretokens(",
        "    return train_bpe(text, vocab_size, special_tokens, pattern)\n    counted = count_pretokens("),),
      "faster than the reference train_bpe", variant="hardmode"),
]

# The tasks a mistake may also cost (tests/test_mutants.py), and why.
ALSO_COSTS = {
    "encode_decode": (
        {"stream_save", "tiktoken", "visualize"},
        "the tokenizer's methods stay the student's own: its state is text and bytes (vocabulary, merges, "
        "specials, pattern), which never reach the grader, since text or bytes could name a file the trusted "
        "side would read; cl100k and the visualizer encode with the student's encode. Streaming and saving are "
        "judged against the student's own encode, so they cost stream_save only when encode does not spell the "
        "text"),
    "pair_merge": (
        {"encode_decode", "stream_save", "tiktoken", "visualize"},
        "encode merges bytes pieces (merge(parts, pair, pair[0] + pair[1])), and bytes are never sent to the "
        "grader, so merge runs as the student wrote it wherever the tokenizer encodes (stream_save: when the "
        "encoding no longer spells the text)"),
}
