"""Stage 3 of the pipeline, grade: one submission -> results.json, student code kept apart.

    submission  stage a folder or .zip: safe unzip, pick .py or .ipynb, build the worker kit
    sandbox     bubblewrap around the worker (no network, no host files)
    proclimit   a bound on the processes a submission starts (pids cgroup or rlimit)
    launch      isolation mode, the worker's command line, clean environment
    seam        the grader's side of the worker channel: calls, deadlines, crashes, restarts
    plugin      the pytest plugin: fixtures, task markers, outcomes, results.json
    scoring     outcomes -> points (pure)
    checks      assertions for hidden tests that explain what went wrong
    draw        seeded inputs drawn at grade time
    zygote      a warm process that forks one trusted grading process per submission
    run         one trusted pytest process per submission; results even if it dies
    batch       a class, `jobs` at a time, resumable through the gradebook
"""
