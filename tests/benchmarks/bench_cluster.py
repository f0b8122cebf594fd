"""Benchmark: a class of toy submissions graded locally (--jobs 1, 2) and on a Ray cluster of
this machine's processes with 1, 2 and 3 worker nodes of one CPU each.

    .venv/bin/python tests/benchmarks/bench_cluster.py [--n 12]

Prints each run's throughput and its ratio to the local --jobs 1 run of the same command, and
the overhead Ray adds per task: a no-op task's round trip, and the cluster's wall time per
submission on one node minus local grading's with one job (shipping the submission, the
node's Ray worker, the plan). On a 2-core machine the nodes share those 2 cores: 3 nodes
cannot beat 2 local jobs here; on real machines each node brings its own.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import config  # noqa: E402
from autograder.grade import batch, cluster  # noqa: E402
from tests import toy  # noqa: E402
from tests.raycluster import LocalCluster  # noqa: E402


def grade(course, paths, out: Path, **kw) -> float:
    started = time.perf_counter()
    result = batch.grade_class(course, "a99_toy", paths, out, variant="standard", profile="cpu",
                               progress=lambda *a: None, **kw)
    assert result.graded == len(paths) and not result.failed, result.failed
    return time.perf_counter() - started


def noop_round_trip(address: str, n: int = 30) -> float:
    import ray
    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    try:
        noop = ray.remote(num_cpus=1)(lambda: None)
        ray.get(noop.remote())                           # the worker started
        started = time.perf_counter()
        for _ in range(n):
            ray.get(noop.remote())
        return (time.perf_counter() - started) / n
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        course = config.load(toy.write_course(tmp / "course"))
        (tmp / "class").mkdir()
        paths = [toy.submission(tmp / "class", f"student{i:03d}", {"toy.py": toy.GOOD + f"\nSTUDENT = {i}\n"})
                 for i in range(args.n)]
        walls = {f"local --jobs {j}": grade(course, paths, tmp / f"local{j}", jobs=j) for j in (1, 2)}
        local = LocalCluster()
        try:
            for nodes in (1, 2, 3):
                local.add({f"w{nodes}": 0})
                executor = cluster.Cluster(local.address, course, tmp / f"ray{nodes}", paths)
                walls[f"cluster, {nodes} node(s)"] = grade(course, paths, tmp / f"ray{nodes}", executor=executor)
            trip = noop_round_trip(local.address)
        finally:
            local.stop()
    base = walls["local --jobs 1"]
    print(f"{args.n} toy submissions (11 tests each), on {__import__('os').cpu_count()} cores:")
    for name, wall in walls.items():
        print(f"  {name:<22} {wall:6.1f} s  {60 * args.n / wall:5.1f} per minute  {base / wall:4.2f}x local --jobs 1")
    print(f"Ray no-op task round trip: {1000 * trip:.1f} ms")
    print(f"cluster overhead per submission (1 node vs local --jobs 1): "
          f"{(walls['cluster, 1 node(s)'] - base) / args.n:+.2f} s")
    print("(the nodes share this machine's cores: more nodes than cores cannot beat local --jobs)")


if __name__ == "__main__":
    main()
