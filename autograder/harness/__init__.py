"""The untrusted side's runtime: the only grader code that runs next to student code.

It is shipped into every release folder as ``_harness/`` (so the public tests run locally
with the grader's exact calling conventions) and copied into the sandbox kit when grading.
It imports nothing from the rest of ``autograder``: standard library, torch, numpy and
safetensors only.

- ``codec``    data-only encoding of values (JSON + safetensors), never pickle
- ``source``   which file of a submission is graded; code cells out of a notebook
- ``dispatch`` operation name -> adapter or module function; device checks
- ``local``    in-process calls (public tests, the trusted reference)
- ``adapt``    the state-dict loader every assignment's adapters.py uses
- ``worker``   the worker process that serves calls from the grader
- ``pytest_local`` the fixtures a release folder's conftest.py uses
"""

from pathlib import Path

DIR = Path(__file__).resolve().parent     # what release ships as _harness/ and grading stages

# The worker's entry point: run as `python -I -c BOOT KIT_DIR ARGS...`; -I keeps the
# environment, the user site and the current directory out of sys.path.
BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); from _harness.worker import main; main()"
