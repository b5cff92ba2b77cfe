"""The seccomp filter and the memory cgroup around student code.

Each blocked syscall family is called from a probe inside the full sandbox, where every call
must fail with EPERM (clone3 with ENOSYS, so that libc falls back to clone). The control runs
the very same calls in the same kind of probe child at the `process` level with the filter
left out, as root: there each call gets a different answer (success, EFAULT, ENOENT, ...),
which shows the probe sees what the filter changes. The arguments are chosen so that no call
does anything outside the filter either (bad addresses, paths that do not exist).

The legitimate side: threads (clone with thread flags), fork, multiprocessing, subprocess
and matplotlib still work under the filter.
"""

from __future__ import annotations

import errno
import os
import platform
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.execution import cgroup as cgroup_mod
from grader.execution import seccomp as seccomp_mod
from grader.execution.sandbox import LEVELS, Sandbox
from grader.execution.session import Limits, ModuleSession, SessionConfig

ISOLATION = shutil.which("bwrap") is not None and shutil.which("setpriv") is not None and os.geteuid() == 0
needs_isolation = pytest.mark.skipif(not ISOLATION, reason="bubblewrap/setpriv not installed or the grader is not "
                                     "root (CI installs bubblewrap and runs as root)")
needs_x86_64 = pytest.mark.skipif(platform.machine() != "x86_64", reason="the probes use x86-64 syscall numbers")


def _cgroup_problem() -> str | None:
    try:
        cgroup_mod.find()
    except cgroup_mod.CgroupUnavailable as exc:
        return str(exc)
    return None


CGROUP_PROBLEM = _cgroup_problem()
needs_cgroup = pytest.mark.skipif(CGROUP_PROBLEM is not None, reason=f"no memory cgroup here: {CGROUP_PROBLEM}")

MB = 1024 * 1024
LIMITS = Limits(time_s=20, memory_mb=1024)

