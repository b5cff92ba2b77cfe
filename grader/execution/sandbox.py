"""Isolation levels for the student process, detected at start-up, strongest first.

`bwrap+uid+cgroup` (root grader, memory cgroups available): `bwrap+uid` plus a memory cgroup per
sandbox (`cgroup.py`), which caps the real memory of the whole student process tree, memory in
files and in forked children included, where RLIMIT_AS caps one process's address space.

`bwrap+uid` (root grader): bubblewrap without a user namespace gives the student process its
own pid, network, ipc and uts namespaces and a filesystem made only of /usr, the Python
installation, the grader's execution package, the rubric's probes and a read-only copy of the
submission, plus a size-capped private /tmp. Inside, `setpriv` drops to an unprivileged uid of
its own (one per concurrent submission, so RLIMIT_NPROC counts only that submission) with no
capabilities. A root child could otherwise rewrite the grader's memory through /proc.
A seccomp filter (`seccomp.py`) refuses new namespaces, mounts, ptrace and memory files, which
would otherwise let student code step around the limits; the full levels require it.

`bwrap` (non-root grader, or no setpriv): the same namespaces and filesystem through an
unprivileged user namespace, without a uid of its own; the seccomp filter when it can be built.

`process`: a separate interpreter with rlimits and watchdogs only (and the seccomp filter, loaded
by `seccomp_exec.py`, when it can be built). Student code can read the disk and use the network;
every report says so loudly.

`GRADER_SANDBOX=process|bwrap|bwrap+uid|bwrap+uid+cgroup` forces a level (for tests and for machines where a
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

from grader.execution import cgroup as cgroup_mod
from grader.execution import seccomp as seccomp_mod

TMP_SIZE = 64 * 1024 * 1024
# POSIX semaphores and shared memory live in /dev/shm: multiprocessing's locks and pools (joblib
# too) need it writable; bubblewrap's own /dev leaves it to root
SHM_SIZE = 16 * 1024 * 1024
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


_BWRAP = "bubblewrap (own pid/net/ipc/uts namespaces; read-only minimal filesystem; 64 MB private /tmp)"
LEVELS = {
    "bwrap+uid+cgroup": Level("bwrap+uid+cgroup", True,
                              f"full: {_BWRAP} + unprivileged uid per submission + seccomp filter + memory cgroup "
                              "per sandbox + rlimits + wall-clock watchdog"),
    "bwrap+uid": Level("bwrap+uid", True,
                       f"full: {_BWRAP} + unprivileged uid per submission + seccomp filter + rlimits (memory capped "
                       "per process, no memory cgroup) + wall-clock watchdog"),
    "bwrap": Level("bwrap", False,
                   f"WEAK (no uid of its own): {_BWRAP} in a user namespace + rlimits + wall-clock watchdog"),
    "process": Level("process", False,
                     "WEAK (UNSAFE: no filesystem, network or uid isolation): separate interpreter, "
                     "fork per task, rlimits, wall-clock watchdog"),
}
SECCOMP_FD = 9  # the descriptor the launching shell opens the filter on, for bwrap --seccomp
# the launching shell: join the memory cgroup ($1, if any), open the seccomp filter ($2, if any) on
# SECCOMP_FD, then become the sandbox; it runs as the grader, before bwrap
_LAUNCH = (f'if [ -n "$1" ]; then echo $$ >"$1" || exit 125; fi; '
           f'if [ -n "$2" ]; then exec {SECCOMP_FD}<"$2" || exit 125; fi; shift 2; exec "$@"')
_SECCOMP_EXEC = str(Path(__file__).with_name("seccomp_exec.py"))


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
    """One isolation level, ready to wrap commands.

    `seccomp=False` leaves the filter out: a weak level where it cannot be built (the reason is
    in `seccomp_problem`), or a test's control run.
    """

    def __init__(self, level: Level, python: str, *, seccomp: bool = True) -> None:
        self.level = level
        self.python = python
        self.seccomp = seccomp
        self.seccomp_problem: str | None = None
        self._python_paths: list[str] | None = None
        self._cgroups: cgroup_mod.MemoryCgroups | None = None

    @property
    def isolates(self) -> bool:
        return self.level.name != "process"

    @property
    def drops_uid(self) -> bool:
        return self.level.name.startswith("bwrap+uid")

    @property
    def memory_cgroups(self) -> bool:
        return self.level.name == "bwrap+uid+cgroup"

    @property
    def description(self) -> str:
        """The level as reports show it; a weak level says whether the seccomp filter is on."""
        if self.level.full:
            return self.level.description
        if self.seccomp:
            return self.level.description + "; seccomp filter"
        return self.level.description + f"; no seccomp filter ({self.seccomp_problem or 'turned off'})"

    def memory_group(self, limit_bytes: int) -> cgroup_mod.MemoryGroup | None:
        """A fresh memory cgroup for one sandbox at the cgroup level (None at other levels); the caller removes it."""
        if not self.memory_cgroups:
            return None
        if self._cgroups is None:
            self._cgroups = cgroup_mod.find()
        return self._cgroups.create(limit_bytes)

    def confine(self, argv: list[str]) -> list[str]:
        """`argv` under the seccomp filter without bubblewrap: the `process` level's only kernel-side layer."""
        if not self.seccomp:
            return argv
        return [self.python, "-I", "-S", _SECCOMP_EXEC, str(seccomp_mod.filter_file()), "--", *argv]

    def python_paths(self) -> list[str]:
        if self._python_paths is None:
            self._python_paths = _python_binds(self.python)
        return self._python_paths

    def wrap(self, argv: list[str], *, root: Path | None, probes: Path | None, grader_src: str, uid: int | None,
             extra: tuple[tuple[str, str, bool], ...] = (), env: dict[str, str] | None = None,
             chdir: str = "/tmp", memory: cgroup_mod.MemoryGroup | None = None) -> list[str]:
        """The command that runs `argv` at this level.

        Inside, the submission copy is SUBMISSION_MOUNT and the probes PROBES_MOUNT (read-only);
        `extra` adds (host, inside, writable) binds; `env` replaces the whole environment;
        `memory` is the sandbox's memory cgroup, joined before bubblewrap starts.
        """
        if not self.isolates:
            return self.confine(argv)
        made: set[str] = set()
        args = ["bwrap", "--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        args += ["--dev", "/dev", "--perms", "1777", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm",
                 "--proc", "/proc", "--perms", "1777", "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]
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
        if self.seccomp:
            args += ["--seccomp", str(SECCOMP_FD)]
        if self.seccomp or memory is not None:
            launch = ["/bin/sh", "-c", _LAUNCH, "sh", str(memory.procs) if memory is not None else "",
                      str(seccomp_mod.filter_file()) if self.seccomp else ""]
            args = [*launch, *args]
        if self.drops_uid:
            assert uid is not None
            return args + ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                           "--inh-caps=-all", "--bounding-set=-all", "--", *argv]
        return args + ["--unshare-user", "--cap-drop", "ALL", "--", *argv]


