"""A memory cgroup per sandbox: a cap on the real memory of the whole student process tree.

RLIMIT_AS caps one process's address space. It does not count memory held in files on a tmpfs
or in memfd files, and every process student code forks gets a fresh allowance of its own. A
memory cgroup counts all of it (anonymous memory, page cache, tmpfs and memfd pages) for every
process in the group, and the kernel's OOM killer stops the group's largest offender when the
limit is reached.

Groups are made inside the grader's own memory cgroup, never beside it, so whatever limit the
grader itself runs under still holds and nothing outside its own subtree is touched. Both
hierarchies work:

- cgroup v1 (`memory` controller mounted on its own): `memory.limit_in_bytes` (and
  `memory.memsw.limit_in_bytes` where swap is accounted), OOM kills counted in
  `memory.oom_control`;
- cgroup v2: `memory.max`, `memory.swap.max = 0`, OOM kills in `memory.events`. A v2 child
  group has memory files only when its parent delegates the controller (`memory` listed in the
  parent's `cgroup.subtree_control`), which a systemd service or `systemd-run --scope -p
  Delegate=yes` provides; `find()` says so when it is missing.

`find()` raises `CgroupUnavailable` with the reason; sandbox detection reports it.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "grader-"
_MOUNTINFO = Path("/proc/self/mountinfo")
_CGROUP = Path("/proc/self/cgroup")


class CgroupUnavailable(Exception):
    """No memory cgroup can be made here; the message says why."""


@dataclass(frozen=True)
class _Files:
    limit: str
    usage: str
    oom: str  # a "key value" file holding an oom_kill line
    swap: str | None  # set to the limit (v1 memsw) or to 0 (v2 swap.max) when present


_V1 = _Files("memory.limit_in_bytes", "memory.usage_in_bytes", "memory.oom_control", "memory.memsw.limit_in_bytes")
_V2 = _Files("memory.max", "memory.current", "memory.events", "memory.swap.max")


class MemoryGroup:
    """One sandbox's group. The launching shell writes its own pid to `procs` before exec."""

    def __init__(self, path: Path, files: _Files, version: int) -> None:
        self.path = path
        self._files = files
        self.version = version
        self.limit_bytes: int | None = None

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def _read(self, name: str) -> str:
        return (self.path / name).read_text()

    def _write(self, name: str, value: str) -> None:
        with open(self.path / name, "w") as f:
            f.write(value)

    def set_limit(self, limit_bytes: int) -> None:
        """Cap the group's memory; v1 keeps memory+swap >= memory, so the order depends on the direction."""
        files = self._files
        swap = self.path / files.swap if files.swap else None
        if self.version == 2:
            self._write(files.limit, str(limit_bytes))
            if swap is not None and swap.exists():
                self._write(files.swap, "0")
        else:
            raising = self.limit_bytes is not None and limit_bytes >= self.limit_bytes  # a new group is unlimited
            steps = [(files.limit, limit_bytes)]
            if swap is not None and swap.exists():
                steps = [(files.swap, limit_bytes), *steps] if raising else [*steps, (files.swap, limit_bytes)]
            for name, value in steps:
                self._write(name, str(value))
        self.limit_bytes = limit_bytes

    def usage(self) -> int:
        return int(self._read(self._files.usage).strip())

    def oom_kills(self) -> int:
        """Processes the OOM killer stopped in this group so far (0 on kernels that do not say)."""
        match = re.search(r"^oom_kill (\d+)$", self._read(self._files.oom), re.MULTILINE)
        return int(match.group(1)) if match else 0

    def remove(self, wait_s: float = 2.0) -> bool:
        """Delete the group once its processes are gone (a SIGKILLed sandbox exits asynchronously)."""
        deadline = time.monotonic() + wait_s
        pause = 0.002  # the group is usually empty within milliseconds: poll fast, then back off
        while True:
            try:
                self.path.rmdir()
                _forget(self.path)
                return True
            except FileNotFoundError:
                _forget(self.path)
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False  # left for the exit hook or the next grader's sweep
                time.sleep(pause)
                pause = min(0.02, pause * 2)


_LIVE: set[Path] = set()
_LIVE_LOCK = threading.Lock()
_COUNTER = itertools.count()


