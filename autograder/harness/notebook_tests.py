"""Grade cells: one task's public tests, run inside the notebook's own kernel on its code.

A release notebook has, after each task's code, an nbgrader "autograded tests" cell (tagged
``skip-grading``, so the course's grader never runs it):

    from conftest import run_public_tests
    run_public_tests("softmax", globals())

It runs pytest in this process on the folder's public test files, keeps the tests of that
task, and gives them this notebook's namespace as ``student`` (instead of reading a file).
It prints one line per test and raises ``AssertionError`` naming each failure: that is how
nbgrader (``validate``, ``autograde``) sees a failed grade cell, and a passing one writes
nothing to stderr. Leaves out: isolation and time limits (this is the student's own kernel)
and hidden tests (they never ship).
"""

from __future__ import annotations

import pytest

from . import pytest_local


class NotebookModule:
    """A notebook's namespace seen as the student's module: ``student.op`` looks ``op`` up now,
    and an adapter that sets an attribute (to record what the code does) sets it in the namespace."""

    __name__ = "this notebook"

    def __init__(self, namespace: dict):
        object.__setattr__(self, "_namespace", namespace)

    def __getattr__(self, name: str):
        try:
            return self._namespace[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        self._namespace[name] = value

    def __delattr__(self, name: str) -> None:
        self._namespace.pop(name, None)


class _Collector:
    """A pytest plugin: keeps the tests of ``task`` and records how each went."""

    def __init__(self, task: str):
        self.task, self.lines, self.failures, self.ran = task, [], [], 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        keep = [i for i in items if (m := i.get_closest_marker("task")) and m.args and m.args[0] == self.task]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    def pytest_collectreport(self, report):
        if report.failed:
            self.failures.append(f"{report.nodeid or 'collection'}: could not be collected:\n{report.longreprtext}")

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::", 1)[-1]
        if report.when == "call" or report.outcome != "passed":
            if report.when == "call":
                self.ran += 1
            if report.skipped:
                self.lines.append(f"skipped {name}: {report.longrepr[-1] if isinstance(report.longrepr, tuple) else ''}")
            elif report.failed:
                errors = [ln[1:].strip() for ln in report.longreprtext.splitlines() if ln.startswith("E ")]
                self.lines.append(f"FAILED  {name}")
                self.failures.append(f"{name}: " + ("\n    ".join(errors[:6]) or report.longreprtext[-600:]))
            else:
                self.lines.append(f"passed  {name}")


def run_public_tests(task: str, namespace: dict) -> None:
    """Run the public tests of ``task`` on the code defined in ``namespace`` (a notebook's
    ``globals()``); raise ``AssertionError`` listing the failures, if any."""
    __tracebackhide__ = True            # IPython and pytest show the message, not this frame
    collector = _Collector(task)
    pytest_local.NOTEBOOK = NotebookModule(namespace)
    try:
        status = pytest.main([str(pytest_local.FOLDER), f"--rootdir={pytest_local.FOLDER}",
                              "-p", "no:cacheprovider", "-p", "no:terminal", "--capture=sys"], plugins=[collector])
    finally:
        pytest_local.NOTEBOOK = None
    print("\n".join(collector.lines))
    if collector.failures:
        raise AssertionError(f"{len(collector.failures)} public test(s) of task {task} failed:\n- "
                             + "\n- ".join(collector.failures))
    if collector.ran == 0 or status not in (0, 1):
        raise AssertionError(f"no public test of task {task} ran here (pytest exit status {int(status)}); "
                             "the grader runs it where it can (a GPU runner for a gpu test)")
    print(f"task {task}: {collector.ran} public test(s) passed")
