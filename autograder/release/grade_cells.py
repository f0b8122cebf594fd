"""nbgrader's scoring cells of a notebook: one per task of the variant, all at the end.

- A task with public tests gets an nbgrader *autograded tests* cell (code; tagged
  ``skip-grading``, so the course's grader never runs it) that runs those tests in the
  notebook's kernel on the code above it (``_harness/notebook_tests``).
- A task without public tests gets an nbgrader *manually graded task* cell (markdown) saying
  that hidden tests grade it.

They come after all the code because a task's tests may use code of a later task (a01's
encoding tests need the ``Tokenizer`` of a later cell, a07's checkpoint tests ``train``).
Each is worth the task's full points (grading.toml), so nbgrader's total is the course's:
``nbgrader autograde`` scores a task all or nothing on its public tests, a preliminary score,
and ``autograder nbgrader-export`` replaces it with the task's grade from the hidden grading.
Which tasks have public tests is read from the handout's ``test_*.py`` (the literal id of each
``@pytest.mark.task("<id>")`` on a test function); a grade cell that runs none of its task's
tests fails and says so. Leaves out: running anything.
"""

from __future__ import annotations

import ast

from .. import config
from ..harness.source import SKIP_TAG
from .cells import Cell

GRADE_CELL = '''# Public tests of task `{task}` ({points} points). The grader adds hidden tests.
from conftest import run_public_tests

run_public_tests("{task}", globals())'''
TASK_CELL = ("**Task `{task}`: {title}** ({points} points) has no public tests: the course's grader "
             "tests it with hidden tests after you hand in.")


def grade_id(task: str, public: bool) -> str:
    """The nbgrader id of the cell that scores ``task``."""
    return f"{task}_tests" if public else f"{task}_hidden"


def public_tests(course: config.Course, aid: str) -> dict[str, int]:
    """``{task: number of public test functions}`` from the handout's test files."""
    counts: dict[str, int] = {}
    for path in sorted(course.handout_dir(aid).glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
                continue
            for dec in node.decorator_list:
                if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "task"
                        and dec.args and isinstance(dec.args[0], ast.Constant) and isinstance(dec.args[0].value, str)):
                    counts[dec.args[0].value] = counts.get(dec.args[0].value, 0) + 1
    return counts


def scoring_cell(task: config.Task, public: bool) -> Cell:
    points = f"{task.points:g}"
    if public:
        return Cell("code", GRADE_CELL.format(task=task.id, points=points), task.id, (SKIP_TAG,),
                    grade_id(task.id, True), task.points)
    return Cell("markdown", TASK_CELL.format(task=task.id, title=task.title, points=points), task.id, (),
                grade_id(task.id, False), task.points)


HEADING = ("## Public tests\n\nEach cell below runs one task's public tests on your code above (run them after "
           "the cells they test; they are read-only). The course's grader also runs hidden tests for every task.")


def add(cells: list[Cell], a: config.Assignment, variant: str, public: dict[str, int]) -> list[Cell]:
    """``cells``, then a heading and each task's scoring cell, in grading.toml's order."""
    scoring = [scoring_cell(task, public.get(task_id, 0) > 0) for task_id, task in a.tasks_for(variant).items()]
    return [*cells, Cell("markdown", HEADING), *scoring]
