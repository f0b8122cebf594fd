"""release/: current, free of solutions and hidden tests, usable with plain pytest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, ClearSolutions

from autograder import config
from autograder.release import check
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


@pytest.mark.parametrize("variant", ["standard", "hardmode"])
def test_public_tests_run_with_plain_pytest_and_no_autograder(course, tmp_path, variant):
    """The release folder needs only the runtime dependencies: `autograder` is made
    unimportable, and every public test must fail with NotImplementedError."""
    folder = tmp_path / variant
    shutil.copytree(course.release_dir(variant, "a03_attention"), folder)
    code = ("import sys; sys.modules['autograder'] = None; import pytest; "
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-rf']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "400"})
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    assert failed and all("NotImplementedError: a03_attention." in line for line in failed), proc.stdout[-3000:]
    assert "passed" not in proc.stdout.splitlines()[-1] and "error" not in proc.stdout.splitlines()[-1]


def test_cli_release_check_exit_status():
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "release/ is current" in proc.stdout
