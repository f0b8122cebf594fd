"""Loss curves in feedback: any test that records a curve in the agreed shape gets a plot.

A test records (``record(key, value)``, stored under the test's ``extra_data.recorded``)
a dict of this shape::

    {"kind": "loss_curve",
     "title": "a07 threshold (cpu profile)",                   # optional
     "reported": [{"step": 99, "val_loss": 2.1, "train_loss": 2.2}, ...],   # the student's own, shown only
     "trusted": [{"step": 1499, "val_loss": 1.62}],            # measured by the grader
     "band": [1.57, 1.70],                                     # optional: the passing band
     "references": {"entropy rate (best possible)": 1.59}}     # optional: labelled horizontal lines

``images(document)`` renders every such curve of a results document to a PNG (matplotlib,
offline, the Agg backend) and returns ``[(test name, png bytes)]``; ``html(document)`` the
``<figure>`` elements that embed them. A malformed curve is skipped, never an error: feedback
must always be written.
"""

from __future__ import annotations

import base64
import contextlib
import io
import math

KIND = "loss_curve"


def find(document: dict) -> list[tuple[str, dict]]:
    """``[(test name, curve)]`` for every recorded value of kind ``loss_curve``."""
    out = []
    for test in document.get("tests", []):
        for value in (test.get("extra_data", {}).get("recorded") or {}).values():
            if isinstance(value, dict) and value.get("kind") == KIND:
                out.append((test.get("name", ""), value))
    return out


def _points(series, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for p in series if isinstance(series, list) else []:
        if isinstance(p, dict) and isinstance(p.get("step"), (int, float)) and isinstance(p.get(key), (int, float)) \
                and math.isfinite(p[key]):
            xs.append(float(p["step"]))
            ys.append(float(p[key]))
    return xs, ys


def render(curve: dict) -> bytes:
    """One curve as a PNG."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    band = curve.get("band")
    if isinstance(band, list) and len(band) == 2 and all(isinstance(b, (int, float)) for b in band):
        ax.axhspan(band[0], band[1], color="tab:green", alpha=0.15, label=f"passing band [{band[0]:.3f}, {band[1]:.3f}]")
    for (label, value), style in zip((curve.get("references") or {}).items(), ("--", ":", "-.", "--")):
        if isinstance(value, (int, float)) and math.isfinite(value):
            ax.axhline(value, color="gray", linestyle=style, linewidth=1, label=f"{label}: {value:.3f}")
    for key, style, label in (("train_loss", "-", "your reported training loss"),
                              ("val_loss", "-o", "your reported validation loss")):
        xs, ys = _points(curve.get("reported"), key)
        if xs:
            ax.plot(xs, ys, style, markersize=3, linewidth=1.2, label=label)
    xs, ys = _points(curve.get("trusted"), "val_loss")
    if xs:
        ax.plot(xs, ys, "*", color="black", markersize=12, label="measured by the grader (graded)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats)")
    ax.set_title(str(curve.get("title") or "loss curve"))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def images(document: dict) -> list[tuple[str, bytes]]:
    out = []
    for name, curve in find(document):
        with contextlib.suppress(Exception):           # a curve that cannot be drawn is left out
            out.append((name, render(curve)))
    return out


def html(document: dict) -> str:
    """``<figure>`` elements (PNG as data URIs) for every curve; empty when there is none."""
    parts = []
    for _name, png in images(document):        # no test names: hidden tests stay anonymous
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<figure><img alt=\"loss curve\" src=\"data:image/png;base64,{data}\"></figure>")
    return ("<h2>Loss curves</h2>" + "".join(parts)) if parts else ""
