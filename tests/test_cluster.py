"""Grading on a Ray cluster (``grade/cluster.py``), on a cluster of this machine's processes: a
head that runs no work and two worker nodes of one CPU, one advertising a fake GPU. The toy
course's gpu-marked test is routed to that node and is still "not run" there (no CUDA)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from autograder import config
from autograder.grade import batch, cluster
from tests import toy
from tests.raycluster import LocalCluster

BROKEN = "def add(a, b:\n    return a + b\n"


@pytest.fixture(scope="module")
def ray_cluster():
    pytest.importorskip("ray")
    local = LocalCluster()
    try:
        local.add({"cpu_worker": 0, "gpu_worker": 1})
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return config.load(toy.write_course(tmp_path_factory.mktemp("course")))


@pytest.fixture(scope="module")
def plain_course(tmp_path_factory):
    """The toy course without its gpu test: one Ray task per submission."""
    hidden = re.sub(r'@pytest.mark.task\("on_gpu"\)\n@pytest.mark.gpu\n.*?\n\n\n', "", toy.HIDDEN_TESTS, flags=re.S)
    grading = toy.GRADING.replace('on_gpu = { title = "needs a GPU", points = 1 }\n', "")
    assert "on_gpu" not in hidden + grading
    return config.load(toy.write_course(tmp_path_factory.mktemp("plain"), hidden, grading))


def make_class(folder, sources: dict[str, str]):
    for name, source in sources.items():
        toy.submission(folder, name, {"toy.py": source})
    return batch.submissions_in(folder)


def per_student(gradebook) -> list[tuple[str, int]]:
    db = sqlite3.connect(gradebook)
    try:
        return sorted(db.execute("SELECT student, COUNT(*) FROM grades GROUP BY student").fetchall())
    finally:
        db.close()


def outcomes(document: dict) -> list[tuple]:
    return [(t["name"], t["extra_data"]["outcome"], t["score"], t["max_score"]) for t in document["tests"]]


def grade_on(ray_cluster, course, paths, out, **kw):
    executor = cluster.Cluster(ray_cluster.address, course, out, paths, deadline_s=kw.pop("deadline_s", None))
    return batch.grade_class(course, "a99_toy", paths, out, variant="standard", profile="cpu",
                             progress=kw.pop("progress", lambda *a: None), executor=executor, **kw)


@pytest.mark.slow
def test_the_cluster_grades_like_local_grading_and_routes_gpu_tests(ray_cluster, course, tmp_path):
    paths = make_class(tmp_path / "class", {"good": toy.GOOD, "chaos": toy.CHAOS, "broken": BROKEN})
    local = batch.grade_class(course, "a99_toy", paths, tmp_path / "local", variant="standard", profile="cpu",
                              jobs=2, seed=7, progress=lambda *a: None)
    remote = grade_on(ray_cluster, course, paths, tmp_path / "remote", seed=7)
    assert remote.graded == 3 and not remote.failed
    nodes = ray_cluster.node_ids()
    for student, document in remote.documents.items():
        mine = local.documents[student]
        assert outcomes(document) == outcomes(mine), student
        for key in ("score", "output"):
            assert document[key] == mine[key], (student, key)
        for key in ("max_score", "complete", "status", "seed", "profile", "isolation"):
            assert document["extra_data"].get(key) == mine["extra_data"].get(key), (student, key)
        where = document["extra_data"]["cluster"]
        assert where["gpu_node"] == nodes["gpu_worker"] and where["gpu_tasks"] == ["on_gpu"]
        assert where["node"] in nodes.values() and "grades on cuda, but" in where["gpu_note"]
        assert [t["extra_data"]["outcome"] for t in document["tests"] if t["tags"] == ["on_gpu"]] == ["not_run"]
        for name in ("results.json", "grader.log"):
            assert (tmp_path / "remote" / student / name).is_file()
        code = [(tmp_path / side / student / "graded_code.py") for side in ("local", "remote")]
        assert code[0].read_text() == code[1].read_text()
    assert remote.documents["good"]["score"] == 11 and remote.needs_review.keys() == {"broken"}


@pytest.mark.slow
def test_a_task_past_its_deadline_is_cancelled_and_recorded_not_run(ray_cluster, course, tmp_path):
    paths = make_class(tmp_path / "class", {"slow": toy.CHAOS})
    result = grade_on(ray_cluster, course, paths, tmp_path / "out", deadline_s=1)
    document = result.documents["slow"]
    assert document["score"] == 0 and not document["extra_data"]["complete"]
    assert {t["extra_data"]["outcome"] for t in document["tests"]} == {"not_run"} and len(document["tests"]) == 11
    assert all("cancelled this grading after 1 s" in t["output"] for t in document["tests"])
    assert per_student(tmp_path / "out" / "gradebook.sqlite") == [("slow", 1)]


@pytest.mark.slow
def test_a_driver_killed_with_sigkill_resumes_without_losing_or_duplicating(ray_cluster, plain_course, tmp_path):
    course, n = plain_course, 3
    klass = tmp_path / "class"
    make_class(klass, {f"student{i}": toy.GOOD + f"\nSTUDENT = {i}\n" for i in range(n)})
    out = tmp_path / "out"

    def cli():
        return subprocess.Popen([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", "a99_toy",
                                 str(klass), "--out", str(out), "--profile", "cpu", "--cluster", ray_cluster.address],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = cli()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.2)
        if (out / "gradebook.sqlite").exists() and per_student(out / "gradebook.sqlite"):
            break
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = len(per_student(out / "gradebook.sqlite"))
    assert 1 <= before < n
    second = cli()
    output = second.communicate(timeout=300)[0]
    assert second.returncode == 0, output
    assert f"{n - before} graded, {before} unchanged" in output
    assert per_student(out / "gradebook.sqlite") == [(f"student{i}", 1) for i in range(n)]


@pytest.mark.slow
def test_a_node_lost_mid_batch_loses_and_duplicates_nothing(ray_cluster, plain_course, tmp_path):
    """Last in this file: the cluster keeps one worker afterwards."""
    course, n = plain_course, 4
    paths = make_class(tmp_path / "class", {f"student{i}": toy.GOOD + f"\nSTUDENT = {i}\n" for i in range(n)})

    def progress(done, total, student, document, note):
        if student is not None and "cpu_worker" in ray_cluster.workers:
            ray_cluster.kill_raylet("cpu_worker")         # the first grade is in: lose a node mid-batch
    result = grade_on(ray_cluster, course, paths, tmp_path / "out", progress=progress)
    assert "cpu_worker" not in ray_cluster.node_ids()
    assert result.graded == n and not result.failed, result.failed
    assert per_student(tmp_path / "out" / "gradebook.sqlite") == [(f"student{i}", 1) for i in range(n)]
    assert {d["score"] for d in result.documents.values()} == {11}


def test_without_ray_the_cluster_says_how_to_install_it(course, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(config.ConfigError, match=r"pip install 'llm-course-autograder\[cluster\]'"):
        cluster.Cluster("auto", course, tmp_path, [])
