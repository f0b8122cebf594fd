"""A class's grading progress on stderr: done / total, the ETA, and what is running now.

``Progress`` is called as ``progress(done, total, student, document, note)``: once per
finished submission (``document`` None when the grader failed on it, ``note`` says why),
and with ``student`` None every few seconds while submissions run (``note`` lists them
with how long each has run), so a long submission (a training test) is seen running. On a
terminal it draws one tqdm bar when tqdm is installed; otherwise (a log file, CI) plain
lines: one per finished submission, and one a minute while something is still running.

Leaves out: which test of a submission is running (that is inside its own pytest process).
"""

from __future__ import annotations

import sys
import time

from .results import points

PLAIN_TICK_S = 60.0


def eta(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.finished = 0                 # graded in this run (skipped ones cost no time)
        self.last_tick = self.started
        self.bar = None
        if self.stream.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            self.make_bar = tqdm
        else:
            self.make_bar = None

    def _eta(self, done: int, total: int) -> str:
        if not self.finished:
            return "ETA ?"
        per = (time.monotonic() - self.started) / self.finished
        return f"ETA {eta(per * (total - done))}"

    def __call__(self, done: int, total: int, student: str | None, document: dict | None, note: str) -> None:
        if self.make_bar is not None and self.bar is None:
            self.bar = self.make_bar(total=total, initial=done - (student is not None), file=self.stream, unit="sub",
                                     dynamic_ncols=True)
        if student is None:
            if self.bar is not None:
                self.bar.set_postfix_str(f"running: {note}" if note else "")
            elif note and time.monotonic() - self.last_tick >= PLAIN_TICK_S:
                self.last_tick = time.monotonic()
                print(f"... {done}/{total} done, {self._eta(done, total)}; running: {note}", file=self.stream,
                      flush=True)
            return
        self.finished += 1
        score = f"{points(document['score'])}/{points(document['extra_data']['max_score'])}" if document else note
        if document and document["extra_data"].get("status") == "needs_review":
            score += "  NEEDS REVIEW: " + document["extra_data"]["needs_review"].splitlines()[0][:100]
        if self.bar is not None:
            self.bar.write(f"{student}: {score}", file=self.stream)
            self.bar.update(1)
            if done >= total:
                self.bar.close()
        else:
            print(f"[{done}/{total}] {student}: {score}  ({self._eta(done, total)})", file=self.stream, flush=True)
