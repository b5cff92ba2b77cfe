"""Isolation levels for the student process, detected at start-up, strongest first.

`bwrap+uid` (root grader): bubblewrap without a user namespace gives the student process its
own pid, network, ipc and uts namespaces and a filesystem made only of /usr, the Python
installation, the grader's execution package, the rubric's probes and a read-only copy of the
submission, plus a size-capped private /tmp. Inside, `setpriv` drops to an unprivileged uid of
its own (one per concurrent submission, so RLIMIT_NPROC counts only that submission) with no
capabilities. A root child could otherwise rewrite the grader's memory through /proc.

`bwrap` (non-root grader, or no setpriv): the same namespaces and filesystem through an
unprivileged user namespace, without a uid of its own.

`process`: a separate interpreter with rlimits and watchdogs only. Student code can read the
disk and use the network; every report says so loudly.

`GRADER_SANDBOX=process|bwrap|bwrap+uid` forces a level (for tests and for machines where a
probe misjudges); a forced level that does not work is an error, not a silent downgrade.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

TMP_SIZE = 64 * 1024 * 1024
UID_BASE = 61000
UID_SLOTS = 1024
SUBMISSION_MOUNT = "/submission"
PROBES_MOUNT = "/grader/probes.py"
DATA_MOUNT = "/data"  # read-only data folders (the starter's mnist_data)
# one BLAS thread in every student process and kernel: a worker grades one submission per core,
# and a BLAS that spreads over all cores would make two workers fight over them
SINGLE_THREAD_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Level:
    name: str
    full: bool
    description: str


LEVELS = {
    "bwrap+uid": Level("bwrap+uid", True,
                       "full: bubblewrap (own pid/net/ipc/uts namespaces; read-only minimal filesystem; "
                       "64 MB private /tmp) + unprivileged uid per submission + rlimits + wall-clock watchdog"),
    "bwrap": Level("bwrap", False,
                   "WEAK (no uid of its own): bubblewrap in a user namespace (own pid/net/ipc/uts namespaces; "
                   "read-only minimal filesystem; 64 MB private /tmp) + rlimits + wall-clock watchdog"),
    "process": Level("process", False,
                     "WEAK (UNSAFE: no filesystem, network or uid isolation): separate interpreter, "
                     "fork per task, rlimits, wall-clock watchdog"),
}


class SandboxUnavailable(Exception):
    """A forced level that this machine cannot provide."""


class _UidPool:
    """Distinct uids for concurrent sandboxes, machine-wide: RLIMIT_NPROC is counted per uid.

    A uid is held with an advisory lock on a file of its own, so worker processes, Dask workers
    and two graders on one machine never share one; the kernel drops the lock if the holder dies.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # uid -> fd of its lock file
        self._folder = folder

    def _lock_dir(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.gettempdir()) / f"grader-uids-{os.geteuid()}"
        self._folder.mkdir(mode=0o700, exist_ok=True)
        return self._folder

    def acquire(self) -> int:
        with self._lock:
            folder = self._lock_dir()
            for uid in range(UID_BASE, UID_BASE + UID_SLOTS):
                if uid in self._held:
                    continue
                fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise RuntimeError(f"more than {UID_SLOTS} concurrent sandboxes on this machine")

    def release(self, uid: int) -> None:
        with self._lock:
            fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the lock


UIDS = _UidPool()


@dataclass
class Mounts:
    """Host paths the student process needs, as (host, sandbox) pairs, all read-only."""

    binds: list[tuple[str, str]] = field(default_factory=list)


def _python_binds(python: str) -> list[str]:
    """The interpreter, its installation and its virtualenv, wherever they live."""
    probe = subprocess.run([python, "-I", "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"],
                           capture_output=True, text=True, check=True, timeout=60)
    prefixes = [line for line in probe.stdout.splitlines() if line]
    real = os.path.realpath(python)
    paths = {*prefixes, os.path.dirname(os.path.dirname(real))}
    return sorted(p for p in paths if p and not p.startswith("/usr/"))


def _mkdirs(target: str, made: set[str]) -> list[str]:
    """Create a bind target's missing ancestors world-traversable: bwrap would copy the host's
    modes, and /root is 0700, which an unprivileged uid cannot cross."""
    args: list[str] = []
    parts = Path(target).parts[1:-1]
    current = ""
    for part in parts:
        current += "/" + part
        if current in ("/usr", "/tmp", "/proc", "/dev") or current in made:
            continue
        made.add(current)
        args += ["--perms", "0755", "--dir", current]
    return args


