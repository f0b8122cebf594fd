"""How a worker process is started: isolation mode, command line, environment, limits.

``isolation(profile)`` decides once per grading run and says what it decided: a bubblewrap
sandbox when one works here (``profiles.<name>.sandbox = "auto"``, the default), or a plain
separate process with a warning that travels into every results.json. ``"required"``
refuses to grade without a sandbox; ``"off"`` never uses one.

The environment is rebuilt from nothing: no variable of the grader's leaks in, and every
place tools write to (HOME, TMPDIR, caches of Jupyter, matplotlib, Hugging Face, torch
inductor) points into the worker's private scratch folder.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

from ..config import Profile
from ..harness import BOOT
from . import proclimit, sandbox
from .submission import Staged

PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


class IsolationError(RuntimeError):
    """The profile requires a sandbox and none works here."""


@dataclass(frozen=True)
class Isolation:
    sandbox: bool
    processes: str            # how the processes limit is enforced: cgroup, rlimit or none
    warning: str = ""

    def record(self) -> dict:
        return {"mode": "sandbox" if self.sandbox else "process", "sandbox": self.sandbox,
                "processes_limit": self.processes, "warning": self.warning}


def isolation(profile: Profile) -> Isolation:
    problem = sandbox.probe() if profile.sandbox != "off" else "disabled by grading.toml (sandbox = \"off\")"
    if problem and profile.sandbox == "required":
        raise IsolationError(f"profiles.{profile.name}.sandbox is \"required\" but {problem}")
    processes = proclimit.strategy() if profile.limits.processes else "none"
    warning = "" if not problem else (
        f"NO SANDBOX ({problem}): the submission runs as a separate process with resource limits, but it "
        "can read the grader's files and reach the network")
    if processes == "none" and profile.limits.processes:
        warning = (warning + "; " if warning else "") + "the processes limit cannot be enforced (root without a pids cgroup)"
    return Isolation(problem is None, processes, warning)


def environment(scratch: str, threads: int) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "student",
        "HOME": scratch, "TMPDIR": f"{scratch}/tmp", "XDG_CACHE_HOME": f"{scratch}/.cache",
        "MPLCONFIGDIR": f"{scratch}/.matplotlib", "IPYTHONDIR": f"{scratch}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{scratch}/.jupyter", "HF_HOME": f"{scratch}/.hf",
        "HF_HUB_OFFLINE": "1", "TIKTOKEN_CACHE_DIR": f"{scratch}/.tiktoken",
        "TORCHINDUCTOR_CACHE_DIR": f"{scratch}/.inductor", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
    })
    return env


def _limits(profile: Profile, iso: Isolation) -> dict:
    limits = {k: getattr(profile.limits, k) for k in ("memory_mb", "cpu_s", "file_size_mb")}
    if iso.processes == "rlimit":
        limits["processes"] = proclimit.user_tasks(os.getuid()) + profile.limits.processes
    return limits


def launcher(staged: Staged, module: str, profile: Profile, iso: Isolation):
    """A function that returns ``(argv, env, cwd, cleanup)`` for a fresh worker."""
    def launch():
        if iso.sandbox:
            kit, folder, scratch, cwd = sandbox.KIT, sandbox.SUBMISSION, sandbox.SCRATCH, None
        else:
            kit, folder, scratch = str(staged.kit), str(staged.folder), str(staged.scratch)
            cwd = scratch
        argv = [sys.executable, "-I", "-c", BOOT, kit, "--submission", folder, "--module", module,
                "--device", profile.device, "--threads", str(profile.threads),
                "--limits", json.dumps(_limits(profile, iso)), "--scratch", scratch]
        if iso.sandbox:
            argv = sandbox.wrap(argv, str(staged.kit), str(staged.folder), profile.device, profile.limits.scratch_mb)
        cleanup = lambda: None  # noqa: E731
        if iso.processes == "cgroup":
            group = proclimit.PidsLimit(profile.limits.processes)
            argv, cleanup = group.argv(argv), group.remove
        return argv, environment(scratch, profile.threads), cwd, cleanup
    return launch
