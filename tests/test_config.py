"""grading.toml validation: every error names the key."""

import copy
import shutil
import tomllib

import pytest

from autograder import config
from tests.conftest import ROOT

DATA = tomllib.loads((ROOT / "grading.toml").read_text())


def broken(edit):
    data = copy.deepcopy(DATA)
    edit(data)
    return data


def test_the_course_file_is_valid(course):
    a = course.assignment("a03_attention")
    assert a.module == "attention" and a.max_points("standard") == 34 and a.max_points("hardmode") == 34
    assert "questions" not in a.tasks_for("hardmode") and "gqa_kv_cache" in a.tasks_for("hardmode")
    assert a.tasks["questions"].timeout_s == 5 and a.tasks["sdpa"].timeout_s == 20


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["course"].update(colour="red"), "course.colour: unknown key"),
    (lambda d: d["course"].pop("name"), "course.name: required key is missing"),
    (lambda d: d["course"].update(startup_timeout_s="60"), "course.startup_timeout_s: expected int or float, got str"),
    (lambda d: d["course"].update(test_timeout_s=True), "course.test_timeout_s: expected int or float, got bool"),
    (lambda d: d["course"].update(hidden_visibility="secret"), "course.hidden_visibility: 'secret' is not one of"),
    (lambda d: d["profiles"]["cpu"].update(device="tpu"), "profiles.cpu.device: expected 'cpu' or 'cuda'"),
    (lambda d: d["profiles"]["cpu"]["limits"].update(memory_gb=4), "profiles.cpu.limits.memory_gb: unknown key"),
    (lambda d: d["profiles"]["cpu"]["limits"].update(memory_mb=-1), "profiles.cpu.limits.memory_mb: must be > 0"),
    (lambda d: d.update(profiles={}), "profiles: at least one runner profile is required"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"]["sdpa"].update(bars={"speed": "fast"}), "assignments.a03_attention.tasks.sdpa.bars.speed: expected a number, a band"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"]["sdpa"].update(bars={"band": [2, 1]}), "assignments.a03_attention.tasks.sdpa.bars.band: a band [low, high] needs low < high"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"]["sdpa"].update(bars={"steps": {"tpu": 3}}), "assignments.a03_attention.tasks.sdpa.bars.steps.tpu: not a profile"),
    (lambda d: d["assignments"]["a04_gpt"].update(requires=["a04_gpt"]), "assignments.a04_gpt.requires: 'a04_gpt' is not another assignment"),
    (lambda d: d["assignments"]["a03_attention"].update(requires=["a04_gpt"]), "a cycle (a03_attention -> a04_gpt -> a03_attention)"),
    (lambda d: d["assignments"]["a03_attention"].update(module="nope"), "assignments.a03_attention.module: reference/a03_attention/nope.py does not exist"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"]["sdpa"].update(points="6"), "assignments.a03_attention.tasks.sdpa.points: expected int or float"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"]["sdpa"].update(weight=1), "assignments.a03_attention.tasks.sdpa.weight: unknown key"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"]["sdpa"].update(variants=["expert"]), "assignments.a03_attention.tasks.sdpa.variants: 'expert' is not one of"),
    (lambda d: d["assignments"]["a03_attention"]["tasks"].update({"Bad-Id": {"title": "x", "points": 1}}), "assignments.a03_attention.tasks.Bad-Id: task ids are lower_snake_case"),
    (lambda d: d["assignments"].update({"attention": {}}), "assignments.attention: assignment ids look like a03_attention"),
    (lambda d: d.update(extra={}), "extra: unknown key"),
])
def test_errors_name_the_key(edit, message):
    with pytest.raises(config.ConfigError) as info:
        config.parse(broken(edit), ROOT)
    assert message in str(info.value)


def test_load_reports_toml_syntax_and_path(tmp_path):
    (tmp_path / "grading.toml").write_text("[course\n")
    with pytest.raises(config.ConfigError, match="grading.toml: not valid TOML"):
        config.load(tmp_path)


