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


@pytest.mark.parametrize("name", ["Toy.py", "toy_final.py", "Copy of toy.py", "toy (1).py", "toy-1.py", "TOY_v2.py"])
def test_an_only_near_miss_name_is_graded_with_a_note(tmp_path, name):
    (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not code")
    chosen = source.choose(tmp_path, "toy")
    assert chosen.path.name == name and f"graded {name} as toy.py" in chosen.note


def test_several_near_misses_are_refused_by_name(tmp_path):
    for name in ("Toy.py", "toy_final.py"):
        (tmp_path / name).write_text("x = 1\n")
    with pytest.raises(source.SourceError, match="several files that could be your toy.py: Toy.py, toy_final.py"):
        source.choose(tmp_path, "toy")
    (tmp_path / "toyota.py").write_text("x = 1\n")          # not a near miss of "toy"
    assert source._normal("toyota") != source._normal("toy")


def test_notebook_habits_are_neutralised_keeping_line_numbers():
    cell = ("from google.colab import drive, files as f\ndrive.mount('/content/drive')\n"
            "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\ndisplay(1)\nx = get_ipython()\n"
            "def plot_later():\n    plt.show()\n")
    extracted, notes, _ = source.notebook_source(notebook(code("a = 1"), code(cell)))
    namespace = {}
    exec(compile(extracted, "nb", "exec"), namespace)  # noqa: S102 - runs without Colab or a display
    assert namespace["a"] == 1 and callable(namespace["plot_later"])
    assert any("google.colab" in n and "drive, f now do nothing" in n for n in notes)
    assert sum("top-level output call" in n for n in notes) == 3     # plt.plot, plt.show, display; not in def
    where = extracted.splitlines().index("x = get_ipython()") + 1
    assert source.cell_location(extracted, where) == ("notebook", 2, 7)


def test_the_py_touched_only_by_whitespace_counts_as_unchanged(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    raise NotImplementedError\n\n\n   \n")
    (tmp_path / "m.ipynb").write_text(notebook(code("def f():\n    return 1")))
    stubs = {"py": "def f():\n    raise NotImplementedError\n", "ipynb": source.notebook_code(notebook(code("stub")))}
    chosen = source.choose(tmp_path, "m", stubs=stubs)
    assert chosen.path.name == "m.ipynb" and "unchanged from the release (whitespace aside)" in chosen.note
