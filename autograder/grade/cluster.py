"""Grade a class on a Ray cluster: each submission is Ray work, gpu-marked tests on GPU nodes.

``Cluster`` stands in for ``batch.grade_class``'s thread pool (its ``executor``): ``submit(run.grade,
...)`` sends the grading of one submission to the cluster, so the batch's driver loop (late
policy, gradebook, progress) is the one local grading runs. The driver zips that one submission
and passes its bytes as the task's argument; a node unpacks them into a private folder, decides
the isolation itself (sandbox availability is per node), runs ``run.grade`` there with the
batch's profile, variant, seed and limits, and returns plain data: the results document,
grader.log and the code graded. The driver writes them where local grading leaves them. It is
the only writer of files and of the gradebook: a task orphaned by a killed driver writes
nothing, and a task Ray reruns elsewhere after its node died (``max_retries``) still gives one
result, recorded once.

The course ships as the Ray runtime env's working_dir (without .git, release/, results, the
examples or the class's submissions), the grader as a py_module; nodes need the project's
dependencies (the same image), not its checkout. Ray unpacks them world-readable and keeps
earlier batches' copies: a node grading in the unprivileged mode fences that whole folder.

GPU routing: the driver plans the tests once per variant (a collection-only pytest run: the
plugin's manifest says which tests are gpu-marked, and each test's time limit). When the
cluster has GPUs and grading.toml a cuda profile, the tasks holding gpu tests are graded by a
second Ray task (``num_gpus=1``) on that profile, the rest on the batch's, and the two documents
merge into one (``results.merge``). A GPU node without CUDA grades its part on the batch's
profile, so its gpu tests are "not run", never passed. ``extra_data.cluster`` names the nodes.

Ray workers are reused for GPU tasks too (``max_calls=0``): they never touch CUDA (the grading
process they start does, and exits), and the zygote takes each task's ``CUDA_VISIBLE_DEVICES``.

Deadline: a part not back after the sum of its tests' time limits and two start-ups is
cancelled (``ray.cancel(force=True)``) and its tests recorded as not run, with the reason (on
the node, run.grade stops its own pytest one start-up earlier).

Leaves out: starting the cluster (README), enforcing resources (Ray's are logical: the limits
are the profile's, applied on the node), processes a force-cancelled task leaves on its node,
and symlinks in a submission folder (not shipped: they could point at another student's files).
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from . import launch, run, unprivileged
from . import results as results_doc
from .submission import GRADED_CODE

EXCLUDES = [".git", "/.venv/", "__pycache__", "*.egg-info", "/release/", "/out/", "/tests/", "/autograder/",
            "/assignments/*/examples/"]


def _ray():
    try:
        import ray
    except ImportError:
        raise config.ConfigError("--cluster needs Ray: pip install 'llm-course-autograder[cluster]'") from None
    return ray


def pack(path: Path) -> tuple[bool, bytes]:
    """``(is_folder, bytes)`` of one submission: a file as it is, a folder zipped (its regular files)."""
    if path.is_file():
        return False, path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for folder, _, files in os.walk(path):             # does not enter symlinked folders
            for name in sorted(files):
                file = Path(folder) / name
                if not file.is_symlink():
                    z.write(file, file.relative_to(path).as_posix())
    return True, buffer.getvalue()


def grade_part(is_folder: bool, data: bytes, name: str, policy: str | None, aid: str, variant: str, profile: str,
               fallback: str | None, seed: int, tasks: list[str] | None, timeout_s: float) -> dict:
    """The Ray task, on a node: grade one part of one submission in a private folder; plain data back."""
    import ray
    course = config.load(Path.cwd(), policy)          # the runtime env's working_dir is the course
    node, note = ray.get_runtime_context().get_node_id(), ""
    try:
        launch.check_device(course.profiles[profile])
    except launch.IsolationError as exc:
        if fallback is None:
            return {"error": str(exc), "log": "", "node": node}
        profile, note = fallback, f"graded on profile {fallback!r}: {exc}"
    with tempfile.TemporaryDirectory(prefix="autograder-cluster-") as private:
        submission, out = Path(private) / name, Path(private) / "out"
        if is_folder:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                z.extractall(submission)
        else:
            submission.write_bytes(data)
        dest = out / run.submission_name(submission)
        try:
            isolation = launch.isolation(course.profiles[profile])
            if isolation.unprivileged:      # every course and grader copy Ray keeps here, not this one only
                unprivileged.fence([Path.cwd().parents[1]])     # .../runtime_resources/working_dir_files/<pkg>
            document = run.grade(course, aid, submission, out, variant=variant, profile=profile, seed=seed,
                                 tasks=tasks, timeout_s=timeout_s, isolation=isolation)
        except (run.GraderError, launch.IsolationError, unprivileged.FenceError) as exc:
            log = dest / "grader.log"
            return {"error": str(exc), "log": log.read_text(encoding="utf-8") if log.is_file() else "", "node": node}
        code = dest / GRADED_CODE
        return {"document": document, "log": (dest / "grader.log").read_text(encoding="utf-8"), "node": node,
                "code": code.read_text(encoding="utf-8") if code.is_file() else None, "profile": profile, "note": note}


@dataclass
class _Part:
    job: _Job
    tasks: list[str] | None          # None: every task of the variant
    profile: str
    rows: list[dict]                 # its planned tests
    cpus: int
    gpus: int
    args: tuple = ()
    ref: object = None
    started: float = 0.0


@dataclass
class _Job:
    future: concurrent.futures.Future
    path: Path
    out_dir: Path
    course: config.Course
    aid: str
    variant: str
    parts: list[_Part] = field(default_factory=list)
    outs: dict[int, dict] = field(default_factory=dict)      # part index -> what the node returned


class Cluster:
    """``executor`` for ``batch.grade_class``: grade on the Ray cluster at ``address`` (``auto``:
    the one running on this machine). ``deadline_s`` replaces the derived deadline (tests)."""

    def __init__(self, address: str, course: config.Course, out_dir: Path, paths: list[Path],
                 deadline_s: float | None = None):
        self.ray, root = _ray(), course.root.resolve()
        own = [p.resolve() for p in (out_dir, *paths)]       # results and submissions never ship
        excludes = EXCLUDES + ["/" + re.sub(r"([][*?!#\\])", r"\\\1", p.relative_to(root).as_posix())
                               for p in own if p.is_relative_to(root) and p != root]
        self.ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR,
                      runtime_env={"working_dir": str(root), "excludes": excludes,
                                   "py_modules": [str(Path(__file__).resolve().parents[1])]})
        self.task = self.ray.remote(max_calls=0)(grade_part)
        self.gpu_profile = next((p.name for p in course.profiles.values() if p.device == "cuda"), None)
        self.deadline_s, self.plans, self.queue, self.running = deadline_s, {}, [], []
        self.lock, self.closing = threading.Lock(), False
        self.thread = threading.Thread(target=self._loop, name="autograder-cluster", daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.closing = True
        self.thread.join()
        self.ray.shutdown()

    def submit(self, fn, course: config.Course, aid: str, path: Path, out_dir: Path, *, variant: str, profile: str,
               seed: int | None, isolation=None) -> concurrent.futures.Future:
        """Grade as ``fn`` (run.grade) would, on the cluster; ``isolation`` is decided on each node."""
        assert fn is run.grade, "the cluster grades with run.grade only"
        job = _Job(concurrent.futures.Future(), path, out_dir, course, aid, variant)
        try:
            rows = self._plan(course, aid, variant, profile)
        except run.GraderError as exc:
            job.future.set_exception(exc)
            return job.future
        gpus = self.ray.cluster_resources().get("GPU", 0) > 0 and course.profiles[profile].device != "cuda"
        on_gpu = sorted({r["task"] for r in rows if r["gpu"]}) if gpus and self.gpu_profile else []
        rest = list(dict.fromkeys(r["task"] for r in rows if r["task"] not in on_gpu))
        is_folder, data = pack(path)
        args = (is_folder, self.ray.put(data), path.name, course.text, aid, variant)
        seed = secrets.randbits(31) if seed is None else seed      # one seed for both parts
        for tasks, own, fallback in ((rest, profile, None), (on_gpu, self.gpu_profile, profile)):   # fallback: where
            if tasks:                                                                    # its device is missing
                p, mine = course.profiles[own], [r for r in rows if r["task"] in tasks]
                part = _Part(job, tasks if on_gpu else None, own, mine, p.threads, int(p.device == "cuda"))
                part.args = (*args, own, fallback, seed, part.tasks,
                             sum(r["limit_s"] for r in mine) + course.startup_timeout_s)
                job.parts.append(part)
        with self.lock:
            self.queue += job.parts
        return job.future

    def _plan(self, course: config.Course, aid: str, variant: str, profile: str) -> list[dict]:
        """The variant's planned tests (the plugin's manifest rows), from a collection-only run."""
        key = (aid, variant, profile)
        if key not in self.plans:
            with tempfile.TemporaryDirectory(prefix="autograder-plan-") as private:
                manifest, policy = Path(private) / "manifest.json", Path(private) / "grading.toml"
                policy.write_text(course.text or "", encoding="utf-8")
                argv = run.pytest_argv(course, aid, Path(private) / "nothing", variant=variant, profile=profile,
                                       results=Path(private) / "results.json", manifest=manifest, policy=policy if course.text else None,
                                       isolation=launch.Isolation(sandbox=False, processes="none"))
                proc = subprocess.run([*argv, "--collect-only"], capture_output=True, text=True, cwd=course.root)
                if not manifest.is_file():
                    raise run.GraderError(f"planning {aid} for the cluster failed (pytest status {proc.returncode}):"
                                          f"\n{(proc.stdout + proc.stderr)[-3000:]}")
                self.plans[key] = json.loads(manifest.read_text(encoding="utf-8"))
        return self.plans[key]

    def _loop(self) -> None:
        """Dispatch parts as the cluster has room, collect them, cancel those past their deadline."""
        try:
            while not (self.closing and not self.queue and not self.running):
                self._round()
        except Exception as exc:       # noqa: BLE001 -- the cluster went away: every submission left says so
            with self.lock:
                for job in {id(p.job): p.job for p in self.queue + self.running}.values():
                    job.future.set_exception(run.GraderError(f"the cluster failed: {type(exc).__name__}: {exc}"))
                self.queue, self.running = [], []

    def _round(self) -> None:
        self._dispatch()
        refs = [p.ref for p in self.running]
        if not refs:
            time.sleep(0.2)
            return
        if self.ray.wait(refs, num_returns=1, timeout=1.0)[0]:
            ready = set(self.ray.wait(refs, num_returns=len(refs), timeout=0)[0])
        else:
            ready = set()
        now = time.monotonic()
        for part in list(self.running):
            job = part.job
            index = job.parts.index(part)
            if part.ref in ready:
                job.outs[index] = self._get(part)
            elif now - part.started > self._deadline(part):
                self.ray.cancel(part.ref, force=True)
                reason = (f"the cluster cancelled this grading after {self._deadline(part):.0f} s "
                          "(past its deadline); regrade this submission")
                job.outs[index] = {"document": run.not_run(job.course, job.aid, job.variant, part.profile,
                                                           part.tasks, part.rows, reason, now - part.started),
                                   "log": f"[{reason}]", "node": None, "code": None, "profile": part.profile}
            else:
                continue
            self.running.remove(part)
            if len(job.outs) == len(job.parts):
                self._finish(job)

    def _deadline(self, part: _Part) -> float:
        return self.deadline_s or part.args[-1] + part.job.course.startup_timeout_s

    def _dispatch(self) -> None:
        with self.lock:
            if not self.queue:
                return
            room = self.ray.cluster_resources()           # every round: nodes come and go
            cpus, gpus = (sum(getattr(p, k) for p in self.running) for k in ("cpus", "gpus"))
            for part in list(self.queue):
                if self.running and (cpus + part.cpus > room.get("CPU", 0) or gpus + part.gpus > room.get("GPU", 0)):
                    continue
                part.ref = self.task.options(num_cpus=part.cpus, num_gpus=part.gpus, max_retries=1,
                                             retry_exceptions=False).remote(*part.args)
                part.started = time.monotonic()
                if not part.job.future.running():
                    part.job.future.set_running_or_notify_cancel()
                self.queue.remove(part)
                self.running.append(part)
                cpus, gpus = cpus + part.cpus, gpus + part.gpus

    def _get(self, part: _Part) -> dict:
        try:
            return self.ray.get(part.ref)
        except self.ray.exceptions.RayError as exc:      # its node lost twice, its runtime env failed, ...
            return {"error": f"the cluster could not grade it: {type(exc).__name__}: {str(exc)[:2000]}", "log": ""}

    def _finish(self, job: _Job) -> None:
        """Write results.json, grader.log and the code graded as local grading does; resolve the future."""
        outs = [job.outs[i] for i in range(len(job.parts))]
        dest = job.out_dir / run.submission_name(job.path)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            (dest / "grader.log").write_text("\n".join(
                (f"--- tasks {', '.join(p.tasks)} (profile {o.get('profile')}) on node {o.get('node')}\n" if p.tasks else "")
                + o["log"] for p, o in zip(job.parts, outs)), encoding="utf-8")
            if error := next((o["error"] for o in outs if "error" in o), None):
                raise run.GraderError(error)
            docs = [o["document"] for o in outs]
            document = docs[0] if len(docs) == 1 else results_doc.merge(docs, list(job.course.assignment(job.aid).tasks))
            gpu = next((o for p, o in zip(job.parts, outs) if p.gpus), None)
            document["extra_data"]["cluster"] = {
                "node": outs[0]["node"], "gpu_node": gpu and gpu["node"],
                "gpu_tasks": next((p.tasks or [] for p in job.parts if p.gpus), []), "gpu_profile": gpu and gpu.get("profile"),
                **({"gpu_note": gpu["note"]} if gpu and gpu.get("note") else {})}
            results_doc.write(dest / "results.json", document)
            (dest / GRADED_CODE).unlink(missing_ok=True)
            if code := next((o["code"] for o in outs if o.get("code") is not None), None):
                (dest / GRADED_CODE).write_text(code, encoding="utf-8")
            job.future.set_result(document)
        except Exception as exc:        # noqa: BLE001 -- the batch's driver reports it for this submission
            job.future.set_exception(exc if isinstance(exc, run.GraderError) else run.GraderError(repr(exc)))
