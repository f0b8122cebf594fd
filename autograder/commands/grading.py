"""Commands that grade and keep grades: ``grade``, ``gradebook``, ``sandbox``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import config
from . import check_variant, list_roster, load_roster, out_dir, pick_profile, write_feedback


def cmd_grade(course: config.Course, args) -> int:
    from ..grade import batch, launch
    from ..report import table
    a = course.assignment(args.assignment)
    check_variant(course, args.variant)
    if args.jobs < 1:
        raise config.ConfigError(f"--jobs {args.jobs}: expected a whole number of at least 1")
    missing = [p for p in args.submissions if not Path(p).exists()]
    if missing:
        raise config.ConfigError(f"no such file or folder: {', '.join(missing)} (nothing was graded)")
    profile = pick_profile(course, args.profile, here=not args.cluster)
    roster = load_roster(course, args.roster)
    iso = None if args.cluster else launch.isolation(course.profiles[profile])     # a cluster decides per node
    paths = [Path(p) for p in args.submissions]
    out = out_dir(course, a.id, args.out)
    if len(paths) == 1 and batch.is_class_folder(paths[0], a.module):
        found = batch.collect(paths[0], out / "_lms")
        for warning in found.skipped:
            print(f"WARNING: {warning}", file=sys.stderr)
        for student, files in found.lms.items():
            print(f"LMS download: {student} <- {', '.join(files)}", file=sys.stderr)
        paths = found.paths
        if not paths:
            raise config.ConfigError(f"{args.submissions[0]} holds no submission (no folder, .zip or LMS file)")
        where = f"on the Ray cluster at {args.cluster}" if args.cluster else f"with {args.jobs} job(s)"
        print(f"grading {len(paths)} submissions from {args.submissions[0]} {where}", file=sys.stderr)
    if iso is None:
        print("isolation: decided on each node of the cluster (each results.json records it)", file=sys.stderr)
    else:
        print(f"isolation: {iso.describe()}; processes limit: "
              f"{iso.processes}" + (f"\nWARNING: {iso.warning}" if iso.warning else ""), file=sys.stderr)
    from ..grade.run import submission_name
    list_roster(roster, [submission_name(p) for p in paths], "graded in the --variant given")
    executor = None
    if args.cluster:
        from ..grade import cluster
        executor = cluster.Cluster(args.cluster, course, out, paths)
    result = batch.grade_class(course, a.id, paths, out, variant=args.variant, profile=profile, jobs=args.jobs,
                               regrade=args.regrade, seed=args.seed, roster=roster, isolation=iso, executor=executor)
    write_feedback(course, out, result.documents, roster)
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


def cmd_gradebook(course: config.Course, args) -> int:
    from ..grade.gradebook import Gradebook
    a = course.assignment(args.assignment)
    path = out_dir(course, a.id, args.out) / "gradebook.sqlite"
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


def cmd_sandbox(course: config.Course, args) -> int:
    from ..grade import proclimit, sandbox, unprivileged
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

