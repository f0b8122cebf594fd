"""Assemble one release folder, ``release/<variant>/<assignment>/``, in memory.

Sources, all for one assignment ``aid`` with student module ``m``:

=====================================  ==============================================
reference/aid/m.py                     m.py and m.ipynb (rendered, stubbed)
assignments/aid/README.md              README.md, the handout (rendered)
assignments/aid/test_*.py              the public tests (rendered)
assignments/aid/adapters.py            adapters.py: how tests call the student's code
assignments/aid/given/**               given code, copied beside the module
reference/<required>/<module>.py       the solutions of grading.toml's ``requires``
autograder/harness/*.py                _harness/: the local test runtime
=====================================  ==============================================

plus ``conftest.py`` and ``_harness/assignment.json`` (module name and digests of the
released stubs). The result maps relative paths to file text.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import config
from ..harness import source as harness_source
from . import banner, cells, notebook, variants
from .stubs import make_stub

HARNESS_DIR = Path(__file__).resolve().parent.parent / "harness"
HARNESS_FILES = ("__init__.py", "codec.py", "source.py", "dispatch.py", "local.py", "pytest_local.py")
CONFTEST = '''"""Given code: lets plain `pytest` run the public tests on your work. Do not edit.

`pytest` tests the file you changed ({module}.py or {module}.ipynb); force one with
`pytest --source py` or `pytest --source ipynb`.
"""

from _harness.pytest_local import *  # noqa: F401,F403  (the `student` fixture, the --source option)
'''


def _rel(course: config.Course, path: Path) -> str:
    return path.relative_to(course.root).as_posix()


def command(aid: str) -> str:
    return f"autograder release {aid}"


def build(course: config.Course, aid: str, variant: str) -> dict[str, str]:
    """All files of ``release/<variant>/<aid>/`` as ``{relative path: text}``."""
    a = course.assignment(aid)
    cmd = command(aid)
    files: dict[str, str] = {}

    ref = course.reference_dir(aid) / f"{a.module}.py"
    ref_rel = _rel(course, ref)
    module_text = variants.render(ref.read_text(encoding="utf-8"), variant, ref_rel, make_stub(aid, ref_rel))
    files[f"{a.module}.py"] = banner.python(cmd, ref_rel, variant, student_file=True) + module_text
    _, nb_cells = cells.split(module_text, ref_rel)
    files[f"{a.module}.ipynb"] = notebook.build(
        nb_cells, banner.notebook_cell(cmd, ref_rel, variant),
        {"course": {"assignment": aid, "variant": variant, "generated_by": cmd, "source": ref_rel}})

    handout_dir = course.handout_dir(aid)
    if not (handout_dir / "README.md").is_file():
        raise config.ConfigError(f"{_rel(course, handout_dir)}/README.md (the handout) is missing")
    for path in sorted(p for p in handout_dir.rglob("*") if p.is_file() and not course.is_instructor_only(aid, p)):
        rel = path.relative_to(handout_dir)
        target = rel.relative_to("given").as_posix() if rel.parts[0] == "given" else rel.as_posix()
        files[target] = _render_given(path, _rel(course, path), variant, cmd)
    files["README.md"] += grading_table(a, variant)
    for name, required in course.given_modules(aid).items():
        files[name] = given_solution(course, required, variant, cmd)

    files["conftest.py"] = banner.python(cmd, "autograder/release/build.py") + CONFTEST.format(module=a.module)
    for name in HARNESS_FILES:
        path = HARNESS_DIR / name
        files[f"_harness/{name}"] = banner.python(cmd, f"autograder/harness/{name}") + path.read_text(encoding="utf-8")
    released = {"py": harness_source.code_digest(files[f"{a.module}.py"]),
                "ipynb": harness_source.code_digest(harness_source.notebook_code(files[f"{a.module}.ipynb"]))}
    files["_harness/assignment.json"] = json.dumps(
        {"assignment": aid, "module": a.module, "variant": variant, "generated_by": cmd,
         "released": released}, indent=2, sort_keys=True) + "\n"
    return files


def given_solution(course: config.Course, required: str, variant: str, cmd: str) -> str:
    """The reference solution of ``required``, as given code (students may use their own)."""
    r = course.assignment(required)
    path = course.reference_dir(required) / f"{r.module}.py"
    rel = _rel(course, path)
    text = variants.render(path.read_text(encoding="utf-8"), variant, rel, make_stub(required, rel), solved=True)
    note = (f"# Given: the solution of {required}. Use it as is, or replace this file with your own "
            f"{r.module}.py from {required}.\n")
    return banner.python(cmd, rel) + note + text


def grading_table(a: config.Assignment, variant: str) -> str:
    """The handout's closing section, from grading.toml: tasks and points of ``variant``."""
    tasks = a.tasks_for(variant)
    rows = "\n".join(f"| `{t.id}` | {t.title} | {t.points:g} |" for t in tasks.values())
    return (f"\n## Grading ({variant} variant)\n\n| task | what | points |\n| --- | --- | --- |\n{rows}\n\n"
            f"Total: {a.max_points(variant):g} points. A task's points are shared equally by its public and "
            "hidden tests; a test that crashes, times out or is not implemented scores 0 and the others are "
            "still graded.\n")


def _render_given(path: Path, rel: str, variant: str, cmd: str) -> str:
    text = variants.render(path.read_text(encoding="utf-8"), variant, rel)
    if path.suffix == ".py":
        return banner.python(cmd, rel) + text
    if path.suffix == ".md":
        return banner.markdown(cmd, rel, variant) + text
    return text


def index(course: config.Course) -> str:
    """``release/README.md``: what the folders are and how students start."""
    rows = "\n".join(f"| `{aid}` | {a.title} | `{a.module}.py` / `{a.module}.ipynb` |"
                     for aid, a in course.assignments.items())
    return banner.markdown("autograder release", "grading.toml") + f"""
# {course.name}: student releases

One folder per variant ({", ".join(f"`{v}`" for v in course.variants)}) and assignment.
Each folder is self-contained: complete the stubs in the `.py` file or in the notebook,
then run the public tests from inside the folder:

    pip install torch==2.13.0 numpy safetensors pytest
    pytest -q

A fresh folder fails every test with `NotImplementedError`. Submit the file you worked in.

| assignment | topic | your file |
| --- | --- | --- |
{rows}
"""
