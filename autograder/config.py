"""grading.toml: the course's only policy file, read here and nowhere else.

Every table is checked against a schema below: an unknown key, a missing required key or
a value of the wrong type is a ``ConfigError`` naming the dotted key. The result is a tree
of frozen dataclasses passed explicitly to release, grading and reporting.

Leaves out: the cross-check between tasks and hidden tests, which needs test collection
(the grading plugin does it, naming the key or the test).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

ASSIGNMENT_ID = re.compile(r"^a\d\d_[a-z0-9_]+$")
TASK_ID = re.compile(r"^[a-z][a-z0-9_]*$")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
NUMBER = (int, float)
INSTRUCTOR_ONLY = ("hidden", "mutants.py", "examples")   # under assignments/<id>/: never released


class ConfigError(ValueError):
    """grading.toml is invalid; the message names the key."""


@dataclass(frozen=True)
class Limits:
    """Per-worker resource limits (None: not limited)."""
    memory_mb: int | None = None
    cpu_s: int | None = None
    file_size_mb: int | None = None
    processes: int | None = None
    output_kb: int = 256
    scratch_mb: int = 512     # size of the sandbox's private tmpfs


@dataclass(frozen=True)
class Profile:
    name: str
    device: str               # "cpu" or "cuda"
    timeout_scale: float      # multiplies every per-test timeout
    threads: int              # torch threads in the worker
    limits: Limits
    sandbox: str = "auto"     # auto: bubblewrap when it works; required: refuse without; off


Bar = float | tuple[float, float]


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    points: float
    timeout_s: float
    variants: tuple[str, ...]
    bars: dict[str, dict[str, Bar]] = field(default_factory=dict)   # name -> {profile or "*": value}
    integration: bool = False  # its tests see the student's own code throughout (grade/oracle.py)

    def bars_for(self, profile: str) -> dict[str, Bar]:
        """The task's numeric bars (speed factors, memory caps, loss bands) on ``profile``."""
        return {name: by[profile] if profile in by else by["*"] for name, by in self.bars.items()
                if profile in by or "*" in by}


@dataclass(frozen=True)
class LatePolicy:
    """When an assignment is due and what lateness costs (applied after grading: never a
    reason to regrade, and not in the grade digest). Lateness is measured from ``due`` (per
    variant where ``due_by_variant`` says) plus the student's roster extension; within
    ``grace_minutes`` it is on time; otherwise each started day late costs
    ``percent_per_day`` of the earned score, at most ``max_percent``, and after
    ``zero_after_days`` days the score is 0."""
    due: datetime
    due_by_variant: dict[str, datetime] = field(default_factory=dict)
    grace_minutes: float = 0.0
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    zero_after_days: float | None = None

    def due_for(self, variant: str) -> datetime:
        return self.due_by_variant.get(variant, self.due)


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    module: str
    tasks: dict[str, Task]
    requires: tuple[str, ...] = ()   # as written in grading.toml
    needs: tuple[str, ...] = ()      # the transitive closure of requires, dependencies first
    late: LatePolicy | None = None   # no due date: nothing is late

    def tasks_for(self, variant: str) -> dict[str, Task]:
        return {k: t for k, t in self.tasks.items() if variant in t.variants}

    def max_points(self, variant: str) -> float:
        return sum(t.points for t in self.tasks_for(variant).values())


