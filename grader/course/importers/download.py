"""A read-only view of a download: a zip as the course system served it, or the folder it was
unpacked into. Nothing here writes; entries that would leave the download (absolute paths, `..`),
links and absurd sizes are refused and reported, as the grader does for a student's own zip.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.execution.workspace import JUNK_NAMES, MAX_FILE_BYTES, MAX_TOTAL_BYTES, is_junk, member_parts, unsafe_member

MAX_ENTRIES = 100_000  # a class's download, not one submission: far more than a student's zip


class DownloadError(Exception):
    """The download itself cannot be read (not a zip, not a folder, too large)."""


@dataclass(frozen=True)
class Entry:
    path: PurePosixPath
    read: Callable[[], bytes]
    size: int


def read_download(download: Path, refused: list[str]) -> list[Entry]:
    """Every regular file of the download, junk (`__MACOSX`, `.DS_Store`) left out; refused
    entries are named in `refused`."""
    if download.is_dir():
        return _read_folder(download, refused)
    if download.is_file():
        return _read_zip(download, refused)
    raise DownloadError(f"{download}: no such file or folder")


def _read_folder(root: Path, refused: list[str]) -> list[Entry]:
    entries: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(d for d in dirnames if d not in JUNK_NAMES)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = PurePosixPath(*rel_dir.parts, name)
            if is_junk(rel.parts):
                continue
            st = full.lstat()
            if not stat.S_ISREG(st.st_mode):
                refused.append(f"{rel}: not a regular file (links are not followed)")
                continue
            entries.append(Entry(rel, full.read_bytes, st.st_size))
    return entries


def _read_zip(archive: Path, refused: list[str]) -> list[Entry]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DownloadError(f"{archive}: not a readable zip archive ({exc})") from None
    members = zf.infolist()
    if len(members) > MAX_ENTRIES:
        raise DownloadError(f"{archive}: {len(members)} entries (limit {MAX_ENTRIES})")
    entries: list[Entry] = []
    for info in members:
        parts = member_parts(info)
        if info.is_dir() or not parts:
            continue
        risk = unsafe_member(info, parts)
        if risk == "outside":
            refused.append(f"{info.filename}: the path points outside the download")
            continue
        if risk == "symlink":
            refused.append(f"{info.filename}: a symbolic link")
            continue
        if is_junk(parts):
            continue
        if info.file_size > MAX_FILE_BYTES:
            refused.append(f"{info.filename}: {info.file_size} bytes (limit {MAX_FILE_BYTES})")
            continue
        entries.append(Entry(PurePosixPath(*parts), _member_reader(archive, info), info.file_size))
    return entries


def _member_reader(archive: Path, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(archive) as zf, zf.open(info) as src:
            data = src.read(MAX_FILE_BYTES + 1)
        if len(data) > min(info.file_size, MAX_FILE_BYTES):  # a header that lies about the size
            raise DownloadError(f"{info.filename} unpacks to more than it declares")
        return data

    return read


def unpack_archive_bytes(data: bytes, name: str, refused: list[str]) -> list[tuple[PurePosixPath, bytes]]:
    """A zip a student handed in (Canvas `..._hw4.zip`), unpacked in memory with the same refusals."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        refused.append(f"{name}: not a readable zip archive ({exc}); kept as it is")
        return []
    out: list[tuple[PurePosixPath, bytes]] = []
    total = 0
    with zf:
        for info in zf.infolist():
            parts = member_parts(info)
            if info.is_dir() or not parts or is_junk(parts):
                continue
            risk = unsafe_member(info, parts)
            if risk == "outside":
                refused.append(f"{name}: {info.filename}: the path points outside the submission")
                continue
            if risk == "symlink":
                refused.append(f"{name}: {info.filename}: a symbolic link")
                continue
            total += info.file_size
            if info.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                refused.append(f"{name}: unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB; kept as it is")
                return []
            with zf.open(info) as src:
                content = src.read(info.file_size + 1)
            if len(content) > info.file_size:
                refused.append(f"{name}: {info.filename} unpacks to more than it declares; kept as it is")
                return []
            out.append((PurePosixPath(*parts), content))
    return out
