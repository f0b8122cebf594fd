"""A class folder as LMSs and careless instructors produce it: what counts as a submission."""

from __future__ import annotations

import pytest

from autograder.grade import batch


@pytest.mark.parametrize("name, student, original", [
    ("smithalice_12345_67890_attention.py", "smithalice", "attention.py"),
    ("smithalice_late_12345_67890_attention-1.py", "smithalice", "attention-1.py"),
    ("Alice Smith_4242_assignsubmission_file_attention.ipynb", "alice_smith_4242", "attention.ipynb"),
])
def test_lms_file_names_name_their_student(name, student, original):
    assert batch.lms_student(name) == (student, original)


def test_a_flat_download_splits_into_students_and_the_rest_is_skipped(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    for name in ("smithalice_1_2_attention.py", "smithalice_1_3_helpers.py", "jonesbob_5_6_attention.ipynb",
                 "README.md", "expected.json"):
        (klass / name).write_text("x = 1\n")
    (klass / "carol").mkdir()
    found = batch.collect(klass, tmp_path / "lms")
    assert sorted(p.name for p in found.paths) == ["carol", "jonesbob", "smithalice"]
    assert sorted(p.name for p in (tmp_path / "lms" / "smithalice").iterdir()) == ["attention.py", "helpers.py"]
    assert [w.split(":")[0] for w in found.skipped] == ["skipped README.md", "skipped expected.json"]
    assert batch.is_class_folder(klass, "attention")
    single = tmp_path / "single"
    single.mkdir()
    (single / "Attention.py").write_text("x = 1\n")
    (single / "data").mkdir()
    assert not batch.is_class_folder(single, "attention")      # one submission with a near-miss name
