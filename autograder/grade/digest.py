"""The grade digest: one hash of exactly what decides a grade of one assignment.

A grade is reused from the gradebook only when this digest (with the submission's own
digest, the variant and the profile) is unchanged. It covers:

- the policy that applies: grading.toml's course table, the graded profile, and this
  assignment's table, all as parsed (comments, key order and other assignments' tables
  do not count: a change to a04's points never regrades a03), except its late policy: a
  penalty is applied after grading, and a moved due date is no reason to regrade;
- the reference of this assignment and of every assignment it needs (their code ships as
  given code and the reference tests import it: a change to a03 regrades a04);
- this assignment's handout folder (public tests, adapters, hidden tests), but not its
  mutants or examples, which decide no grade;
- the engine's own code.

Paths enter relative to their root, so moving the course folder changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

from .. import config

ENGINE = Path(__file__).resolve().parent.parent


def grade_digest(course: config.Course, aid: str, profile: str) -> str:
    a = course.assignment(aid)
    h = hashlib.sha256()
    policy = {"course": {k: v for k, v in asdict(course).items() if k not in ("root", "assignments", "profiles", "text")},
              "profile": asdict(course.profiles[profile]), "assignment": {k: v for k, v in asdict(a).items() if k != "late"}}
    h.update(repr(policy).encode())
    trees = [(f"reference/{r}", course.reference_dir(r)) for r in (aid, *a.needs)]
    trees += [(f"assignments/{aid}", course.handout_dir(aid)), ("autograder", ENGINE)]
    for name, root in trees:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if root == course.handout_dir(aid) and path.relative_to(root).parts[0] in ("mutants.py", "examples"):
                continue
            h.update(f"{name}/{path.relative_to(root).as_posix()}".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
