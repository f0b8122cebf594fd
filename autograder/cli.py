"""Command line: ``autograder <command>`` (also ``python -m autograder``).

    autograder release [ASSIGNMENT...] [--check]
    autograder bundle ASSIGNMENT [--variant V] [--output FILE]
    autograder grade ASSIGNMENT SUBMISSION... | CLASS_DIR [--jobs N] [--variant V] [--profile P] [--out DIR] [--roster CSV]
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
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import config


def _profile(course: config.Course, name: str) -> str:
    if name != "auto":
        if name not in course.profiles:
            raise config.ConfigError(f"--profile {name!r}: grading.toml has {', '.join(course.profiles)}")
        from .grade.launch import check_device
        check_device(course.profiles[name])
        return name
    import torch
    available = {"cpu": True, "cuda": torch.cuda.is_available()}
    for profile in course.profiles.values():
        if available[profile.device]:
            return profile.name
    raise config.ConfigError(f"--profile auto: no profile's device is available here ({', '.join(course.profiles)})")


def _out(course: config.Course, aid: str, out: str | None) -> Path:
    return Path(out) if out else course.root / "out" / aid


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


def _variant(course: config.Course, variant: str) -> str:
    if variant not in course.variants:
        raise config.ConfigError(f"--variant {variant!r}: grading.toml has {', '.join(course.variants)}")
    return variant


def cmd_bundle(course: config.Course, args) -> int:
    from .release import build
    course.assignment(args.assignment)
    _variant(course, args.variant)
    output = Path(args.output or course.root / "out" / f"{args.assignment}-{args.variant}.zip")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(build.bundle(course, args.assignment, args.variant))
    print(f"wrote {output}: one self-contained folder {args.assignment}/ (unzip, then `pytest` inside it)")
    return 0


def _roster(course: config.Course, path: str | None):
    from .grade import roster
    return roster.load(Path(path), course.variants) if path else None


def _list_roster(roster, names: list[str], what: str) -> None:
    """Say who handed in without being on the roster, and who is on it with nothing handed in."""
    if roster is None:
        return
    _, unknown, missing = roster.split(names)
    for name in unknown:
        print(f"NOT ON ROSTER: {name} ({what})", file=sys.stderr)
    for student in missing:
        print(f"MISSING: {student.label()} is on the roster and handed in nothing", file=sys.stderr)


def _write_feedback(course: config.Course, out: Path, documents: dict[str, dict], roster) -> None:
    """feedback.md and feedback.html for every student, named as the roster names them."""
    from .report import feedback
    for student, doc in documents.items():
        person = roster.match(student) if roster else None
        feedback.write(out / student, doc, person.label() if person else student, course.hidden_feedback)


def cmd_grade(course: config.Course, args) -> int:
    from .grade import batch, launch
    from .report import table
    a = course.assignment(args.assignment)
    _variant(course, args.variant)
    if args.jobs < 1:
        raise config.ConfigError(f"--jobs {args.jobs}: expected a whole number of at least 1")
    missing = [p for p in args.submissions if not Path(p).exists()]
    if missing:
        raise config.ConfigError(f"no such file or folder: {', '.join(missing)} (nothing was graded)")
    profile = _profile(course, args.profile)
    roster = _roster(course, args.roster)
    iso = launch.isolation(course.profiles[profile])
    paths = [Path(p) for p in args.submissions]
    out = _out(course, a.id, args.out)
    if len(paths) == 1 and batch.is_class_folder(paths[0], a.module):
        found = batch.collect(paths[0], out / "_lms")
        for warning in found.skipped:
            print(f"WARNING: {warning}", file=sys.stderr)
        for student, files in found.lms.items():
            print(f"LMS download: {student} <- {', '.join(files)}", file=sys.stderr)
        paths = found.paths
        if not paths:
            raise config.ConfigError(f"{args.submissions[0]} holds no submission (no folder, .zip or LMS file)")
        print(f"grading {len(paths)} submissions from {args.submissions[0]} with {args.jobs} job(s)", file=sys.stderr)
    print(f"isolation: {iso.describe()}; processes limit: "
          f"{iso.processes}" + (f"\nWARNING: {iso.warning}" if iso.warning else ""), file=sys.stderr)
    from .grade.run import submission_name
    _list_roster(roster, [submission_name(p) for p in paths], "graded in the --variant given")
    result = batch.grade_class(course, a.id, paths, out, variant=args.variant, profile=profile, jobs=args.jobs,
                               regrade=args.regrade, seed=args.seed, roster=roster, isolation=iso)
    _write_feedback(course, out, result.documents, roster)
    if len(result.documents) <= 3:
        for name, doc in result.documents.items():
            print(f"\n{name}: " + doc["output"])
            if note := doc["extra_data"].get("submission", {}).get("note"):
                print(f"  note: {note}")
            if fails := table.failures(doc):
                print(fails)
    print(f"\n{table.gradebook(result.documents)}\n")
    review = result.needs_review
    print(f"{result.graded} graded, {result.skipped} unchanged since their last grading (skipped; --regrade to "
          f"grade again), {len(review)} need review (could not be loaded: not real zeros), {len(result.failed)} "
          f"grader error(s). Results, feedback and logs: {out}/<submission>/; gradebook: {out}/gradebook.sqlite")
    for name, why in review.items():
        print(f"NEEDS REVIEW {name}: {why.splitlines()[0]}", file=sys.stderr)
    for name, error in result.failed.items():
        print(f"GRADER ERROR for {name}: {error.splitlines()[0]}", file=sys.stderr)
    return 1 if result.failed else 3 if review else 0


def cmd_export(course: config.Course, args) -> int:
    from .grade.gradebook import Gradebook
    from .report.export import write_csv
    a = course.assignment(args.assignment)
    path = _out(course, a.id, args.out) / "gradebook.sqlite"
    if not path.is_file():
        raise config.ConfigError(f"no gradebook at {path}: grade {a.id} first")
    roster = _roster(course, args.roster)
    book = Gradebook(path)
    try:
        rows = book.rows(a.id)
    finally:
        book.close()
    _list_roster(roster, [row["student"] for row in rows], "exported without ids; not in the Canvas CSV")
    n = write_csv(rows, a, Path(args.csv), roster=roster, shape=args.format, lms_column=args.lms_column,
                  points_possible=a.max_points(course.variants[0]))
    print(f"wrote {args.csv}: {n} row(s), {args.format} format")
    return 0


def _current(course: config.Course, aid: str, out: str | None) -> dict[str, dict]:
    """Each student's current results document from the gradebook of ``aid``."""
    from .grade.gradebook import Gradebook
    path = _out(course, aid, out) / "gradebook.sqlite"
    if not path.is_file():
        raise config.ConfigError(f"no gradebook at {path}: grade {aid} first")
    book = Gradebook(path)
    try:
        return book.current(aid)
    finally:
        book.close()