@dataclass(frozen=True)
class Course:
    root: Path
    name: str
    variants: tuple[str, ...]
    startup_timeout_s: float
    public_visibility: str
    hidden_visibility: str
    hidden_feedback: str      # counts | summary | full: what feedback shows of hidden tests
    profiles: dict[str, Profile]
    assignments: dict[str, Assignment] = field(repr=False)
    text: str = field(default="", repr=False, compare=False)   # the grading.toml this was read from

    def assignment(self, assignment_id: str) -> Assignment:
        if assignment_id not in self.assignments:
            known = ", ".join(self.assignments) or "none"
            raise ConfigError(f"unknown assignment {assignment_id!r} (grading.toml has: {known})")
        return self.assignments[assignment_id]

    def reference_dir(self, a: str) -> Path:
        return self.root / "reference" / a

    def handout_dir(self, a: str) -> Path:
        return self.root / "assignments" / a

    def hidden_dir(self, a: str) -> Path:
        return self.handout_dir(a) / "hidden"

    def mutants_path(self, a: str) -> Path:
        return self.handout_dir(a) / "mutants.py"

    def examples_dir(self, a: str) -> Path:
        return self.handout_dir(a) / "examples"

    def is_instructor_only(self, a: str, path: Path) -> bool:
        """True for the files of ``assignments/<a>/`` that never ship to students."""
        rel = path.relative_to(self.handout_dir(a))
        return rel.parts[0] in INSTRUCTOR_ONLY or "__pycache__" in rel.parts

    def release_dir(self, variant: str, a: str) -> Path:
        return self.root / "release" / variant / a

    def given_modules(self, a: str) -> dict[str, str]:
        """``{module file name: required assignment}`` of the solutions ``a`` ships as given code:
        every assignment it requires, directly or through another, once each."""
        return {f"{self.assignments[r].module}.py": r for r in self.assignments[a].needs}


# ----------------------------------------------------------------------------- schema

