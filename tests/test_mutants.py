"""Every hidden test can fail: realistic buggy submissions lose points on the right task,
with a message that names the mistake, and together they fail every hidden test."""

from __future__ import annotations

import concurrent.futures

import pytest

from autograder import config
from autograder.harness import local
from tests.conftest import ROOT, mutants_of, outcomes, selected_assignments

COURSE = config.load(ROOT)
MUTANTS = {aid: mutants_of(COURSE, aid) for aid in COURSE.assignments}
CASES = [(aid, m) for aid, ms in MUTANTS.items() for m in ms]


@pytest.fixture(scope="module")
def graded(request, course, grade, tmp_path_factory):
    """Grade every mutant of the selected assignments (on its task only), two at a time."""
    wanted = selected_assignments(request)
    def one(aid, mutant):
        a = course.assignment(aid)
        folder = tmp_path_factory.mktemp(mutant.name)
        reference = (course.reference_dir(aid) / f"{a.module}.py").read_text()
        (folder / f"{a.module}.py").write_text(mutant.apply(reference))
        return grade(aid, folder, variant=mutant.variant, tasks=[mutant.task])

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {(aid, m.name): pool.submit(one, aid, m) for aid, m in CASES if aid in wanted}
        return {key: f.result() for key, f in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("aid, mutant", CASES, ids=[f"{aid}-{m.name}" for aid, m in CASES])
def test_mutant_loses_points_on_its_task(graded, aid, mutant):
    doc = graded[(aid, mutant.name)]
    task = doc["extra_data"]["tasks"][mutant.task]
    assert task["score"] < task["max_score"], f"{mutant.name} kept full marks on {mutant.task}"
    failed = [t for t in doc["tests"] if t["status"] != "passed"]
    assert all(t["extra_data"]["outcome"] in ("failed", "error") for t in failed), \
        f"{mutant.name}: tests should fail on results, not crash: {[t['output'][:200] for t in failed]}"
    if mutant.says:
        assert any(mutant.says in t["output"] for t in failed), \
            f"{mutant.name}: no failure message says {mutant.says!r}:\n" + "\n".join(t["output"][:300] for t in failed)


@pytest.mark.slow
@pytest.mark.parametrize("aid", list(MUTANTS))
def test_every_hidden_test_fails_on_some_mutant(graded, grade, course, aid):
    hidden = set()
    for variant in course.variants:
        hidden |= {n for n, _ in outcomes(grade(aid, course.reference_dir(aid), variant)).items() if "/hidden/" in n}
    killed = {n for (a, _), doc in graded.items() if a == aid for n, o in outcomes(doc).items() if o != "passed"}
    assert not hidden - killed, f"hidden tests no mutant fails: {sorted(hidden - killed)}"


# One mistake, one task: graded with every task, a mutant whose bug sits in code other tasks
# call loses points on its own task and nowhere else (the reference answers the calls into
# other tasks' functions and layers; autograder/grade/oracle.py). One case per way a call
# crosses tasks; tests/benchmarks/mutant_seeds.py --all-tasks checks every mutant, over seeds.
CROSS_TASK = [("a03_attention", "sdpa_no_scaling"),          # a function (attention_weights), called by every attention
              ("a03_attention", "causal_off_by_one"),        # a function given a device, and called by the tests directly
              ("a04_gpt", "gelu_float32_constant"),         # a function called inside a layer (MLP) of another task
              ("a04_gpt", "ln_unbiased_variance"),          # a layer (LayerNorm), inside Block and GPT
              ("a04_gpt", "attn_kqv_order")]                # a layer given an object (a KVCache) it changes


# The listed exceptions live with each assignment: ``ALSO_COSTS = {task: (other tasks, reason)}``
# in assignments/<id>/mutants.py says which other tasks a mistake in ``task`` may also cost,
# and why. A task with `integration = true` in grading.toml sees the student's code throughout
# and may always lose points for another task's mistake.
def allowed_elsewhere(course, aid: str, task: str) -> set[str]:
    """The tasks other than ``task`` a mistake in ``task`` may also cost (its assignment's ALSO_COSTS)."""
    integration = {t for t, v in course.assignment(aid).tasks.items() if v.integration}
    path = course.mutants_path(aid)
    listed = getattr(local.load_file(f"_mutants_{aid}", path), "ALSO_COSTS", {}) if path.is_file() else {}
    return (integration | set(listed.get(task, ((), ""))[0])) - {task}


@pytest.mark.slow
def test_cross_task_mutants_lose_points_on_their_own_task_only(course, grade, tmp_path):
    cases = []
    for aid, name in CROSS_TASK:
        mutant = next(m for m in MUTANTS[aid] if m.name == name)
        module = course.assignment(aid).module
        (tmp_path / name).mkdir()
        reference = (course.reference_dir(aid) / f"{module}.py").read_text()
        (tmp_path / name / f"{module}.py").write_text(mutant.apply(reference))
        cases.append((aid, mutant, tmp_path / name))
    grade.ahead([(aid, folder, mutant.variant) for aid, mutant, folder in cases])
    for aid, mutant, folder in cases:
        tasks = grade(aid, folder, mutant.variant)["extra_data"]["tasks"]
        lost = sorted(t for t, v in tasks.items() if v["score"] < v["max_score"])
        assert lost == [mutant.task], f"{aid} {mutant.name} lost points on {lost}, not on {mutant.task} only"
