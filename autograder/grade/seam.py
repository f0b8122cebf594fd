"""The grader's side of the one seam between hidden tests and a submission.

``WorkerSubmission`` starts the worker process (``harness/worker.py``) through a launcher
(plain or sandboxed), sends it operation calls and decodes the data it returns. Every call
has a wall-clock deadline: the time left of the current test's budget. On a timeout the
worker's whole process group is killed; on a crash the exit status is reported; either way
the next call starts a fresh worker, so one bad test costs that test only.

Failures surface in the test as ``StudentError`` subclasses, which the grading plugin turns
into an outcome (not implemented, timeout, crash, ...) and a message for the student. An
exception raised by student code arrives as ``StudentException`` that is also an instance of
the builtin of the same name (so ``pytest.raises(ValueError)`` works as it does locally).
"""

from __future__ import annotations

import builtins
import os
import select
import signal
import subprocess
import threading
import time

from ..harness import codec, local
from . import oracle


class StudentError(Exception):
    """Base: something about the submission made this call fail."""
    outcome = "error"


class StudentException(StudentError):
    """Student code raised; ``type_name`` and ``trace`` say what and where."""

    def __init__(self, op: str, type_name: str, message: str, trace: str = ""):
        self.op, self.type_name, self.trace = op, type_name, trace
        super().__init__(self.headline(type_name, message)
                         + (f"\n\nwhere (most recent call last):\n{trace.rstrip()}" if trace else ""))

    @staticmethod
    def headline(type_name: str, message: str) -> str:
        return f"{type_name}: {message}"


class StudentNotImplemented(StudentException, NotImplementedError):
    outcome = "not_implemented"

    @staticmethod
    def headline(type_name: str, message: str) -> str:
        return message


class StudentTimeout(StudentError):
    outcome = "timeout"


class StudentCrash(StudentError):
    outcome = "crashed"


class SubmissionUnloadable(StudentError):
    """The module could not be imported (or found); every call fails the same way."""
    outcome = "unloadable"


_BUILTIN_ERRORS: dict[str, type] = {}


