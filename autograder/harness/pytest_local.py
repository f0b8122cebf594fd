"""Fixtures for running an assignment's public tests locally, in a release folder.

The folder's ``conftest.py`` star-imports this module. ``pytest`` then tests whichever of
``<module>.py`` / ``<module>.ipynb`` you changed (``--source py`` or ``--source ipynb``
forces one), through the ``student`` fixture: ``student.some_function(...)`` calls your
code with the same argument and result conventions the grader uses.

The folder's ``conftest.py`` sets ``FOLDER`` before the star-import; its
``assignment.json`` names the module and holds digests of the released stubs (so an
untouched file can be told from your work). A notebook's grade cells run the same tests on
the notebook's own namespace (``notebook_tests``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import local, source

FOLDER: Path = Path.cwd()          # set by the release folder's conftest.py
NOTEBOOK = None                    # set while a notebook's grade cell runs: its namespace is the student


def _info() -> dict:
    return json.loads((FOLDER / "assignment.json").read_text())


def pytest_addoption(parser):
    parser.addoption("--source", choices=["auto", "py", "ipynb"], default="auto",
                     help=f"which file to test: {_info()['module']}.py or {_info()['module']}.ipynb "
                          "(default: the one you changed)")


def pytest_configure(config):
    config.addinivalue_line("markers", "task(id): the graded task this test belongs to")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU (skipped locally without one)")


def _chosen(config) -> source.Source:
    module, forced = _info()["module"], config.getoption("--source")
    if forced == "auto":
        return source.choose(FOLDER, module, _info()["released"])
    path = FOLDER / f"{module}.{forced}"
    text = source.read_text(path)
    return source.Source(path, text if forced == "py" else source.notebook_code(text, path.name))


def pytest_report_header(config):
    try:
        chosen = _chosen(config)
    except source.SourceError as exc:
        return f"{_info()['assignment']}: {exc}"
    return f"{_info()['assignment']}: testing {chosen.path.name}" + (f" ({chosen.note})" if chosen.note else "")


def pytest_collection_modifyitems(config, items):
    import torch
    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU; the grader runs it on a GPU runner")
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def student(pytestconfig):
    """Your submission: ``student.op(...)`` calls function ``op`` of your module, or the
    adapter ``op`` in adapters.py, exactly as the grader does."""
    name = _info()["module"]
    if NOTEBOOK is not None:            # a grade cell (notebook_tests): the code the kernel holds now
        module = NOTEBOOK
    elif (chosen := _chosen(pytestconfig)).path.suffix == ".py":
        module = local.load_file(name, chosen.path)
    else:
        module = local.load_module(name, chosen.code, f"{chosen.path.name} (code cells)")
    adapters = local.load_file("adapters", FOLDER / "adapters.py") if (FOLDER / "adapters.py").exists() else None
    return local.LocalSubmission(module, adapters)
