"""Which file of a submission is graded, and the code extracted from notebooks."""

import json

import pytest

from autograder.harness import source


def notebook(*cells):
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code(text, tags=()):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": text, "outputs": [], "execution_count": None}


def test_notebook_code_skips_tagged_cells_cell_magics_and_markdown():
    nb = notebook({"cell_type": "markdown", "metadata": {}, "source": "# title"}, code("x = 1"),
                  code("explore()", tags=["skip-grading"]), code("%%bash\necho hi"),
                  code(["if True:\n", "    %time y = 2\n", "!pip install foo"]))
    extracted = source.notebook_code(nb)
    assert "x = 1" in extracted and "explore" not in extracted and "echo" not in extracted
    assert "    pass  # notebook magic removed: %time y = 2" in extracted
    assert "pass  # notebook magic removed: !pip install foo" in extracted
    compile(extracted, "nb", "exec")


@pytest.mark.parametrize("text, phrase", [("{", "invalid JSON"), ("[]", "no list of cells"),
                                          (json.dumps({"cells": [{"cell_type": "code", "source": 5}]}), "malformed source")])
def test_broken_notebooks_are_explained(text, phrase):
    with pytest.raises(source.SourceError, match=phrase):
        source.notebook_code(text, "hw.ipynb")


def test_malicious_metadata_is_ignored():
    nb = json.loads(notebook(code("x = 1")))
    nb["metadata"] = {"kernelspec": {"name": "../../etc/passwd"}, "nbgrader": {"grade": True, "points": 1e9}}
    nb["cells"][0]["metadata"] = {"tags": "not-a-list", "nbgrader": {"grade_id": "x"}}
    assert "x = 1" in source.notebook_code(json.dumps(nb))


def test_choose_prefers_the_file_that_changed(tmp_path):
    (tmp_path / "m.py").write_text("stub = 1\n")
    (tmp_path / "m.ipynb").write_text(notebook(code("work = 2")))
    released = {"py": source.code_digest("stub = 1\n"), "ipynb": source.code_digest(source.notebook_code(notebook(code("stub"))))}
    chosen = source.choose(tmp_path, "m", released)
    assert chosen.path.name == "m.ipynb" and "unchanged" in chosen.note
    (tmp_path / "m.py").write_text("work = 1\n")
    chosen = source.choose(tmp_path, "m", released)
    assert chosen.path.name == "m.py" and "both" in chosen.note


def test_choose_falls_back_to_the_py_when_the_notebook_is_unreadable(tmp_path):
    (tmp_path / "m.py").write_text("work = 1\n")
    (tmp_path / "m.ipynb").write_text("{broken")
    chosen = source.choose(tmp_path, "m", {})
    assert chosen.path.name == "m.py" and "not readable" in chosen.note


def test_non_utf8_is_explained(tmp_path):
    (tmp_path / "m.py").write_bytes(b"x = '\xff'\n")
    with pytest.raises(source.SourceError, match=r"not valid UTF-8 \(byte 0xff at offset 5\)"):
        source.choose(tmp_path, "m")


def test_a_bom_is_fine(tmp_path):
    (tmp_path / "m.py").write_bytes("\ufeffx = 1\n".encode("utf-8"))
    assert source.choose(tmp_path, "m").code == "x = 1\n"
