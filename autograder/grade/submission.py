"""Turn a submission (a folder or a .zip) into a staged folder the worker can import.

    stage/kit/_harness/     the worker runtime (copied from autograder/harness)
    stage/kit/adapters.py   the assignment's adapters (given code)
    stage/submission/       the student's .py files, with <module>.py holding the graded code
    stage/scratch/          HOME, TMPDIR and caches of the worker

Zip files are extracted defensively: no absolute paths or '..', no links, bounded member
count and bytes (counted while reading, not trusted from the headers). When the module is
not at the top level, up to three folder levels are searched (students often zip the
folder, or a folder of folders), and a zip holding only another zip is unpacked too.

Anything wrong with the submission itself is a ``SubmissionProblem`` with a message for the
student; the grading plugin turns it into a zero on every test flagged ``needs_review``
(results.json, the run summary, the exit status, the CSV and the gradebook say so), with
that message said once.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .. import harness
from ..harness import source

MAX_FILES = 500
MAX_BYTES = 50 << 20
MAX_PY_BYTES = 2 << 20


class SubmissionProblem(Exception):
    """The submission cannot be graded as handed in; the message is for the student."""


GRADED_CODE = "graded_code.py"      # the module as graded, kept beside results.json (for the class report)


@dataclass(frozen=True)
class Staged:
    root: Path           # the stage folder
    kit: Path
    folder: Path         # what the worker imports from
    scratch: Path
    graded_file: str     # name of the file that was graded
    note: str            # why that file, when there was a choice
    sha256: str          # digest of the graded code


def digest_path(path: Path) -> str:
    """Content digest of a submission (file or folder), independent of timestamps."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        h.update(f.relative_to(path).as_posix().encode() if f != path else b"")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def extract_zip(archive: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionProblem(f"{archive.name} is not a readable zip file ({exc})") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_FILES:
            raise SubmissionProblem(f"{archive.name} holds {len(members)} files; the limit is {MAX_FILES}")
        budget = MAX_BYTES
        for info in members:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or name.parts[:1] == ("__MACOSX",):
                continue
            if name.is_absolute() or ".." in name.parts or not name.parts:
                raise SubmissionProblem(f"{archive.name}: refusing the unsafe path {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                continue
            target = dest.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise SubmissionProblem(f"{archive.name} unpacks to more than {MAX_BYTES >> 20} MB")
                    out.write(chunk)


def holds_module(folder: Path, module: str) -> bool:
    try:
        return any(source.find(folder, module, ext)[0] is not None for ext in (".py", ".ipynb"))
    except source.SourceError:
        return True                          # several candidates: reported by source.choose


def locate(folder: Path, module: str, depth: int = 3) -> Path:
    """The folder holding ``<module>.py``/``.ipynb`` (or their only near-miss): ``folder``, or
    the only folder up to ``depth`` levels down with one (students zip folders of folders).
    Several such folders: a ``SubmissionProblem`` naming them."""
    if holds_module(folder, module):
        return folder
    level = [folder]
    for _ in range(depth):
        level = [d for f in level for d in sorted(f.iterdir()) if d.is_dir() and not d.name.startswith((".", "__MACOSX"))]
        found = [d for d in level if holds_module(d, module)]
        if len(found) > 1:
            names = ", ".join(str(d.relative_to(folder)) for d in found[:5])
            raise SubmissionProblem(f"the submission holds several folders with a {module}.py or {module}.ipynb "
                                    f"({names}); hand in exactly one")
        if found:
            return found[0]
    return folder


def _inner_zip(folder: Path) -> Path | None:
    """The only .zip inside an unpacked archive that holds nothing else gradable (a zip of a zip)."""
    zips = [p for p in folder.rglob("*.zip") if "__MACOSX" not in p.parts]
    return zips[0] if len(zips) == 1 else None


def stage(submission: Path, module: str, adapters: Path | None, released: dict | None, dest: Path,
          given: dict[str, Path] | None = None, *, stubs: dict[str, str] | None = None,
          variant: str | None = None) -> Staged:
    """Stage ``submission`` under ``dest`` (see the module docstring). ``given`` maps file
    names to given code (earlier assignments' solutions), staged when the student did not
    hand in their own version; ``stubs`` and ``variant`` go to ``source.choose``."""
    kit, folder, scratch, raw = (dest / n for n in ("kit", "submission", "scratch", "raw"))
    for d in (kit / "_harness", folder, scratch / "tmp", raw):
        d.mkdir(parents=True)
    for path in harness.DIR.glob("*.py"):
        shutil.copy(path, kit / "_harness" / path.name)
    if adapters is not None:
        shutil.copy(adapters, kit / "adapters.py")

    if not submission.exists():
        raise SubmissionProblem(f"the submission {submission.name} does not exist")
    if submission.is_file() and submission.suffix.lower() == ".zip":
        extract_zip(submission, raw)
        found = locate(raw, module)
        inner = _inner_zip(raw) if not holds_module(found, module) else None
        if inner is not None:                 # a zip of a zip
            extract_zip(inner, raw / "_inner")
            found = locate(raw / "_inner", module)
    elif submission.is_file():
        shutil.copy(submission, raw / submission.name)
        found = raw
    else:
        found = locate(submission, module)
    try:
        chosen = source.choose(found, module, released, stubs=stubs, variant=variant)
    except source.SourceError as exc:
        raise SubmissionProblem(str(exc)) from None

    for path in sorted(found.rglob("*.py")):
        rel = path.relative_to(found)
        if path.stat().st_size <= MAX_PY_BYTES and not any(p.startswith(".") for p in rel.parts):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / rel)
    if chosen.path.name != f"{module}.py":    # a near-miss name, graded as <module>.py
        (folder / chosen.path.relative_to(found)).unlink(missing_ok=True)
    (folder / f"{module}.py").write_text(chosen.code, encoding="utf-8")
    for name, path in (given or {}).items():
        if not (folder / name).exists() and path.is_file():
            shutil.copy(path, folder / name)
    return Staged(dest, kit, folder, scratch, chosen.path.name, chosen.note, source.code_digest(chosen.code))
