"""Turning what a student handed in into a private directory the student process can run in.

The original folder or zip is only ever read. Its files are copied (or safely unpacked) into
a fresh directory; archive members that would land outside it, links, compiled bytecode and
archives that unpack to absurd sizes are refused with a message the TA can act on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILES = 5000
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_FILE_BYTES = 100 * 1024 * 1024
JUNK_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints", "__pycache__", ".git"}
JUNK_SUFFIXES = (".pyc", ".pyo")


class SubmissionError(Exception):
    """The submission itself cannot be read (broken zip, zip bomb...): the student's problem, said clearly."""


@dataclass
class Workspace:
    """A prepared submission: `root` is the private copy laid out as the starter expects."""

    submission_id: str
    source: Path
    root: Path
    content_hash: str
    notes: list[str] = field(default_factory=list)

    def find(self, relpath: str) -> Path | None:
        path = self.root / relpath
        return path if path.is_file() else None

    def locate_elsewhere(self, relpath: str) -> list[str]:
        """Where a misplaced file with the expected name sits, to tell the student where it should go."""
        name = Path(relpath).name
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob(name) if p.is_file())[:5]


def discover(folder: Path) -> list[Path]:
    """Each sub-folder or .zip of `folder` is one submission, named by its folder or zip name."""
    items = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]
    return [p for p in items if p.is_dir() or p.suffix.lower() == ".zip"]


def submission_id(path: Path) -> str:
    return path.stem if path.suffix.lower() == ".zip" and path.is_file() else path.name


def is_junk(parts: tuple[str, ...]) -> bool:
    return any(part in JUNK_NAMES for part in parts) or parts[-1].endswith(JUNK_SUFFIXES)


def member_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    """An archive entry's path as parts: backslashes (zips made on Windows) as separators, empty and
    '.' parts dropped."""
    return tuple(p for p in info.filename.replace("\\", "/").split("/") if p not in ("", "."))


def unsafe_member(info: zipfile.ZipInfo, parts: tuple[str, ...]) -> str | None:
    """Why an entry must not be unpacked: "outside" (an absolute path, '..', a drive letter) or
    "symlink"; None when it is safe. Every reader of untrusted zips asks this one function."""
    if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        return "outside"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symlink"
    return None


def _copy_tree(source: Path, dest: Path, notes: list[str]) -> None:
    count = 0
    total = 0
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        rel_dir = Path(dirpath).relative_to(source)
        dirnames[:] = [d for d in sorted(dirnames) if not is_junk((*rel_dir.parts, d))
                       and not (Path(dirpath) / d).is_symlink()]
        for name in sorted(filenames):
            src = Path(dirpath) / name
            rel = rel_dir / name
            if is_junk(rel.parts):
                continue
            st = src.lstat()
            if not stat.S_ISREG(st.st_mode):
                notes.append(f"ignored {rel}: not a regular file (links are not followed)")
                continue
            count += 1
            total += st.st_size
            if count > MAX_FILES or total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"the submission holds more than {MAX_FILES} files or "
                                      f"{MAX_TOTAL_BYTES // 2**20} MB; remove data sets and outputs")
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    for d in [d for d in sorted(source.rglob("*")) if d.is_symlink() and d.is_dir()]:
        notes.append(f"ignored {d.relative_to(source)}/: symbolic link to a folder")


def _unpack_zip(archive: Path, dest: Path, notes: list[str]) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: a name that is not the UTF-8 it claims
        raise SubmissionError(f"{archive.name} is not a readable zip archive ({exc}); "
                              "re-create it with a zip tool and submit again") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_FILES:
            raise SubmissionError(f"{archive.name} holds {len(members)} entries (limit {MAX_FILES})")
        total = 0
        unpacked: set[tuple[str, ...]] = set()
        for info in members:
            parts = member_parts(info)
            if not parts or info.is_dir():
                continue
            risk = unsafe_member(info, parts)
            if risk == "outside":
                notes.append(f"refused archive entry {info.filename!r}: it points outside the submission")
                continue
            if risk == "symlink":
                notes.append(f"ignored archive entry {info.filename!r}: symbolic link")
                continue
            if is_junk(parts):
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise SubmissionError(f"{info.filename} unpacks to {info.file_size} bytes (limit {MAX_FILE_BYTES})")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB")
            if parts in unpacked:
                notes.append(f"archive entry {info.filename!r} appears more than once; the last copy was used")
            unpacked.add(parts)
            if info.flag_bits & 0x1:
                raise SubmissionError(f"{archive.name}: {info.filename} is encrypted; zip the files again without a "
                                      "password and submit again")
            target = dest.joinpath(*parts)
            written = 0
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size or written > MAX_FILE_BYTES:  # lying headers
                            raise SubmissionError(f"{info.filename} unpacks to more than it declares")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                    ValueError) as exc:
                raise SubmissionError(f"{archive.name}: cannot unpack {info.filename} ({exc})") from None


def _unwrap(root: Path, expected: tuple[str, ...], notes: list[str]) -> Path:
    """Descend through single wrapping folders (`hw4/`, `submission/hw4/`) to the starter layout."""
    current = root
    for _ in range(3):
        if any((current / rel).exists() for rel in expected):
            break
        entries = [p for p in current.iterdir()]
        dirs = [p for p in entries if p.is_dir()]
        if len(dirs) == 1 and all(p.is_dir() or p.name.startswith(".") for p in entries):
            notes.append(f"used the wrapping folder {dirs[0].relative_to(root)}/ as the submission root")
            current = dirs[0]
        else:
            break
    return current


def content_hash(source: Path) -> str:
    """A fingerprint of what was handed in (zip bytes, or every file of a folder), to skip unchanged work."""
    digest = hashlib.sha256()
    if source.is_file():
        with open(source, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    total = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        size = path.stat().st_size
        total += size
        if total > MAX_TOTAL_BYTES:  # refused anyway: its size and time are enough to notice a change
            digest.update(f"{size}:{path.stat().st_mtime_ns}".encode())
            continue
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _readable(top: Path) -> None:
    """The copy is read by the sandbox's own unprivileged uid, whatever the grader's umask."""
    for dirpath, _, filenames in os.walk(top):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


def prepare(source: Path, into: Path, expected: tuple[str, ...]) -> Workspace:
    """Copy or unpack `source` into `into`/files and find the starter layout inside it."""
    notes: list[str] = []
    files = into / "files"
    files.mkdir(parents=True)
    if source.is_dir():
        _copy_tree(source, files, notes)
    else:
        _unpack_zip(source, files, notes)
    _readable(files)
    root = _unwrap(files, expected, notes)
    return Workspace(submission_id(source), source, root, content_hash(source), notes)
