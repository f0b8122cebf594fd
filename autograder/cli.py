"""Command line: ``autograder <command>`` (also ``python -m autograder``).

    autograder release [ASSIGNMENT...] [--check]
    autograder bundle ASSIGNMENT [--variant V] [--output FILE]
    autograder grade ASSIGNMENT SUBMISSION... | CLASS_DIR [--jobs N] [--variant V] [--profile P] [--out DIR] [--roster CSV] [--cluster ADDRESS|auto]
    autograder export ASSIGNMENT --csv FILE [--format full|canvas|gradescope] [--roster CSV] [--lms-column NAME] [--out DIR]
    autograder feedback ASSIGNMENT [--out DIR] [--roster CSV]
    autograder report ASSIGNMENT [--out DIR] [--threshold 0.6]
    autograder gradebook ASSIGNMENT list | remove STUDENT... [--out DIR]
    autograder gradescope ASSIGNMENT [--variant V] [--output FILE]
    autograder nbgrader [ASSIGNMENT...] --course-dir DIR
    autograder nbgrader-export ASSIGNMENT --db URL [--course-id ID] [--notebook NAME] [--out DIR]
    autograder sandbox [--install] [--require]

Exit status: 0 on success; 1 when ``release --check`` finds problems or a grading run hit a
grader error; 2 on a usage or course-configuration error (a missing path, a profile whose
device is missing here, ...); 3 when a grading run had submissions that need review (the
grader could not load them: each has a results.json saying why, status ``needs_review``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config
from .commands import authoring, grading, reporting


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autograder", description="Course engine: release, grade, report.")
    parser.add_argument("--course", type=Path, help="course root holding grading.toml (default: found from cwd)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="generate release/ from reference/ (or --check it)")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    p.add_argument("--check", action="store_true", help="fail if release/ is stale or leaks solutions")

    p = sub.add_parser("bundle", help="one assignment's release as a self-contained zip for students")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--variant", default="standard")
    p.add_argument("--output", metavar="FILE")

    p = sub.add_parser("grade", help="grade submissions (folders or .zip files, or one folder of them)")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    p.add_argument("--variant", default="standard")
    p.add_argument("--profile", default="auto", help="a profile of grading.toml, or auto: the first whose device is available here")
    p.add_argument("--out", help="results folder (default: out/<assignment>)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    p.add_argument("--regrade", action="store_true", help="grade again even if unchanged since the last grading")
    p.add_argument("--seed", type=int, help="seed for the test inputs (default: drawn at random)")
    p.add_argument("--roster", metavar="CSV", help="the class roster: each student's variant, extension and name")
    p.add_argument("--cluster", metavar="ADDRESS", help="grade on the Ray cluster at ADDRESS (auto: the one running "
                   "here); gpu-marked tests go to its GPU nodes (pip install 'llm-course-autograder[cluster]')")

    p = sub.add_parser("export", help="gradebook -> CSV, one row per student")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--csv", required=True, metavar="FILE")
    p.add_argument("--format", default="full", choices=["full", "canvas", "gradescope"],
                   help="full (every column), canvas (gradebook import) or gradescope (its score export's columns)")
    p.add_argument("--roster", metavar="CSV", help="the class roster: adds ids, names, LMS ids; lists missing students")
    p.add_argument("--lms-column", metavar="NAME", help="the assignment's column in the Canvas CSV, e.g. "
                   "'A3 Attention (12345)' (default: the assignment id)")
    p.add_argument("--out", help="results folder holding gradebook.sqlite (default: out/<assignment>)")

    p = sub.add_parser("feedback", help="write feedback.md/.html for every student's current grade")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--roster", metavar="CSV", help="the class roster: names students in their feedback")
    p.add_argument("--out", help="results folder (default: out/<assignment>)")

    p = sub.add_parser("report", help="write the class report: histograms, common mistakes, review, times, similarity")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--out", help="results folder holding gradebook.sqlite; report.html is written there "
                   "(default: out/<assignment>)")
    p.add_argument("--threshold", type=float, default=0.6, help="list pairs at least this similar (default 0.6)")

    p = sub.add_parser("gradebook", help="list the gradebook, or remove students' grades from it")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("action", choices=["list", "remove"])
    p.add_argument("students", nargs="*", metavar="STUDENT")
    p.add_argument("--out", help="results folder holding gradebook.sqlite (default: out/<assignment>)")

    p = sub.add_parser("gradescope", help="write the Gradescope autograder zip for an assignment")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--variant", default="standard")
    p.add_argument("--output", metavar="FILE")

    p = sub.add_parser("nbgrader", help="write nbgrader source notebooks (with solutions) into an nbgrader course")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    p.add_argument("--course-dir", required=True, metavar="DIR", help="the nbgrader course directory (outside release/)")

    p = sub.add_parser("nbgrader-export", help="our grades and feedback -> nbgrader's gradebook (formgrader)")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--db", required=True, metavar="URL", help="nbgrader's database, e.g. sqlite:///course/gradebook.db")
    p.add_argument("--course-id", default="", help="nbgrader's CourseDirectory.course_id (default: nbgrader's, empty)")
    p.add_argument("--notebook", help="the notebook's name in nbgrader (default: the assignment's module)")
    p.add_argument("--out", help="results folder holding gradebook.sqlite (default: out/<assignment>)")

    p = sub.add_parser("sandbox", help="say whether submissions can be sandboxed here")
    p.add_argument("--install", action="store_true", help="install bubblewrap with apt-get if missing, and build "
                   "the interpreter an unprivileged worker can run (root)")
    p.add_argument("--require", action="store_true", help="exit 1 unless the sandbox works and, as root, the "
                   "unprivileged mode too (CI)")

    args = parser.parse_args(argv)
    from .grade.launch import IsolationError
    try:
        if args.course is not None and not (args.course / "grading.toml").is_file():
            raise config.ConfigError(f"--course {args.course}: no grading.toml there")
        course = config.load(args.course)
        return {"release": authoring.cmd_release, "bundle": authoring.cmd_bundle, "grade": grading.cmd_grade, "export": reporting.cmd_export,
                "feedback": reporting.cmd_feedback, "report": reporting.cmd_report, "gradescope": reporting.cmd_gradescope, "sandbox": grading.cmd_sandbox,
                "gradebook": grading.cmd_gradebook, "nbgrader": authoring.cmd_nbgrader,
                "nbgrader-export": reporting.cmd_nbgrader_export}[args.command](course, args)
    except (config.ConfigError, IsolationError) as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 2