PROBES = '''\
import ctypes
import os

import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
BAD = ctypes.c_void_p(1)  # an address nothing maps: EFAULT wherever the kernel reads it
NOWHERE = b"/nonexistent-grader-path"
NR = {"unshare": 272, "setns": 308, "clone": 56, "clone3": 435, "mount": 165, "umount2": 166, "pivot_root": 155,
      "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
      "open_tree_attr": 467, "mount_setattr": 442, "ptrace": 101, "process_vm_readv": 310,
      "process_vm_writev": 311, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
      "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
      "io_uring_register": 427, "memfd_create": 319, "memfd_secret": 447}
CLONE_NEWUSER, CLONE_FS = 0x10000000, 0x200


def _calls(family):
    return {
        # unshare(1): an invalid flag; clone(NEWUSER|FS): an invalid pair; clone3 with no struct
        "namespaces": {"unshare": (0x1,), "setns": (-1, 0), "clone": (CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0),
                       "clone3": (0, 0)},
        "mount": {"mount": (None, NOWHERE, BAD, 0, None), "umount2": (NOWHERE, 0), "pivot_root": (BAD, BAD),
                  "fsopen": (b"nonexistent-grader-fs", 0), "fsconfig": (-1, 0, None, None, 0),
                  "fsmount": (-1, 0, 0), "fspick": (-1, NOWHERE, 0), "move_mount": (-1, NOWHERE, -1, NOWHERE, 0),
                  "open_tree": (-1, NOWHERE, 0), "open_tree_attr": (-1, NOWHERE, 0, None, 0),
                  "mount_setattr": (-1, NOWHERE, 0, None, 0)},
        # PEEKDATA on a process this one does not trace; zero-length reads and writes of itself
        "ptrace": {"ptrace": (2, os.getppid(), 0, 0), "process_vm_readv": (os.getpid(), None, 0, None, 0, 0),
                   "process_vm_writev": (os.getpid(), None, 0, None, 0, 0)},
        "keyring": {"keyctl": (0, -2, 0), "add_key": (BAD, BAD, None, 0, -2), "request_key": (BAD, BAD, None, 0)},
        "bpf": {"bpf": (9999, None, 0)},
        "perf": {"perf_event_open": (BAD, 0, -1, -1, 0)},
        "userfaultfd": {"userfaultfd": (0x7FFFFFFF,)},
        "io_uring": {"io_uring_setup": (0, BAD), "io_uring_enter": (-1, 0, 0, 0, None, 0),
                     "io_uring_register": (-1, 0, None, 0)},
        "memfd": {"memfd_create": (b"grader-probe", 0), "memfd_secret": (0,)},
    }[family]


def probe_syscalls(student, family):
    """errno of each call in the family, 0 where it succeeded (anything it opened is closed again)."""
    found = {}
    for name, args in _calls(family).items():
        ret = _libc.syscall(NR[name], *args)
        found[name] = np.int64(0 if ret >= 0 else ctypes.get_errno())
        if ret >= 0 and name not in ("process_vm_readv", "process_vm_writev"):
            os.close(ret)
    return found


def probe_memfd(student, files, mb):
    """Hold `files` x `mb` MB of RAM in memory files, which RLIMIT_AS does not count."""
    fds, written = [], 0
    chunk = b"x" * (1 << 20)
    for i in range(files):
        fds.append(os.memfd_create(f"hold{i}"))
        for _ in range(mb):
            written += os.write(fds[-1], chunk)
    return {"written": np.int64(written)}


def probe_memfd_error(student):
    """What student code sees: the exception memfd_create raises."""
    try:
        os.memfd_create("x")
    except OSError as exc:
        return {"errno": np.int64(exc.errno), "permission": np.int64(isinstance(exc, PermissionError))}
    return {"errno": np.int64(0), "permission": np.int64(0)}


def probe_legitimate(student):
    """What coursework does: BLAS and Python threads, fork, a process pool, a subprocess, a plot."""
    import multiprocessing
    import subprocess
    import threading

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=4):  # OpenBLAS starts its worker threads with clone
        a = np.random.default_rng(0).random((400, 400))
        blas = float(np.trace(a @ a.T))
    seen = []
    threads = [threading.Thread(target=seen.append, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    fork_code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    with multiprocessing.get_context("fork").Pool(2) as pool:
        squares = pool.map(abs, [-1, -2, -3])
    echoed = subprocess.run(["/bin/echo", "hi"], capture_output=True, text=True).stdout.strip()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig.savefig("/tmp/plot.png")
    png = os.path.getsize("/tmp/plot.png")
    return {"blas": np.float64(blas), "threads": np.int64(len(seen)), "fork": np.int64(fork_code),
            "pool": np.array(squares, dtype=np.int64), "echo": np.int64(echoed == "hi"), "png": np.int64(png)}


def probe_fill_shm(student, mb):
    """Write `mb` MB into /dev/shm (where shared memory and semaphores live), then remove it."""
    written, err = 0, 0
    try:
        with open("/dev/shm/fill", "wb") as f:
            for _ in range(mb):
                f.write(b"x" * (1 << 20))
                f.flush()
                written += 1 << 20
    except OSError as exc:
        err = exc.errno
    finally:
        if os.path.exists("/dev/shm/fill"):
            os.remove("/dev/shm/fill")
    return {"written": np.int64(written), "errno": np.int64(err)}


def probe_fork_and_hold(student, children, mb):
    """`children` processes, each holding `mb` MB of touched memory at the same time: RLIMIT_AS is
    per process, so together they hold children * mb. Returns how many held it together: the children
    alive when all have answered, each exiting normally after that (the OOM killer may take a child
    that already answered, so counting answers would count memory that was never held at once)."""
    chunk = mb * 1024 * 1024
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            os.close(go_w)
            block = np.ones(chunk, dtype=np.uint8)  # every page written
            os.write(ready_w, b"1")
            os.close(ready_w)  # the parent's read ends when every child has answered or died
            os.read(go_r, 1)  # hold it until all are counted
            os._exit(int(block[-1]) - 1)
        pids.append(pid)
    os.close(ready_w)
    held = 0
    while held < children:
        got = os.read(ready_r, children)
        if not got:  # every child has exited or was killed
            break
        held += len(got)
    os.write(go_w, b"x" * children)
    together = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        together += os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return {"held": np.int64(together)}
'''


def _project(base: Path) -> Path:
    (base / "root/pkg").mkdir(parents=True)
    (base / "root/pkg/__init__.py").write_text("")
    (base / "root/pkg/mod.py").write_text("import numpy as np\n")
    (base / "probes.py").write_text(textwrap.dedent(PROBES))
    for dirpath, _, filenames in os.walk(base):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return base


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _project(tmp_path_factory.mktemp("hardening"))


def _session(project: Path, home: Path, sandbox: Sandbox) -> ModuleSession:
    return ModuleSession(SessionConfig(root=project / "root", probes=project / "probes.py", module="pkg.mod",
                                       workdir=home, sandbox=sandbox))


