"""Sandbox levels: how they are detected and reported, and what the student process can reach.

The isolation tests run a throwaway probes module (not the HW4 rubric) in a ModuleSession at
the level `detect()` chooses. Wherever the weak `process` level would show the opposite, the
same probe runs there too as a control, proving the probe can see what the sandbox hides.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, main
from grader.execution import cgroup as cgroup_mod
from grader.execution import sandbox as sandbox_mod
from grader.execution.sandbox import UID_BASE, UID_SLOTS, SandboxUnavailable, detect
from grader.execution.session import Limits, ModuleSession, SessionConfig
from grader.presentation.html import render_report

from .conftest import PROJECT, SECRET, SOLUTION

ISOLATION = shutil.which("bwrap") is not None and shutil.which("setpriv") is not None and os.geteuid() == 0
needs_isolation = pytest.mark.skipif(
    not ISOLATION, reason="bubblewrap/setpriv not installed or the grader is not root: level bwrap+uid cannot run "
    "here (CI installs bubblewrap and runs as root; `apt-get install bubblewrap`)")

LIMITS = Limits(time_s=10, memory_mb=1024)
MB = 1024 * 1024

PROBES = '''\
import os
import socket
import tempfile

import numpy as np


def _errno(action):
    try:
        action()
    except OSError as exc:
        return exc.errno or -1
    return 0


def probe_identity(student):
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    return {"uid": np.int64(os.getuid()), "euid": np.int64(os.geteuid()), "gid": np.int64(os.getgid()),
            "capeff": np.int64(int(fields["CapEff"].strip(), 16)),
            "pids": np.array(pids, dtype=np.int64)}


def probe_sees_process(student, pid, cmdline_hex):
    """1 if /proc/<pid> is the process with this exact command line (the grader), else 0."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return {"seen": np.int64(f.read() == bytes.fromhex(cmdline_hex))}
    except OSError:
        return {"seen": np.int64(0)}


def probe_env(student, name):
    return {"present": np.int64(name in os.environ), "count": np.int64(len(os.environ))}


def probe_stat(student, paths):
    return {"errno": np.array([_errno(lambda p=p: os.stat(p)) for p in paths], dtype=np.int64)}


def probe_write_cwd(student, name):
    def write():
        with open(os.path.join(os.getcwd(), name), "w") as f:
            f.write("written by student code")
    return {"errno": np.int64(_errno(write))}


def probe_connect(student, port):
    def connect():
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    return {"errno": np.int64(_errno(connect))}


