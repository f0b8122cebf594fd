"""Grade a class: many submissions, ``jobs`` at a time, resumable through the gradebook.

Each submission is graded by ``run.grade`` (its own trusted pytest process and worker), on
a pool of ``jobs`` threads, or on the ``executor`` given (``cluster.Cluster``: a Ray cluster);
the main thread alone writes the gradebook, one transaction per grade. A submission whose content, tests and configuration are unchanged since it was last
graded is skipped, so re-running a batch that was killed (even with ``kill -9``) grades
only what is missing.

With a roster (``roster.py``) each student is graded in their own variant; grading.toml's
late policy (``late.py``) is applied to every grade, fresh or reused, from the submission's
recorded time and the student's extension. Leaves out: feedback pages (the CLI writes them).
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from . import late, launch, run, unprivileged
from . import results as results_doc
from .digest import grade_digest
from .gradebook import Gradebook
from .progress import Progress
from .roster import Roster
from .submission import digest_path, holds_module


@dataclass
class Batch:
    documents: dict[str, dict] = field(default_factory=dict)   # student -> results document
    graded: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)      # student -> grader error (course's fault)

    @property
    def needs_review(self) -> dict[str, str]:
        """student -> why the grader could not load their submission (not a real zero)."""
        return {s: d["extra_data"]["needs_review"] for s, d in self.documents.items()
                if d["extra_data"].get("status") == "needs_review"}


# Flat LMS downloads: every student's files side by side, the student in the file name.
CANVAS = re.compile(r"^(?P<student>[a-z][a-z0-9]*?)(?:_late)?_(?P<uid>\d+)_(?P<fid>\d+)_(?P<file>.+)$", re.IGNORECASE)
MOODLE = re.compile(r"^(?P<student>.+?)_(?P<uid>\d+)_assignsubmission_(?:file|onlinetext)_?(?P<file>.*)$")


@dataclass
class ClassFolder:
    paths: list[Path]                                          # one per student
    skipped: list[str] = field(default_factory=list)           # warnings: what was not graded, and why
    lms: dict[str, list[str]] = field(default_factory=dict)    # student -> the LMS files gathered for them


def lms_student(name: str) -> tuple[str, str] | None:
    """``(student, original file name)`` of a Canvas or Moodle download file, else None."""
    for pattern in (MOODLE, CANVAS):
        match = pattern.match(name)
        if match and match.group("file"):
            student = re.sub(r"[^A-Za-z0-9_.-]+", "_", match.group("student")).strip("_").lower()
            return f"{student}_{match.group('uid')}" if pattern is MOODLE else student, match.group("file")
    return None


def collect(folder: Path, lms_dir: Path | None = None) -> ClassFolder:
    """The submissions in a class folder: each subfolder, each .zip, and the students of a flat
    Canvas or Moodle download (their files gathered into ``lms_dir/<student>/``). Anything
    else is skipped, with a warning."""
    found = ClassFolder([])
    groups: dict[str, list[tuple[Path, str]]] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.name == "__MACOSX":
            continue
        if p.is_dir() or p.suffix.lower() == ".zip" and lms_student(p.name) is None:
            found.paths.append(p)
        elif p.is_file() and lms_dir is not None and (hit := lms_student(p.name)):
            groups.setdefault(hit[0], []).append((p, hit[1]))
        else:
            found.skipped.append(f"skipped {p.name}: not a submission (a submission is a folder, a .zip, or a "
                                 "file of a Canvas or Moodle download)")
    for student, files in groups.items():
        target = lms_dir / student
        shutil.rmtree(target, ignore_errors=True)
        if len(files) == 1 and files[0][1].lower().endswith(".zip"):
            target = lms_dir / f"{student}.zip"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(files[0][0], target)       # keeps the LMS's file time
        else:
            target.mkdir(parents=True)
            for path, original in files:
                shutil.copy2(path, target / Path(original).name)
        found.paths.append(target)
        found.lms[student] = [p.name for p, _ in files]
    return found


def submissions_in(folder: Path) -> list[Path]:
    """The submissions in a class folder: each subfolder and each .zip."""
    return collect(folder).paths


def is_class_folder(path: Path, module: str) -> bool:
    """A folder of submissions (or a flat LMS download), rather than one submission holding
    ``module`` (or a near-miss of its name)."""
    if not path.is_dir() or holds_module(path, module):
        return False
    return any(p.is_dir() or p.suffix.lower() == ".zip" or lms_student(p.name) for p in path.iterdir()
               if not p.name.startswith("."))


def grade_class(course: config.Course, aid: str, paths: list[Path], out_dir: Path, *, variant: str, profile: str,
                jobs: int = 1, regrade: bool = False, seed: int | None = None, progress=None,
                roster: Roster | None = None, isolation: launch.Isolation | None = None, executor=None) -> Batch:
    """Grade ``paths``; ``variant`` is everyone's, or that of those the roster gives none.
    ``isolation`` is decided here once for the batch unless the caller already decided it or
    an ``executor`` (whose ``submit`` is called as a thread pool's, with ``run.grade``) grades
    elsewhere."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise config.ConfigError(f"no such file or folder: {', '.join(missing)} (nothing was graded)")
    names = [run.submission_name(p) for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise config.ConfigError(f"several submissions are named {', '.join(duplicates)} (a folder and a .zip?)")
    out_dir.mkdir(parents=True, exist_ok=True)
    progress = progress or Progress()
    policy = course.assignment(aid).late
    people = {n: roster.match(n) for n in names} if roster else {}
    # Results and the class's submissions are private: no worker (another uid) may read them.
    folders = {p.resolve().parent for p in paths}
    python = unprivileged.worker_python()
    if os.getuid() == 0:
            unprivileged.fence([out_dir, *(folders if len(paths) > 1 and len(folders) == 1 else ())],
                           keep=[python] if python else [])
    if executor is None:
        isolation = isolation or launch.isolation(course.profiles[profile])     # decided once for the batch
    book = Gradebook(out_dir / "gradebook.sqlite")
    batch = Batch()

    def finish(path: Path, student: str, document: dict) -> dict:
        """The late policy applied; results.json restated when that changed the grade (the
        feedback pages are the caller's, from the returned documents)."""
        person = people.get(student)
        out = late.apply(document, policy, late.submitted_at(path), person.extension_days if person else 0.0)
        if out is not document:
            results_doc.write(out_dir / student / "results.json", out)
        return out

    try:
        config_sha256 = grade_digest(course, aid, profile)
        todo = []
        for path, student in zip(paths, names):
            own = (people.get(student) and people[student].variant) or variant
            key = dict(assignment=aid, config_sha256=config_sha256, variant=own, profile=profile, student=student,
                       submission_sha256=digest_path(path))
            previous = None if regrade else book.find(key)
            if previous is not None:
                document = finish(path, student, previous)
                if document != previous:
                    book.restate(key, document)
                book.make_current(key)
                batch.documents[student] = document
                batch.skipped += 1
            else:
                todo.append((path, student, key))
        done = batch.skipped
        with executor or concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
            futures = {pool.submit(run.grade, course, aid, path, out_dir, variant=key["variant"], profile=profile,
                                   seed=seed, isolation=isolation): (path, student, key) for path, student, key in todo}
            pending, since = set(futures), {}
            while pending:
                finished, pending = concurrent.futures.wait(pending, timeout=2,
                                                            return_when=concurrent.futures.FIRST_COMPLETED)
                now = time.monotonic()
                for future in finished:
                    path, student, key = futures[future]
                    done += 1
                    try:
                        document = finish(path, student, future.result())
                    except run.GraderError as exc:
                        batch.failed[student] = str(exc)
                        progress(done, len(paths), student, None, "GRADER ERROR (see its grader.log)")
                        continue
                    book.record(key, document)
                    batch.documents[student] = document
                    batch.graded += 1
                    progress(done, len(paths), student, document, "")
                running = [f for f in pending if f.running()]
                for future in running:
                    since.setdefault(future, now)
                progress(done, len(paths), None, None,
                         ", ".join(f"{futures[f][1]} ({now - since[f]:.0f} s)" for f in running))
    finally:
        book.close()
    batch.documents = dict(sorted(batch.documents.items()))
    return batch
