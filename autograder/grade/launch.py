"""How a worker process is started: isolation mode, command line, environment, limits.

``isolation(profile)`` decides once per grading run and says what it decided: a bubblewrap
sandbox when one works here (``profiles.<name>.sandbox = "auto"``, the default); else, when
the grader runs as root, a worker under an unprivileged uid of its own (``unprivileged.py``:
no access to the course, the grader, other submissions or results; every process killed
when the submission is done; no network where a network namespace can be made); else a
plain separate process with a warning that travels into every results.json. ``"required"``
refuses to grade without a sandbox; ``"off"`` never uses bubblewrap (the unprivileged mode
still applies).

The environment is rebuilt from nothing: no variable of the grader's leaks in, and every
place tools write to (HOME, TMPDIR, caches of Jupyter, matplotlib, Hugging Face, torch
inductor) points into the worker's private scratch folder.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..config import Profile
from ..harness import BOOT
from . import proclimit, sandbox, unprivileged
from .submission import Staged

PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


class IsolationError(RuntimeError):
    """The profile requires a sandbox and none works here."""


@dataclass(frozen=True)
class Isolation:
    sandbox: bool
    processes: str            # how the processes limit is enforced: cgroup, rlimit or none
    warning: str = ""
    unprivileged: bool = False   # no sandbox, but a uid of its own (see unprivileged.py)
    network: bool = True         # whether the submission can reach the network

    @property
    def mode(self) -> str:
        return "sandbox" if self.sandbox else "unprivileged" if self.unprivileged else "process"

    @property
    def contained(self) -> bool:
        """Whether no process the submission starts can outlive its grading."""
        return self.sandbox or self.unprivileged or self.processes == "cgroup"

    def describe(self) -> str:
        return {"sandbox": "bubblewrap sandbox",
                "unprivileged": "no sandbox; an unprivileged uid of its own"
                                + (" (no network namespace here: network reachable)" if self.network else ""),
                "process": "separate process only"}[self.mode]

    def record(self) -> dict:
        return {"mode": self.mode, "sandbox": self.sandbox, "network": self.network,
                "processes_limit": self.processes, "warning": self.warning}


def check_device(profile: Profile) -> None:
    """Refuse a profile whose device is missing here (no grade is better than a wrong one)."""
    if profile.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            why = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise IsolationError(f"profile {profile.name!r} grades on cuda, but {why} here "
                                 f"(torch {torch.__version__}): grade on a GPU runner, or with a CPU profile")


def isolation(profile: Profile) -> Isolation:
    """How this profile's workers are isolated here. ``AUTOGRADER_SANDBOX`` (auto, required,
    off), when set, overrides the profile's ``sandbox`` (to test the unprivileged mode on a
    machine where bubblewrap works, or to insist on the sandbox on one runner)."""
    check_device(profile)
    setting = os.environ.get("AUTOGRADER_SANDBOX") or profile.sandbox
    if setting not in ("auto", "required", "off"):
        raise IsolationError(f"AUTOGRADER_SANDBOX={setting!r}: expected auto, required or off")
    source = "AUTOGRADER_SANDBOX" if setting != profile.sandbox else "grading.toml: sandbox"
    problem = sandbox.probe() if setting != "off" else f"disabled ({source} = \"off\")"
    if problem and setting == "required":
        raise IsolationError(f"profiles.{profile.name}.sandbox is \"required\" but {problem}")
    if problem is None:
        processes = proclimit.strategy() if profile.limits.processes else "none"
        return Isolation(True, processes, "" if processes != "none" or not profile.limits.processes else
                         "the processes limit cannot be enforced (root without a pids cgroup)", network=False)
    cannot = unprivileged.possible()
    if cannot is None:
        processes = proclimit.strategy() if profile.limits.processes else "none"
        processes = "rlimit" if processes == "none" and profile.limits.processes else processes
        network = not unprivileged.network_namespace()
        warning = (f"no sandbox ({problem}) and no network namespace here: the submission runs as an "
                   "unprivileged uid of its own but can reach the network") if network else ""
        return Isolation(False, processes, warning, unprivileged=True, network=network)
    processes = proclimit.strategy() if profile.limits.processes else "none"
    warning = (f"NO SANDBOX ({problem}), and no unprivileged uid ({cannot}): the submission runs as a "
               "separate process with resource limits, but it can read the grader's files and reach the network")
    if processes == "none" and profile.limits.processes:
        warning += "; the processes limit cannot be enforced (root without a pids cgroup)"
    return Isolation(False, processes, warning)


def environment(scratch: str, threads: int) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "student",
        "HOME": scratch, "TMPDIR": f"{scratch}/tmp", "XDG_CACHE_HOME": f"{scratch}/.cache",
        "MPLCONFIGDIR": f"{scratch}/.matplotlib", "MPLBACKEND": "Agg", "IPYTHONDIR": f"{scratch}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{scratch}/.jupyter", "HF_HOME": f"{scratch}/.hf",
        "HF_HUB_OFFLINE": "1", "TIKTOKEN_CACHE_DIR": f"{scratch}/.tiktoken",
        "TORCHINDUCTOR_CACHE_DIR": f"{scratch}/.inductor", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
    })
    return env


def _limits(profile: Profile, iso: Isolation, uid: int) -> dict:
    limits = {k: getattr(profile.limits, k) for k in ("memory_mb", "cpu_s", "file_size_mb")}
    if iso.processes == "rlimit":
        limits["processes"] = proclimit.user_tasks(uid) + profile.limits.processes
    return limits


def protected(course_root: Path, submission: Path) -> list[Path]:
    """What an unprivileged worker must not reach: the course (reference, hidden tests,
    release), the grader's package and the original submission (``batch`` fences the class
    folder and the results folder)."""
    package = Path(__file__).resolve().parent.parent
    return [course_root, package, submission]


def launcher(staged: Staged, module: str, profile: Profile, iso: Isolation, protect=()):
    """A function that returns ``(argv, env, cwd, cleanup)`` for a fresh worker. In the
    unprivileged mode the paths ``protect`` are fenced first (see ``unprivileged.fence``)."""
    slot, python = None, sys.executable
    if iso.unprivileged:
        python = unprivileged.worker_python()
        try:
            for notice in unprivileged.fence(protect, keep=[python] if python else []):
                print(f"autograder: {notice}", file=sys.stderr)
        except unprivileged.FenceError as exc:
            raise IsolationError(str(exc)) from None
        slot = unprivileged.Slot()
        if python is None or not unprivileged.reachable(Path(python)):
            raise IsolationError(f"the unprivileged worker cannot run {python} (fenced or private)")
        slot.own(staged.root)

    def launch():
        if iso.sandbox:
            kit, folder, scratch, cwd = sandbox.KIT, sandbox.SUBMISSION, sandbox.SCRATCH, None
        else:
            kit, folder, scratch = str(staged.kit), str(staged.folder), str(staged.scratch)
            cwd = scratch
        uid = slot.uid if slot else os.getuid()
        argv = [python, "-I", "-c", BOOT, kit, "--submission", folder, "--module", module,
                "--device", profile.device, "--threads", str(profile.threads),
                "--limits", json.dumps(_limits(profile, iso, uid)), "--scratch", scratch]
        if iso.sandbox:
            argv = sandbox.wrap(argv, str(staged.kit), str(staged.folder), profile.device, profile.limits.scratch_mb)
        elif slot is not None:
            argv = slot.argv(argv)
        steps = [slot.kill] if slot is not None else []
        if iso.processes == "cgroup":
            group = proclimit.PidsLimit(profile.limits.processes)
            argv = group.argv(argv)
            steps.insert(0, group.remove)

        def cleanup():
            for step in steps:          # the cgroup first (it kills its members), then the uid's stragglers
                step()
        return argv, environment(scratch, profile.threads), cwd, cleanup
    launch.slot = slot
    return launch