class Sandbox:
    def __init__(self, level: Level, python: str) -> None:
        self.level = level
        self.python = python
        self._python_paths: list[str] | None = None

    @property
    def isolates(self) -> bool:
        return self.level.name != "process"

    @property
    def drops_uid(self) -> bool:
        return self.level.name == "bwrap+uid"

    def python_paths(self) -> list[str]:
        if self._python_paths is None:
            self._python_paths = _python_binds(self.python)
        return self._python_paths

    def wrap(self, argv: list[str], *, root: Path | None, probes: Path | None, grader_src: str, uid: int | None,
             extra: tuple[tuple[str, str, bool], ...] = (), env: dict[str, str] | None = None,
             chdir: str = "/tmp") -> list[str]:
        """The command that runs `argv` at this level.

        Inside, the submission copy is SUBMISSION_MOUNT and the probes PROBES_MOUNT (read-only);
        `extra` adds (host, inside, writable) binds; `env` replaces the whole environment.
        """
        if not self.isolates:
            return argv
        made: set[str] = set()
        args = ["bwrap", "--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        args += ["--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]
        binds = [(p, p, False) for p in self.python_paths()]
        if root is not None:
            binds.append((str(root), SUBMISSION_MOUNT, False))
        if probes is not None:
            binds.append((str(probes), PROBES_MOUNT, False))
        for host, inside, writable in (*binds, *extra):
            args += _mkdirs(inside, made) + ["--bind" if writable else "--ro-bind", host, inside]
        # only the execution layer of the grader is visible: not judgement, rubrics or references
        package = os.path.join(grader_src, "grader")
        args += _mkdirs(package + "/x", made) + ["--tmpfs", package]
        args += ["--ro-bind", os.path.join(package, "__init__.py"), os.path.join(package, "__init__.py"),
                 "--ro-bind", os.path.join(package, "execution"), os.path.join(package, "execution")]
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                 "--die-with-parent", "--new-session", "--chdir", chdir]
        if env is not None:
            args += ["--clearenv"]
            for key, value in env.items():
                args += ["--setenv", key, value]
        if self.drops_uid:
            assert uid is not None
            return args + ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                           "--inh-caps=-all", "--bounding-set=-all", "--", *argv]
        return args + ["--unshare-user", "--cap-drop", "ALL", "--", *argv]


def _try(level: Level, python: str) -> str | None:
    """None when the level works here, else why not."""
    sandbox = Sandbox(level, python)
    if not sandbox.isolates:
        return None
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian package bubblewrap)"
    if sandbox.drops_uid:
        if os.geteuid() != 0:
            return "needs a root grader to switch to an unprivileged uid"
        if shutil.which("setpriv") is None:
            return "setpriv is not installed (util-linux)"
    here = Path(__file__).resolve()
    grader_src = str(here.parents[2])
    check = ("import os, sys, numpy; "
             "assert not os.path.exists(sys.argv[1]), 'the grader package is visible'; "
             "assert os.getuid() != 0 or len(sys.argv) < 3; print('ok')")
    argv = [python, "-I", "-c", check, os.path.join(grader_src, "grader", "judgement")]
    if sandbox.drops_uid:
        argv.append("uid")
    uid = UIDS.acquire()
    try:
        cmd = sandbox.wrap(argv, root=here.parent, probes=here, grader_src=grader_src, uid=uid)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        UIDS.release(uid)
    if done.returncode != 0 or "ok" not in done.stdout:
        return (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    return None


_CACHE: dict[str, tuple[Sandbox, list[tuple[str, str | None]]]] = {}
_CACHE_LOCK = threading.Lock()


def detect(python: str) -> tuple[Sandbox, list[tuple[str, str | None]]]:
    """The strongest level that works for `python`, and for each level tried, why it failed (or None)."""
    forced = os.environ.get("GRADER_SANDBOX", "").strip()
    key = f"{python}\0{forced}"
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if forced:
            if forced not in LEVELS:
                raise SandboxUnavailable(f"GRADER_SANDBOX={forced!r}: choose one of {', '.join(LEVELS)}")
            problem = _try(LEVELS[forced], python)
            if problem:
                raise SandboxUnavailable(f"GRADER_SANDBOX={forced} does not work here: {problem}")
            found = (Sandbox(LEVELS[forced], python), [(forced, None)])
        else:
            tried: list[tuple[str, str | None]] = []
            chosen = None
            for level in LEVELS.values():
                problem = _try(level, python)
                tried.append((level.name, problem))
                if problem is None:
                    chosen = Sandbox(level, python)
                    break
            assert chosen is not None  # `process` always works
            found = (chosen, tried)
        _CACHE[key] = found
        return found
