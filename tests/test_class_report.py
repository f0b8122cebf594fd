"""The class report: grouped diagnoses, and the page in a real headless browser.

The browser test needs Chromium (the OS package; `.ci/run` installs it). Without it the
test skips, saying so, unless AUTOGRADER_REQUIRE_BROWSER=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from autograder import config
from autograder.report import classreport, similarity
from tests import toy

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
REQUIRED = os.environ.get("AUTOGRADER_REQUIRE_BROWSER") == "1"

# A helper long enough to fingerprint: carol copied dave's, renaming and recommenting it.
HELPER = '''

def {name}(values, {w}=None):
    """{doc}"""
    {w} = {w} if {w} is not None else [1.0] * len(values)
    total, norm = 0.0, 0.0
    for {v}, weight in zip(values, {w}):
        if weight <= 0:
            continue
        total += {v} * weight
        norm += weight
    if norm == 0:
        raise ValueError("no positive weight")
    spread = sum(weight * ({v} - total / norm) ** 2 for {v}, weight in zip(values, {w}))
    return total / norm, (spread / norm) ** 0.5
'''
CLASS = {
    "bob": toy.GOOD.replace("return x * factor", "return x * factor * 2"),     # a wrong scale: a diagnosis
    "carol": toy.GOOD + HELPER.format(name="weighted_stats", w="ws", v="x", doc="Mean and spread, weighted."),
    "dave": toy.GOOD + HELPER.format(name="mean_std", w="weights", v="value", doc="Weighted mean and std."),
    "erin": "def add(a, b)\n    return a + b\n",                                # a syntax error: needs review
}


def test_diagnoses_group_across_numbers():
    def doc(message):
        return {"tests": [{"status": "failed", "output": message, "extra_data": {"task": "sdpa", "outcome": "failed"}}]}
    documents = {"a": doc("WRONG RESULT: expected 1.43, got 0.14\nLikely mistake: not scaled by 1/sqrt(D)"),
                 "b": doc("WRONG RESULT: expected 2.1e-3, got -0.2\nLikely mistake: not scaled by 1/sqrt(D)"),
                 "c": doc("WRONG RESULT: shape (2, 3) instead of (3, 2)")}
    (task, text, n, example), other = classreport.common_diagnoses(documents)
    assert (task, n, other[2]) == ("sdpa", 2, 1) and "expected #, got #" in text and "expected 1.43" in example


def test_the_stub_is_boilerplate_and_a_renamed_copy_is_found():
    helper = HELPER.format(name="f", w="w", v="v", doc="d")
    codes = {"a": toy.GOOD + helper, "b": toy.GOOD + HELPER.format(name="g", w="k", v="z", doc="other"), "c": toy.GOOD}
    found = similarity.pairs(codes, [toy.GOOD], 0.6)
    assert [(p.a, p.b) for p in found] == [("a", "b")] and found[0].similarity > 0.9


@pytest.mark.slow
def test_the_class_report_renders_in_a_headless_browser(tmp_path):
    if BROWSER is None:
        if REQUIRED:
            pytest.fail("AUTOGRADER_REQUIRE_BROWSER=1 but no Chromium here (apt-get install chromium)")
        pytest.skip("no Chromium here (apt-get install chromium); CI requires it")
    # toy's 8 s import budget is meant for hangs; on a loaded 2-core machine a plain import can take longer.
    course = config.load(toy.write_course(tmp_path / "course", grading=toy.GRADING.replace(
        "startup_timeout_s = 8", "startup_timeout_s = 60")))
    klass, out = tmp_path / "class", tmp_path / "out"
    for name, code in CLASS.items():
        toy.submission(klass, name, {"toy.py": code})
    run = [sys.executable, "-m", "autograder", "--course", str(course.root)]
    graded = subprocess.run([*run, "grade", "a99_toy", str(klass), "--out", str(out), "--jobs", "2", "--seed", "5"],
                            capture_output=True, text=True)
    assert graded.returncode == 3, graded.stdout + graded.stderr                     # erin needs review
    made = subprocess.run([*run, "report", "a99_toy", "--out", str(out)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    page = out / "report.html"
    text = page.read_text()
    section = {name: text.split(f'id="{name}"')[1].split("</section>")[0] for name in ("similarity", "review", "diagnoses")}
    assert section["similarity"].count("<tr>") == 2 and "<td>carol</td><td>dave</td>" in section["similarity"]
    assert "<td>erin</td>" in section["review"] and "scale(x, 2)" in section["diagnoses"]
    assert "COULD NOT LOAD" not in section["diagnoses"]                           # under review, not a mistake

    browser = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
               "--log-level=0", "--virtual-time-budget=3000"]
    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert ":CONSOLE" not in dom.stderr, [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    for section in ("scores", "diagnoses", "review", "times", "similarity"):
        assert f'<section id="{section}">' in dom.stdout
    assert 'data-images="1/1"' in dom.stdout                                          # the histograms decoded
    shot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1280,1800", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, text=True, timeout=120)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30_000                       # not a blank page
