"""The class report: one self-contained HTML page about an assignment's current grades.

Sections (each an ``<section id=...>``): ``scores`` (histograms of the total and of each
task's points, matplotlib's Agg backend, embedded as base64 PNG), ``diagnoses`` (the most
common diagnoses of failing tests across the class, with how many students got each;
numbers are normalised, so "expected 1.43, got 0.14" and "expected 2.1, got 0.2" are one
mistake), ``review`` (submissions that need review, and why), ``times`` (grading time per
submission), and ``similarity`` (pairs of graded code above a threshold, ``similarity``,
with the released stubs as boilerplate). Offline: no script, font or image is fetched;
the one inline script only marks, for tests, that every image decoded.

Leaves out: per-student detail (that is each student's feedback) and the hidden tests' code.
"""

from __future__ import annotations

import base64
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from .. import config
from ..grade.results import points
from ..grade.submission import GRADED_CODE
from . import similarity

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?!\w)", re.IGNORECASE)   # not in a03_x
TOP_DIAGNOSES = 20
CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const ok = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = ok + "/" + images.length;
});
</script>"""


def diagnosis(output: str) -> str:
    """A failing test's diagnosis: its first line and its "Likely mistake" line."""
    lines = output.splitlines()
    likely = next((line for line in lines if line.startswith("Likely mistake")), "")
    return (lines[0] + (f" {likely}" if likely else "")) if lines else ""


def normalise(text: str) -> str:
    return NUMBER.sub("#", text)


def common_diagnoses(documents: dict[str, dict]) -> list[tuple[str, str, int, str]]:
    """``[(task, normalised diagnosis, students, an example)]``, most students first."""
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    example: dict[tuple[str, str], str] = {}
    for student, doc in documents.items():
        for test in doc["tests"]:
            if test["status"] == "passed" or test["extra_data"].get("outcome") in ("not_run", "unloadable"):
                continue                 # not run is no mistake; an unloadable submission is under review
            text = diagnosis(test["output"])
            key = (test["extra_data"]["task"], normalise(text))
            students[key].add(student)
            example.setdefault(key, text)
    ranked = sorted(students, key=lambda k: (-len(students[k]), k))
    return [(task, text, len(students[(task, text)]), example[(task, text)]) for task, text in ranked[:TOP_DIAGNOSES]]


def histograms(documents: dict[str, dict], a: config.Assignment) -> bytes:
    """One PNG: the total's histogram, then one per task (points on x, students on y)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = [("total", [d["score"] for d in documents.values()], max(a.max_points(v) for v in
                                                                     {d["extra_data"]["variant"] for d in documents.values()}))]
    for tid, task in a.tasks.items():
        scores = [d["extra_data"]["tasks"][tid]["score"] for d in documents.values() if tid in d["extra_data"]["tasks"]]
        if scores:
            panels.append((f"{tid} ({task.title[:40]})", scores, task.points))
    cols = 3
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4 * cols, 2.6 * rows), dpi=90)
    for i, (title, scores, top) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        bins = min(20, max(4, int(top) + 1))
        ax.hist(scores, bins=bins, range=(0, max(top, 1e-9)), color="tab:red" if title == "total" else "tab:blue",
                edgecolor="white")
        ax.set_title(f"{title}: n={len(scores)}", fontsize=9)
        ax.set_xlabel("points", fontsize=8)
        ax.set_ylabel("students", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.3 / rows, top=1 - 0.25 / rows, wspace=0.25, hspace=0.75)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def boilerplate(course: config.Course, aid: str) -> list[str]:
    """What every student starts from: the module as released in each variant (rendered
    here, without the notebook machinery, which is slow to import)."""
    from ..release import variants
    from ..release.stubs import make_stub
    ref = course.reference_dir(aid) / f"{course.assignment(aid).module}.py"
    rel = ref.relative_to(course.root).as_posix()
    text = ref.read_text(encoding="utf-8")
    return [variants.render(text, v, rel, make_stub(aid, rel)) for v in course.variants]


def _table(header: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>" if rows else "<p class='none'>None.</p>"


def page(course: config.Course, aid: str, documents: dict[str, dict], codes: dict[str, str],
         threshold: float) -> str:
    """The report's HTML for ``documents`` (student -> current results) and their graded ``codes``."""
    a, e = course.assignment(aid), html.escape
    png = base64.b64encode(histograms(documents, a)).decode("ascii") if documents else ""
    scores = f"<img alt='score histograms' src='data:image/png;base64,{png}'>" if png else "<p>No grades.</p>"
    diagnoses = _table(["task", "diagnosis (numbers as #)", "students", "for example"],
                       [[t, text, str(n), ex] for t, text, n, ex in common_diagnoses(documents)])
    review = _table(["submission", "why"], [[s, d["extra_data"]["needs_review"].splitlines()[0]]
                                            for s, d in documents.items()
                                            if d["extra_data"].get("status") == "needs_review"])
    times = {s: float(d.get("execution_time", 0.0)) for s, d in documents.items()}
    summary = (f"{len(times)} submissions, {points(sum(times.values()))} s in all, median "
               f"{points(statistics.median(times.values()))} s, slowest {points(max(times.values()))} s"
               if times else "No grades.")
    slowest = _table(["submission", "seconds", "tests timed out"],
                     [[s, points(t), str(sum(x["extra_data"].get("outcome") == "timeout" for x in documents[s]["tests"]))]
                      for s, t in sorted(times.items(), key=lambda kv: -kv[1])])
    found = similarity.pairs(codes, boilerplate(course, aid), threshold)
    similar = _table(["submission", "submission", "similarity", "shares (a in b, b in a)", "tokens"],
                     [[p.a, p.b, f"{p.similarity:.0%}", f"{p.shares[0]:.0%}, {p.shares[1]:.0%}", str(p.tokens)]
                      for p in found])
    counts = Counter(d["extra_data"]["variant"] for d in documents.values())
    variants = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    title = f"{aid}: class report"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font-family:sans-serif;max-width:75em;margin:2em auto}}td,th{{padding:.2em .8em;text-align:left;
vertical-align:top}}tr:nth-child(even){{background:#f4f4f4}}img{{max-width:100%}}section{{margin-bottom:2em}}</style>
</head><body><h1>{e(title)}</h1>
<p>{e(a.title)}. {len(documents)} students ({e(variants)}).</p>
<section id="scores"><h2>Scores</h2>{scores}</section>
<section id="diagnoses"><h2>Most common diagnoses</h2>
<p>Failing tests' diagnoses across the class, numbers normalised; students counted once per line.</p>{diagnoses}</section>
<section id="review"><h2>Needs review</h2>{review}</section>
<section id="times"><h2>Grading times</h2><p>{e(summary)}</p>{slowest}</section>
<section id="similarity"><h2>Similar submissions</h2>
<p>Pairs of graded code at least {threshold:.0%} similar (copydetect fingerprints; the released stub is ignored).
{len(codes)} submissions compared. A reason to look, not a verdict.</p>{similar}</section>
{CHECK}
</body></html>
"""


def write(course: config.Course, aid: str, out_dir: Path, documents: dict[str, dict], threshold: float,
          dest: Path) -> Path:
    """Write the report for the gradebook's ``documents`` of ``out_dir`` to ``dest``."""
    codes = {s: (out_dir / s / GRADED_CODE).read_text(encoding="utf-8", errors="replace") for s in documents
             if (out_dir / s / GRADED_CODE).is_file()}
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(page(course, aid, documents, codes, threshold), encoding="utf-8")
    return dest
