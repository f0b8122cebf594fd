"""The late policy, applied to a graded results document (never a reason to regrade).

When was it handed in: ``submitted_at(path)``, the newest time the submission records: a
zip's newest entry time (zip times carry no time zone; read as UTC), else the newest
modification time of its files (an LMS download's files keep theirs when gathered into
``_lms/``). ``apply`` puts the penalty on a document: ``score`` becomes the penalised
score, and ``extra_data.late`` keeps the raw score, the times, the days late and the rule,
so feedback and exports show both. Applying again (a moved due date, a new extension)
starts from the raw score.

Leaves out: the LMS's own submission timestamps (not in the files it lets you download).
"""

from __future__ import annotations

import copy
import math
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..config import LatePolicy

DAY = 86400.0


def points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def submitted_at(path: Path) -> datetime | None:
    """The newest time recorded in the submission at ``path``, or None when it records none."""
    try:
        if path.is_file() and path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                times = [datetime(*info.date_time, tzinfo=UTC) for info in archive.infolist() if not info.is_dir()]
            return max(times, default=None)
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        return max((datetime.fromtimestamp(p.stat().st_mtime, UTC) for p in files), default=None)
    except (OSError, zipfile.BadZipFile, ValueError):
        return None


def rule(policy: LatePolicy) -> str:
    parts = [f"{points(policy.percent_per_day)}% of the score per started day late"
             + (f", at most {points(policy.max_percent)}%" if policy.max_percent < 100 else "")]
    if policy.grace_minutes:
        parts.append(f"{points(policy.grace_minutes)} minutes' grace")
    if policy.zero_after_days is not None:
        parts.append(f"0 after {points(policy.zero_after_days)} days late")
    return "; ".join(parts)


def penalty(policy: LatePolicy, late_s: float) -> tuple[int, float]:
    """``(days late, penalty in percent)`` for a submission ``late_s`` seconds after its due time."""
    if late_s <= policy.grace_minutes * 60:
        return 0, 0.0
    days = math.ceil(late_s / DAY)
    if policy.zero_after_days is not None and late_s > policy.zero_after_days * DAY:
        return days, 100.0
    return days, min(policy.percent_per_day * days, policy.max_percent)


def apply(document: dict, policy: LatePolicy | None, submitted: datetime | None, extension_days: float = 0.0) -> dict:
    """``document`` with the late policy applied (a copy; ``document`` is not changed)."""
    if policy is None:
        return document
    out = copy.deepcopy(document)
    extra = out["extra_data"]
    raw = (extra.get("late") or {}).get("raw_score", out["score"])
    due = policy.due_for(extra.get("variant", "")) + timedelta(days=extension_days)
    late = {"due": due.isoformat(), "extension_days": extension_days, "rule": rule(policy), "raw_score": raw}
    if submitted is None:
        late.update(submitted_at=None, late_s=0.0, days_late=0, penalty_percent=0.0,
                    note="the submission records no time: no penalty applied")
    else:
        late_s = (submitted - due).total_seconds()
        days, percent = penalty(policy, late_s)
        late.update(submitted_at=submitted.isoformat(), late_s=max(late_s, 0.0), days_late=days,
                    penalty_percent=percent)
    late["score"] = round(raw * (1 - late["penalty_percent"] / 100), 4)
    out["score"] = late["score"]
    extra["late"] = late
    return out


def notice(document: dict) -> str:
    """One line for feedback: when it was due and handed in, and what that cost; "" when on time."""
    late = document.get("extra_data", {}).get("late")
    if not late or not late.get("days_late"):
        return ""
    return (f"Late: handed in {late['submitted_at']}, due {late['due']} ({late['days_late']} day(s) late): "
            f"{points(late['penalty_percent'])}% off, {points(late['raw_score'])} -> {points(late['score'])} "
            f"points ({late['rule']})")
