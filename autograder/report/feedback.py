"""Per-student feedback, Markdown and HTML, from a results.json document.

For each task: its points, every public test with its full message, and the hidden tests
as grading.toml's ``course.hidden_feedback`` says:

- ``counts``: how many passed;
- ``summary`` (default): the counts, plus each failing hidden test's diagnosis (the first
  line of its message and the "Likely mistake" line), without test names or code;
- ``full``: names and full messages.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from ..grade.late import notice as late_notice
from ..grade.results import points
from . import curves


@dataclass(frozen=True)
class TaskFeedback:
    task: str
    title: str
    score: float
    max_score: float
    public: list[dict]
    hidden_passed: int
    hidden_total: int
    hidden_notes: list[str]



def _diagnosis(output: str) -> str:
    lines = output.splitlines()
    likely = next((line for line in lines if line.startswith("Likely mistake")), "")
    return lines[0] + (f" {likely}" if likely else "") if lines else ""


def collect(document: dict, hidden_feedback: str) -> list[TaskFeedback]:
    out = []
    for task, row in document["extra_data"]["tasks"].items():
        tests = [t for t in document["tests"] if t["extra_data"]["task"] == task]
        public = [t for t in tests if t["extra_data"]["public"]]
        hidden = [t for t in tests if not t["extra_data"]["public"]]
        failing = [t for t in hidden if t["status"] != "passed"]
        if hidden_feedback == "full":
            notes = [f"{t['name']}: {t['output']}" for t in failing]
        elif hidden_feedback == "summary":
            notes = list(dict.fromkeys(_diagnosis(t["output"]) for t in failing))
        else:
            notes = []
        out.append(TaskFeedback(task, row["title"], row["score"], row["max_score"], public,
                                len(hidden) - len(failing), len(hidden), notes))
    return out


def notices(document: dict) -> list[str]:
    """What the student must read first: why the submission needs review, what lateness cost,
    which file was graded."""
    extra = document["extra_data"]
    review = extra.get("needs_review")
    note = (extra.get("submission") or {}).get("note")
    late = late_notice(document)
    return ([f"Needs review: {review}"] if review else []) + ([late] if late else []) + ([f"Note: {note}"] if note else [])


def _header(document: dict, student: str) -> tuple[str, str]:
    extra = document["extra_data"]
    title = f"{extra['assignment']}: feedback for {student}"
    isolation = extra.get("isolation", {}).get("mode", "?")
    line = (f"Score: {points(document['score'])} / {points(extra['max_score'])} ({extra['variant']} variant; graded on "
            f"{extra.get('device', '?')}, {isolation} isolation, seed {extra.get('seed')})")
    return title, line


def markdown(document: dict, student: str, hidden_feedback: str = "summary") -> str:
    title, line = _header(document, student)
    parts = [f"# {title}\n", f"**{line}**\n", *[f"> {n}\n" for n in notices(document)], "| task | points | public tests | hidden tests |", "| --- | --- | --- | --- |"]
    tasks = collect(document, hidden_feedback)
    for t in tasks:
        passed = sum(x["status"] == "passed" for x in t.public)
        parts.append(f"| `{t.task}` {t.title} | {points(t.score)} / {points(t.max_score)} | {passed}/{len(t.public)} "
                     f"| {t.hidden_passed}/{t.hidden_total} |")
    for t in tasks:
        parts.append(f"\n## `{t.task}`: {t.title} ({points(t.score)} / {points(t.max_score)})\n")
        if t.score == t.max_score:
            parts.append("All tests passed.")
            continue
        for test in t.public:
            mark = "passed" if test["status"] == "passed" else "FAILED"
            parts.append(f"- public `{test['name'].split(': ', 1)[-1]}`: {mark}")
            if test["status"] != "passed":
                parts.append("\n  ```\n" + "\n".join(f"  {ln}" for ln in test["output"].splitlines()) + "\n  ```")
        parts.append(f"- hidden tests: {t.hidden_passed} of {t.hidden_total} passed")
        parts += [f"  - {note}" for note in t.hidden_notes]
    return "\n".join(parts) + "\n"


def html_page(document: dict, student: str, hidden_feedback: str = "summary") -> str:
    title, line = _header(document, student)
    e = html.escape
    rows, sections = [], []
    for t in collect(document, hidden_feedback):
        passed = sum(x["status"] == "passed" for x in t.public)
        full = t.score == t.max_score
        rows.append(f"<tr class=\"{'ok' if full else 'lost'}\"><td><code>{e(t.task)}</code> {e(t.title)}</td>"
                    f"<td>{points(t.score)} / {points(t.max_score)}</td><td>{passed}/{len(t.public)}</td>"
                    f"<td>{t.hidden_passed}/{t.hidden_total}</td></tr>")
        if full:
            continue
        items = []
        for test in t.public:
            if test["status"] != "passed":
                items.append(f"<li>public <code>{e(test['name'].split(': ', 1)[-1])}</code>: FAILED"
                             f"<pre>{e(test['output'])}</pre></li>")
        items.append(f"<li>hidden tests: {t.hidden_passed} of {t.hidden_total} passed<ul>"
                     + "".join(f"<li><pre>{e(note)}</pre></li>" for note in t.hidden_notes) + "</ul></li>")
        sections.append(f"<h2><code>{e(t.task)}</code>: {e(t.title)} ({points(t.score)} / {points(t.max_score)})</h2>"
                        f"<ul>{''.join(items)}</ul>")
    notice_html = "".join(f"<p class='notice'>{e(n)}</p>" for n in notices(document))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.2em .8em;text-align:left}}
tr.lost td:nth-child(2){{color:#b00}}pre{{background:#f4f4f4;padding:.5em;white-space:pre-wrap}}</style></head>
<body><h1>{e(title)}</h1><p><strong>{e(line)}</strong></p>
{notice_html}
<table><tr><th>task</th><th>points</th><th>public tests</th><th>hidden tests</th></tr>{''.join(rows)}</table>
{''.join(sections)}
{curves.html(document)}
</body></html>
"""


def write(folder: Path, document: dict, student: str, hidden_feedback: str = "summary") -> None:
    """``feedback.md`` and ``feedback.html`` for one student, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedback.md").write_text(markdown(document, student, hidden_feedback), encoding="utf-8")
    (folder / "feedback.html").write_text(html_page(document, student, hidden_feedback), encoding="utf-8")
