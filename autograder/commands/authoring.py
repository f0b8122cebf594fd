"""Commands that make what students and nbgrader receive: ``release``, ``bundle``, ``nbgrader``."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import config
from . import check_variant


def cmd_release(course: config.Course, args) -> int:
    from ..release import check
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


def cmd_bundle(course: config.Course, args) -> int:
    from ..release import build
    course.assignment(args.assignment)
    check_variant(course, args.variant)
    output = Path(args.output or course.root / "out" / f"{args.assignment}-{args.variant}.zip")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(build.bundle(course, args.assignment, args.variant))
    print(f"wrote {output}: one self-contained folder {args.assignment}/ (unzip, then `pytest` inside it)")
    return 0


def cmd_nbgrader(course: config.Course, args) -> int:
    from ..release import nbgrader_source
    ids = args.assignments or list(course.assignments)
    for aid in ids:
        course.assignment(aid)
    written, notes = nbgrader_source.write(course, ids, Path(args.course_dir))
    print(*(f"NOTE: {note}" for note in notes), sep="\n", file=sys.stderr, end="\n" if notes else "")
    print(f"wrote {len(written)} file(s) under {args.course_dir} (sources with solutions: keep them from students); "
          f"there, `nbgrader generate_assignment {ids[0]}` makes the {nbgrader_source.VARIANT} student notebook")
    return 0

