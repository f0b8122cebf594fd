"""The warm zygote that forks grading processes: its lifetime and its time limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from autograder.grade import zygote


def alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/status").read().split("State:")[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_outlives_the_thread_that_started_it(tmp_path):
    """A batch starts it from a pool thread; it must serve the next batch too."""
    box = []
    thread = threading.Thread(target=lambda: box.append(zygote.Zygote()))
    thread.start()
    thread.join()
    z = box[0]
    try:
        time.sleep(0.3)
        assert z.proc.poll() is None
        assert z.run(["--version"], str(tmp_path), str(tmp_path / "log"), 60) == 0
        assert "pytest" in (tmp_path / "log").read_text()
    finally:
        z.close()
    assert z.proc.poll() is not None


def test_dies_with_its_client_even_after_kill_9():
    code = ("from autograder.grade import zygote; z = zygote.shared(); print(z.proc.pid, flush=True); "
            "import time; time.sleep(60)")
    client = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(client.stdout.readline())
    os.kill(client.pid, signal.SIGKILL)
    client.wait()
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid)


@pytest.mark.slow
def test_a_grading_past_its_time_limit_is_killed(tmp_path):
    (tmp_path / "test_slow.py").write_text("import time\n\ndef test_sleeps():\n    time.sleep(60)\n")
    z = zygote.Zygote()
    try:
        started = time.monotonic()
        assert z.run(["-q", "-p", "no:cacheprovider", str(tmp_path / "test_slow.py")], str(tmp_path),
                     str(tmp_path / "log"), 2) is None
        assert time.monotonic() - started < 10
    finally:
        z.close()