def cmd_feedback(course: config.Course, args) -> int:
    a = course.assignment(args.assignment)
    out = _out(course, a.id, args.out)
    documents = _current(course, a.id, args.out)
    _write_feedback(course, out, documents, _roster(course, args.roster))
    print(f"wrote feedback.md and feedback.html for {len(documents)} student(s) under {out}")
    return 0


def cmd_report(course: config.Course, args) -> int:
    import time

    from .report import classreport
    a = course.assignment(args.assignment)
    out = _out(course, a.id, args.out)
    if not 0 < args.threshold <= 1:
        raise config.ConfigError(f"--threshold {args.threshold}: expected a share in (0, 1]")
    started = time.monotonic()
    documents = _current(course, a.id, args.out)
    path = classreport.write(course, a.id, out, documents, args.threshold, out / "report.html")
    print(f"wrote {path}: {len(documents)} student(s), in {time.monotonic() - started:.1f} s")
    return 0


def cmd_gradebook(course: config.Course, args) -> int:
    from .grade.gradebook import Gradebook
    a = course.assignment(args.assignment)
    path = _out(course, a.id, args.out) / "gradebook.sqlite"
    if not path.is_file():
        raise config.ConfigError(f"no gradebook at {path}: grade {a.id} first")
    book = Gradebook(path)
    try:
        known = book.students(a.id)
        if args.action == "list":
            for row in book.rows(a.id):
                print(f"{row['student']}\t{row['score']:g}/{row['max_score']:g}\t{row['status']}")
            return 0
        unknown = [s for s in args.students if s not in known]
        if unknown or not args.students:
            raise config.ConfigError(f"gradebook remove: {', '.join(unknown) or 'no student given'}: not in the "
                                     f"gradebook of {a.id} (it has {', '.join(known) or 'nobody'})")
        for student in args.students:
            print(f"removed {student}: {book.remove(a.id, student)} grade(s)")
    finally:
        book.close()
    return 0


