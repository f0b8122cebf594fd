"""The ``autograder`` commands, one module per pipeline stage (``authoring``, ``grading``,
``reporting``), and what they share: choosing a profile, the results folder, the roster,
the gradebook's current grades and the feedback pages. ``cli.py`` parses the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .. import config


def pick_profile(course: config.Course, name: str, here: bool = True) -> str:
    """The profile named, or auto's choice; its device checked unless grading is not ``here``."""
    if name != "auto":
        if name not in course.profiles:
            raise config.ConfigError(f"--profile {name!r}: grading.toml has {', '.join(course.profiles)}")
        from ..grade.launch import check_device
        if here:
            check_device(course.profiles[name])
        return name
    import torch
    available = {"cpu": True, "cuda": torch.cuda.is_available()}
    for profile in course.profiles.values():
        if available[profile.device]:
            return profile.name
    raise config.ConfigError(f"--profile auto: no profile's device is available here ({', '.join(course.profiles)})")


def out_dir(course: config.Course, aid: str, out: str | None) -> Path:
    return Path(out) if out else course.root / "out" / aid


def check_variant(course: config.Course, variant: str) -> str:
    if variant not in course.variants:
        raise config.ConfigError(f"--variant {variant!r}: grading.toml has {', '.join(course.variants)}")
    return variant


def load_roster(course: config.Course, path: str | None):
    from ..grade import roster
    return roster.load(Path(path), course.variants) if path else None


def list_roster(roster, names: list[str], what: str) -> None:
    """Say who handed in without being on the roster, and who is on it with nothing handed in."""
    if roster is None:
        return
    _, unknown, missing = roster.split(names)
    for name in unknown:
        print(f"NOT ON ROSTER: {name} ({what})", file=sys.stderr)
    for student in missing:
        print(f"MISSING: {student.label()} is on the roster and handed in nothing", file=sys.stderr)


def current_grades(course: config.Course, aid: str, out: str | None) -> dict[str, dict]:
    """Each student's current results document from the gradebook of ``aid``."""
    from ..grade.gradebook import Gradebook
    path = out_dir(course, aid, out) / "gradebook.sqlite"
    if not path.is_file():
        raise config.ConfigError(f"no gradebook at {path}: grade {aid} first")
    book = Gradebook(path)
    try:
        return book.current(aid)
    finally:
        book.close()


def write_feedback(course: config.Course, out: Path, documents: dict[str, dict], roster) -> None:
    """feedback.md and feedback.html for every student, named as the roster names them."""
    from ..report import feedback
    for student, doc in documents.items():
        person = roster.match(student) if roster else None
        feedback.write(out / student, doc, person.label() if person else student, course.hidden_feedback)

