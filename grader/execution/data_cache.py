"""Rubric data decoded once, kept in a read-only cache the students cannot reach.

A rubric's `[prepared]` table names a function of its checks module that turns a `[data]` folder
(MNIST's gzipped IDX files) into plain arrays. Decoding and preprocessing them in every sandbox
cost more than the checks themselves, so the grader runs that function once, in its own process
(the rubric is trusted code, the data the course's), and stores the arrays as `.npy` files in
`<cache>/prepared/<name>-<key>/`. The key hashes the source folder's files, the function's source
and numpy's version, so a new data file or a new preprocessing gives a new folder and a stale one
is never read. The folder is written under a temporary name and renamed into place (two workers
preparing at once both end with the same complete folder), its files are made read-only, and it
is mounted read-only into the sandbox like any `[data]` folder. `.npy` files are read with
`allow_pickle=False`.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader.cache_dir import cache_root

Prepare = Callable[[Path], dict[str, np.ndarray]]

_lock = threading.Lock()
_digests: dict[tuple[str, int, int], str] = {}
_loaded: dict[str, dict[str, np.ndarray]] = {}


def folder_digest(folder: Path) -> str:
    """Hash of every file's name and bytes in `folder` (remembered per process by name, size and mtime)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in _digests:
            _digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        h.update(f"{path.relative_to(folder)}\0{_digests[key]}\0".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _source_of(prepare: Prepare) -> str:
    """The function's source, read once per process: a grading job asks for the key a dozen times,
    and inspect reads and tokenises the whole checks module each time (a millisecond or more)."""
    try:
        return inspect.getsource(prepare)
    except (OSError, TypeError):
        return repr(prepare)


def prepared_key(source: Path, prepare: Prepare) -> str:
    h = hashlib.sha256(folder_digest(source).encode())
    h.update(_source_of(prepare).encode())
    h.update(np.__version__.encode())
    return h.hexdigest()[:20]


def prepared_folder(name: str, source: Path, prepare: Prepare, root: Path | None = None) -> Path:
    """The cached folder of `prepare(source)`'s arrays, built now if it is not there yet."""
    root = root or cache_root()
    target = root / "prepared" / f"{name}-{prepared_key(source, prepare)}"
    if target.is_dir():
        return target
    with _lock:
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        arrays = prepare(source)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
        try:
            for key, value in arrays.items():
                if not key.isidentifier():
                    raise ValueError(f"prepared array names must be identifiers, not {key!r}")
                np.save(work / f"{key}.npy", np.asarray(value), allow_pickle=False)
                os.chmod(work / f"{key}.npy", 0o444)
            os.chmod(work, 0o555)  # the sandbox's user reads it; nobody writes it
            try:
                os.rename(work, target)
            except OSError:  # another worker renamed its identical folder first
                if not target.is_dir():
                    raise
        finally:
            if work.exists():
                os.chmod(work, 0o755)
                shutil.rmtree(work, ignore_errors=True)
    return target


def load_prepared(folder: Path | str, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a prepared folder (all, or those named), read once per process, never unpickled."""
    key = str(folder)
    with _lock:
        cached = _loaded.setdefault(key, {})
        wanted = names or tuple(p.stem for p in sorted(Path(folder).glob("*.npy")))
        for name in wanted:
            if name not in cached:
                # mapped, not read: a process pays only for the pages it touches, and worker processes
                # share them through the page cache
                cached[name] = np.load(Path(folder) / f"{name}.npy", allow_pickle=False, mmap_mode="r")
        return {name: cached[name] for name in wanted}