def _forget(path: Path) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(path)


@atexit.register
def _remove_leftovers() -> None:
    with _LIVE_LOCK:
        left = list(_LIVE)
    for path in left:
        try:
            path.rmdir()
        except OSError:
            pass


@dataclass(frozen=True)
class MemoryCgroups:
    """Where this process makes its sandboxes' groups: a folder in its own memory cgroup."""

    parent: Path
    version: int

    def create(self, limit_bytes: int) -> MemoryGroup:
        path = self.parent / f"{PREFIX}{os.getpid()}-{next(_COUNTER)}"
        path.mkdir()
        with _LIVE_LOCK:
            _LIVE.add(path)
        group = MemoryGroup(path, _V1 if self.version == 1 else _V2, self.version)
        try:
            group.set_limit(limit_bytes)
        except OSError:
            group.remove(wait_s=0)
            raise
        return group


def _mounts() -> list[tuple[str, str, str, str]]:
    """(root, mount point, fs type, super options) of every mount this process sees."""
    found = []
    for line in _MOUNTINFO.read_text().splitlines():
        fields = line.split()
        try:
            sep = fields.index("-")
        except ValueError:
            continue
        found.append((fields[3], fields[4], fields[sep + 1], fields[sep + 3] if len(fields) > sep + 3 else ""))
    return found


def _own_path(version: int) -> str | None:
    for line in _CGROUP.read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if version == 2 and number == "0" and controllers == "":
            return path
        if version == 1 and "memory" in controllers.split(","):
            return path
    return None


def _join(mount: str, root: str, path: str) -> Path:
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return Path(mount + path)


def _sweep_stale(parent: Path) -> None:
    """Empty groups left by graders that were killed: rmdir only succeeds on a group without processes."""
    for child in parent.glob(PREFIX + "*"):
        match = re.fullmatch(re.escape(PREFIX) + r"(\d+)-\d+", child.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # its grader is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            child.rmdir()
        except OSError:
            pass


def find() -> MemoryCgroups:
    """The memory cgroup hierarchy this process can make groups in, or CgroupUnavailable saying why."""
    try:
        mounts = _mounts()
    except OSError as exc:
        raise CgroupUnavailable(f"cannot read {_MOUNTINFO}: {exc}") from None
    v1 = [(root, point) for root, point, fstype, opts in mounts
          if fstype == "cgroup" and "memory" in opts.split(",")]
    v2 = [(root, point) for root, point, fstype, _ in mounts if fstype == "cgroup2"]
    if v1:
        root, point = v1[0]
        own = _own_path(1)
        if own is None:
            raise CgroupUnavailable("the memory controller is mounted (cgroup v1) but this process is in none of its "
                                    "groups")
        return _usable(_join(point, root, own), 1)
    if not v2:
        raise CgroupUnavailable("no cgroup filesystem with a memory controller is mounted")
    root, point = v2[0]
    own = _own_path(2)
    if own is None:
        raise CgroupUnavailable("cgroup v2 is mounted but this process is in none of its groups")
    parent = _join(point, root, own)
    controllers = _read_words(parent / "cgroup.controllers")
    if "memory" not in controllers:
        raise CgroupUnavailable(f"cgroup v2 at {point} has no memory controller (available to {parent}: "
                                f"{' '.join(sorted(controllers)) or 'none'}); on this machine it is bound to "
                                "another hierarchy or disabled")
    if "memory" not in _read_words(parent / "cgroup.subtree_control"):
        raise CgroupUnavailable(f"cgroup v2: {parent} does not delegate the memory controller to child groups "
                                "(memory is not in its cgroup.subtree_control); run the grader in a delegated "
                                "cgroup, e.g. `systemd-run --scope -p Delegate=yes grader ...`")
    return _usable(parent, 2)


def _read_words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _usable(parent: Path, version: int) -> MemoryCgroups:
    if not parent.is_dir():
        raise CgroupUnavailable(f"this process's memory cgroup {parent} is not visible here")
    if not os.access(parent, os.W_OK):
        raise CgroupUnavailable(f"cannot create groups in {parent} (cgroup v{version}): not writable by uid "
                                f"{os.geteuid()}")
    _sweep_stale(parent)
    return MemoryCgroups(parent, version)
