"""A course engine for "build an LLM from scratch": author once, release, grade, report.

The package follows the pipeline, one stage per subpackage:

    config.py   grading.toml, the only policy file (points, timeouts, bars, late policy, profiles)
    release/    reference solutions -> student releases (standard, hardmode; .py and .ipynb),
                and nbgrader source notebooks
    harness/    the runtime that runs beside student code (worker, codec, local tests)
    grade/      submissions -> results.json and the gradebook, student code in a separate worker
    report/     what is made from grades: feedback, exports, class report, Gradescope, nbgrader
    commands/   the `autograder` commands, one module per stage; cli.py parses the command line

Imports run one way along the pipeline: config -> release -> grade -> report (harness is the
leaf every stage may use); commands/ and cli.py sit on top. The course itself (assignments,
references, hidden tests) lives outside this package.
"""

__version__ = "0.1.0"
