"""a10: a small GPT trained for a few CPU-seconds on the Markov source's text, scored on the
generated HellaSwag-format item set against the known ceiling (the chain's own accuracy),
and its perplexity against the chain's.

    .venv/bin/python tests/benchmarks/bench_evaluation.py [--steps 400] [--seeds 0 1 2] [--threads 1]

Prints, per seed: acc, acc_norm_tokens, acc_norm_chars of the random (untrained) model, the
trained model and the ceiling, on 1,000 items, with 95% bootstrap intervals for the trained
model, and the perplexities of the trained model and of the chain on held-out text.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)] + [str(ROOT / "reference" / a) for a in ("a10_evaluation", "a04_gpt", "a03_attention")]

from autograder.harness import local

RULES = ("acc", "acc_norm_tokens", "acc_norm_chars")


def text_batch(src, gen, batch: int, length: int) -> torch.Tensor:
    """Runs of the chain as token ids: the first word without its space, the rest with one."""
    rows = []
    for _ in range(batch):
        words = src.walk(length, None, gen)
        rows.append([words[0]] + [len(src.words) + w for w in words[1:]])
    return torch.tensor(rows)


def picks_of(ev, model, src, items) -> dict:
    """The choices of ``model`` under each rule, ``(N,)`` each."""
    sums, n_tokens, n_chars = [], [], []
    model.eval()
    with torch.no_grad():
        for item in items:
            ctx_ids, endings_ids = ev.encode_item(src.tokenizer, item["ctx"], item["endings"])
            total, count = ev.score_endings(model, ctx_ids, endings_ids)
            sums.append(total)
            n_tokens.append(count)
            n_chars.append(torch.tensor([len(e) for e in item["endings"]]))
    return ev.choose(torch.stack(sums), torch.stack(n_tokens), torch.stack(n_chars))


def run(ev, gpt, seed: int, steps: int, n_items: int) -> None:
    torch.manual_seed(seed)
    src = ev.MarkovSource(seed=seed)
    gen = torch.Generator().manual_seed(seed + 100)
    items = src.items(n_items, seed=seed + 1000)
    labels = torch.tensor([item["label"] for item in items])
    config = gpt.GPTConfig(vocab_size=2 * len(src.words), context_length=32, d_model=64, n_layers=2, n_heads=4,
                           dropout=0.0)
    model = gpt.GPT(config)
    gpt.init_weights(model, torch.Generator().manual_seed(seed))
    untrained = picks_of(ev, model, src, items)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    started = time.perf_counter()
    model.train()
    for _ in range(steps):
        batch = text_batch(src, gen, 32, 32)
        logits = model(batch)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, config.vocab_size), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    train_s, cpu_s = time.perf_counter() - started, time.process_time()
    trained, ceiling = picks_of(ev, model, src, items), src.ceiling(items)
    held_out = text_batch(src, torch.Generator().manual_seed(seed + 7), 64, 32)
    mask = torch.ones_like(held_out, dtype=torch.bool)
    with torch.no_grad():
        ppl_model = ev.perplexity(*ev.sequence_nll(model, held_out, mask)).item()
    ppl_chain = ev.perplexity(*ev.sequence_nll(src.true_model(), held_out, mask)).item()
    print(f"seed {seed}: {steps} steps in {train_s:.1f} s wall ({cpu_s:.1f} CPU-s in this process so far); "
          f"held-out perplexity {ppl_model:.3f} (the chain {ppl_chain:.3f}; uniform over the words {len(src.words)})")
    for rule in RULES:
        correct = trained[rule] == labels
        low, high = ev.bootstrap_ci(correct, 2000, 0.95, torch.Generator().manual_seed(seed))
        print(f"  {rule:16s} untrained {(untrained[rule] == labels).double().mean():.3f}  trained "
              f"{correct.double().mean():.3f} [{low:.3f}, {high:.3f}]  ceiling {ceiling[rule]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ev = local.load_file("_bench_evaluation", ROOT / "reference" / "a10_evaluation" / "evaluation.py")
    for seed in args.seeds:
        run(ev, sys.modules["gpt"], seed, args.steps, args.items)


if __name__ == "__main__":
    main()
