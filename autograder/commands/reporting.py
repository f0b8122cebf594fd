"""Commands made from the grades: ``export``, ``feedback``, ``report``, ``gradescope``,
``nbgrader-export``."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import config
from . import check_variant, current_grades, list_roster, load_roster, out_dir, write_feedback


def cmd_export(course: config.Course, args) -> int:
    from ..grade.gradebook import Gradebook
    from ..report.export import write_csv
    a = course.assignment(args.assignment)
    path = out_dir(course, a.id, args.out) / "gradebook.sqlite"
    if not path.is_file():
        raise config.ConfigError(f"no gradebook at {path}: grade {a.id} first")
    roster = load_roster(course, args.roster)
    book = Gradebook(path)
    try:
        rows = book.rows(a.id)
    finally:
        book.close()
    list_roster(roster, [row["student"] for row in rows], "exported without ids; not in the Canvas CSV")
    n = write_csv(rows, a, Path(args.csv), roster=roster, shape=args.format, lms_column=args.lms_column,
                  points_possible=a.max_points(course.variants[0]))
    print(f"wrote {args.csv}: {n} row(s), {args.format} format")
    return 0


def cmd_feedback(course: config.Course, args) -> int:
    a = course.assignment(args.assignment)
    out = out_dir(course, a.id, args.out)
    documents = current_grades(course, a.id, args.out)
    write_feedback(course, out, documents, load_roster(course, args.roster))
    print(f"wrote feedback.md and feedback.html for {len(documents)} student(s) under {out}")
    return 0


def cmd_report(course: config.Course, args) -> int:
    import time

    from ..report import classreport
    a = course.assignment(args.assignment)
    out = out_dir(course, a.id, args.out)
    if not 0 < args.threshold <= 1:
        raise config.ConfigError(f"--threshold {args.threshold}: expected a share in (0, 1]")
    started = time.monotonic()
    documents = current_grades(course, a.id, args.out)
    path = classreport.write(course, a.id, out, documents, args.threshold, out / "report.html")
    print(f"wrote {path}: {len(documents)} student(s), in {time.monotonic() - started:.1f} s")
    return 0


def cmd_gradescope(course: config.Course, args) -> int:
    from ..report import gradescope
    course.assignment(args.assignment)
    check_variant(course, args.variant)
    output = Path(args.output or course.root / "out" / f"{args.assignment}-{args.variant}-gradescope.zip")
    gradescope.build(course, args.assignment, args.variant, output)
    print(f"wrote {output}: upload it as the Gradescope autograder (base image: Ubuntu 24.04)")
    return 0


def cmd_nbgrader_export(course: config.Course, args) -> int:
    from ..report.nbgrader_export import export
    a = course.assignment(args.assignment)
    done = export(course, a.id, current_grades(course, a.id, args.out), args.db, args.course_id, args.notebook)
    for student, why in done.skipped.items():
        print(f"skipped {student}: {why}", file=sys.stderr)
    print(f"wrote the grades and feedback of {len(done.students)} student(s) into {args.db} ({len(done.skipped)} skipped)")
    return 0

