"""A per-worker bound on the number of processes (and threads) a submission may start.

``RLIMIT_NPROC`` is ignored for uid 0 and counts every task of the user otherwise, so it
cannot bound a fork bomb started by a root-run grader. A pids cgroup can: when the grader
may create one (cgroup v2 with the pids controller, or a v1 pids hierarchy, writable), the
worker starts inside its own cgroup with ``pids.max`` set. Otherwise, for a non-root user,
``RLIMIT_NPROC`` is set to the user's current task count plus the limit; for root without
cgroups the limit cannot be enforced, and the results say so.

Leaves out: memory and CPU cgroups (rlimits do that job here).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

CANDIDATES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


def _root() -> Path | None:
    for base in CANDIDATES:
        if not (base / "cgroup.procs").exists():
            continue
        controllers = base / "cgroup.controllers"
        if base.name != "pids" and (not controllers.exists() or "pids" not in controllers.read_text().split()):
            continue
        if os.access(base, os.W_OK):
            return base
    return None


class PidsLimit:
    """A fresh cgroup allowing ``limit`` processes; ``argv`` joins it before exec."""

    def __init__(self, limit: int):
        root = _root()
        if root is None:
            raise OSError("no writable pids cgroup")
        self.path = root / f"autograder-{uuid.uuid4().hex[:12]}"
        self.path.mkdir()
        try:
            if root.name != "pids":
                (root / "cgroup.subtree_control").write_text("+pids")
            (self.path / "pids.max").write_text(str(limit))
        except OSError:
            self.path.rmdir()
            raise

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` run by a shell that first moves itself into the cgroup."""
        return ["/bin/sh", "-c", f'echo $$ > "{self.path}/cgroup.procs" && exec "$@"', "sh", *argv]

    def remove(self) -> None:
        """Kill whatever the submission left behind (a new session does not leave a cgroup), then
        remove the cgroup."""
        for _ in range(50):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)      # members still exiting


def user_tasks(uid: int) -> int:
    """Tasks (threads) the kernel counts against ``uid``'s RLIMIT_NPROC right now."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1"))
    return total


def strategy() -> str:
    """How a processes limit would be enforced here: "cgroup", "rlimit" or "none"."""
    try:
        PidsLimit(8).remove()
        return "cgroup"
    except OSError:
        return "rlimit" if os.getuid() != 0 else "none"
