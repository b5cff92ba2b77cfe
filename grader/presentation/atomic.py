"""Crash-safe file writes, so a reader never sees a half-written report or gradebook."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace `path` with `text` (UTF-8, no newline translation, so CSV `\\r\\n` rows survive)."""
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` all at once.

    A grading run can be interrupted (Ctrl-C, OOM, power) while a TA has the gradebook open or
    a sync job is copying it; writing a temp file in the same directory, fsyncing it and then
    `os.replace`-ing it means readers see either the old file or the new one, never a truncated mix.

    `durable=False` skips both fsyncs: readers still never see a mix, but after a power cut the
    file may be missing or empty. Only for derived files that are drawn again when they are found
    missing or stale (similarity's pair pages, which end with their key); call `sync_dir` once
    after writing a batch of them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, data, durable=durable)
    if durable:
        sync_dir(path.parent)


def write_files_atomic(folder: Path, files: dict[str, bytes]) -> None:
    """Replace several files of one folder, each all at once, with one fsync of the folder at the end
    (a submission's four or five files: the renames are made durable together, not one by one)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folders = {folder}
    for name, data in files.items():
        path = folder / name
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        _replace(path, data)
    for changed in folders:
        sync_dir(changed)


def _replace(path: Path, data: bytes, *, durable: bool = True) -> None:
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        # mkstemp creates 0600 files; keep an existing file's mode, else use a normal 0644 so a
        # web server or a TA's account can still read the report after the swap.
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def sync_dir(directory: Path) -> None:
    """Make the renames done in `directory` durable (best effort: not possible on every platform);
    one fsync can cover a batch of files."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
