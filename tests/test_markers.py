"""The marker grammar and the variant transform (a pure text transform)."""

import textwrap

import pytest

from autograder.release import cells, markers, variants
from autograder.release.stubs import make_stub, owner

SOURCE = textwrap.dedent('''
    # %% task=demo
    def f(x):
        """Doc."""
        ### BEGIN SCAFFOLD
        y = x + 1          # given in standard
        for i in range(3):
            ### END SCAFFOLD
            ### BEGIN SOLUTION
            y = y * 2
            ### END SOLUTION
        ### BEGIN SCAFFOLD
        return y
        ### END SCAFFOLD


    ### BEGIN HARDMODE
    # %% task=demo
    def advanced():
        ### BEGIN SOLUTION
        return 42
        ### END SOLUTION
    ### END HARDMODE
    ### BEGIN STANDARD
    QUESTION = "standard only"
    ### END STANDARD
''').lstrip()


def render(variant, text=SOURCE, **kw):
    return variants.render(text, variant, "ref.py", make_stub("a00_demo", "ref.py"), **kw)


def test_standard_keeps_scaffold_and_stubs_solutions():
    out = render("standard")
    assert "y = x + 1" in out and "return y" in out and "y = y * 2" not in out and "42" not in out
    assert '        raise NotImplementedError("a00_demo.demo: implement f")' in out   # inside the for loop
    assert "QUESTION" in out and "advanced" not in out and "BEGIN" not in out
    compile(out, "out", "exec")


def test_hardmode_stubs_the_whole_body_once_and_adds_advanced_builds():
    out = render("hardmode")
    body = out.split('"""Doc."""\n')[1].split("\n\n")[0]
    assert body == '    # YOUR CODE HERE\n    raise NotImplementedError("a00_demo.demo: implement f")'
    assert 'raise NotImplementedError("a00_demo.demo: implement advanced")' in out and "QUESTION" not in out
    compile(out, "out", "exec")


def test_solved_keeps_everything_of_the_variant():
    out = render("hardmode", solved=True)
    assert "y = y * 2" in out and "return 42" in out and "QUESTION" not in out and "NotImplementedError" not in out


@pytest.mark.parametrize("text, line, phrase", [
    ("### BEGIN SOLUTION\nx\n", 1, "BEGIN SOLUTION is never closed"),
    ("x\n### END SOLUTION\n", 2, "END SOLUTION without a matching BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION\n", 2, "nested inside SOLUTION opened at line 1"),
    ("### BEGIN SCAFFOLD\n### END SOLUTION\n", 2, "END SOLUTION closes SCAFFOLD opened at line 1"),
    ("### BEGIN HARDMODE\n### BEGIN STANDARD\n", 2, "BEGIN STANDARD nested inside HARDMODE"),
    ("x = 1\n### BEGIN SOLUTON\n", 2, "malformed marker"),
    ("# BEGIN SOLUTION please\n", 1, "malformed marker"),
])
def test_marker_errors_name_file_and_line(text, line, phrase):
    with pytest.raises(markers.MarkerError, match=phrase) as info:
        markers.parse(text.splitlines(), "ref.py")
    assert info.value.line == line and str(info.value).startswith(f"ref.py:{line}: ")


def test_markdown_form_and_ordinary_comments():
    text = "<!-- BEGIN HARDMODE -->\nhard\n<!-- END HARDMODE -->\n# Begin here\n## END OF STORY is not flagged? no\n"
    with pytest.raises(markers.MarkerError):
        markers.parse(text.splitlines(), "README.md")
    assert variants.render("<!-- BEGIN HARDMODE -->\nhard\n<!-- END HARDMODE -->\n# Begin here\n", "standard", "R.md") == "# Begin here\n"


@pytest.mark.parametrize("text, phrase", [
    ("# %% task=t\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "outside a function would raise on import"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n", "outside a task cell"),
])
def test_stubs_need_a_function_and_a_task(text, phrase):
    with pytest.raises(markers.MarkerError, match=phrase):
        render("standard", text)


def test_solution_regions_only_in_code():
    with pytest.raises(markers.MarkerError, match="only allowed in code"):
        variants.render("<!-- BEGIN SOLUTION -->\nanswer\n<!-- END SOLUTION -->\n", "standard", "R.md")


def test_owner_names_class_and_method():
    lines = ["class A:", "    def m(self):", "        if x:", "            ### BEGIN SOLUTION"]
    assert owner(lines, 3) == "A.m"
    assert owner(["def f():", "    def g():", "        ###"], 2) == "g"


def test_cells_split_headers_and_markdown():
    preamble, out = cells.split('"""doc"""\n\n# %% [markdown]\n# # Title\n#\n# text\n\n# %% task=a tags=x,y\ncode = 1\n', "r.py")
    assert preamble == '"""doc"""'
    assert out[0] == cells.Cell("markdown", "# Title\n\ntext")
    assert out[1] == cells.Cell("code", "code = 1", "a", ("x", "y"))
    with pytest.raises(markers.MarkerError, match="unknown cell header token"):
        cells.split("# %% colour=red\n", "r.py")
    with pytest.raises(markers.MarkerError, match="must start with '# '"):
        cells.split("# %% [markdown]\nnot a comment\n", "r.py")
