"""release/: current, free of solutions and hidden tests, usable with plain pytest."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, ClearSolutions

from autograder import config
from autograder.release import build, check, variants
from tests.conftest import ROOT

AIDS = list(config.load(ROOT).assignments)


def test_committed_release_is_current_and_clean(course):
    assert check.problems(course, AIDS) == []


@pytest.fixture
def course_copy(tmp_path):
    for name in ("grading.toml", "reference", "assignments", "release"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return config.load(tmp_path)


def test_stale_edited_and_extra_files_are_reported(course_copy):
    root = course_copy.root
    module = root / "release/standard/a03_attention/attention.py"
    module.write_text(module.read_text().replace("YOUR CODE HERE", "MY CODE HERE", 1))
    (root / "release/hardmode/a03_attention/notes.txt").write_text("hi")
    (root / "release/standard/a03_attention/README.md").unlink()
    problems = "\n".join(check.problems(course_copy, AIDS))
    assert "release/standard/a03_attention/attention.py: differs" in problems
    assert "release/hardmode/a03_attention/notes.txt: not generated" in problems
    assert "release/standard/a03_attention/README.md: missing" in problems
    check.write(course_copy, AIDS)
    assert check.problems(course_copy, AIDS) == []


def test_solution_and_hidden_test_lines_are_leaks(course_copy):
    root = course_copy.root
    handout = root / "release/standard/a03_attention/README.md"
    handout.write_text(handout.read_text() + "\n    mask = causal_mask(t_new, len(cache) + t_new, device=x.device)\n")
    nb_path = root / "release/hardmode/a03_attention/attention.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][-1]["source"] = "mask[..., 0, :] = False                   # the first query may attend to nothing"
    nb_path.write_text(json.dumps(nb))
    problems = "\n".join(check.problems(course_copy, AIDS))
    assert "README.md:" in problems and "contains a line of a solution (reference/a03_attention/attention.py)" in problems
    assert "attention.ipynb:cell" in problems and "a hidden test (assignments/a03_attention/hidden/test_sdpa.py)" in problems


def test_a_marker_typo_fails_generation_with_file_and_line(course_copy):
    ref = course_copy.root / "reference/a03_attention/attention.py"
    ref.write_text(ref.read_text().replace("### END SOLUTION", "### END SOLUTON", 1))
    with pytest.raises(Exception, match=r"reference/a03_attention/attention.py:\d+: malformed marker"):
        check.problems(course_copy, AIDS)


@pytest.mark.parametrize("variant", ["standard", "hardmode"])
def test_notebooks_pass_nbgrader_validation(course, variant):
    path = course.release_dir(variant, "a03_attention") / "attention.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    MetadataValidator().validate_nb(nb)
    CheckCellMetadata().preprocess(nb, {})
    solution_ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(solution_ids) == len(set(solution_ids)) >= 7
    ClearSolutions().preprocess(nb, {})            # nbgrader's own stage accepts the cells too


def plain_pytest(folder):
    """pytest run in ``folder`` as a student would, with `autograder` made unimportable."""
    code = ("import sys; sys.modules['autograder'] = None; import pytest; "
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-rf']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "400"})
    return proc.stdout


@pytest.mark.parametrize("variant", ["standard", pytest.param("hardmode", marks=pytest.mark.slow)])
def test_public_tests_run_in_a_copy_of_the_release_tree(course, tmp_path, variant):
    """release/ as students clone it: a04 finds the shared runtime and a03's given solution
    above its folder, and every public test fails with NotImplementedError alone."""
    shutil.copytree(course.root / "release", tmp_path / "release")
    out = plain_pytest(tmp_path / "release" / variant / "a04_gpt")
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert failed and all("NotImplementedError: a04_gpt." in line for line in failed), out[-3000:]
    assert "passed" not in out.splitlines()[-1] and "error" not in out.splitlines()[-1]


@pytest.mark.parametrize("variant", ["standard", pytest.param("hardmode", marks=pytest.mark.slow)])
def test_a_bundle_is_one_self_contained_folder(course, tmp_path, variant):
    """`autograder bundle`: one folder, nothing else; the stubs fail every public test, and
    with the solution in place every public test passes."""
    with zipfile.ZipFile(io.BytesIO(build.bundle(course, "a04_gpt", variant))) as zf:
        assert {name.split("/")[0] for name in zf.namelist()} == {"a04_gpt"}
        zf.extractall(tmp_path)
    folder = tmp_path / "a04_gpt"
    assert (folder / "attention.py").is_file() and (folder / "_harness" / "pytest_local.py").is_file()
    out = plain_pytest(folder)
    assert "passed" not in out.splitlines()[-1] and "failed" in out.splitlines()[-1], out[-2000:]
    ref = course.reference_dir("a04_gpt") / "gpt.py"
    (folder / "gpt.py").write_text(variants.render(ref.read_text(), variant, "gpt.py", solved=True))
    out = plain_pytest(folder)
    assert "failed" not in out.splitlines()[-1] and "passed" in out.splitlines()[-1], out[-2000:]


def test_grading_computes_the_release_digests_from_the_sources(course):
    for aid in course.assignments:
        for variant in course.variants:
            info = json.loads(build.student_module(course, aid, variant)["assignment.json"])
            assert build.released_digests(course, aid, variant) == info["released"]


def test_the_release_holds_each_shared_piece_once(course):
    files = [p.relative_to(course.root / "release") for p in (course.root / "release").rglob("*.py")]
    assert sum(p.name == "codec.py" for p in files) == 1
    assert sum(p.name == "attention.py" for p in files) == len(course.variants) * 2   # a03's own, and given once


def test_cli_release_check_exit_status():
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "release/ is current" in proc.stdout