def probe_fill(student, mb, files):
    """Write `mb` MB into the temporary directory across `files` files, then remove them."""
    written, err, made = 0, 0, []
    chunk = b"x" * (1 << 20)
    try:
        for i in range(files):
            path = os.path.join(tempfile.gettempdir(), f"fill-{i}")
            made.append(path)
            with open(path, "wb") as f:
                for _ in range(mb // files):
                    f.write(chunk)
                    f.flush()
                    written += len(chunk)
    except OSError as exc:
        err = exc.errno
    finally:
        for path in made:
            try:
                os.remove(path)
            except OSError:
                pass
    return {"written": np.int64(written), "errno": np.int64(err)}


def probe_write_parent_memory(student):
    """Rewrite 16 bytes of the fork server's memory with what is already there: 0 if that worked."""
    def rewrite():
        ppid = os.getppid()
        with open(f"/proc/{ppid}/maps") as maps:
            start = next(int(line.split("-")[0], 16) for line in maps if line.split()[1].startswith("rw"))
        with open(f"/proc/{ppid}/mem", "r+b", 0) as mem:
            mem.seek(start)
            data = mem.read(16)
            mem.seek(start)
            mem.write(data)
    return {"errno": np.int64(_errno(rewrite))}


def probe_nested_tmpfs(student, mb, files):
    """A user namespace of its own, a fresh tmpfs over /tmp there, and `mb` MB written into it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
        return {"stage": np.int64(1), "errno": np.int64(ctypes.get_errno()), "written": np.int64(0)}
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    if libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=1g") != 0:
        return {"stage": np.int64(2), "errno": np.int64(ctypes.get_errno()), "written": np.int64(0)}
    data = probe_fill(student, mb, files)
    return {"stage": np.int64(3), **data}


def probe_memfd(student, files, mb):
    """RAM held in memory-backed files, which an address-space limit does not count."""
    fds, written, err = [], 0, 0
    chunk = b"x" * (1 << 20)
    try:
        for i in range(files):
            fds.append(os.memfd_create(f"hold{i}"))
            for _ in range(mb):
                written += os.write(fds[-1], chunk)
    except OSError as exc:
        err = exc.errno
    finally:
        for fd in fds:
            os.close(fd)
    return {"written": np.int64(written), "errno": np.int64(err)}
'''


def _write_project(base: Path) -> Path:
    """A student package and the probes, readable by the sandbox's unprivileged uid."""
    (base / "root/pkg").mkdir(parents=True)
    (base / "root/pkg/__init__.py").write_text("")
    (base / "root/pkg/mod.py").write_text("import numpy as np\n\n\nclass Net:\n    pass\n")
    (base / "probes.py").write_text(textwrap.dedent(PROBES))
    for dirpath, _, filenames in os.walk(base):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return base


def _config(base: Path, home: Path, sandbox: sandbox_mod.Sandbox) -> SessionConfig:
    return SessionConfig(root=base / "root", probes=base / "probes.py", module="pkg.mod", class_name="Net",
                         workdir=home, sandbox=sandbox)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_project(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="module")
def full(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """A session at the level detected with nothing forced: bwrap+uid(+cgroup) on a root machine with bubblewrap."""
    if not ISOLATION:
        pytest.skip("bubblewrap/setpriv not installed or not root")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("GRADER_SANDBOX", raising=False)
        sandbox = detect(sys.executable)[0]
    assert sandbox.level.name in ("bwrap+uid+cgroup", "bwrap+uid") and sandbox.seccomp
    with ModuleSession(_config(project, tmp_path_factory.mktemp("home"), sandbox)) as session:
        yield session


@pytest.fixture(scope="module")
def unfiltered(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """The control for the seccomp filter and the memory cgroup: bwrap+uid without either."""
    if not ISOLATION:
        pytest.skip("bubblewrap/setpriv not installed or not root")
    sandbox = sandbox_mod.Sandbox(sandbox_mod.LEVELS["bwrap+uid"], sys.executable, seccomp=False)
    with ModuleSession(_config(project, tmp_path_factory.mktemp("home"), sandbox)) as session:
        yield session


@pytest.fixture(scope="module")
def weak(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleSession]:
    """The control: the same probes at GRADER_SANDBOX=process."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADER_SANDBOX", "process")
        sandbox = detect(sys.executable)[0]
    assert sandbox.level.name == "process"
    with ModuleSession(_config(project, tmp_path_factory.mktemp("home"), sandbox)) as session:
        yield session


def call(session: ModuleSession, probe: str, **kwargs: object) -> dict[str, np.ndarray]:
    out = session.call(probe, LIMITS, kwargs)
    assert out.ok, out
    return out.data


# --- detection ---------------------------------------------------------------------------------


@needs_isolation
def test_detect_chooses_bwrap_uid_on_a_root_machine_with_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    chosen, tried = detect(sys.executable)
    assert chosen.level.full and chosen.isolates and chosen.drops_uid and chosen.seccomp
    try:
        cgroup_mod.find()
    except cgroup_mod.CgroupUnavailable as exc:  # the memory cgroup level is tried first and says why not
        assert chosen.level.name == "bwrap+uid"
        assert tried[0][0] == "bwrap+uid+cgroup" and str(exc) in (tried[0][1] or ""), tried
        assert tried[1:] == [("bwrap+uid", None)]
    else:
        assert chosen.level.name == "bwrap+uid+cgroup" and chosen.memory_cgroups
        assert tried == [("bwrap+uid+cgroup", None)]


def test_forced_process_level_is_used_and_graded_results_say_weak(monkeypatch: pytest.MonkeyPatch, hw4) -> None:
    from grader.judgement.submission import grade_submission

    monkeypatch.setenv("GRADER_SANDBOX", "process")
    chosen, tried = detect(sys.executable)
    assert chosen.level.name == "process" and not chosen.level.full and not chosen.isolates
    assert tried == [("process", None)]
    result = grade_submission(SOLUTION, hw4, SECRET)
    assert result.sandbox.startswith("WEAK"), result.sandbox
    assert "UNSAFE" in result.sandbox
    assert result.task("T5").status.value == "pass"  # the level changes the isolation, not the grading
    page = render_report(result)
    assert "WEAK" in page and "weak or no isolation" in page


@needs_isolation
def test_full_level_report_carries_no_weak_warning(monkeypatch: pytest.MonkeyPatch, hw4) -> None:
    from grader.judgement.submission import grade_submission

    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    result = grade_submission(SOLUTION, hw4, SECRET)
    assert result.sandbox.startswith("full:"), result.sandbox
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", render_report(result))  # base64 may spell WEAK
    assert "WEAK" not in page and "weak or no isolation" not in page


def test_an_unknown_forced_level_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", "docker")
    with pytest.raises(SandboxUnavailable, match="choose one of"):
        detect(sys.executable)


def test_a_forced_level_that_cannot_work_is_an_error_not_a_downgrade(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setattr(sandbox_mod, "_CACHE", {})
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no bwrap, no setpriv
    monkeypatch.setenv("GRADER_SANDBOX", "bwrap+uid")
    with pytest.raises(SandboxUnavailable, match="bwrap is not installed"):
        detect(sys.executable)
    monkeypatch.setenv("GRADER_SANDBOX", "bwrap")
    with pytest.raises(SandboxUnavailable, match="bwrap is not installed"):
        detect(sys.executable)


def test_without_bubblewrap_detection_falls_back_to_process_and_says_why(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    monkeypatch.setattr(sandbox_mod, "_CACHE", {})
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    chosen, tried = detect(sys.executable)
    assert chosen.level.name == "process"
    assert [name for name, _ in tried] == ["bwrap+uid+cgroup", "bwrap+uid", "bwrap", "process"]
    reasons = dict(tried)
    assert "bwrap is not installed" in (reasons["bwrap+uid+cgroup"] or "")
    assert "bwrap is not installed" in (reasons["bwrap+uid"] or "")
    assert "bwrap is not installed" in (reasons["bwrap"] or "")
    assert reasons["process"] is None


@needs_isolation
def test_doctor_exits_zero_at_the_full_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "sandbox level: bwrap+uid" in result.output and "seccomp filter" in result.output


def test_doctor_exits_one_at_a_weak_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", "process")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == ExitCode.CHECKS_FAILED, result.output
    assert "sandbox level: process" in result.output and "WEAK" in result.output


# --- inside the sandbox --------------------------------------------------------------------------


@needs_isolation
def test_student_code_runs_under_an_unprivileged_uid_without_capabilities(full, weak) -> None:
    inside = call(full, "identity")
    assert int(inside["uid"]) == int(inside["euid"]) == int(inside["gid"])
    assert int(inside["uid"]) in range(UID_BASE, UID_BASE + UID_SLOTS)
    assert int(inside["uid"]) not in (0, os.getuid())
    assert int(inside["capeff"]) == 0
    control = call(weak, "identity")  # the process level keeps the grader's uid and every capability
    assert int(control["uid"]) == os.getuid() == 0
    assert int(control["capeff"]) != 0


@needs_isolation
def test_only_the_sandboxes_own_processes_are_visible(full, weak) -> None:
    pids = call(full, "identity")["pids"].tolist()
    assert 1 in pids and len(pids) <= 4 and max(pids) < 1000, pids
    with open("/proc/self/cmdline", "rb") as f:
        me = {"pid": os.getpid(), "cmdline_hex": f.read().hex()}
    assert int(call(full, "sees_process", **me)["seen"]) == 0
    assert int(call(weak, "sees_process", **me)["seen"]) == 1  # control: the probe does find the grader
    assert len(call(weak, "identity")["pids"]) > 10


@needs_isolation
def test_the_graders_environment_does_not_reach_student_code(project: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_TEST_SECRET", "s3cret-env")
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    with ModuleSession(_config(project, tmp_path / "home", detect(sys.executable)[0])) as session:
        data = call(session, "env", name="GRADER_TEST_SECRET")
        assert int(call(session, "env", name="PATH")["present"]) == 1  # control: the probe sees what it is given
    assert int(data["present"]) == 0
    assert int(data["count"]) < 20


@needs_isolation
def test_the_graders_files_are_not_visible(full, weak) -> None:
    hidden = ["/root/.bashrc", str(PROJECT / "reference"), str(PROJECT / "rubrics"),
              str(PROJECT / "grader/judgement"), str(Path.home() / ".config"),
              str(SOLUTION / "cattern/neural_net.py")]
    existing = [p for p in hidden if os.path.exists(p)]
    assert str(PROJECT / "reference") in existing  # the test guards real files
    inside = call(full, "stat", paths=existing)["errno"].tolist()
    assert all(e in (errno.ENOENT, errno.EACCES) for e in inside), dict(zip(existing, inside, strict=True))
    control = call(weak, "stat", paths=existing)["errno"].tolist()
    assert control == [0] * len(existing)  # control: at the process level every one of them is readable
    # what the student process needs is there
    visible = call(full, "stat", paths=["/submission/pkg/mod.py", str(PROJECT / "grader/execution/zygote.py"),
                                        "/usr/bin", sys.executable])["errno"].tolist()
    assert visible == [0, 0, 0, 0]


@needs_isolation
def test_the_submission_is_read_only(full, weak, project: Path) -> None:
    assert int(call(full, "write_cwd", name="planted.txt")["errno"]) in (errno.EROFS, errno.EACCES)
    assert not (project / "root/planted.txt").exists()
    try:  # control: at the process level student code writes into its (private) copy
        assert int(call(weak, "write_cwd", name="planted-weak.txt")["errno"]) == 0
        assert (project / "root/planted-weak.txt").exists()
    finally:
        (project / "root/planted-weak.txt").unlink(missing_ok=True)


@needs_isolation
def test_the_network_is_unreachable(full, weak) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        inside = int(call(full, "connect", port=port)["errno"])
        control = int(call(weak, "connect", port=port)["errno"])
    assert inside in (errno.ENETUNREACH, errno.ECONNREFUSED, errno.EHOSTUNREACH), os.strerror(inside)
    assert control == 0  # control: the listener is reachable from an unisolated process


@needs_isolation
def test_one_huge_file_stops_at_the_size_cap(full) -> None:
    data = call(full, "fill", mb=100, files=1)
    assert int(data["errno"]) in (errno.ENOSPC, errno.EFBIG)
    assert 0 < int(data["written"]) <= 64 * MB


@needs_isolation
def test_the_private_tmp_is_capped_in_total_not_only_per_file(full, weak) -> None:
    data = call(full, "fill", mb=100, files=4)  # 25 MB each: under the per-file limit
    assert int(data["errno"]) == errno.ENOSPC
    assert 0 < int(data["written"]) <= 64 * MB
    control = call(weak, "fill", mb=100, files=4)  # control: on the host disk all 100 MB fit
    assert int(control["errno"]) == 0 and int(control["written"]) == 100 * MB
    # the files were removed, so the capped /tmp is usable again
    assert int(call(full, "fill", mb=8, files=1)["written"]) == 8 * MB


@needs_isolation
def test_concurrent_sessions_get_different_uids(project: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    sandbox = detect(sys.executable)[0]
    with ModuleSession(_config(project, tmp_path / "a", sandbox)) as a, \
            ModuleSession(_config(project, tmp_path / "b", sandbox)) as b:
        uid_a = int(call(a, "identity")["uid"])
        uid_b = int(call(b, "identity")["uid"])
    assert uid_a != uid_b
    assert {uid_a, uid_b} <= set(range(UID_BASE, UID_BASE + UID_SLOTS))


# --- escapes from the limits that the seccomp filter closes ------------------------------------------


@needs_isolation
def test_student_code_cannot_write_the_fork_servers_memory(full) -> None:
    assert int(call(full, "write_parent_memory")["errno"]) in (errno.EACCES, errno.EPERM)


@needs_isolation
def test_student_code_cannot_mount_a_tmpfs_of_its_own(full, unfiltered) -> None:
    data = call(full, "nested_tmpfs", mb=100, files=4)
    assert int(data["stage"]) == 1 and int(data["errno"]) == errno.EPERM, data  # unshare refused
    # control: without the filter the same code makes a user namespace, mounts a tmpfs of its own
    # over /tmp and writes past the 64 MB cap
    control = call(unfiltered, "nested_tmpfs", mb=100, files=4)
    assert int(control["stage"]) == 3 and int(control["written"]) > 64 * MB, control


@needs_isolation
def test_ram_held_in_memory_files_counts_against_the_memory_limit(full, unfiltered) -> None:
    limits = Limits(time_s=10, memory_mb=256)
    out = full.call("memfd", limits, {"files": 6, "mb": 56})  # 336 MB in 6 files, each under the 64 MB file cap
    assert out.ok, out
    assert int(out.data["errno"]) == errno.EPERM and int(out.data["written"]) == 0, out.data
    # control: without the filter and the cgroup, RLIMIT_AS does not see memory held in files
    control = unfiltered.call("memfd", limits, {"files": 6, "mb": 56})
    assert control.ok and int(control.data["written"]) == 336 * MB, control


def test_uid_pool_is_shared_between_processes(tmp_path):
    """Process workers and Dask workers each have their own pool object; the lock files keep their uids apart."""
    import subprocess
    import sys

    from grader.execution.sandbox import UID_BASE, _UidPool

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from grader.execution.sandbox import _UidPool;"
         f"p = _UidPool(Path({str(tmp_path)!r})); print(p.acquire(), flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        held = int(holder.stdout.readline())
        pool = _UidPool(tmp_path)
        mine = pool.acquire()
        assert held == UID_BASE and mine != held
        pool.release(mine)
    finally:
        holder.stdin.close()
        holder.wait()
    # the holder has exited: its uid is free again
    assert _UidPool(tmp_path).acquire() == UID_BASE
