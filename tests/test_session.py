"""The student process: one fork server per submission, one forked child per probe call.

A tiny throwaway student package and probes module are written into a temporary folder, so
these tests exercise the sandbox itself, not the HW4 rubric.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.execution import wire
from grader.execution.probe_api import IMPORT_PROBE
from grader.execution.session import Limits, ModuleSession, SessionConfig

FAST = Limits(time_s=10, memory_mb=1024)

STUDENT_MOD = '''\
import numpy as np


def double(x):
    return np.asarray(x) * 2


def boom(x):
    return helper(x)


def helper(x):
    raise ValueError(f"student says no to {x}")


def spin():
    n = 0
    while True:
        n += 1


def allocate_gb(gb):
    return np.ones(int(gb * 1024**3) // 8)


def leave():
    import sys
    sys.exit(3)


class Net:
    pass
'''

STUDENT_EXITS = '''\
import sys

sys.exit(3)
'''

STUDENT_BROKEN = '''\
import numpy as np


def forward(x):
    return x +* 2
'''

PROBES = '''\
import os
import sys

import numpy as np

from grader.execution.probe_api import Student


def probe_double(student, x):
    return {"y": student.module().double(x)}


def probe_boom(student, value=1):
    student.module().boom(value)
    return {}


def probe_hang(student):
    student.module().spin()


def probe_exit(student):
    os._exit(0)


def probe_sysexit(student):
    Student("pkg.exits").module()
    return {}


def probe_sysexit_call(student):
    student.module().leave()
    return {}


def probe_mem(student, gb=4):
    return {"n": student.module().allocate_gb(gb).size}


def probe_flood(student, nbytes):
    sys.stdout.write("x" * nbytes)
    sys.stdout.flush()
    return {"done": 1}


def probe_object(student):
    return {"bad": np.array([object(), 1], dtype=object)}


def probe_env(student, name):
    return {"secret_len": len(os.environ.get(name, "")), "has_home": "HOME" in os.environ}


def probe_fds(student):
    def extra(pid):
        found = []
        base = f"/proc/{pid}/fd"
        for entry in os.listdir(base):
            try:
                target = os.readlink(os.path.join(base, entry))
            except OSError:  # the descriptor listdir itself used, already closed
                continue
            if int(entry) > 3 and target != "/dev/null":
                found.append(int(entry))
        return found

    return {"child": np.array(extra("self"), dtype=np.int64),
            "parent": np.array(extra(os.getppid()), dtype=np.int64)}


def probe_forge(student, data):
    os.write(3, bytes.fromhex(data))
    os._exit(0)


def probe_daemon(student):
    pid = os.fork()
    if pid == 0:
        os.closerange(0, 1024)
        import time
        time.sleep(30)
        os._exit(0)
    return {"pid": np.array(pid)}


def probe_kill_server(student):
    import signal
    os.kill(os.getppid(), signal.SIGKILL)
    import time
    time.sleep(30)
'''


def write_tree(base: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(textwrap.dedent(text))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("session")
    write_tree(base / "root", {"pkg/__init__.py": "", "pkg/mod.py": STUDENT_MOD, "pkg/exits.py": STUDENT_EXITS,
                               "pkg/broken.py": STUDENT_BROKEN})
    write_tree(base, {"probes.py": PROBES})
    return base


def config(project: Path, home: Path, module: str = "pkg.mod", class_name: str | None = "Net") -> SessionConfig:
    return SessionConfig(root=project / "root", probes=project / "probes.py", module=module, class_name=class_name,
                         workdir=home)


@pytest.fixture(scope="module")
def session(project: Path, tmp_path_factory: pytest.TempPathFactory):
    with ModuleSession(config(project, tmp_path_factory.mktemp("home"))) as s:
        yield s


# --- ordinary calls --------------------------------------------------------------------------


def test_ok_call_returns_the_students_numbers(session: ModuleSession) -> None:
    out = session.call("double", FAST, arrays={"x": np.array([1.5, -2.0, 3.0])})
    assert out.status == "ok", out
    assert out.ok
    assert type(out.data["y"]) is np.ndarray
    assert out.data["y"].tolist() == [3.0, -4.0, 6.0]
    assert out.error is None


def test_kwargs_travel_as_json(session: ModuleSession) -> None:
    out = session.call("double", FAST, kwargs={"x": [1, 2]})
    assert out.ok, out
    assert out.data["y"].tolist() == [2, 4]


def test_student_exception_is_an_error_with_the_students_traceback_only(session: ModuleSession) -> None:
    out = session.call("boom", FAST, kwargs={"value": 7})
    assert out.status == "error"
    assert not out.ok
    err = out.error
    assert err is not None
    assert err["type"] == "ValueError"
    assert err["message"] == "student says no to 7"
    assert err["kind"] == "raised"
    trace = "\n".join(err["traceback"])
    assert 'File "pkg/mod.py"' in trace
    assert "in boom" in trace and "in helper" in trace
    assert 'raise ValueError(f"student says no to {x}")' in trace
    for internal in ("grader", "zygote", "probes.py", "probe_api", "site-packages", "importlib"):
        assert internal not in trace, f"{internal} leaked into the student's traceback:\n{trace}"


def test_unknown_probe_is_an_error_not_a_crash(session: ModuleSession) -> None:
    out = session.call("no_such_probe", FAST)
    assert out.status == "error"
    assert out.error is not None and out.error["type"] == "AttributeError"
    # the fork server survives it
    assert session.call("double", FAST, arrays={"x": np.array([1.0])}).ok


def test_os_exit_is_a_crash_that_mentions_exit(session: ModuleSession) -> None:
    out = session.call("exit", FAST)
    assert out.status == "crashed"
    assert "exit" in out.detail
    assert "without returning a result" in out.detail
    assert out.data == {}


@pytest.mark.parametrize(("probe", "file"), [("sysexit", "pkg/exits.py"), ("sysexit_call", "pkg/mod.py")])
def test_sys_exit_is_an_error_that_names_sys_exit(session: ModuleSession, probe: str, file: str) -> None:
    out = session.call(probe, FAST)
    assert out.status == "error", out
    assert out.error is not None
    assert out.error["type"] == "SystemExit"
    assert "sys.exit(3)" in out.error["message"]
    assert any(f'File "{file}"' in line for line in out.error["traceback"]), out.error["traceback"]


def test_memory_bomb_is_a_memory_error(session: ModuleSession) -> None:
    out = session.call("mem", Limits(time_s=10, memory_mb=512), kwargs={"gb": 4})
    assert out.status == "error", out
    assert out.error is not None
    assert out.error["type"] == "MemoryError"
    assert "out of memory" in out.error["message"] and "512 MB" in out.error["message"]
    assert any('File "pkg/mod.py"' in line for line in out.error["traceback"])


def test_modest_allocation_under_the_memory_limit_is_fine(session: ModuleSession) -> None:
    out = session.call("mem", Limits(time_s=10, memory_mb=512), kwargs={"gb": 0.01})
    assert out.ok, out
    assert int(out.data["n"]) == int(0.01 * 1024**3) // 8


def test_infinite_loop_times_out_and_the_next_call_still_works(session: ModuleSession) -> None:
    out = session.call("hang", Limits(time_s=1))
    assert out.status == "timeout"
    assert "still running" in out.detail or "CPU time" in out.detail
    after = session.call("double", FAST, arrays={"x": np.array([21.0])})
    assert after.ok, after
    assert after.data["y"].tolist() == [42.0]


def test_stdout_flood_is_capped_with_a_note_of_what_was_dropped(session: ModuleSession) -> None:
    cap = 4096
    flood = 5 * 1024 * 1024
    out = session.call("flood", Limits(time_s=10, output_bytes=cap), kwargs={"nbytes": flood})
    assert out.ok, out
    assert out.output.startswith("x" * cap)
    assert len(out.output) <= cap + 200
    assert f"[... {flood - cap} more bytes of output not kept]" in out.output


def test_small_output_is_kept_whole_without_a_note(session: ModuleSession) -> None:
    out = session.call("flood", Limits(time_s=10, output_bytes=4096), kwargs={"nbytes": 100})
    assert out.ok, out
    assert out.output == "x" * 100


def test_object_array_return_is_a_contract_error(session: ModuleSession) -> None:
    out = session.call("object", FAST)
    assert out.status == "error"
    assert out.error is not None
    assert out.error["kind"] == "contract"
    assert "'bad'" in out.error["message"] and "expected numbers" in out.error["message"]
    assert out.data == {}


def test_child_closes_descriptors_beyond_the_result_pipe(session: ModuleSession) -> None:
    out = session.call("fds", FAST)
    assert out.ok, out
    # control: the fork server does hold extra descriptors (the pipes of this very call) ...
    assert out.data["parent"].size > 0
    # ... and none of them leak into the child running student code
    assert out.data["child"].tolist() == []


# --- importing the student's module --------------------------------------------------------


def test_import_probe_passes_for_a_good_module_and_class(session: ModuleSession) -> None:
    out = session.call(IMPORT_PROBE, FAST)
    assert out.ok, out
    assert out.data == {}


def test_import_probe_reports_a_syntax_error_with_file_and_line(project: Path, tmp_path: Path) -> None:
    with ModuleSession(config(project, tmp_path / "home", module="pkg.broken", class_name=None)) as s:
        out = s.call(IMPORT_PROBE, FAST)
    assert out.status == "error"
    err = out.error
    assert err is not None
    assert err["type"] == "SyntaxError"
    assert err["file"] == "pkg/broken.py"
    assert err["line"] == 5
    assert any("return x +* 2" in line for line in err["traceback"])
    assert any(line.strip() == "^" for line in err["traceback"])


def test_import_probe_reports_a_missing_class(project: Path, tmp_path: Path) -> None:
    with ModuleSession(config(project, tmp_path / "home", class_name="TwoLayerNet")) as s:
        out = s.call(IMPORT_PROBE, FAST)
    assert out.status == "error"
    assert out.error is not None
    assert out.error["kind"] == "contract"
    assert out.error["message"] == "pkg/mod.py defines no class TwoLayerNet"


# --- isolation and recovery ----------------------------------------------------------------


def test_child_environment_holds_nothing_of_the_graders(project: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_TEST_SECRET", "s3cret")
    with ModuleSession(config(project, tmp_path / "home")) as s:
        out = s.call("env", FAST, kwargs={"name": "GRADER_TEST_SECRET"})
    assert out.ok, out
    assert int(out.data["has_home"]) == 1  # control: the probe does see the variables it is given
    assert int(out.data["secret_len"]) == 0


def test_a_child_that_kills_the_fork_server_costs_one_call(project: Path, tmp_path: Path) -> None:
    with ModuleSession(config(project, tmp_path / "home")) as s:
        assert s.call("double", FAST, arrays={"x": np.array([1.0])}).ok
        first = s._proc
        out = s.call("kill_server", Limits(time_s=5))
        assert out.status == "crashed"
        after = s.call("double", FAST, arrays={"x": np.array([2.0])})
        assert after.ok, after
        assert after.data["y"].tolist() == [4.0]
        assert s._proc is not first


def test_session_restarts_after_the_fork_server_is_killed_between_calls(project: Path, tmp_path: Path) -> None:
    with ModuleSession(config(project, tmp_path / "home")) as s:
        assert s.call("double", FAST, arrays={"x": np.array([1.0])}).ok
        assert s._proc is not None
        os.killpg(s._proc.pid, signal.SIGKILL)
        s._proc.wait()
        after = s.call("double", FAST, arrays={"x": np.array([2.0])})
        assert after.ok, after
        assert after.data["y"].tolist() == [4.0]


def test_session_recovers_within_two_calls_after_the_fork_server_is_killed(project: Path, tmp_path: Path) -> None:
    with ModuleSession(config(project, tmp_path / "home")) as s:
        assert s.call("double", FAST, arrays={"x": np.array([1.0])}).ok
        assert s._proc is not None
        os.killpg(s._proc.pid, signal.SIGKILL)
        s._proc.wait()
        outcomes = [s.call("double", FAST, arrays={"x": np.array([2.0])}) for _ in range(2)]
        assert outcomes[-1].ok, outcomes
        assert outcomes[-1].data["y"].tolist() == [4.0]


def test_close_stops_the_fork_server(project: Path, tmp_path: Path) -> None:
    s = ModuleSession(config(project, tmp_path / "home"))
    assert s.call("double", FAST, arrays={"x": np.array([1.0])}).ok
    proc = s._proc
    assert proc is not None and proc.poll() is None
    s.close()
    assert s._proc is None
    assert proc.poll() is not None


# --- what a child may try behind the probe's back ------------------------------------------


def test_a_garbled_result_frame_is_a_crash_and_the_fork_server_survives(session: ModuleSession) -> None:
    server = session._proc
    forged = wire._HEAD.pack(wire.MAGIC, 3, 0) + b"{{{"
    out = session.call("forge", FAST, kwargs={"data": forged.hex()})
    assert out.status == "crashed"
    assert "unreadable result" in out.detail
    assert session._proc is server
    assert session.call("double", FAST, arrays={"x": np.array([1.0])}).ok


def test_a_result_shorter_than_a_frame_head_does_not_kill_the_fork_server(session: ModuleSession) -> None:
    server = session._proc
    out = session.call("forge", FAST, kwargs={"data": b"xx".hex()})
    assert out.status == "crashed"
    assert "unreadable result" in out.detail
    assert session._proc is server


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_process_forked_by_student_code_does_not_outlive_the_call(session: ModuleSession) -> None:
    out = session.call("daemon", FAST)
    assert out.ok, out
    pid = int(out.data["pid"])
    try:
        limit = time.monotonic() + 1.0  # a limit for SIGKILL to land, not a measured duration
        while _alive(pid) and time.monotonic() < limit:
            time.sleep(0.02)
        assert not _alive(pid), f"student process {pid} is still running after its call returned"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
