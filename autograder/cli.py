"""Command line: ``autograder release|grade ...`` (also ``python -m autograder``).

    autograder release [ASSIGNMENT...] [--check]
    autograder grade ASSIGNMENT SUBMISSION... [--variant V] [--profile cpu|gpu|auto] [--out DIR]

Exit status: 0 on success, 1 when ``release --check`` finds problems, 2 on a usage or
course configuration error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config


def _profile(course: config.Course, name: str) -> str:
    if name != "auto":
        if name not in course.profiles:
            raise config.ConfigError(f"--profile {name!r}: grading.toml has {', '.join(course.profiles)}")
        return name
    import torch
    return "gpu" if torch.cuda.is_available() else "cpu"


def cmd_release(course: config.Course, args) -> int:
    from .release import check
    ids = args.assignments or list(course.assignments)
    for aid in ids:
        course.assignment(aid)
    if args.check:
        problems = check.problems(course, ids)
        for line in problems:
            print(line)
        print(f"release --check: {len(problems)} problem(s) in {len(ids)} assignment(s)" if problems
              else f"release --check: release/ is current for {', '.join(ids)}; no solution or hidden-test text")
        return 1 if problems else 0
    touched = check.write(course, ids)
    for path in touched:
        print(f"wrote {path.relative_to(course.root)}")
    print(f"release: {len(touched)} file(s) changed")
    return 0


def cmd_grade(course: config.Course, args) -> int:
    from .grade.run import grade, submission_name
    from .report import table
    a = course.assignment(args.assignment)
    if args.variant not in course.variants:
        raise config.ConfigError(f"--variant {args.variant!r}: grading.toml has {', '.join(course.variants)}")
    profile = _profile(course, args.profile)
    out = Path(args.out or course.root / "out" / a.id)
    documents = {}
    for submission in args.submissions:
        path = Path(submission)
        doc = grade(course, a.id, path, out, variant=args.variant, profile=profile, seed=args.seed,
                    tasks=args.tasks.split(",") if args.tasks else None)
        documents[submission_name(path)] = doc
        print(f"\n{submission_name(path)}: " + doc["output"])
        if doc["extra_data"].get("submission", {}).get("note"):
            print(f"  note: {doc['extra_data']['submission']['note']}")
        if fails := table.failures(doc):
            print(fails)
    print(f"\n{table.gradebook(documents)}\n\nresults: {out}/<submission>/results.json "
          f"(profile {profile}, variant {args.variant})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, help="course root holding grading.toml (default: found from cwd)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="generate release/ from reference/ (or --check it)")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    p.add_argument("--check", action="store_true", help="fail if release/ is stale or leaks solutions")

    p = sub.add_parser("grade", help="grade submissions (folders or .zip files)")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    p.add_argument("--variant", default="standard")
    p.add_argument("--profile", default="auto", help="cpu, gpu or auto (gpu when CUDA is available)")
    p.add_argument("--out", help="results folder (default: out/<assignment>)")
    p.add_argument("--seed", type=int, help="seed for the test inputs (default: drawn at random)")
    p.add_argument("--tasks", help="grade only these tasks (comma-separated)")

    args = parser.parse_args(argv)
    try:
        course = config.load(args.course)
        return {"release": cmd_release, "grade": cmd_grade}[args.command](course, args)
    except config.ConfigError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 2
