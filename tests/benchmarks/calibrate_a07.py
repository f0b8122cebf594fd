"""Calibrate a07's loss band: train the reference on several seeds exactly as the hidden
threshold test does (same draws, same configuration from grading.toml, same trusted
evaluation), in-process, and print losses, spread and margins per profile.

    python tests/benchmarks/calibrate_a07.py --profile cpu --seeds 1-5
    python tests/benchmarks/calibrate_a07.py --profile gpu --seeds 1-5      # on a GPU machine

Also trains two broken models per seed with --mutants (the no-mask model, evaluated
causally, and a bigram-only one trained on windows of one token) to show their distance
from the band. Record the table in grading.toml's comments (threshold.bars).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "assignments" / "a07_pretraining"),
                *(str(ROOT / "reference" / a) for a in ("a07_pretraining", "a04_gpt", "a03_attention"))]

import pretrain
from hidden import threshold

from autograder import config


def seeds_of(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def one(bars, device, seed, mutant=None) -> dict:
    gen = torch.Generator().manual_seed(seed)
    model_config, train_config, src, ids, train_seed = threshold.prepare(bars, device, gen)
    saved = {}
    if mutant == "no_mask":
        import gpt
        saved["causal_mask"] = gpt.causal_mask
        gpt.causal_mask = lambda t_q, t_k=None, device=None: torch.ones(t_q, t_k or t_q, dtype=torch.bool, device=device)
    if mutant == "bigram":
        saved["get_batch"] = pretrain.get_batch
        pretrain.get_batch = lambda ids, b, t, device="cpu", generator=None: saved["get_batch"](ids, b, 1, device, generator)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        model, curve = pretrain.train(model_config, train_config, ids, train_seed)
    finally:
        if "causal_mask" in saved:
            import gpt
            gpt.causal_mask = saved["causal_mask"]
        if "get_batch" in saved:
            pretrain.get_batch = saved["get_batch"]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    loss, true_loss = threshold.trusted_loss(pretrain, model_config, state, src, gen, device)
    return {"seed": seed, "H2": src.entropy_rate, "H1": src.bigram_entropy, "loss": loss, "true": true_loss,
            "gap": loss - true_loss, "reported": curve[-1]["val_loss"], "wall": wall, "cpu": cpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seeds", default="1-5")
    parser.add_argument("--mutants", action="store_true", help="also train the no-mask and bigram-only models")
    args = parser.parse_args(argv)
    course = config.load(ROOT)
    profile = course.profiles[args.profile]
    torch.set_num_threads(profile.threads)
    bars = course.assignment("a07_pretraining").tasks["threshold"].bars_for(args.profile)
    low, high = bars["gap_band"]
    print(f"profile {args.profile}: device {profile.device}, {profile.threads} thread(s); band: gap in [{low}, {high}]")
    print(f"{'seed':>4} {'model':>9} {'H2':>7} {'H1':>7} {'loss':>7} {'true':>7} {'gap':>8} {'own':>7} "
          f"{'wall s':>7} {'cpu s':>7}  in band")
    rows = {}
    for seed in seeds_of(args.seeds):
        for kind in (None, "no_mask", "bigram") if args.mutants else (None,):
            r = one(bars, profile.device, seed, kind)
            rows.setdefault(kind, []).append(r)
            print(f"{seed:>4} {kind or 'reference':>9} {r['H2']:7.4f} {r['H1']:7.4f} {r['loss']:7.4f} {r['true']:7.4f} "
                  f"{r['gap']:+8.4f} {r['reported']:7.4f} {r['wall']:7.1f} {r['cpu']:7.1f}  "
                  f"{'yes' if low <= r['gap'] <= high else 'NO'}", flush=True)
    gaps = [r["gap"] for r in rows[None]]
    sd = statistics.stdev(gaps) if len(gaps) > 1 else float("nan")
    print(f"reference gap: mean {statistics.mean(gaps):+.4f}, sd {sd:.4f}, min {min(gaps):+.4f}, max {max(gaps):+.4f}; "
          f"margin to the upper bound {high - max(gaps):.4f} nats ({(high - max(gaps)) / sd:.1f} sd), "
          f"to the lower bound {min(gaps) - low:.4f}; mean wall {statistics.mean(r['wall'] for r in rows[None]):.1f} s, "
          f"cpu {statistics.mean(r['cpu'] for r in rows[None]):.1f} s")
    for kind in ("no_mask", "bigram"):
        if kind in rows:
            g = [r["gap"] for r in rows[kind]]
            print(f"{kind}: gap min {min(g):+.4f} (outside the band by {min(g) - high:.4f} nats at least)")
    print("bigram floor H1 - H2 over the seeds: " + ", ".join(f"{r['H1'] - r['H2']:.3f}" for r in rows[None]))
    return 0 if all(low <= g <= high for g in gaps) else 1


if __name__ == "__main__":
    sys.exit(main())
