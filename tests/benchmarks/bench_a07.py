"""Benchmark a07's threshold test: per profile, the reference's time to the band (its
training call), the grading overhead beyond that training (source drawing, weight transfer,
strict loading, the trusted evaluation, worker start), as a ratio, and the worker's peak
memory during training.

    python tests/benchmarks/bench_a07.py                 # every profile this machine can run
    python tests/benchmarks/bench_a07.py --profile gpu --seed 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import config
from autograder.grade import run


def available(profile) -> bool:
    if profile.device != "cuda":
        return True
    import torch
    return torch.cuda.is_available()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", help="profile(s) to run (default: all available)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--submission", default=str(ROOT / "reference" / "a07_pretraining"))
    args = parser.parse_args(argv)
    course = config.load(ROOT)
    names = args.profile or [n for n, p in course.profiles.items() if available(p)]
    print(f"{'profile':>8} {'device':>6} {'steps':>6} {'train s':>8} {'test s':>7} {'grading s':>9} "
          f"{'overhead':>8} {'peak MB':>8} {'gap':>8}  outcome")
    for name in names:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            doc = run.grade(course, "a07_pretraining", Path(args.submission), Path(out), profile=name, seed=args.seed,
                            tasks=["threshold"])
            total = time.perf_counter() - started
        test = next(t for t in doc["tests"] if "hidden" in t["extra_data"]["nodeid"])
        rec = test["extra_data"].get("recorded", {})
        train = rec.get("train_wall_s", float("nan"))
        print(f"{name:>8} {rec.get('device', '?'):>6} {rec.get('steps', 0):>6} {train:8.1f} "
              f"{test['extra_data']['duration_s']:7.1f} {total:9.1f} {(total - train) / train:8.2f} "
              f"{rec.get('worker_peak_rss_mb', float('nan')):8.0f} {rec.get('gap', float('nan')):+8.4f}  "
              f"{test['extra_data']['outcome']}")
    print("overhead = (whole grading run - training call) / training call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
