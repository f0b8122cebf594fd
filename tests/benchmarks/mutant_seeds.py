"""Sweep: is each mutant caught on its own task on every seed, not on one seed in two?

    .venv/bin/python tests/benchmarks/mutant_seeds.py a03_attention a04_gpt [--seeds 1-20] [--jobs 2] [--all-tasks]
                                                     [--only NAME,NAME] [--log sweep.jsonl]

The suite grades every mutant once, at seed 1234 (tests/test_mutants.py); the inputs of the
hidden tests are drawn from the seed, so a test that catches a bug only on some draws passes
there by luck. This grades each mutant of the named assignments (on its task only, as the
suite does) once per seed and prints, per mutant, on how many seeds it lost points on its task
and whether the failure message named the mistake (``says``); then the kill rate per
assignment. A mutant caught on fewer than all seeds is listed with the seeds it survived.

With ``--all-tasks`` every task is graded, and each mutant's row also names the other tasks
it cost points on (on how many seeds), those it may cost starred: one mistake should cost
one task, so the unstarred ones should be none. The allowed ones are the listed exceptions
(``ALSO_COSTS`` in the assignment's mutants.py) and the tasks marked ``integration = true``, which see the
student's code throughout.

With ``--log`` each grading's verdict is appended to that file as it finishes, with the
commit and a digest of what it depends on (the mutant itself, its assignment's reference and
tests, and grading.toml less the other assignments' sections; comments aside), and gradings
already in it are not run again: a sweep that was stopped goes on where it stopped, in this
session or a later one, and the table covers the logged verdicts of the mutants and seeds
asked for. A verdict logged for another digest is graded again, so a changed mutant is graded
again alone, and a new assignment's policy keeps the others' verdicts; a change in the engine
alone does not change the digest (the table lists the commits its verdicts came from).

Costs one grading per mutant and seed: about 20 x 27 x 3 s for a03 on two cores (tasks of
its own only; with ``--all-tasks`` about twice that).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import time
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import config  # noqa: E402
from autograder.grade import run  # noqa: E402
from tests.conftest import mutants_of  # noqa: E402
from tests.test_mutants import allowed_elsewhere  # noqa: E402


def seeds_of(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def caught(document: dict, mutant) -> tuple[bool, bool, list[str]]:
    """(lost points on its task, a failure message says what it should, other tasks that lost points)."""
    tasks = document["extra_data"]["tasks"]
    failed = [t for t in document["tests"] if t["status"] != "passed"]
    elsewhere = sorted(k for k, v in tasks.items() if k != mutant.task and v["score"] < v["max_score"])
    return (tasks[mutant.task]["score"] < tasks[mutant.task]["max_score"],
            not mutant.says or any(mutant.says in t["output"] for t in failed), elsewhere)


def code_of(path: Path) -> bytes:
    """A file as its verdicts see it: Python without its comments and blank lines, TOML as its
    data, other files as they are (a comment that justifies a tolerance changes no verdict)."""
    if path.suffix == ".py":
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        return repr([(t.type, t.string) for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL)]).encode()
    if path.suffix == ".toml":
        return json.dumps(tomllib.loads(path.read_text(encoding="utf-8")), sort_keys=True).encode()
    return path.read_bytes()


def digest(course, aid: str, mutant) -> str:
    """What a mutant's verdicts depend on, besides the engine: the mutant, the code of its
    assignment's files (other mutants and the example class aside) and grading.toml (other
    assignments aside)."""
    policy = tomllib.loads(course.text)
    policy["assignments"] = {aid: policy["assignments"][aid]}
    h = hashlib.sha256(json.dumps(policy, sort_keys=True).encode() + repr(mutant).encode())
    for folder in (course.reference_dir(aid), ROOT / "assignments" / aid):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            if path != course.mutants_path(aid) and course.examples_dir(aid) not in path.parents:
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + code_of(path))
    return h.hexdigest()[:16]


def logged(path: Path | None, all_tasks: bool, digests: dict[tuple[str, str], str]) -> tuple[dict, set[str]]:
    """``{(assignment, mutant): {seed: verdict}}`` from the log at ``path``, for the same mode
    and the mutants' current digests; and the commits those verdicts came from."""
    results: dict = {}
    commits = set()
    if path and path.is_file():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row["all_tasks"] == all_tasks and digests.get((row["assignment"], row["mutant"])) == row.get("digest"):
                results.setdefault((row["assignment"], row["mutant"]), {})[row["seed"]] = tuple(row["verdict"])
                commits.add(row["commit"])
    return results, commits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="+")
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--all-tasks", action="store_true", help="grade every task, not only the mutant's")
    parser.add_argument("--only", help="comma-separated mutant names (default: all of them)")
    parser.add_argument("--log", type=Path, help="append each verdict here; skip the gradings already in it")
    args = parser.parse_args()
    course, seeds = config.load(ROOT), seeds_of(args.seeds)
    work = Path(tempfile.mkdtemp(prefix="mutant-seeds-"))
    digests = {(aid, m.name): digest(course, aid, m) for aid in args.assignments for m in mutants_of(course, aid)}
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    (results, commits), cases = logged(args.log, args.all_tasks, digests), []
    for aid in args.assignments:
        module = course.assignment(aid).module
        reference = (course.reference_dir(aid) / f"{module}.py").read_text()
        for mutant in mutants_of(course, aid):
            if args.only and mutant.name not in args.only.split(","):
                continue
            folder = work / aid / mutant.name
            folder.mkdir(parents=True)
            (folder / f"{module}.py").write_text(mutant.apply(reference))
            cases += [(aid, mutant, folder, seed) for seed in seeds if seed not in results.get((aid, mutant.name), {})]

    def one(case):
        aid, mutant, folder, seed = case
        doc = run.grade(course, aid, folder, work / "graded" / aid / f"{seed}", variant=mutant.variant, profile="cpu",
                        seed=seed, tasks=None if args.all_tasks else [mutant.task])
        return case, caught(doc, mutant)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for done in concurrent.futures.as_completed([pool.submit(one, case) for case in cases]):
            (aid, mutant, _, seed), verdict = done.result()
            results.setdefault((aid, mutant.name), {})[seed] = verdict
            if args.log:
                with args.log.open("a") as log:
                    print(json.dumps({"assignment": aid, "mutant": mutant.name, "seed": seed, "all_tasks": args.all_tasks,
                                      "verdict": verdict, "digest": digests[(aid, mutant.name)], "commit": commit}), file=log)
    results = {key: {s: v[s] for s in seeds if s in v} for key, v in results.items()}
    results = {key: v for key, v in results.items() if v and (not args.only or key[1] in args.only.split(","))}
    print(f"{len(cases)} gradings in {time.monotonic() - started:.0f} s, seeds {args.seeds}"
          + (f"; verdicts from commits {', '.join(sorted(commits | {commit}))}" if commits else "") + "\n")
    print(f"{'assignment':18} {'mutant':42} {'task':16} caught  named  survived on seeds / lost elsewhere")
    for aid in args.assignments:
        rows = {name: v for (a, name), v in results.items() if a == aid}
        task_of = {m.name: m.task for m in mutants_of(course, aid)}
        for mutant in mutants_of(course, aid):
            if mutant.name not in rows:
                continue
            v = rows[mutant.name]
            lost, named = sum(x[0] for x in v.values()), sum(x[0] and x[1] for x in v.values())
            survived = [s for s, x in v.items() if not x[0]]
            elsewhere, allowed = {}, allowed_elsewhere(course, aid, mutant.task)
            for x in v.values():
                for task in x[2]:
                    key = f"{task}*" if task in allowed else task
                    elsewhere[key] = elsewhere.get(key, 0) + 1
            print(f"{aid:18} {mutant.name:42} {mutant.task:16} {lost:3}/{len(v):<3} {named:3}/{len(v):<3} "
                  f"{survived if survived else ''} {elsewhere if elsewhere else ''}")
        total = sum(len(v) for v in rows.values())
        kills = sum(x[0] for v in rows.values() for x in v.values())
        everywhere = sum(all(x[0] for x in v.values()) for v in rows.values())
        alone = sum(all(x[0] and not set(x[2]) - allowed_elsewhere(course, aid, task_of[name]) for x in v.values())
                    for name, v in rows.items())
        print(f"{aid}: {len(rows)} mutants, caught on {kills}/{total} (mutant, seed) pairs ({kills / total:.1%}); "
              f"{everywhere}/{len(rows)} caught on every seed"
              + (f"; {alone}/{len(rows)} on their own task only (listed exceptions aside), on every seed"
                 if args.all_tasks else "") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
