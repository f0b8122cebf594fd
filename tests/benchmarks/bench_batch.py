"""Benchmark: grade a class of 50 generated a03 submissions with --jobs 1 and --jobs 2.

    .venv/bin/python tests/benchmarks/bench_batch.py [--n 50]

The class cycles through the reference, every mutant in assignments/a03_attention/mutants.py and
the untouched standard release (each copy made unique). Prints throughput, and the
per-submission overhead beyond the tests' own compute (wall time per submission minus the
time tests spent in their calls, worker start-up excluded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import config  # noqa: E402
from autograder.grade import batch  # noqa: E402
from autograder.harness import local  # noqa: E402

MUTANTS = local.load_file("_a03_mutants", ROOT / "assignments" / "a03_attention" / "mutants.py").MUTANTS


def make_class(course, folder: Path, n: int) -> list[Path]:
    reference = (course.reference_dir("a03_attention") / "attention.py").read_text()
    stub = (course.release_dir("standard", "a03_attention") / "attention.py").read_text()
    sources = [reference, *(m.apply(reference) for m in MUTANTS), stub]
    paths = []
    for i in range(n):
        student = folder / f"student{i:03d}"
        student.mkdir()
        (student / "attention.py").write_text(sources[i % len(sources)] + f"\n# student {i}\n")
        paths.append(student)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    course = config.load(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "class").mkdir()
        paths = make_class(course, Path(tmp) / "class", args.n)
        rates = {}
        for jobs in (1, 2):
            started = time.perf_counter()
            result = batch.grade_class(course, "a03_attention", paths, Path(tmp) / f"out{jobs}", variant="standard",
                                       profile="cpu", jobs=jobs, progress=lambda *a: None)
            wall = time.perf_counter() - started
            docs = list(result.documents.values())
            compute = [sum(t["extra_data"]["duration_s"] for t in d["tests"]) - d["extra_data"].get("worker_startup_s", 0)
                       for d in docs]
            per_sub = wall * jobs / len(docs)
            rates[jobs] = len(docs) / wall
            print(f"--jobs {jobs}: {len(docs)} submissions in {wall:.1f} s = {60 * rates[jobs]:.1f} per minute; "
                  f"per submission {per_sub:.2f} s of a job slot, of which tests' own compute {statistics.mean(compute):.2f} s "
                  f"-> overhead {per_sub - statistics.mean(compute):.2f} s; isolation "
                  f"{docs[0]['extra_data']['isolation']['mode']}; grader errors {len(result.failed)}")
        print(f"speed-up with 2 jobs on {__import__('os').cpu_count()} cores: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
