"""pytest plugin: grade one submission with an assignment's hidden and public tests.

Loaded by ``grade.run`` as ``pytest -p autograder.grade.plugin``. It runs in the trusted
process: it stages the submission, starts its worker, gives tests the fixtures below, and
at the end scores every planned test and writes results.json. Student code never runs here.

Fixtures: ``student`` (the submission, through the worker), ``reference`` (the reference
solution, in-process, same calling conventions), ``reference_module``, ``seed`` and ``gen``
(a ``torch.Generator`` seeded per test from the run's seed, drawn at grade time).

While a test runs, the submission's calls into other tasks' functions are answered by the
reference (``oracle.py``), unless its task says ``integration = true`` in grading.toml.

Markers: ``task(id)`` on every test (required; the id is a grading.toml task), ``gpu``
(needs CUDA: "not run" on a CPU runner, never passed).

Checks that need collection, each naming the key or the test: a test without a task, a
task unknown to grading.toml, a task of the graded variant with no test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .. import config as course_config
from .. import harness
from ..harness import local
from ..release import build
from . import launch, oracle, scoring
from . import results as results_doc
from .seam import StudentError, SubmissionUnloadable, WorkerSubmission
from .submission import GRADED_CODE, SubmissionProblem, stage

STATE = pytest.StashKey["State"]()
REPORTS = pytest.StashKey[dict]()
TASK = pytest.StashKey[str]()
RECORDED = pytest.StashKey[dict]()
LIMIT = pytest.StashKey[float]()


class Unloadable:
    """Stands in for a submission that could not be staged: every call fails the same way."""

    starts = 0
    startup_s = 0.0

    def __init__(self, message: str):
        self.message = message

    def budget(self, seconds: float) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, op: str):
        if op.startswith("_"):
            raise AttributeError(op)

        def fail(*args, **kwargs):
            raise SubmissionUnloadable(self.message)
        return fail


class State:
    def __init__(self, config: pytest.Config):
        opt = config.getoption
        policy = Path(opt("--policy")).read_text(encoding="utf-8") if opt("--policy") else None
        self.course = course_config.load(Path(opt("--course-root")) if opt("--course-root") else None, policy)
        self.assignment = self.course.assignment(opt("--assignment"))
        self.variant = opt("--variant")
        if self.variant not in self.course.variants:
            raise pytest.UsageError(f"--variant {self.variant!r}: grading.toml has {self.course.variants}")
        self.profile = self.course.profiles[opt("--profile")]
        self.only = set(opt("--tasks").split(",")) if opt("--tasks") else None
        self.seed = opt("--seed") if opt("--seed") is not None else secrets.randbits(31)
        self.results_path = Path(opt("--results")) if opt("--results") else None
        self.manifest_path = Path(opt("--manifest")) if opt("--manifest") else None
        self.submission = Path(opt("--submission"))
        given = opt("--isolation")      # decided by the caller, once per run (run.grade, batch)
        self.isolation = launch.Isolation(**json.loads(given)) if given else launch.isolation(self.profile)
        self.started = time.time()
        self.planned: list[pytest.Item] = []
        self.staged = None
        self._stage_dir = Path(tempfile.mkdtemp(prefix="autograder-stage-"))
        self.student = self._start()
        self.oracle = oracle.Oracle(
            oracle.owners(self.course.reference_dir(self.assignment.id) / f"{self.assignment.module}.py"),
            {t for t, v in self.assignment.tasks.items() if v.integration})
        self.answers = None

    def _start(self):
        aid, module = self.assignment.id, self.assignment.module
        adapters = self.course.handout_dir(aid) / "adapters.py"
        released = build.released_digests(self.course, aid, self.variant)     # from the sources, not release/
        given = {}
        for name, text in build.given_modules(self.course, aid, self.variant).items():
            given[name] = self._stage_dir / "given" / name
            given[name].parent.mkdir(parents=True, exist_ok=True)
            given[name].write_text(text, encoding="utf-8")
        try:
            self.staged = stage(self.submission, module, adapters if adapters.is_file() else None,
                                released, self._stage_dir / "stage", given, variant=self.variant)
        except SubmissionProblem as exc:
            return Unloadable(str(exc))
        if self.results_path is not None:     # the code graded, beside results.json (for the class report)
            shutil.copyfile(self.staged.folder / f"{module}.py", self.results_path.with_name(GRADED_CODE))
        limits = self.profile.limits
        protect = launch.protected(self.course.root, self.submission)
        worker = WorkerSubmission(launch.launcher(self.staged, module, self.profile, self.isolation, protect),
                                  self.course.startup_timeout_s,
                                  self.course.startup_timeout_s, limits.output_kb * 1024)
        worker.start()
        return worker

    def close(self) -> None:
        self.student.close()
        shutil.rmtree(self._stage_dir, ignore_errors=True)

    def budget_for(self, task: str) -> float:
        return self.assignment.tasks[task].timeout_s * self.profile.timeout_scale


def pytest_addoption(parser):
    group = parser.getgroup("autograder")
    group.addoption("--course-root", help="folder holding grading.toml (default: found from cwd)")
    group.addoption("--assignment", help="assignment id, e.g. a03_attention")
    group.addoption("--variant", default="standard")
    group.addoption("--profile", default="cpu")
    group.addoption("--submission", help="the submission: a folder or a .zip")
    group.addoption("--results", help="where to write results.json")
    group.addoption("--manifest", help="where to write the planned tests (for crash recovery; the cluster plans from it)")
    group.addoption("--policy", help="the grading.toml text to grade under (default: the course's file)")
    group.addoption("--isolation", help="the isolation mode decided by the caller, as JSON (default: decide here)")
    group.addoption("--seed", type=int, help="seed for the inputs (default: drawn at random)")
    group.addoption("--tasks", help="grade only these tasks (comma-separated)")


def pytest_configure(config):
    config.addinivalue_line("markers", "task(id): the grading.toml task this test belongs to")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; not run (and not passed) on a CPU runner")
    if config.getoption("--assignment"):
        try:
            config.stash[STATE] = State(config)
        except (course_config.ConfigError, launch.IsolationError) as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config):
    if STATE in config.stash:
        config.stash[STATE].close()


def _task_of(item, state) -> str:
    marks = list(item.iter_markers("task"))
    where = f"{item.nodeid}"
    if len(marks) != 1 or len(marks[0].args) != 1:
        raise pytest.UsageError(f"{where}: every graded test needs exactly one @pytest.mark.task('<id>')")
    task = marks[0].args[0]
    if task not in state.assignment.tasks:
        raise pytest.UsageError(f"{where}: task {task!r} is not in grading.toml "
                                f"(assignments.{state.assignment.id}.tasks)")
    return task


def pytest_collection_modifyitems(session, config, items):
    state = config.stash.get(STATE, None)
    if state is None:
        return
    wanted = state.assignment.tasks_for(state.variant)
    if state.only is not None:
        wanted = {t: v for t, v in wanted.items() if t in state.only}
    keep, drop = [], []
    for item in items:
        task = _task_of(item, state)
        item.stash[TASK] = task
        (keep if task in wanted else drop).append(item)
    missing = sorted(set(wanted) - {item.stash[TASK] for item in keep})
    if missing:
        raise pytest.UsageError(f"assignments.{state.assignment.id}.tasks.{missing[0]}: "
                                f"no test is marked with this task (variant {state.variant})")
    if drop:
        config.hook.pytest_deselected(items=drop)
    order = list(state.assignment.tasks)
    keep.sort(key=lambda item: order.index(item.stash[TASK]))     # stable: file order within a task
    items[:] = keep
    gpu_missing = state.profile.device != "cuda"
    for item in keep:
        item.stash[LIMIT] = state.budget_for(item.stash[TASK]) + state.course.startup_timeout_s + 30
        item.add_marker(pytest.mark.timeout(item.stash[LIMIT], method="signal"))
        if gpu_missing and item.get_closest_marker("gpu"):
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU; grade on a GPU runner (--profile gpu)"))
    state.planned = list(keep)
    if state.manifest_path:
        state.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        state.manifest_path.write_text(json.dumps(_planned_rows(state), indent=1))


def _is_public(item, state) -> bool:
    return Path(item.path).parent == state.course.handout_dir(state.assignment.id)


def _planned_rows(state) -> list[dict]:
    shares = scoring.allocate({t: v.points for t, v in state.assignment.tasks.items()},
                              [(i.nodeid, i.stash[TASK]) for i in state.planned])
    return [{"nodeid": i.nodeid, "name": i.name, "task": i.stash[TASK], "public": _is_public(i, state),
             "max_score": shares[i.nodeid], "gpu": i.get_closest_marker("gpu") is not None,
             "limit_s": i.stash[LIMIT]} for i in state.planned]


# ----------------------------------------------------------------------------- fixtures

def _state(request) -> State:
    return request.config.stash[STATE]


@pytest.fixture(scope="session")
def student(request):
    """The submission, reached only through the worker: ``student.op(...)``."""
    return _state(request).student


@pytest.fixture(scope="session")
def reference_module(request):
    state = _state(request)
    aid, module = state.assignment.id, state.assignment.module
    folders = [str(state.course.reference_dir(a)) for a in (aid, *state.assignment.needs)]
    sys.path[:0] = folders                      # the reference imports its required solutions
    try:
        return local.load_file(f"_reference_{module}", state.course.reference_dir(aid) / f"{module}.py")
    finally:
        del sys.path[:len(folders)]


@pytest.fixture(scope="session")
def reference(request, reference_module):
    """The reference solution with the same calling conventions as ``student``."""
    state = _state(request)
    path = state.course.handout_dir(state.assignment.id) / "adapters.py"
    sys.modules.setdefault("_harness", harness)          # adapters import the runtime as _harness
    adapters = local.load_file(f"_adapters_{state.assignment.id}", path) if path.is_file() else None
    return local.LocalSubmission(reference_module, adapters)


@pytest.fixture
def seed(request) -> int:
    """Per-test seed: the run's seed (drawn at grade time) mixed with the test id."""
    digest = hashlib.sha256(f"{_state(request).seed}:{request.node.nodeid}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@pytest.fixture
def gen(seed):
    import torch
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def record(request):
    """``record(key, value)``: keep a JSON-able fact of this test (a trusted measurement, the
    student's reported curve) in its results.json entry, under ``extra_data.recorded``."""
    store = request.node.stash.setdefault(RECORDED, {})

    def _record(key: str, value) -> None:
        store[key] = json.loads(json.dumps(value))
    return _record


@pytest.fixture
def bars(request, record) -> dict:
    """This task's numeric bars from grading.toml (``tasks.<id>.bars``), for the graded profile;
    the values used are recorded with the test's result."""
    state = _state(request)
    task = state.assignment.tasks[request.node.stash[TASK]]
    values = task.bars_for(state.profile.name)
    record("bars", values)
    return _Bars(values, f"assignments.{state.assignment.id}.tasks.{task.id}.bars", state.profile.name)


class _Bars(dict):
    def __init__(self, values: dict, path: str, profile: str):
        super().__init__(values)
        self.path, self.profile = path, profile

    def __missing__(self, name: str):
        raise KeyError(f"{self.path}.{name} is not in grading.toml (for profile {self.profile!r})")


@pytest.fixture(autouse=True)
def _test_budget(request):
    state = request.config.stash.get(STATE, None)
    if state is not None and TASK in request.node.stash:
        task = request.node.stash[TASK]
        state.student.budget(state.budget_for(task))
        if isinstance(state.student, WorkerSubmission):      # one mistake, one task (grade/oracle.py)
            others = state.oracle.others(task)
            if others and state.answers is None:
                state.answers = state.oracle.answerer(request.getfixturevalue("reference_module"))
            reference = request.getfixturevalue("reference") if others else None
            direct = {op: getattr(reference, op) for op in state.oracle.direct(others, reference)} if others else {}
            state.student.answer_others(others, state.answers, direct, state.oracle.mine(task) if others else ())


# ----------------------------------------------------------------------------- reports

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = (report, call.excinfo)
    return report


def assertion_message(text: str) -> str:
    """An assertion's own message; pytest's introspection only when there is none."""
    lines = [line for line in text.strip().splitlines() if "Use -v to get" not in line and " at 0x" not in line]
    if lines and not lines[0].startswith("assert "):
        cut = next((i for i, line in enumerate(lines) if line.startswith("assert ")), len(lines))
        lines = lines[:cut]
    return "\n".join(lines[:12]).strip()


def classify(item) -> tuple[str, str, float]:
    """``(outcome, message, seconds)`` of one planned test."""
    reports = item.stash.get(REPORTS, {})
    seconds = sum(rep.duration for rep, _ in reports.values())
    for phase in ("setup", "call", "teardown"):
        if phase not in reports:
            continue
        rep, excinfo = reports[phase]
        if rep.skipped:
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            return "not_run", reason.removeprefix("Skipped: "), seconds
        if rep.failed:
            exc = excinfo.value if excinfo is not None else None
            if isinstance(exc, StudentError):
                return exc.outcome, str(exc), seconds
            if phase == "call" and rep.duration >= item.stash.get(LIMIT, float("inf")):
                return "timeout", f"the test exceeded its time limit ({item.stash[LIMIT]:.0f} s)", seconds
            if isinstance(exc, AssertionError):
                return "failed", assertion_message(str(exc)) or rep.longreprtext[-2000:], seconds
            return "failed", f"the test could not check your result ({type(exc).__name__}: {exc})", seconds
    if "call" in reports and reports["call"][0].passed:
        return "passed", "", seconds
    return "not_run", "the grader stopped before this test ran", seconds


def pytest_sessionfinish(session, exitstatus):
    state = session.config.stash.get(STATE, None)
    if state is None or state.results_path is None or not state.planned:
        return
    state.student.close()          # every process of the submission is gone before results are written
    rows = {row["nodeid"]: row for row in _planned_rows(state)}
    tested = []
    for item in state.planned:
        outcome, message, seconds = classify(item)
        row = rows[item.nodeid]
        tested.append(scoring.TestResult(item.nodeid, item.name, row["task"], row["public"], outcome,
                                         message, seconds, row["max_score"], item.stash.get(RECORDED, {})))
    review = _needs_review(tested)
    titles = {t: v.title for t, v in state.assignment.tasks_for(state.variant).items()
              if state.only is None or t in state.only}
    import torch
    staged = state.staged
    extra = {
        "profile": state.profile.name, "device": state.profile.device, "seed": state.seed,
        "torch": torch.__version__, "python": platform.python_version(),
        "submission": {"name": state.submission.name, "graded_file": staged.graded_file if staged else None,
                       "note": staged.note if staged else "", "code_sha256": staged.sha256 if staged else None},
        "isolation": state.isolation.record(),
        "worker_starts": getattr(state.student, "starts", 0),
        "worker_startup_s": round(getattr(state.student, "startup_s", 0.0), 3),
        "status": "needs_review" if review else "graded", **({"needs_review": review} if review else {}),
    }
    document = results_doc.build(
        assignment=state.assignment.id, variant=state.variant, results=tested,
        tasks=scoring.task_totals(tested, titles), public_visibility=state.course.public_visibility,
        hidden_visibility=state.course.hidden_visibility, execution_time=time.time() - state.started, extra=extra)
    if review:
        document["output"] = f"NEEDS REVIEW: {review}\n\n" + document["output"]
    results_doc.write(state.results_path, document)


def _needs_review(tested: list) -> str:
    """The reason no test could reach the code (it could not be found or imported), or "".
    The full message stays on the first such test; the others point to it (said once)."""
    unloadable = [r for r in tested if r.outcome == "unloadable"]
    if not unloadable:
        return ""
    first = unloadable[0].message
    for i, r in enumerate(tested):
        if r.outcome == "unloadable" and r is not unloadable[0]:
            tested[i] = dataclasses.replace(r, message="not graded: your submission could not be loaded "
                                            "(the reason is given once, at the top and in the first test)")
    return first.split("\n\nwhere", 1)[0][:2000]