def cmd_gradescope(course: config.Course, args) -> int:
    from .report import gradescope
    course.assignment(args.assignment)
    _variant(course, args.variant)
    output = Path(args.output or course.root / "out" / f"{args.assignment}-{args.variant}-gradescope.zip")
    gradescope.build(course, args.assignment, args.variant, output)
    print(f"wrote {output}: upload it as the Gradescope autograder (base image: Ubuntu 24.04)")
    return 0


def cmd_nbgrader(course: config.Course, args) -> int:
    from .release import nbgrader_source
    ids = args.assignments or list(course.assignments)
    for aid in ids:
        course.assignment(aid)
    written, notes = nbgrader_source.write(course, ids, Path(args.course_dir))
    print(*(f"NOTE: {note}" for note in notes), sep="\n", file=sys.stderr, end="\n" if notes else "")
    print(f"wrote {len(written)} file(s) under {args.course_dir} (sources with solutions: keep them from students); "
          f"there, `nbgrader generate_assignment {ids[0]}` makes the {nbgrader_source.VARIANT} student notebook")
    return 0


def cmd_nbgrader_export(course: config.Course, args) -> int:
    from .report.nbgrader_export import export
    a = course.assignment(args.assignment)
    done = export(course, a.id, _current(course, a.id, args.out), args.db, args.course_id, args.notebook)
    for student, why in done.skipped.items():
        print(f"skipped {student}: {why}", file=sys.stderr)
    print(f"wrote the grades and feedback of {len(done.students)} student(s) into {args.db} ({len(done.skipped)} skipped)")
    return 0


def cmd_sandbox(course: config.Course, args) -> int:
    from .grade import proclimit, sandbox, unprivileged
    if args.install and sandbox.bwrap_path() is None:
        print(f"sandbox --install: {_install_bubblewrap()}")
        sandbox.probe.cache_clear()
    if args.install and os.getuid() == 0:
        print(f"sandbox --install: {unprivileged.install_worker_python()}")
    problem = sandbox.probe()
    print(f"sandbox: {'bubblewrap works' if problem is None else problem}")
    cannot = unprivileged.possible()
    network = "no network" if unprivileged.network_namespace() else "network reachable: no network namespace here"
    print("without the sandbox: " + (f"an unprivileged uid of its own per worker, running "
                                     f"{unprivileged.worker_python()} ({network})" if cannot is None else cannot))
    print(f"processes limit: {proclimit.strategy()}")
    # CI needs both modes: the exploit suite runs sandboxed and unprivileged (as root).
    failed = problem is not None or (cannot is not None and os.getuid() == 0)
    return 1 if failed and args.require else 0


def _install_bubblewrap() -> str:
    """Install Debian's bubblewrap package; what happened, in one line."""
    if os.getuid() != 0:
        return f"not installing bubblewrap: that needs root (this is uid {os.getuid()}); run `apt-get install bubblewrap` as root"
    if shutil.which("apt-get") is None:
        return "not installing bubblewrap: apt-get is not here; install the package 'bubblewrap' with this system's package manager"
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "bubblewrap"]):
        proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if proc.returncode != 0 and argv[1] == "install":
            return f"`{' '.join(argv)}` failed (status {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-300:]}"
    return "installed bubblewrap with apt-get" if shutil.which("bwrap") else "apt-get ran, but bwrap is still not on PATH"


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
        return {"release": cmd_release, "bundle": cmd_bundle, "grade": cmd_grade, "export": cmd_export,
                "feedback": cmd_feedback, "report": cmd_report, "gradescope": cmd_gradescope, "sandbox": cmd_sandbox,
                "gradebook": cmd_gradebook, "nbgrader": cmd_nbgrader,
                "nbgrader-export": cmd_nbgrader_export}[args.command](course, args)
    except (config.ConfigError, IsolationError) as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 2
