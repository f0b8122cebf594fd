"""Benchmark: time to grade one a03 submission on CPU, and the cost of the worker boundary.

    .venv/bin/python tests/benchmarks/bench_grading.py [--repeats 3] [--calls 200]

1. Grades the reference a03_attention submission ``--repeats`` times (the full pipeline:
   trusted pytest process, staging, worker, hidden + public tests, results.json).
2. Runs the same mix of operations (the hidden tests' typical calls) in-process through
   ``LocalSubmission`` and across the worker boundary through ``WorkerSubmission``, and
   prints the ratio. Worker start-up is measured separately from per-call cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import (
    config,  # noqa: E402
    harness,  # noqa: E402
)
from autograder.grade import launch, run  # noqa: E402
from autograder.grade.seam import WorkerSubmission  # noqa: E402
from autograder.grade.submission import stage  # noqa: E402
from autograder.harness import local  # noqa: E402


def workload(sub, ref_module, gen):
    """One round of typical hidden-test calls."""
    q, k, v = (torch.randn(2, 4, 8, 16, generator=gen, dtype=torch.float64) for _ in range(3))
    mask = torch.ones(8, 8, dtype=torch.bool).tril()
    sub.scaled_dot_product_attention(q, k, v, mask)
    sub.softmax(q, -1)
    state = {n: t.double() for n, t in ref_module.MultiHeadAttention(32, 4).state_dict().items()}
    x = torch.randn(2, 8, 32, generator=gen, dtype=torch.float64)
    sub.mha_forward(state, 32, 4, x, mask)
    sub.mha_incremental(state, 32, 4, x, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200, help="workload rounds per side")
    args = parser.parse_args()
    course = config.load(ROOT)
    aid = "a03_attention"
    ref_dir = course.reference_dir(aid)

    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeats):
            started = time.perf_counter()
            doc = run.grade(course, aid, ref_dir, Path(out), profile="cpu")
            times.append(time.perf_counter() - started)
    n_tests = len(doc["tests"])
    test_time = sum(t["extra_data"]["duration_s"] for t in doc["tests"])
    print(f"grade one a03 submission (cpu, {n_tests} tests): median {statistics.median(times):.2f} s "
          f"over {args.repeats} runs (tests themselves: {test_time:.2f} s)")

    torch.set_num_threads(1)
    ref_module = local.load_file("_bench_reference", ref_dir / "attention.py")
    kit = Path(tempfile.mkdtemp(prefix="bench-kit-"))       # the adapters import the runtime as _harness
    (kit / "_harness").symlink_to(harness.DIR)
    sys.path.insert(0, str(kit))
    adapters = local.load_file("_bench_adapters", course.handout_dir(aid) / "adapters.py")
    in_process = local.LocalSubmission(ref_module, adapters)
    gen = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    for _ in range(args.calls):
        workload(in_process, ref_module, gen)
    local_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        staged = stage(ref_dir, "attention", course.handout_dir(aid) / "adapters.py", None, Path(tmp) / "stage")
        profile = course.profiles["cpu"]
        worker = WorkerSubmission(launch.launcher(staged, "attention", profile, launch.isolation(profile)), 120, 600)
        started = time.perf_counter()
        worker.softmax(torch.zeros(1))
        startup_s = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(args.calls):
            workload(worker, ref_module, gen)
        remote_s = time.perf_counter() - started
        worker.close()

    calls = 4 * args.calls
    print(f"same {calls} calls in-process: {local_s:.3f} s ({1e3 * local_s / calls:.2f} ms/call)")
    print(f"same {calls} calls via worker: {remote_s:.3f} s ({1e3 * remote_s / calls:.2f} ms/call), "
          f"plus worker start-up {startup_s:.2f} s")
    print(f"boundary cost ratio (worker / in-process): {remote_s / local_s:.2f}x; "
          f"overhead {1e3 * (remote_s - local_s) / calls:.2f} ms per call")


if __name__ == "__main__":
    main()
