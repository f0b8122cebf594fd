"""Grade a class: many submissions, ``jobs`` at a time, resumable through the gradebook.

Each submission is graded by ``run.grade`` (its own trusted pytest process and worker), on
a pool of ``jobs`` threads; the main thread alone writes the gradebook, one transaction per
grade. A submission whose content, tests and configuration are unchanged since it was last
graded is skipped, so re-running a batch that was killed (even with ``kill -9``) grades
only what is missing.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..report.gradebook import Gradebook, config_digest
from ..report.results import points
from . import run, unprivileged
from .submission import digest_path


@dataclass
class Batch:
    documents: dict[str, dict] = field(default_factory=dict)   # student -> results document
    graded: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)      # student -> grader error (course's fault)


def submissions_in(folder: Path) -> list[Path]:
    """The submissions in a class folder: each subfolder and each .zip."""
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".zip"))


def is_class_folder(path: Path, module: str) -> bool:
    """A folder of submissions, rather than one submission holding ``module``."""
    if not path.is_dir() or any((path / f"{module}{ext}").is_file() for ext in (".py", ".ipynb")):
        return False
    return any(p.is_dir() or p.suffix == ".zip" for p in path.iterdir())


def _progress(done: int, total: int, student: str, doc: dict | None, note: str) -> None:
    width = 24
    filled = width * done // max(total, 1)
    score = f"{points(doc['score'])}/{points(doc['extra_data']['max_score'])}" if doc else note
    print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {student}: {score}", file=sys.stderr, flush=True)


def grade_class(course: config.Course, aid: str, paths: list[Path], out_dir: Path, *, variant: str, profile: str,
                jobs: int = 1, regrade: bool = False, seed: int | None = None, progress=_progress) -> Batch:
    names = [run.submission_name(p) for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise config.ConfigError(f"several submissions are named {', '.join(duplicates)} (a folder and a .zip?)")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Results and the class's submissions are private: no worker (another uid) may read them.
    folders = {p.resolve().parent for p in paths}
    python = unprivileged.worker_python()
    if os.getuid() == 0:
            unprivileged.fence([out_dir, *(folders if len(paths) > 1 and len(folders) == 1 else ())],
                           keep=[python] if python else [])
    book = Gradebook(out_dir / "gradebook.sqlite")
    batch = Batch()
    try:
        common = {"assignment": aid, "config_sha256": config_digest(course, aid), "variant": variant, "profile": profile}
        todo = []
        for path, student in zip(paths, names):
            key = dict(common, student=student, submission_sha256=digest_path(path))
            previous = None if regrade else book.find(key)
            if previous is not None:
                book.make_current(key)
                batch.documents[student] = previous
                batch.skipped += 1
            else:
                todo.append((path, student, key))
        done = batch.skipped
        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
            futures = {pool.submit(run.grade, course, aid, path, out_dir, variant=variant, profile=profile,
                                   seed=seed): (student, key) for path, student, key in todo}
            for future in concurrent.futures.as_completed(futures):
                student, key = futures[future]
                done += 1
                try:
                    document = future.result()
                except run.GraderError as exc:
                    batch.failed[student] = str(exc)
                    progress(done, len(paths), student, None, "GRADER ERROR (see its grader.log)")
                    continue
                book.record(key, document)
                batch.documents[student] = document
                batch.graded += 1
                progress(done, len(paths), student, document, "")
    finally:
        book.close()
    batch.documents = dict(sorted(batch.documents.items()))
    return batch