@pytest.fixture(scope="module")
def filtered(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """bwrap+uid with the filter (the level without a cgroup, so the filter alone is tested)."""
    if not ISOLATION:
        pytest.skip("bubblewrap/setpriv not installed or not root")
    with _session(project, tmp_path_factory.mktemp("home"), Sandbox(LEVELS["bwrap+uid"], sys.executable)) as s:
        yield s


@pytest.fixture(scope="module")
def open_process(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """The control: the process level with the filter left out, as the grader's own (root) uid."""
    sandbox = Sandbox(LEVELS["process"], sys.executable, seccomp=False)
    with _session(project, tmp_path_factory.mktemp("home"), sandbox) as s:
        yield s


def _syscalls(session: ModuleSession, family: str) -> dict[str, int]:
    out = session.call("syscalls", LIMITS, {"family": family})
    assert out.ok, out
    return {name: int(value) for name, value in out.data.items()}


FAMILIES = list(seccomp_mod.DENIED)


def test_every_denied_family_is_probed() -> None:
    """The probes below cover exactly the families the filter denies, each syscall of each."""
    spec = {family: set(names) for family, names in seccomp_mod.DENIED.items()}
    spec["namespaces"] |= {"clone", "clone3"}
    probed = {}
    namespace: dict = {}
    exec(compile(PROBES, "probes", "exec"), namespace)  # noqa: S102 - the test's own probe source
    for family in FAMILIES:
        probed[family] = set(namespace["_calls"](family))
    assert probed == spec


@needs_isolation
@needs_x86_64
@pytest.mark.parametrize("family", FAMILIES)
def test_a_denied_syscall_family_fails_with_eperm_inside_the_sandbox(family: str, filtered, open_process) -> None:
    inside = _syscalls(filtered, family)
    expected = {name: errno.ENOSYS if name == "clone3" else errno.EPERM for name in inside}
    assert inside == expected
    outside = _syscalls(open_process, family)  # control: the same calls without the filter
    assert set(outside) == set(inside)
    assert all(outside[name] != inside[name] for name in inside), outside


@needs_isolation
@needs_x86_64
def test_the_detected_level_and_the_process_level_load_the_filter(project: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.execution.sandbox import detect

    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    for sandbox in (detect(sys.executable)[0], Sandbox(LEVELS["process"], sys.executable)):
        with _session(project, tmp_path / sandbox.level.name, sandbox) as session:
            assert _syscalls(session, "memfd") == {"memfd_create": errno.EPERM, "memfd_secret": errno.EPERM}
            assert _syscalls(session, "namespaces")["unshare"] == errno.EPERM


@needs_isolation
def test_student_code_gets_a_plain_permission_error(filtered, open_process) -> None:
    out = filtered.call("memfd_error", LIMITS)
    assert out.ok and int(out.data["errno"]) == errno.EPERM and int(out.data["permission"]) == 1, out
    control = open_process.call("memfd_error", LIMITS)
    assert control.ok and int(control.data["errno"]) == 0, control


@needs_isolation
def test_threads_fork_pools_subprocesses_and_plots_still_work_under_the_filter(filtered) -> None:
    out = filtered.call("legitimate", Limits(time_s=60, memory_mb=2048))
    assert out.ok, out
    a = np.random.default_rng(0).random((400, 400))
    assert np.isclose(float(out.data["blas"]), float(np.trace(a @ a.T)))
    assert int(out.data["threads"]) == 4 and int(out.data["fork"]) == 7
    assert out.data["pool"].tolist() == [1, 2, 3]
    assert int(out.data["echo"]) == 1 and int(out.data["png"]) > 1000


@needs_isolation
def test_dev_shm_is_writable_and_capped(filtered) -> None:
    from grader.execution.sandbox import SHM_SIZE

    out = filtered.call("fill_shm", LIMITS, {"mb": 4})
    assert out.ok and int(out.data["errno"]) == 0 and int(out.data["written"]) == 4 * MB, out
    out = filtered.call("fill_shm", LIMITS, {"mb": 100})
    assert out.ok and int(out.data["errno"]) == errno.ENOSPC and int(out.data["written"]) <= SHM_SIZE, out


def test_the_filter_is_built_once_per_process() -> None:
    first = seccomp_mod.filter_file()
    assert seccomp_mod.filter_file() == first
    assert first.stat().st_size % 8 == 0  # whole BPF instructions
    assert first.stat().st_mode & 0o077 == 0 and first.parent.stat().st_mode & 0o077 == 0  # private to its user


def test_the_process_level_loader_refuses_a_broken_filter(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpf"
    broken.write_bytes(b"\x00" * 7)
    loader = Path(seccomp_mod.__file__).with_name("seccomp_exec.py")
    done = subprocess.run([sys.executable, "-I", "-S", str(loader), str(broken), "--", "/bin/true"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "not a whole number of instructions" in done.stderr
    good = subprocess.run([sys.executable, "-I", "-S", str(loader), str(seccomp_mod.filter_file()), "--",
                           sys.executable, "-c", "import os; os.memfd_create('x')"],
                          capture_output=True, text=True, timeout=60)
    assert good.returncode != 0 and "PermissionError" in good.stderr  # control: a good filter does load


# --- the memory cgroup ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cgroup_unfiltered(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """The cgroup level with the filter left out, so that the cgroup alone has to hold memory files."""
    if not ISOLATION or CGROUP_PROBLEM is not None:
        pytest.skip(f"needs bwrap as root and a memory cgroup ({CGROUP_PROBLEM})")
    sandbox = Sandbox(LEVELS["bwrap+uid+cgroup"], sys.executable, seccomp=False)
    with _session(project, tmp_path_factory.mktemp("home"), sandbox) as s:
        yield s


@pytest.fixture(scope="module")
def unfiltered(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """The control for the cgroup: bwrap+uid, no filter, no cgroup."""
    if not ISOLATION:
        pytest.skip("bubblewrap/setpriv not installed or not root")
    sandbox = Sandbox(LEVELS["bwrap+uid"], sys.executable, seccomp=False)
    with _session(project, tmp_path_factory.mktemp("home"), sandbox) as s:
        yield s


@needs_isolation
@needs_cgroup
def test_the_memory_cgroup_counts_memory_held_in_files(cgroup_unfiltered, unfiltered) -> None:
    limits = Limits(time_s=20, memory_mb=256)
    out = cgroup_unfiltered.call("memfd", limits, {"files": 6, "mb": 56})  # 336 MB in files
    assert out.status == "crashed" and "out of memory" in out.detail and "memory cgroup" in out.detail, out
    control = unfiltered.call("memfd", limits, {"files": 6, "mb": 56})
    assert control.ok and int(control.data["written"]) == 336 * MB, control
    # the fork server survived (the OOM killer chose the call) and the next call runs normally
    again = cgroup_unfiltered.call("syscalls", LIMITS, {"family": "bpf"})
    assert again.ok, again


@needs_isolation
@needs_cgroup
def test_the_memory_cgroup_caps_forked_children_together(cgroup_unfiltered, unfiltered) -> None:
    limits = Limits(time_s=30, memory_mb=512)
    out = cgroup_unfiltered.call("fork_and_hold", limits, {"children": 3, "mb": 300})  # 900 MB in 3 processes
    held = int(out.data["held"]) if out.ok else 0
    assert held * 300 <= 512, out
    assert out.ok or "out of memory" in out.detail, out
    # control: without the cgroup each child has its own 512 MB address space, and all three hold 300 MB
    control = unfiltered.call("fork_and_hold", limits, {"children": 3, "mb": 300})
    assert control.ok and int(control.data["held"]) == 3, control


@needs_isolation
@needs_cgroup
def test_a_sandboxs_cgroup_is_removed_when_the_session_ends(project: Path, tmp_path: Path) -> None:
    sandbox = Sandbox(LEVELS["bwrap+uid+cgroup"], sys.executable)
    with _session(project, tmp_path, sandbox) as session:
        assert session.call("syscalls", LIMITS, {"family": "bpf"}).ok
        group = session._memory
        assert group is not None and group.path.is_dir()
        pids = [int(p) for p in group.procs.read_text().split()]
        assert pids  # the sandbox runs in it
        assert group.limit_bytes is not None and group.limit_bytes >= LIMITS.memory_mb * MB
    assert not group.path.exists()


def test_cgroup_detection_says_why_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cgroup v2 tree without a delegated memory controller, as on a systemd machine's user session."""
    mountinfo = tmp_path / "mountinfo"
    own = tmp_path / "cg/user.slice/session-1.scope"
    own.mkdir(parents=True)
    mountinfo.write_text(f"30 25 0:26 / {tmp_path / 'cg'} rw,nosuid - cgroup2 cgroup2 rw\n")
    cgroup_file = tmp_path / "cgroup"
    cgroup_file.write_text("0::/user.slice/session-1.scope\n")
    monkeypatch.setattr(cgroup_mod, "_MOUNTINFO", mountinfo)
    monkeypatch.setattr(cgroup_mod, "_CGROUP", cgroup_file)
    (own / "cgroup.controllers").write_text("cpu io pids\n")
    with pytest.raises(cgroup_mod.CgroupUnavailable, match="no memory controller"):
        cgroup_mod.find()
    (own / "cgroup.controllers").write_text("cpu io memory pids\n")
    (own / "cgroup.subtree_control").write_text("\n")
    with pytest.raises(cgroup_mod.CgroupUnavailable, match="does not delegate the memory controller"):
        cgroup_mod.find()
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    found = cgroup_mod.find()  # control: delegated, so child groups can be made there
    assert found.version == 2 and found.parent == own
    mountinfo.write_text("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    with pytest.raises(cgroup_mod.CgroupUnavailable, match="no cgroup filesystem"):
        cgroup_mod.find()