def _try(level: Level, python: str) -> tuple[Sandbox | None, str | None]:
    """The level's sandbox when it works here, else None and why not."""
    sandbox = Sandbox(level, python)
    try:
        seccomp_mod.filter_file()
    except seccomp_mod.SeccompUnavailable as exc:
        if level.full:
            return None, f"no seccomp filter: {exc}"
        sandbox.seccomp, sandbox.seccomp_problem = False, str(exc)
    if sandbox.isolates:
        if shutil.which("bwrap") is None:
            return None, "bwrap is not installed (Debian package bubblewrap)"
        if sandbox.drops_uid:
            if os.geteuid() != 0:
                return None, "needs a root grader to switch to an unprivileged uid"
            if shutil.which("setpriv") is None:
                return None, "setpriv is not installed (util-linux)"
    problem = _check(sandbox)
    if problem and sandbox.seccomp and not level.full:  # a weak level still runs, without the filter
        sandbox.seccomp, sandbox.seccomp_problem = False, f"the filter did not load: {problem}"
        problem = _check(sandbox)
    return (None, problem) if problem else (sandbox, None)


def _check(sandbox: Sandbox) -> str | None:
    """Run a tiny student-side program at this level: None when it saw what the level promises."""
    python = sandbox.python
    here = Path(__file__).resolve()
    grader_src = str(here.parents[2])
    check = ("import os, sys, numpy; "
             "assert not os.path.exists(sys.argv[1]), 'the grader package is visible'; "
             "assert os.getuid() != 0 or sys.argv[2] != 'uid', 'still root'; "
             "status = open('/proc/self/status').read(); "
             "assert sys.argv[3] != 'seccomp' or 'Seccomp:\\t2' in status, 'no seccomp filter'; print('ok')")
    argv = [python, "-I", "-c", check, os.path.join(grader_src, "grader", "judgement"),
            "uid" if sandbox.drops_uid else "-", "seccomp" if sandbox.seccomp else "-"]
    if not sandbox.isolates:
        argv[4] = "/nonexistent"  # the process level sees the grader's files: nothing to check there
    memory = None
    uid = UIDS.acquire() if sandbox.drops_uid else None
    try:
        if sandbox.memory_cgroups:
            try:
                memory = sandbox.memory_group(512 * 1024 * 1024)
            except (cgroup_mod.CgroupUnavailable, OSError) as exc:
                return f"no memory cgroup: {exc}"
        cmd = sandbox.wrap(argv, root=here.parent, probes=here, grader_src=grader_src, uid=uid, memory=memory)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError, seccomp_mod.SeccompUnavailable) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        if uid is not None:
            UIDS.release(uid)
        if memory is not None:
            memory.remove()
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
            sandbox, problem = _try(LEVELS[forced], python)
            if sandbox is None:
                raise SandboxUnavailable(f"GRADER_SANDBOX={forced} does not work here: {problem}")
            found = (sandbox, [(forced, None)])
        else:
            tried: list[tuple[str, str | None]] = []
            chosen = None
            for level in LEVELS.values():
                sandbox, problem = _try(level, python)
                tried.append((level.name, problem))
                if sandbox is not None:
                    chosen = sandbox
                    break
            assert chosen is not None  # `process` always works
            found = (chosen, tried)
        _CACHE[key] = found
        return found