def test_unknown_assignment_lists_the_known_ones(course):
    with pytest.raises(config.ConfigError, match="unknown assignment 'a03' .*a03_attention"):
        course.assignment("a03")


def test_requires_is_closed_transitively_dependencies_first(tmp_path):
    data = copy.deepcopy(DATA)
    data["assignments"]["a01_tokenization"]["requires"] = ["a04_gpt"]
    course = config.parse(data, ROOT)
    assert course.assignment("a01_tokenization").needs == ("a03_attention", "a04_gpt")
    assert course.given_modules("a01_tokenization") == {"attention.py": "a03_attention", "gpt.py": "a04_gpt"}


def test_bars_resolve_per_profile():
    data = copy.deepcopy(DATA)
    data["assignments"]["a03_attention"]["tasks"]["sdpa"]["bars"] = {
        "factor": 2, "band": {"cpu": [1.0, 2.5], "gpu": [0.5, 1]}, "steps": {"gpu": 10}}
    task = config.parse(data, ROOT).assignment("a03_attention").tasks["sdpa"]
    assert task.bars_for("cpu") == {"factor": 2.0, "band": (1.0, 2.5)}
    assert task.bars_for("gpu") == {"factor": 2.0, "band": (0.5, 1.0), "steps": 10.0}


def digest_after(tmp_path, edit, aid, profile="cpu"):
    """The grade digest of ``aid`` in a copy of the course, before and after ``edit(root)``."""
    from autograder.grade.digest import grade_digest
    root = tmp_path / "course"
    root.mkdir()
    for name in ("grading.toml", "reference", "assignments"):
        src = ROOT / name
        (shutil.copytree(src, root / name) if src.is_dir() else shutil.copy(src, root / name))
    before = grade_digest(config.load(root), aid, profile)
    edit(root)
    return before, grade_digest(config.load(root), aid, profile)


def append(path, text):
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize("edit, aid, changes", [
    (lambda r: append(r / "reference/a03_attention/attention.py", "\n# edited\n"), "a04_gpt", True),
    (lambda r: append(r / "assignments/a04_gpt/hidden/test_mlp.py", "\n# edited\n"), "a04_gpt", True),
    (lambda r: (r / "grading.toml").write_text((r / "grading.toml").read_text().replace(
        'title = "Feed-forward block"\npoints = 2', 'title = "Feed-forward block"\npoints = 3')), "a04_gpt", True),
    (lambda r: (r / "grading.toml").write_text((r / "grading.toml").read_text().replace(
        'title = "Feed-forward block"\npoints = 2', 'title = "Feed-forward block"\npoints = 3')), "a03_attention", False),
    (lambda r: append(r / "grading.toml", "\n# a comment\n"), "a03_attention", False),
    (lambda r: append(r / "reference/a04_gpt/gpt.py", "\n# edited\n"), "a03_attention", False),
    (lambda r: append(r / "assignments/a03_attention/mutants.py", "\n# edited\n"), "a03_attention", False),
], ids=["a03-reference-regrades-a04", "a04-hidden-test", "a04-points-regrade-a04", "a04-points-keep-a03",
        "comment", "a04-reference-keeps-a03", "mutants"])
def test_grade_digest_covers_what_decides_a_grade(tmp_path, edit, aid, changes):
    before, after = digest_after(tmp_path, edit, aid)
    assert (before != after) == changes


def test_grade_digest_ignores_where_the_course_lives(tmp_path):
    from autograder.grade.digest import grade_digest
    digests = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        for part in ("grading.toml", "reference", "assignments"):
            src = ROOT / part
            (shutil.copytree(src, tmp_path / name / part) if src.is_dir() else shutil.copy(src, tmp_path / name / part))
        digests.append(grade_digest(config.load(tmp_path / name), "a04_gpt", "cpu"))
    assert digests[0] == digests[1]
