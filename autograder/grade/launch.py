"""How a worker process is started: its command line, environment and working directory.

The environment is rebuilt from nothing: no variable of the grader's leaks in, and every
place that tools write to (HOME, TMPDIR, caches of Jupyter, matplotlib, Hugging Face,
torch inductor) points into the stage's private scratch folder.

Leaves out: filesystem, network and process isolation (``sandbox`` wraps this command).
"""

from __future__ import annotations

import json
import os
import sys

from ..config import Profile
from ..harness import BOOT
from .submission import Staged

PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


def environment(scratch: str, threads: int) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
    env.update({
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "HOME": scratch, "TMPDIR": f"{scratch}/tmp", "XDG_CACHE_HOME": f"{scratch}/.cache",
        "MPLCONFIGDIR": f"{scratch}/.matplotlib", "IPYTHONDIR": f"{scratch}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{scratch}/.jupyter", "HF_HOME": f"{scratch}/.hf",
        "HF_HUB_OFFLINE": "1", "TIKTOKEN_CACHE_DIR": f"{scratch}/.tiktoken",
        "TORCHINDUCTOR_CACHE_DIR": f"{scratch}/.inductor", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
    })
    return env


def worker_argv(python: str, kit: str, folder: str, module: str, profile: Profile) -> list[str]:
    limits = {k: getattr(profile.limits, k) for k in ("memory_mb", "cpu_s", "file_size_mb", "processes")}
    return [python, "-I", "-c", BOOT, kit, "--submission", folder, "--module", module,
            "--device", profile.device, "--threads", str(profile.threads), "--limits", json.dumps(limits)]


def plain(staged: Staged, module: str, profile: Profile):
    """A launcher without a sandbox: a separate process, resource limits, clean environment."""
    def launch():
        argv = worker_argv(sys.executable, str(staged.kit), str(staged.folder), module, profile)
        return argv, environment(str(staged.scratch), profile.threads), str(staged.scratch)
    return launch
