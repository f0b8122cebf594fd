"""The course's grades -> nbgrader's gradebook (``nbgrader.api.Gradebook``), so formgrader shows them.

For each student's current grade (``gradebook.sqlite``) of the standard variant, each task's
score (public and hidden tests, out of the task's points) becomes the *manual* score of the
task's scoring cell (``release.grade_cells``), and its feedback (``feedback.collect``: failing
public tests in full, hidden tests as ``course.hidden_feedback`` says) the manual comment of the
task's first solution cell, or of its task cell. Manual, because ``nbgrader autograde`` run
again rewrites auto scores and comments; formgrader shows a manual score over the autograded
one. Running the export again rewrites what it wrote, a person's edits of those cells included.

Students and submissions nbgrader does not know yet are added (the assignment must be there:
``nbgrader generate_assignment`` puts it in). Left out, and listed: grades that need review (not
real zeros), other variants (nbgrader has the standard one only), and the hidden grading itself,
which never runs in nbgrader or in the student's kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import config
from ..grade.results import points
from ..release import grade_cells
from ..release.nbgrader_source import VARIANT
from . import feedback


@dataclass
class Exported:
    students: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)        # student -> why


def comment(task: feedback.TaskFeedback, notes: list[str]) -> str:
    """What formgrader shows beside the task's cell."""
    passed = sum(t["status"] == "passed" for t in task.public)
    lines = [*notes, f"Task {task.task} ({task.title}): {points(task.score)} / {points(task.max_score)} points "
             f"from the course's grader.", f"Public tests: {passed} of {len(task.public)} passed."]
    for test in task.public:
        if test["status"] != "passed":
            lines.append(f"- {test['name'].split(': ', 1)[-1]}:\n{test['output']}")
    lines.append(f"Hidden tests: {task.hidden_passed} of {task.hidden_total} passed.")
    lines += [f"- {note}" for note in task.hidden_notes]
    return "\n".join(lines)


def export(course: config.Course, aid: str, documents: dict[str, dict], db_url: str, course_id: str = "",
           notebook: str | None = None) -> Exported:
    """Write ``documents`` (``Gradebook.current``) into the nbgrader gradebook at ``db_url``."""
    from nbgrader.api import Gradebook, MissingEntry  # imported late: nbgrader is slow to import

    a = course.assignment(aid)
    name = notebook or a.module
    public = grade_cells.public_tests(course, aid)
    out = Exported()
    with Gradebook(db_url, course_id) as gb:
        try:
            nb = gb.find_notebook(name, aid)
        except MissingEntry:
            raise config.ConfigError(f"the nbgrader gradebook {db_url} has no notebook {name} in assignment {aid}: "
                                     f"run `nbgrader generate_assignment {aid}` in the course directory first") from None
        solution_cells = {c.name for c in nb.solution_cells}
        for student, doc in documents.items():
            extra = doc["extra_data"]
            if extra.get("status") == "needs_review":
                out.skipped[student] = "needs review: " + extra.get("needs_review", "").split("\n")[0]
                continue
            if extra.get("variant") != VARIANT:
                out.skipped[student] = f"graded on the {extra.get('variant')} variant; nbgrader has the {VARIANT} one"
                continue
            gb.update_or_create_student(student)
            try:
                gb.find_submission(aid, student)
            except MissingEntry:
                gb.add_submission(aid, student)
            notes = feedback.notices(doc)
            for task in feedback.collect(doc, course.hidden_feedback):
                if task.task not in a.tasks_for(VARIANT):
                    continue
                scoring = grade_cells.grade_id(task.task, public.get(task.task, 0) > 0)
                grade = gb.find_grade(scoring, name, aid, student)
                grade.manual_score, grade.needs_manual_grade = task.score, False
                where = task.task if task.task in solution_cells else scoring
                try:
                    gb.find_comment(where, name, aid, student).manual_comment = comment(task, notes)
                    notes = []
                except MissingEntry:
                    pass                                 # an autograded cell takes no comment
            gb.db.commit()
            out.students.append(student)
    return out
