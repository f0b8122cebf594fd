"""The worker process: imports one submission and serves operation calls over pipes.

Started by the grader as ``python -I -c BOOT KIT_DIR [options]`` (see ``grade/launch.py``),
usually inside a sandbox. The protocol runs on private copies of stdin/stdout; fd 0 becomes
/dev/null and fd 1 is pointed at stderr, so a student's ``print`` never touches the channel.

    grader -> worker   {"kind": "call", "id": n, "op": name, "others": [f, ...], "mine": [c, ...]}
                       value = (args, kwargs)
    worker -> grader   {"kind": "hello", "ok": bool, ...}      once, after the import
                       {"kind": "result", "id": n, "ok": true}  value = the result
                       {"kind": "result", "id": n, "ok": false, "error": {...}}

``others`` names the functions and layers of other tasks than the one graded: during the
call they are proxies whose callbacks the grader answers with the reference (``proxy.py``);
``mine`` names the graded task's classes, whose objects stay here when such a call gets one.

Whatever this process sends is data for the grader to judge; nothing it says is trusted
(a forged reply is no more than a wrong return value). Resource limits are applied here,
before any student code runs; hard limits cannot be raised again without privileges.

Leaves out: timeouts (the grader kills the process) and filesystem isolation (the sandbox).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import sys
import traceback
from pathlib import Path

from .local import load_file

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
LIMITS = {"memory_mb": resource.RLIMIT_AS, "cpu_s": resource.RLIMIT_CPU,
          "file_size_mb": resource.RLIMIT_FSIZE, "processes": resource.RLIMIT_NPROC}


def apply_limits(limits: dict) -> None:
    """Lower soft and hard rlimits; sizes in MB, CPU time in seconds."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, value in limits.items():
        if value is None:
            continue
        amount = int(value) * (1 << 20 if key.endswith("_mb") else 1)     # processes: an absolute count
        resource.setrlimit(LIMITS[key], (amount, amount))


class Channel:
    """Frames over two raw file descriptors."""

    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out = fd_in, fd_out

    def read(self):
        from . import codec
        prefix = self._read_exact(codec.HEADER_SIZE)
        if prefix is None:
            return None, None
        n_text, n_blob = codec.frame_lengths(prefix)
        return codec.unpack(self._read_exact(n_text) or b"", self._read_exact(n_blob) or b"")

    def send(self, header: dict, value=None) -> None:
        from . import codec
        try:
            data = codec.pack(header, value)
        except codec.CodecError as exc:
            data = codec.pack(dict(header, ok=False, error=_error_info(exc, "ReturnValueError")))
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd_out, view):]

    def _read_exact(self, n: int):
        chunks, left = [], n
        while left:
            chunk = os.read(self.fd_in, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


_NOTEBOOKS: dict[str, str | None] = {}


def _where(filename: str, lineno: int | None) -> tuple[str, int | None]:
    """A file and line as the student knows them: for code taken from a notebook, the
    notebook's name with "cell N" and the line within that cell."""
    from . import source
    if filename not in _NOTEBOOKS:
        try:
            with open(filename, encoding="utf-8") as f:
                text = f.read()
            _NOTEBOOKS[filename] = text if text.startswith(source.HEADER) else None
        except OSError:
            _NOTEBOOKS[filename] = None
    code = _NOTEBOOKS[filename]
    found = source.cell_location(code, lineno) if code and lineno else None
    if found is None:
        return os.path.basename(filename), lineno
    name, cell, line = found
    return f"{name}, cell {cell}", line


def _error_info(exc: BaseException, kind: str | None = None, short: tuple[str, ...] = ()) -> dict:
    """Type, message and traceback of ``exc``; files under the folders ``short`` are shown
    by name only (the grader's staging paths mean nothing to a student), and code taken
    from a notebook by its cell and line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(HARNESS_DIR) and "importlib" not in f.filename]
    ours = [f for f in frames if f.filename.startswith(short)] if short else frames
    for frame in ours if short else ():
        _ = frame.line                              # read the source line before the file name changes
        frame.filename, frame.lineno = _where(frame.filename, frame.lineno)
    trace = "".join(traceback.format_list((ours or frames)[-8:]))
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"your code called sys.exit({exc.code!r})"
    elif isinstance(exc, SyntaxError):
        where, line = _where(exc.filename or "?", exc.lineno)
        message = f"{exc.msg} ({where}, line {line})"
    return {"type": kind or type(exc).__name__, "message": message[:4000], "traceback": trace[-6000:]}


def serve(channel: Channel, module, adapters, device: str, short: tuple[str, ...]) -> None:
    from . import dispatch, proxy
    while True:
        header, value = channel.read()
        if header is None:
            return
        reply = {"kind": "result", "id": header.get("id")}
        try:
            args, kwargs = value
            others = [str(n) for n in header.get("others") or ()]
            link = proxy.Link(channel, header.get("id"), device, module.__name__, others,
                              [str(n) for n in header.get("mine") or ()])
            result = dispatch.call(module, adapters, header["op"], args, kwargs, device,
                                   around=lambda: proxy.installed(module, others, link))
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            channel.send(dict(reply, ok=False, error=_error_info(exc, short=short)))
            continue
        channel.send(dict(reply, ok=True), result)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="worker")
    parser.add_argument("--submission", required=True, help="folder holding the student's module")
    parser.add_argument("--module", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limits", default="{}", help="JSON: memory_mb, cpu_s, file_size_mb, processes")
    parser.add_argument("--scratch", help="the private writable folder (HOME); TMPDIR is its tmp/")
    opts = parser.parse_args(argv)

    channel = Channel(os.dup(0), os.dup(1))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    if opts.scratch:
        os.makedirs(os.path.join(opts.scratch, "tmp"), exist_ok=True)
    apply_limits(json.loads(opts.limits))

    import torch
    torch.set_num_threads(opts.threads)
    sys.path.append(opts.submission)  # last, so a student file cannot shadow a library
    short = (os.path.dirname(HARNESS_DIR), os.path.abspath(opts.submission))
    try:
        adapters = importlib.import_module("adapters") if os.path.exists(
            os.path.join(os.path.dirname(HARNESS_DIR), "adapters.py")) else None
        module = load_file(opts.module, Path(opts.submission) / f"{opts.module}.py")
    except BaseException as exc:  # noqa: BLE001
        channel.send({"kind": "hello", "ok": False, "error": _error_info(exc, short=short)})
        return
    channel.send({"kind": "hello", "ok": True})
    serve(channel, module, adapters, opts.device, short)
