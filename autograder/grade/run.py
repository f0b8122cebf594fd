"""Grade one submission: run the trusted pytest process and make sure results.json exists.

Leaves out: feedback pages (``report/feedback.py``; the CLI writes them from the returned
document), the gradebook (``batch.py``) and choosing the isolation mode (the caller decides it
once per run, ``launch.isolation``, and it is passed down to the grading process).

The hidden tests (``assignments/<id>/hidden/``) and the instructor's copy of the public tests
(``assignments/<id>/test_*.py``, never the student's copy) run in a fresh pytest process
with the grading plugin, forked from the warm zygote when it runs (``zygote.py``). If that process dies before writing results.json, every planned
test is recorded as "not run" with the reason, from the manifest written at collection.
A failure before collection finished (an invalid grading.toml, a broken hidden test) is
the course's fault, not the student's: it raises ``GraderError`` with pytest's output.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import config as course_config
from . import launch, zygote
from . import results as results_doc
from .scoring import TestResult, task_totals
from .submission import GRADED_CODE

INI = Path(__file__).with_name("pytest.ini")


class GraderError(RuntimeError):
    """The course material or the grader is broken; not the submission's fault."""


def submission_name(path: Path) -> str:
    return path.stem if path.suffix == ".zip" else path.name


def pytest_argv(course: course_config.Course, aid: str, submission: Path, *, variant: str, profile: str,
                results: Path, manifest: Path, seed: int | None = None, tasks: list[str] | None = None,
                policy: Path | None = None, isolation: launch.Isolation | None = None) -> list[str]:
    """The grading pytest's command line. ``policy`` (the grading.toml text the caller parsed)
    and ``isolation`` (the caller's decision) are passed down so that the run does not decide
    them again."""
    public = sorted(course.handout_dir(aid).glob("test_*.py"))
    # Plugins installed on the grading machine are not loaded (hypothesis's alone cost 1.5 s
    # a run, and none may change how a submission is graded): only pytest-timeout and ours.
    argv = [sys.executable, "-m", "pytest", "-c", str(INI), "--rootdir", str(course.root), "--disable-plugin-autoload",
            "-p", "pytest_timeout", "-p", "autograder.grade.plugin", "-p", "no:cacheprovider",
            "-p", "no:unraisableexception", "-p", "no:threadexception",
            "-q", "--no-header", "-rN", "--tb=short",
            "--course-root", str(course.root), "--assignment", aid, "--variant", variant, "--profile", profile,
            "--submission", str(submission.resolve()), "--results", str(results), "--manifest", str(manifest),
            str(course.hidden_dir(aid)), *map(str, public)]
    if policy is not None:
        argv += ["--policy", str(policy)]
    if isolation is not None:
        argv += ["--isolation", json.dumps(dataclasses.asdict(isolation))]
    if seed is not None:
        argv += ["--seed", str(seed)]
    if tasks:
        argv += ["--tasks", ",".join(tasks)]
    return argv


def grade(course: course_config.Course, aid: str, submission: Path, out_dir: Path, *, variant: str = "standard",
          profile: str = "cpu", seed: int | None = None, tasks: list[str] | None = None,
          timeout_s: float | None = None, isolation: launch.Isolation | None = None) -> dict:
    """Grade ``submission``; returns the results document, also at ``out_dir/<name>/results.json``
    beside the grader's log and the code graded (``GRADED_CODE``; none when the submission could
    not be loaded).

    The grading process writes results.json into a private folder, and it is moved into place
    only when that process has ended: a process orphaned by a killed batch can never overwrite
    a later grade.
    """
    dest = out_dir / submission_name(submission)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-run-") as private:
        results, manifest = Path(private) / "results.json", Path(private) / "manifest.json"
        policy = Path(private) / "grading.toml" if course.text else None
        if policy:
            policy.write_text(course.text, encoding="utf-8")
        argv = pytest_argv(course, aid, submission, variant=variant, profile=profile, results=results,
                           manifest=manifest, seed=seed, tasks=tasks, policy=policy, isolation=isolation)
        started = time.time()
        output, status = _run_pytest(argv, course.root, Path(private) / "pytest.log", timeout_s)
        (dest / "grader.log").write_text(output, encoding="utf-8")
        if results.is_file():
            document = json.loads(results.read_text(encoding="utf-8"))
            shutil.move(results, dest / "results.json")
        elif manifest.is_file():
            document = not_run(course, aid, variant, profile, tasks, json.loads(manifest.read_text(encoding="utf-8")),
                                f"the grader stopped (pytest status {status}) before finishing; regrade this submission",
                                time.time() - started)
            results_doc.write(dest / "results.json", document)
        else:
            raise GraderError(f"grading {submission} failed before any test ran (pytest status {status}); "
                              f"see {dest / 'grader.log'}:\n{output[-3000:]}")
        (dest / GRADED_CODE).unlink(missing_ok=True)
        if (Path(private) / GRADED_CODE).is_file():
            shutil.move(Path(private) / GRADED_CODE, dest / GRADED_CODE)
    return document


def _run_pytest(argv: list[str], cwd: Path, log: Path, timeout_s: float | None) -> tuple[str, int | None]:
    """Run the grading pytest: forked from the warm zygote when it runs, else a fresh process."""
    warm = zygote.shared()
    if warm is not None:
        status = warm.run(argv[3:], str(cwd), str(log), timeout_s)
        output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        return output + ("" if status is not None else f"\n[killed after {timeout_s} s or died]"), status
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=timeout_s)
        return proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        return f"{exc.stdout or ''}{exc.stderr or ''}\n[killed after {timeout_s} s]", None


def not_run(course, aid, variant, profile, tasks, rows, reason, seconds) -> dict:
    """A results document in which every planned test is recorded as not run, with ``reason``."""
    tested = [TestResult(r["nodeid"], r["name"], r["task"], r["public"], "not_run", reason, 0.0, r["max_score"])
              for r in rows]
    a = course.assignment(aid)
    titles = {t: v.title for t, v in a.tasks_for(variant).items() if not tasks or t in tasks}
    return results_doc.build(
        assignment=aid, variant=variant, results=tested, tasks=task_totals(tested, titles),
        public_visibility=course.public_visibility, hidden_visibility=course.hidden_visibility,
        execution_time=seconds, extra={"profile": profile, "grader_failure": reason})