def student_exception(op: str, error: dict) -> StudentException:
    name = str(error.get("type", "Exception"))
    if name == "NotImplementedError":
        return StudentNotImplemented(op, name, error.get("message", ""), "")
    base = getattr(builtins, name, None)
    args = (op, name, error.get("message", ""), error.get("traceback", ""))
    if isinstance(base, type) and issubclass(base, Exception) and not issubclass(base, (StudentError, OSError)):
        cls = _BUILTIN_ERRORS.setdefault(name, type(f"Student{name}", (StudentException, base), {}))
        try:
            return cls(*args)
        except TypeError:       # builtins whose constructor insists on its own arguments (UnicodeDecodeError)
            pass
    return StudentException(*args)


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class WorkerSubmission:
    """``sub.op(*args, **kwargs)`` calls operation ``op`` in the worker process.

    ``launch()`` returns ``(argv, env, cwd, cleanup)`` for a fresh worker (``cleanup`` runs
    once it is gone); ``budget(seconds)`` starts a test's time budget.
    """

    MAX_RESTARTS = 25

    def __init__(self, launch, startup_timeout_s: float, default_budget_s: float,
                 output_limit: int = 256 * 1024, result_limit: int = 512 << 20):
        self._launch = launch
        self.startup_timeout_s, self.default_budget_s = startup_timeout_s, default_budget_s
        self.output_limit, self.result_limit = output_limit, result_limit
        self._proc: subprocess.Popen | None = None
        self._ready = False
        self._unloadable: SubmissionUnloadable | None = None
        self._deadline: float | None = None
        self._budget = default_budget_s
        self._next_id = 0
        self._others: tuple[str, ...] = ()
        self._answer, self._direct, self._mine = None, {}, ()
        self.starts = 0
        self.startup_s = 0.0                # time spent starting workers (not charged to tests)
        self.output = bytearray()          # last `output_limit` bytes the worker printed

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Spawn a worker without waiting for it (its imports overlap test collection)."""
        if self._proc is None and self._unloadable is None:
            argv, env, cwd, self._cleanup = self._launch()
            self._proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, start_new_session=True, bufsize=0)
            self._ready = False
            self.starts += 1
            self._drainer = threading.Thread(target=self._drain, args=(self._proc.stderr,), daemon=True)
            self._drainer.start()

    def close(self) -> None:
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._proc.wait()
            self._drainer.join(timeout=1)     # a grandchild may still hold the pipe open
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                stream.close()
            self._cleanup()
            self._proc = None
            self._ready = False

    def budget(self, seconds: float) -> None:
        self._budget = seconds
        self._deadline = time.monotonic() + seconds

    def answer_others(self, names, answer, direct=None, mine=()) -> None:
        """From now on, calls into the functions ``names`` (other tasks') are answered by
        ``answer(name, mode, value)`` (``grade/oracle.py``), and a test's own calls of the
        operations in ``direct`` by ``direct[op](*args, **kwargs)``; ``()`` turns that off.
        ``mine`` names the graded task's own classes: their objects stay in the worker."""
        self._others, self._answer, self._direct = tuple(names), answer, dict(direct or {})
        self._mine = tuple(mine)

    def _drain(self, stream) -> None:
        try:
            while chunk := stream.read(65536):
                self.output += chunk
                del self.output[:-self.output_limit]
        except (OSError, ValueError):
            pass                              # the stream was closed under us

    def output_tail(self, n: int = 1500) -> str:
        return bytes(self.output[-n:]).decode("utf-8", "replace")

    def _ensure_ready(self) -> None:
        if self._unloadable is not None:
            raise SubmissionUnloadable(str(self._unloadable))   # a fresh exception: tracebacks must not pile up
        if self._ready:
            return
        if self.starts > self.MAX_RESTARTS:
            self._unloadable = SubmissionUnloadable(
                f"gave up after restarting the worker {self.MAX_RESTARTS} times (your code keeps crashing it)")
            raise self._unloadable
        began = time.monotonic()
        self.start()
        try:
            header, _ = self._read(began + self.startup_timeout_s)
        except _Timeout:
            self.close()
            self._unloadable = SubmissionUnloadable(
                f"importing your module took longer than {self.startup_timeout_s:.0f} s; move long-running code "
                "under `if __name__ == '__main__':` (or tag the notebook cell skip-grading)")
            raise self._unloadable from None
        except _Closed:
            status = self._reap()
            self._unloadable = SubmissionUnloadable(
                f"the process running your module exited while importing it ({status}); does it call "
                f"sys.exit()/os._exit() or crash at import time?{self._tail()}")
            raise self._unloadable from None
        except codec.CodecError as exc:
            self.close()
            self._unloadable = SubmissionUnloadable(
                f"importing your module wrote onto the grader's channel, which is not allowed ({exc})")
            raise self._unloadable from None
        if header.get("kind") != "hello":
            self.close()
            self._unloadable = SubmissionUnloadable("importing your module wrote onto the grader's channel")
            raise self._unloadable
        if not header.get("ok"):
            self.close()
            error = header.get("error", {})
            self._unloadable = SubmissionUnloadable(
                f"importing your module failed: {error.get('type')}: {error.get('message')}\n"
                f"{error.get('traceback', '')}".rstrip())
            raise self._unloadable
        self._ready = True
        self.startup_s += time.monotonic() - began
        if self._deadline is not None:
            self._deadline += time.monotonic() - began     # starting the worker is not the test's time

    # -- calls ---------------------------------------------------------------------
    def call(self, op: str, *args, **kwargs):
        if op in self._direct:
            return self._direct[op](*args, **kwargs)
        self._ensure_ready()
        deadline = self._deadline if self._deadline is not None else time.monotonic() + self._budget
        self._next_id += 1
        call_id = self._next_id
        try:
            self._write(codec.pack({"kind": "call", "id": call_id, "op": op, "others": list(self._others),
                                    "mine": list(self._mine)},
                                   (args, kwargs)), deadline)
            header, value = self._read(deadline)
            while header.get("kind") == "callback" and header.get("id") == call_id:
                failed = []
                frame = oracle.answer_frame(call_id, header, value, self._others, self._answer,
                                            lambda request: self._ask_remote(call_id, request, deadline, failed))
                if failed:                      # the worker timed out, died or garbled while asked
                    raise failed[0]
                self._write(frame, deadline)
                header, value = self._read(deadline)
        except _Timeout:
            self.close()
            raise StudentTimeout(f"`{op}` did not finish within this test's {self._budget:.0f} s limit "
                                 f"(an infinite loop, or code far slower than needed?){self._tail()}") from None
        except _Closed:
            status = self._reap()
            raise StudentCrash(f"the process running your code died during `{op}` ({status}){self._tail()}") from None
        except codec.CodecError as exc:
            self.close()
            raise StudentCrash(f"`{op}` sent back data the grader cannot read: {exc}") from None
        if header.get("kind") != "result" or header.get("id") != call_id:
            self.close()
            raise StudentCrash(f"`{op}`: the worker broke the protocol (something wrote to the grader's channel)")
        if not header.get("ok"):
            raise student_exception(op, header.get("error") or {})
        return value

    def _ask_remote(self, call_id: int, request: dict, deadline: float, failed: list):
        """While answering a callback: what the student's object (of the graded task) says
        to ``request`` (``rebuild.Stub``), run by the worker on the student's own code."""
        try:
            self._write(codec.pack({"kind": "remote", "id": call_id}, request), deadline)
            header, value = self._read(deadline)
        except (_Timeout, _Closed, codec.CodecError) as exc:
            failed.append(exc)
            raise RuntimeError("the worker did not answer") from None
        if header.get("kind") != "remote_result" or header.get("id") != call_id:
            failed.append(_Closed())
            raise RuntimeError("the worker broke the protocol")
        if not header.get("ok"):
            error = header.get("error") or {}
            raise RuntimeError(f"your code raised {error.get('type')}: {error.get('message')}")
        return value

    def measure(self, op: str, *args, **kwargs):
        """``(result, {"seconds", "peak_rss_mb", "base_rss_mb"})``: the call's wall time and the
        worker's peak resident memory during it, both observed from this (trusted) process."""
        self._ensure_ready()
        pid = self._worker_pid()
        base = local.reset_peak_rss(pid)
        started = time.monotonic()
        result = self.call(op, *args, **kwargs)
        seconds = time.monotonic() - started
        return result, {"seconds": seconds, "peak_rss_mb": local.peak_rss_mb(pid), "base_rss_mb": base}

    def _worker_pid(self) -> int:
        """The worker's Python process: the launcher's descendant running ``_harness.worker``."""
        todo = [self._proc.pid]
        while todo:
            pid = todo.pop()
            try:
                if b"_harness.worker" in open(f"/proc/{pid}/cmdline", "rb").read() and \
                        not open(f"/proc/{pid}/comm").read().startswith(("bwrap", "sh")):
                    return pid
                for task in os.listdir(f"/proc/{pid}/task"):
                    todo += [int(c) for c in open(f"/proc/{pid}/task/{task}/children").read().split()]
            except OSError:
                continue
        return self._proc.pid

    def __getattr__(self, op: str):
        if op.startswith("_"):
            raise AttributeError(op)
        return lambda *args, **kwargs: self.call(op, *args, **kwargs)

    # -- framing -------------------------------------------------------------------
    def _write(self, data: bytes, deadline: float) -> None:
        fd = self._proc.stdin.fileno()
        view = memoryview(data)
        while view:
            if not select.select([], [fd], [], max(0.0, deadline - time.monotonic()))[1]:
                raise _Timeout
            try:
                view = view[os.write(fd, view[:65536]):]
            except (BrokenPipeError, OSError):
                raise _Closed from None

    def _read(self, deadline: float):
        prefix = self._read_exact(codec.HEADER_SIZE, deadline)
        n_text, n_blob = codec.frame_lengths(prefix)
        if n_text + n_blob > self.result_limit:
            self.close()
            raise codec.CodecError(f"a reply of {(n_text + n_blob) >> 20} MB exceeds the "
                                   f"{self.result_limit >> 20} MB limit")
        return codec.unpack(self._read_exact(n_text, deadline), self._read_exact(n_blob, deadline))

    def _read_exact(self, n: int, deadline: float) -> bytes:
        fd = self._proc.stdout.fileno()
        buf = bytearray()
        while len(buf) < n:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise _Timeout
            chunk = os.read(fd, min(n - len(buf), 1 << 20))
            if not chunk:
                raise _Closed
            buf += chunk
        return bytes(buf)

    def _reap(self) -> str:
        proc = self._proc
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        if code is None:
            return "it stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
            hint = {"SIGKILL": "killed: out of memory or over a resource limit?",
                    "SIGSEGV": "a segmentation fault: very deep recursion?",
                    "SIGXCPU": "over the CPU-time limit", "SIGXFSZ": "wrote a file over the size limit"}.get(name, "")
            return f"killed by {name}" + (f"; {hint}" if hint else "")
        return f"exit status {code}"

    def _tail(self) -> str:
        tail = self.output_tail().strip()
        return f"\n\nlast output of your code:\n{tail}" if tail else ""
