"""The sandbox around a worker: bubblewrap, with every capability dropped.

What the worker sees (everything else of the host is absent, not just unreadable):

    /usr, /lib*, /bin, /sbin      read-only (shared libraries, system tools)
    the Python installation       read-only (sys.base_prefix and the virtualenv, sys.prefix)
    /grader/kit                   read-only: the worker runtime and the assignment's adapters
    /grader/submission            read-only: the staged submission
    /grader/scratch, /tmp         private tmpfs of a bounded size (HOME, TMPDIR, caches)
    /proc, /dev                   its own (new PID namespace; minimal devices; GPUs for cuda)

Namespaces: user, pid, ipc, uts, cgroup and **network** (no interface but a down-state
loopback: no network at all). ``--cap-drop ALL`` matters: run as root, bwrap otherwise keeps
capabilities and sandboxed code can remount a read-only bind as writable. ``--die-with-parent``
and the PID namespace end every process the submission started when the worker ends. The
``autograder`` package itself is hidden even when it is installed inside the virtualenv.

Leaves out: resource limits (``launch.py`` and ``proclimit.py``), and seccomp filters.
"""

from __future__ import annotations

import functools
import glob
import shutil
import subprocess
import sys
from pathlib import Path

KIT, SUBMISSION, SCRATCH = "/grader/kit", "/grader/submission", "/grader/scratch"
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def probe() -> str | None:
    """None if bubblewrap works here, else why not (cached for the process)."""
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    argv = [bwrap, *_base_args(256 << 20), "--", sys.executable, "-I", "-c", "pass"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap failed to start: {exc}"
    if proc.returncode != 0:
        return f"bubblewrap cannot create a sandbox here: {proc.stderr.strip()[:300]}"
    return None


def _python_roots() -> list[str]:
    """Folders the interpreter needs: its installation and the virtualenv, if any."""
    roots = {str(Path(sys.base_prefix).resolve()), str(Path(sys.prefix).resolve())}
    return sorted(r for r in roots if not r.startswith("/usr"))


def _hidden_paths() -> list[str]:
    """The grader's own package, when it sits inside a folder the sandbox shows."""
    package = Path(__file__).resolve().parent.parent
    roots = _python_roots()
    return [str(package)] if any(str(package).startswith(r + "/") for r in roots) else []


def _base_args(scratch_bytes: int) -> list[str]:
    # The tmpfs mounts come first: a tmpfs on /tmp placed after a bind below /tmp would hide it.
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox",
            "--size", str(scratch_bytes), "--perms", "1777", "--tmpfs", "/tmp",
            "--size", str(scratch_bytes), "--perms", "1777", "--tmpfs", SCRATCH,
            "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", str(path.readlink()), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for path in ETC_FILES:
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    for root in _python_roots():
        args += ["--ro-bind", root, root]
    for hidden in _hidden_paths():
        args += ["--tmpfs", hidden]
    return args + ["--proc", "/proc", "--dev", "/dev"]


def _gpu_args() -> list[str]:
    args = []
    for device in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", device, device]
    if args:
        args += ["--ro-bind", "/sys", "/sys"]
    return args


def wrap(worker_argv: list[str], kit: str, submission: str, device: str, scratch_mb: int) -> list[str]:
    """``worker_argv`` (written with the sandbox paths) run inside a fresh sandbox."""
    args = [bwrap_path(), *_base_args(scratch_mb << 20), "--ro-bind", kit, KIT, "--ro-bind", submission, SUBMISSION]
    if device == "cuda":
        args += _gpu_args()
    return [*args, "--chdir", SCRATCH, "--", *worker_argv]