def _take(table: dict, path: str, schema: dict) -> dict:
    """Check ``table`` against ``schema`` {key: (types, default or REQUIRED)}."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: expected a table, got {type(table).__name__}")
    for key in table:
        if key not in schema:
            allowed = ", ".join(schema)
            raise ConfigError(f"{_join(path, key)}: unknown key (allowed here: {allowed})")
    out = {}
    for key, (types, default) in schema.items():
        if key not in table:
            if default is REQUIRED:
                raise ConfigError(f"{_join(path, key)}: required key is missing")
            out[key] = default
            continue
        value = table[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise ConfigError(f"{_join(path, key)}: expected {names}, got {type(value).__name__} {value!r}")
        out[key] = value
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _string_list(value, path: str, allowed=None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: expected a list of strings")
    for v in value:
        if allowed is not None and v not in allowed:
            raise ConfigError(f"{path}: {v!r} is not one of {', '.join(allowed)}")
    return tuple(value)


def _positive(value, path: str, allow_zero: bool = False):
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        raise ConfigError(f"{path}: must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def _bar(value, path: str, profiles: dict) -> dict[str, Bar]:
    """A bar: a number, a band ``[low, high]``, or a table of those keyed by profile name."""
    if isinstance(value, dict):
        for name in value:
            if name not in profiles:
                raise ConfigError(f"{path}.{name}: not a profile (grading.toml has {', '.join(profiles)})")
        return {name: _bar(v, f"{path}.{name}", profiles)["*"] for name, v in value.items()}
    if isinstance(value, NUMBER) and not isinstance(value, bool):
        return {"*": value}
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, NUMBER) and not isinstance(v, bool)
                                                           for v in value):
        if not value[0] < value[1]:
            raise ConfigError(f"{path}: a band [low, high] needs low < high, got {value}")
        return {"*": (float(value[0]), float(value[1]))}
    raise ConfigError(f"{path}: expected a number, a band [low, high], or a table of them by profile; got {value!r}")


def _due(value, path: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ConfigError(f"{path}: expected a date and time with its UTC offset (2026-03-01T23:59:00Z), got {value!r}")
    return value


def _late(table: dict, path: str, variants: tuple[str, ...]) -> LatePolicy:
    t = _take(table, path, LATE)
    by_variant = {}
    for variant, value in t["due_by_variant"].items():
        if variant not in variants:
            raise ConfigError(f"{path}.due_by_variant.{variant}: not a variant ({', '.join(variants)})")
        by_variant[variant] = _due(value, f"{path}.due_by_variant.{variant}")
    for key in ("grace_minutes", "percent_per_day", "max_percent", "zero_after_days"):
        _positive(t[key], f"{path}.{key}", allow_zero=True)
    if t["max_percent"] > 100:
        raise ConfigError(f"{path}.max_percent: at most 100, got {t['max_percent']}")
    return LatePolicy(_due(t["due"], f"{path}.due"), by_variant, float(t["grace_minutes"]), float(t["percent_per_day"]),
                      float(t["max_percent"]), None if t["zero_after_days"] is None else float(t["zero_after_days"]))


REQUIRED = object()
COURSE = {"name": ((str,), REQUIRED), "variants": ((list,), REQUIRED),
          "startup_timeout_s": (NUMBER, 120), "test_timeout_s": (NUMBER, 30),
          "public_visibility": ((str,), "visible"), "hidden_visibility": ((str,), "hidden"),
          "hidden_feedback": ((str,), "summary")}
LIMITS = {"memory_mb": ((int,), None), "cpu_s": ((int,), None), "file_size_mb": ((int,), None),
          "processes": ((int,), None), "output_kb": ((int,), 256), "scratch_mb": ((int,), 512)}
PROFILE = {"device": ((str,), REQUIRED), "timeout_scale": (NUMBER, 1.0), "threads": ((int,), 1),
           "limits": ((dict,), {}), "sandbox": ((str,), "auto")}
ASSIGNMENT = {"title": ((str,), REQUIRED), "module": ((str,), REQUIRED),
              "timeout_s": (NUMBER, None), "requires": ((list,), []), "tasks": ((dict,), REQUIRED),
              "late": ((dict,), None)}
LATE = {"due": ((datetime,), REQUIRED), "due_by_variant": ((dict,), {}), "grace_minutes": (NUMBER, 0),
        "percent_per_day": (NUMBER, 0), "max_percent": (NUMBER, 100), "zero_after_days": (NUMBER, None)}
TASK = {"title": ((str,), REQUIRED), "points": (NUMBER, REQUIRED), "timeout_s": (NUMBER, None),
        "variants": ((list,), None), "bars": ((dict,), {}), "integration": ((bool,), False)}
TOP = {"course": ((dict,), REQUIRED), "profiles": ((dict,), REQUIRED), "assignments": ((dict,), REQUIRED)}


def parse(data: dict, root: Path) -> Course:
    """Validate the parsed TOML ``data`` of a course rooted at ``root``."""
    top = _take(data, "", TOP)
    course = _take(top["course"], "course", COURSE)
    variants = _string_list(course["variants"], "course.variants")
    if not variants:
        raise ConfigError("course.variants: at least one variant is required")
    for key in ("public_visibility", "hidden_visibility"):
        if course[key] not in VISIBILITIES:
            raise ConfigError(f"course.{key}: {course[key]!r} is not one of {', '.join(VISIBILITIES)}")
    if course["hidden_feedback"] not in ("counts", "summary", "full"):
        raise ConfigError(f"course.hidden_feedback: expected 'counts', 'summary' or 'full', got {course['hidden_feedback']!r}")
    _positive(course["startup_timeout_s"], "course.startup_timeout_s")
    _positive(course["test_timeout_s"], "course.test_timeout_s")

    profiles = {}
    for name, table in top["profiles"].items():
        p = _take(table, f"profiles.{name}", PROFILE)
        if p["device"] not in ("cpu", "cuda"):
            raise ConfigError(f"profiles.{name}.device: expected 'cpu' or 'cuda', got {p['device']!r}")
        if p["sandbox"] not in ("auto", "required", "off"):
            raise ConfigError(f"profiles.{name}.sandbox: expected 'auto', 'required' or 'off', got {p['sandbox']!r}")
        limits = _take(p["limits"], f"profiles.{name}.limits", LIMITS)
        for key, value in limits.items():
            _positive(value, f"profiles.{name}.limits.{key}")
        profiles[name] = Profile(name, p["device"], float(_positive(p["timeout_scale"], f"profiles.{name}.timeout_scale")),
                                 _positive(p["threads"], f"profiles.{name}.threads"), Limits(**limits), p["sandbox"])
    if not profiles:
        raise ConfigError("profiles: at least one runner profile is required")

    assignments = {}
    for aid, table in top["assignments"].items():
        path = f"assignments.{aid}"
        if not ASSIGNMENT_ID.match(aid):
            raise ConfigError(f"{path}: assignment ids look like a03_attention")
        a = _take(table, path, ASSIGNMENT)
        if not (root / "reference" / aid / f"{a['module']}.py").is_file():
            raise ConfigError(f"{path}.module: reference/{aid}/{a['module']}.py does not exist")
        default_timeout = _positive(a["timeout_s"], f"{path}.timeout_s") or course["test_timeout_s"]
        tasks = {}
        for tid, ttable in a["tasks"].items():
            tpath = f"{path}.tasks.{tid}"
            if not TASK_ID.match(tid):
                raise ConfigError(f"{tpath}: task ids are lower_snake_case")
            t = _take(ttable, tpath, TASK)
            tasks[tid] = Task(
                id=tid, title=t["title"], points=float(_positive(t["points"], f"{tpath}.points", allow_zero=True)),
                timeout_s=float(_positive(t["timeout_s"], f"{tpath}.timeout_s") or default_timeout),
                variants=_string_list(t["variants"], f"{tpath}.variants", variants) if t["variants"] is not None else variants,
                bars={name: _bar(value, f"{tpath}.bars.{name}", profiles) for name, value in t["bars"].items()},
                integration=t["integration"])
        if not tasks:
            raise ConfigError(f"{path}.tasks: an assignment needs at least one task")
        assignments[aid] = Assignment(aid, a["title"], a["module"], tasks,
                                      _string_list(a["requires"], f"{path}.requires"),
                                      late=_late(a["late"], f"{path}.late", variants) if a["late"] is not None else None)

    for aid, a in assignments.items():
        for required in a.requires:
            if required not in assignments or required == aid:
                raise ConfigError(f"assignments.{aid}.requires: {required!r} is not another assignment in grading.toml")
    assignments = {aid: replace(a, needs=_closure(aid, assignments)) for aid, a in assignments.items()}
    for aid, a in assignments.items():
        modules = {assignments[r].module: r for r in a.needs}
        if a.module in modules:
            raise ConfigError(f"assignments.{aid}.requires: {modules[a.module]!r} has the same module name {a.module!r}")
    return Course(root=root, name=course["name"], variants=variants,
                  startup_timeout_s=float(course["startup_timeout_s"]),
                  public_visibility=course["public_visibility"], hidden_visibility=course["hidden_visibility"],
                  hidden_feedback=course["hidden_feedback"],
                  profiles=profiles, assignments=assignments)


def _closure(aid: str, assignments: dict[str, Assignment]) -> tuple[str, ...]:
    """Everything ``aid`` requires, directly or not, each after what it requires itself."""
    order: list[str] = []

    def visit(node: str, path: tuple[str, ...]) -> None:
        for required in assignments[node].requires:
            if required in path:
                cycle = " -> ".join((*path[path.index(required):], required))
                raise ConfigError(f"assignments.{node}.requires: a cycle ({cycle})")
            visit(required, (*path, required))
            if required not in order:
                order.append(required)

    visit(aid, (aid,))
    return tuple(order)


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder at or above ``start`` holding grading.toml."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "grading.toml").is_file():
            return folder
    packaged = Path(__file__).resolve().parent.parent
    if (packaged / "grading.toml").is_file():
        return packaged
    raise ConfigError(f"no grading.toml in {start} or any folder above it")


def load(root: Path | None = None, text: str | None = None) -> Course:
    """The course at ``root`` (default: found from the working directory). ``text``, when
    given, is the grading.toml to use instead of the file: a grading run passes down the very
    text its caller read, so one run grades under one policy even if the file is edited."""
    root = find_root(root) if root is None or not (root / "grading.toml").is_file() else root.resolve()
    path = root / "grading.toml"
    text = path.read_text(encoding="utf-8") if text is None else text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return replace(parse(data, root), text=text)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
