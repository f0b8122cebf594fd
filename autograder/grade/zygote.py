"""A warm start for the trusted grading processes.

Starting a grading process costs about 1.6 s of imports (torch, pytest, the grader). The
zygote pays that once: it imports them and then forks one child per grading run; the
child runs ``pytest.main`` and exits, so no state is shared between submissions. Clients
reach it over a Unix socket in a private folder, one connection per run, so concurrent
gradings (``--jobs``) need no coordination.

Fork safety: the zygote only imports modules and never runs a tensor operation, so no
OpenMP thread pool exists to deadlock a child (a fork after a multithreaded op can hang).

Each run takes the client's ``launch.PASSED_THROUGH`` variables (``CUDA_VISIBLE_DEVICES``):
a zygote started in one Ray GPU task serves the next, which Ray may give another GPU.

Leaves out: isolation from student code, which never runs here (children start workers).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .launch import PASSED_THROUGH

PRELOAD = ("torch", "numpy", "safetensors.torch", "pytest", "pytest_timeout",
           "autograder.grade.plugin", "autograder.grade.checks", "autograder.grade.draw")


def serve(path: str) -> None:
    """The zygote's main loop (run as ``python -c``): fork a grading child per connection.
    Its stdin is a pipe the client process holds open: end of file means the client is gone
    (however it ended, ``kill -9`` included), and the zygote exits."""
    import importlib
    import select
    for name in PRELOAD:
        importlib.import_module(name)
    import torch.distributed
    if torch.distributed.is_available():      # what assert_close imports on its first call (DTensor,
        importlib.import_module("torch.distributed.tensor")  # sympy: 2 s a grading run otherwise)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)          # children are reaped by the kernel
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select([server, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            return
        if server in readable:
            conn, _ = server.accept()
            if os.fork() == 0:
                server.close()
                _child(conn)
            conn.close()


def _child(conn: socket.socket) -> None:
    """One grading: ``{"argv", "cwd", "log", "env"}`` in; our pid, then pytest's exit status out.
    pytest runs in a grandchild so that its status is known however it ends (``os._exit``, a
    signal); both share a process group the client can kill."""
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        request = json.loads(conn.makefile("r").readline())
        conn.sendall(f"{os.getpid()}\n".encode())
        runner = os.fork()
        if runner == 0:
            conn.close()
            _run_pytest(request)
        _, wait_status = os.waitpid(runner, 0)
        conn.sendall(f"{os.waitstatus_to_exitcode(wait_status)}\n".encode())
    finally:
        os._exit(0)


def _run_pytest(request: dict) -> None:
    status = 70
    try:
        os.chdir(request["cwd"])
        for name, value in request.get("env", {}).items():     # the client's, e.g. the GPU Ray gave its task
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.argv = ["pytest", *request["argv"]]
        import pytest
        status = int(pytest.main(request["argv"]))
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


class Zygote:
    """Client side: ``run(argv, cwd, log, timeout)`` -> pytest's exit status (None: killed)."""

    def __init__(self):
        self._folder = tempfile.mkdtemp(prefix="autograder-zygote-")
        self.path = str(Path(self._folder) / "socket")
        code = f"from autograder.grade.zygote import serve; serve({self.path!r})"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                                     start_new_session=True, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the grading zygote failed to start")
        atexit.register(self.close)

    def run(self, argv: list[str], cwd: str, log: str, timeout: float | None) -> int | None:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.path)
        reader = conn.makefile("r")
        try:
            env = {name: os.environ.get(name) for name in PASSED_THROUGH}
            conn.sendall((json.dumps({"argv": argv, "cwd": cwd, "log": log, "env": env}) + "\n").encode())
            pid = int(reader.readline())
            conn.settimeout(timeout)
            try:
                line = reader.readline()
            except (socket.timeout, TimeoutError):
                line = ""
            if line.strip():
                return int(line)
            try:                                          # timed out, or the child died: end it
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return None
        finally:
            reader.close()
            conn.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()                          # end of file: the zygote exits
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        Path(self.path).unlink(missing_ok=True)
        if os.path.isdir(self._folder):
            os.rmdir(self._folder)


_shared: Zygote | None = None
_lock = threading.Lock()


def shared() -> Zygote | None:
    """The process's zygote, started on first use (None if it cannot start: callers fall
    back to a fresh process per grading)."""
    global _shared
    with _lock:
        if _shared is None or _shared.proc.poll() is not None:
            try:
                _shared = Zygote()
            except (OSError, RuntimeError):
                return None
        return _shared
