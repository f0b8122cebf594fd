"""Call operations on a module loaded in this process, with the grader's exact semantics.

Used by the public tests in a release folder (``student``) and by the grader for the
trusted reference solution (``reference``). Arguments and results go through the same
encode/decode as the grader's worker channel, so a value that would not survive the
grader (a numpy scalar where a tensor belongs, a custom object) fails here too.

Leaves out: isolation. Exceptions from the module propagate unchanged, with their
original tracebacks, which is what a student debugging locally wants.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import types
from pathlib import Path

from . import codec, dispatch


class LocalSubmission:
    """``sub.op(*args, **kwargs)`` runs operation ``op`` (see ``dispatch``) in-process."""

    def __init__(self, module, adapters=None, device: str = "cpu"):
        self.module, self.adapters, self.device = module, adapters, device

    def call(self, op: str, *args, **kwargs):
        args, kwargs = codec.roundtrip((args, kwargs))
        result = dispatch.call(self.module, self.adapters, op, args, kwargs, self.device)
        return codec.roundtrip(result)

    def measure(self, op: str, *args, **kwargs):
        """``(result, {"seconds", "peak_rss_mb", "base_rss_mb"})`` of one call: wall time, and
        this process's peak resident memory during the call (Linux; NaN elsewhere)."""
        base = reset_peak_rss(os.getpid())
        started = time.perf_counter()
        result = self.call(op, *args, **kwargs)
        seconds = time.perf_counter() - started
        return result, {"seconds": seconds, "peak_rss_mb": peak_rss_mb(os.getpid()), "base_rss_mb": base}

    def __getattr__(self, op: str):
        if op.startswith("_"):
            raise AttributeError(op)
        return lambda *args, **kwargs: self.call(op, *args, **kwargs)


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_peak_rss(pid: int) -> float:
    """Reset the peak-RSS mark of process ``pid`` to its current RSS; returns that RSS in MB."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of process ``pid`` since the last reset, in MB."""
    return _status_mb(pid, "VmHWM")


def load_module(name: str, code: str, filename: str):
    """Execute ``code`` as a fresh module called ``name`` (registered in ``sys.modules``)."""
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    try:
        exec(compile(code, filename, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_file(name: str, path: Path):
    """Import the file at ``path`` as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
