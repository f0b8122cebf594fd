"""Check: an assignment's example class and its mutants get the same grades on a Ray cluster as
locally.

    .venv/bin/python tests/benchmarks/cluster_equals_local.py [a03_attention] [--nodes 2]

Builds a class of the assignment's bundled examples plus one submission per mutant (the
reference with that mistake), grades it locally (--jobs 2) and on a cluster of this machine's
processes (a head and ``--nodes`` worker nodes of one CPU), each with the same seed, and
compares every student's per-test outcomes and scores, total and review status. Prints the
differences (none expected) and both runs' wall times. tests/test_cluster.py checks the same on
the toy course in the suite; this is the check on a real assignment, too slow for the suite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import config  # noqa: E402
from autograder.grade import batch, cluster  # noqa: E402
from tests.conftest import mutants_of  # noqa: E402
from tests.raycluster import LocalCluster  # noqa: E402


def summary(document: dict) -> tuple:
    return (document["score"], document["extra_data"].get("status"),
            [(t["extra_data"]["nodeid"], t["extra_data"]["outcome"], t["score"]) for t in document["tests"]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="a03_attention")
    parser.add_argument("--nodes", type=int, default=2)
    args = parser.parse_args()
    course, aid = config.load(ROOT), args.assignment
    module = course.assignment(aid).module
    work = Path(tempfile.mkdtemp(prefix="cluster-equals-local-"))
    klass = work / "class"
    shutil.copytree(course.examples_dir(aid), klass, ignore=shutil.ignore_patterns("expected.json"))
    reference = (course.reference_dir(aid) / f"{module}.py").read_text()
    mutants = [m for m in mutants_of(course, aid) if m.variant == "standard"]
    for mutant in mutants:
        (klass / f"mutant_{mutant.name}").mkdir()
        (klass / f"mutant_{mutant.name}" / f"{module}.py").write_text(mutant.apply(reference))
    paths = batch.submissions_in(klass)
    quiet = dict(variant="standard", profile="cpu", seed=11, progress=lambda *a: None)

    started = time.perf_counter()
    local = batch.grade_class(course, aid, paths, work / "local", jobs=2, **quiet)
    local_s = time.perf_counter() - started
    ray_cluster = LocalCluster()
    try:
        ray_cluster.add({f"node{i}": 0 for i in range(args.nodes)})
        started = time.perf_counter()
        remote = batch.grade_class(course, aid, paths, work / "remote",
                                   executor=cluster.Cluster(ray_cluster.address, course, work / "remote", paths), **quiet)
        remote_s = time.perf_counter() - started
    finally:
        ray_cluster.stop()
    differ = sorted(s for s, doc in local.documents.items()
                    if s not in remote.documents or summary(doc) != summary(remote.documents[s]))
    print(f"{aid}: {len(paths)} submissions ({len(paths) - len(mutants)} examples, {len(mutants)} mutants); "
          f"local --jobs 2 {local_s:.0f} s, cluster of {args.nodes} one-CPU nodes {remote_s:.0f} s; "
          f"grader errors local {len(local.failed)}, cluster {len(remote.failed)}")
    print(f"students whose outcomes, scores or status differ: {differ or 'none'}")
    return 1 if differ or local.failed or remote.failed else 0


if __name__ == "__main__":
    sys.exit(main())
