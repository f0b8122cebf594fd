"""A Ray cluster on this machine for the cluster tests and benchmark: a head that runs no work
and worker nodes as separate processes (``ray start``), each with one CPU, optionally a fake GPU.

Every process of the cluster holds its temp folder in its command line; ``stop`` kills those,
by pid, so a test's cluster never touches another Ray running here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
SMALL = ["--disable-usage-stats", "--object-store-memory=78643200"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self):
        self.temp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))      # short: Unix socket paths
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        self.workers: list[str] = []
        head = self._start(["--head", f"--port={port}", "--num-cpus=0", f"--temp-dir={self.temp}",
                            "--include-dashboard=false", f"--dashboard-port={free_port()}"])
        self._wait([head])

    def _start(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen([str(RAY), "start", *args, *SMALL], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    def add(self, names: dict[str, int]) -> None:
        """Start worker nodes ``{name: gpus}`` (one CPU each, and a resource named after them), one
        after the other (started at once, they time out registering)."""
        for name, gpus in names.items():
            self._wait([self._start([f"--address={self.address}", "--num-cpus=1", f"--num-gpus={gpus}",
                                     f"--resources={json.dumps({name: 1})}"])])
            self.workers.append(name)

    def _wait(self, started: list[subprocess.Popen]) -> None:
        for proc in started:
            output = proc.communicate(timeout=180)[0]
            if proc.returncode != 0:
                self.stop()
                raise RuntimeError(f"ray start failed:\n{output[-3000:]}")

    def raylets(self) -> dict[str, tuple[int, str]]:
        """worker name -> (its raylet's pid, its Ray node id), for the live workers."""
        found = {}
        for pid in self.pids(str(self.temp)):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if argv[0].endswith("/raylet"):
                flags = dict(a[2:].split("=", 1) for a in argv[1:] if a.startswith("--") and "=" in a)
                resources = flags.get("static_resource_list", "").split(",")[::2]
                for name in self.workers:
                    if name in resources:
                        found[name] = (pid, flags["node_id"])
        return found

    def node_ids(self) -> dict[str, str]:
        return {name: node for name, (_, node) in self.raylets().items()}

    def pids(self, needle: str) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if needle in cmdline:
                    found.append(int(entry.name))
        return found

    def kill_raylet(self, name: str) -> None:
        """Lose worker ``name``: kill -9 its raylet (its workers then die with it)."""
        os.kill(self.raylets()[name][0], signal.SIGKILL)
        self.workers.remove(name)

    def tree(self) -> list[int]:
        """The cluster's processes: those naming its temp folder, and their descendants (Ray
        renames its workers, ``ray::IDLE``, so their command lines no longer say)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) if entry.name.isdigit() else None
            except (OSError, IndexError, ValueError):
                continue
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], self.pids(str(self.temp))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def stop(self) -> None:
        for _ in range(3):          # a dying raylet may start nothing new, but be sure
            for pid in self.tree():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        shutil.rmtree(self.temp, ignore_errors=True)
