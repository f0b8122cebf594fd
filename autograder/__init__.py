"""A course engine for "build an LLM from scratch": author once, release, grade, report.

The package follows the pipeline, one stage per subpackage:

    config.py   grading.toml, the only policy file (points, timeouts, profiles, variants)
    release/    reference solutions -> student releases (standard, hardmode; .py and .ipynb)
    harness/    the runtime that runs beside student code (worker, codec, local tests)
    grade/      one submission -> results.json, with student code in a separate worker
    report/     results.json (Gradescope), terminal tables
    hidden/     the hidden tests, one folder per assignment
    cli.py      `autograder release|grade`
"""

__version__ = "0.1.0"
