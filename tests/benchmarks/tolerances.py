"""How close to each tolerance do correct and buggy code come?

    .venv/bin/python tests/benchmarks/tolerances.py a03_attention a04_gpt [--seeds 1-5]

A tolerance is justified by two numbers: the largest error of correct code (the reference,
and the outside implementations in other styles, ``tests/outside/``) and the smallest error
of a real bug caught there (the mutants). This runs each assignment's hidden tests in this
process, on each of those submissions loaded as a module (no worker, no sandbox: all of
them are the project's own code), and records every comparison a test makes through
``checks.close`` or ``torch.allclose``: its ratio, the largest ``|actual - expected|`` over
``atol + rtol * |expected|`` (at most 1 passes; a test that asserts two results differ shows a
large ratio for correct code). It prints, per comparison (file:line, its
tolerance): the largest ratio of correct code, and the smallest ratio above 1 among the mutants
(with its name), i.e. how far the nearest bug caught there lands outside the tolerance.

Measures; asserts nothing. A comparison no mutant fails is listed with ``-``: it guards a
property that another comparison of the same test measures first, or nothing yet.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder import config, harness  # noqa: E402
from autograder.grade import checks, oracle, plugin, run  # noqa: E402
from autograder.harness import local  # noqa: E402
from tests.benchmarks.mutant_seeds import seeds_of  # noqa: E402
from tests.conftest import mutants_of  # noqa: E402

OUTSIDE = ROOT / "tests" / "outside"
RATIOS: dict[tuple[str, str], float] = {}      # (site, tolerance) -> largest ratio in this run


def _site() -> str:
    frame = sys._getframe(2)
    while frame and "/hidden/" not in frame.f_code.co_filename:
        frame = frame.f_back
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}" if frame else "?"


def _ratio(actual, expected, rtol: float, atol: float) -> float:
    try:
        a, e = torch.as_tensor(actual).double(), torch.as_tensor(expected).double()
        if a.shape != e.shape:
            return float("inf")
        ratio = ((a - e).abs() / (atol + rtol * e.abs()).clamp_min(1e-300)).nan_to_num(float("inf"))
        return float(ratio.max()) if ratio.numel() else 0.0
    except (RuntimeError, TypeError):
        return float("inf")


def _record(actual, expected, rtol, atol):
    key = (_site(), f"rtol={rtol:g} atol={atol:g}")
    RATIOS[key] = max(RATIOS.get(key, 0.0), _ratio(actual, expected, rtol, atol))


def _watch():
    close, allclose = checks.close, torch.allclose

    def watched_close(actual, expected, *, rtol, atol, **kw):
        _record(actual, expected, rtol, atol)
        return close(actual, expected, rtol=rtol, atol=atol, **kw)

    def watched_allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
        if "/hidden/" in sys._getframe(1).f_code.co_filename:       # a test's own, not a diagnosis's
            _record(a, b, rtol, atol)
        return allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    checks.close, torch.allclose = watched_close, watched_allclose


class _Local(local.LocalSubmission):
    """The plugin's student, in this process: it also takes the worker's budget and close."""
    starts, startup_s = 0, 0.0

    def budget(self, seconds: float) -> None:
        pass

    def close(self) -> None:
        pass


def measure(course, aid: str, folder: Path, variant: str, seed: int, work: Path, task: str) -> dict:
    """The ratios of one submission's run of one task's hidden tests, its calls into other
    tasks' code answered by the reference (here: those names replaced by the reference's)."""
    assignment = course.assignment(aid)
    module, reference = assignment.module, course.reference_dir(aid) / f"{assignment.module}.py"
    integration = {t for t, v in assignment.tasks.items() if v.integration}

    def start(state):
        adapters = course.handout_dir(aid) / "adapters.py"
        paths = [str(folder), *(str(course.reference_dir(a)) for a in course.assignment(aid).needs)]
        sys.path[:0] = paths
        try:
            mod = local.load_file(f"_measured_{module}_{id(folder)}_{seed}", folder / f"{module}.py")
            ref = local.load_file(f"_measured_reference_{module}", reference)
        finally:
            del sys.path[:len(paths)]
        for name in oracle.Oracle(oracle.owners(reference), integration).others(task):
            if hasattr(ref, name):               # one mistake, one task: as the grader's callbacks do
                setattr(mod, name, getattr(ref, name))
        sys.modules.setdefault("_harness", harness)       # adapters import the runtime as _harness
        ad = local.load_file(f"_adapters_m_{aid}", adapters) if adapters.is_file() else None
        return _Local(mod, ad)
    RATIOS.clear()
    argv = run.pytest_argv(course, aid, folder, variant=variant, profile="cpu", results=work / "results.json",
                           manifest=work / "manifest.json", seed=seed, tasks=[task])[3:]
    argv += ["-q"]
    original = plugin.State._start
    plugin.State._start = start
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pytest.main(argv, plugins=[])
    finally:
        plugin.State._start = original
    return dict(RATIOS)


def _shown(ratio: float) -> str:
    """A ratio; ``inf``: wrong shape or not finite; ``any``: an exact comparison that differed."""
    return f"{ratio:9.3g}" if ratio < 1e300 else f"{'any':>9}" if ratio < float("inf") else f"{'inf':>9}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="+")
    parser.add_argument("--seeds", default="1-5")
    args = parser.parse_args()
    course, seeds = config.load(ROOT), seeds_of(args.seeds)
    _watch()
    work = Path(tempfile.mkdtemp(prefix="tolerances-"))
    for aid in args.assignments:
        for name in [n for n, m in sys.modules.items() if str(ROOT / "assignments") in str(getattr(m, "__file__", ""))]:
            del sys.modules[name]            # each assignment's tests import as package ``hidden``
        module = course.assignment(aid).module
        reference = (course.reference_dir(aid) / f"{module}.py").read_text()
        correct = [("reference", course.reference_dir(aid))]
        correct += [(p.name, p) for p in sorted(OUTSIDE.glob(f"{aid[:3]}_*")) if (p / f"{module}.py").is_file()]
        ok: dict = {}
        for name, folder in correct:
            for seed, task in itertools.product(seeds, course.assignment(aid).tasks_for("hardmode")):
                for key, r in measure(course, aid, folder, "hardmode", seed, work, task).items():
                    if r > ok.setdefault(key, (0.0, ""))[0]:
                        ok[key] = (r, name)
        bad: dict = {}
        for mutant in mutants_of(course, aid):
            folder = work / aid / mutant.name
            folder.mkdir(parents=True)
            (folder / f"{module}.py").write_text(mutant.apply(reference))
            for seed in seeds:
                for key, r in measure(course, aid, folder, mutant.variant, seed, work, mutant.task).items():
                    if 1 < r and (key not in bad or r < bad[key][0]):
                        bad[key] = (r, mutant.name)
        print(f"\n{aid}, seeds {args.seeds}: largest ratio of correct code / smallest ratio above 1 of a mutant")
        for key in sorted(set(ok) | set(bad)):
            good, worst = ok.get(key, (0.0, "")), bad.get(key)
            print(f"  {key[0]:32} {key[1]:22} correct {_shown(good[0])} ({good[1]:12}) "
                  + (f"bug {_shown(worst[0])} ({worst[1]})" if worst else "bug -"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
