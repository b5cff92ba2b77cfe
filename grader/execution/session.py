"""The grader's handle on one submission's student process.

`ModuleSession` starts the fork server (`zygote.py`) in a fresh interpreter with a clean
environment, sends it probe calls and returns `ProbeOutcome`s: raw arrays plus what
happened. It keeps its own watchdog on top of the fork server's, so a child that wedges or
kills the fork server costs one call, not the rest of the submission.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.execution import wire
from grader.execution.cgroup import CgroupUnavailable, MemoryGroup
from grader.execution.sandbox import DATA_MOUNT, PROBES_MOUNT, SINGLE_THREAD_BLAS, SUBMISSION_MOUNT, UIDS, Sandbox

GRADER_SRC = str(Path(__file__).resolve().parents[2])
_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); from grader.execution import zygote; zygote.main()"
_GRACE_S = 5.0
_START_TIMEOUT_S = 60.0
_MB = 1024 * 1024
# the memory cgroup's cap while the fork server starts (numpy, the probes; no student code runs yet);
# each call then sets it to what the idle server holds plus the call's memory_mb
_START_MEMORY = 1024 * _MB


class SandboxError(Exception):
    """The grader could not run the student process at all: a grader failure, never the student's."""


@dataclass(frozen=True)
class Limits:
    """What one probe call may use: wall-clock seconds, memory, printed output and returned data."""

    time_s: float = 10.0
    memory_mb: int = 1024
    output_bytes: int = 64 * 1024
    result_bytes: int = 64 * 1024 * 1024

    def to_json(self) -> dict[str, Any]:
        return {"time_s": self.time_s, "memory_mb": self.memory_mb,
                "output_bytes": self.output_bytes, "result_bytes": self.result_bytes}


@dataclass(frozen=True)
class ProbeOutcome:
    """What one probe call produced. `status` is ok, error, timeout or crashed."""

    status: str
    data: dict[str, np.ndarray] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    output: str = ""
    detail: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class SessionConfig:
    root: Path  # the private copy of the submission the student code runs in
    probes: Path  # the rubric's probes module, loaded in the student process
    module: str  # dotted name of the student's module
    class_name: str | None = None
    preload: tuple[str, ...] = ("numpy",)
    python: str = sys.executable
    workdir: Path | None = None  # HOME/TMPDIR for the student process when it is not isolated
    sandbox: Sandbox | None = None  # None: a plain process (the weakest level)
    data: dict[str, Path] = field(default_factory=dict)  # read-only folders, at DATA_MOUNT/<name> inside


def _clean_env(workdir: Path | str) -> dict[str, str]:
    """Nothing of the grader's environment (secrets included) reaches student code."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir),
        **SINGLE_THREAD_BLAS,
        "PYTHONHASHSEED": "0",
    }


def _seconds(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class ModuleSession:
    """One fork server per submission, restarted transparently if a call kills it."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: wire.FrameReader | None = None
        self._uid: int | None = None
        self._memory: MemoryGroup | None = None
        self._ooms_before = 0  # OOM kills in the memory cgroup before the current call

    def __enter__(self) -> ModuleSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        cfg = self.config
        workdir = cfg.workdir or cfg.root.parent
        workdir.mkdir(parents=True, exist_ok=True)
        argv = [cfg.python, "-I", "-c", _BOOTSTRAP, GRADER_SRC]
        isolated = cfg.sandbox is not None and cfg.sandbox.isolates
        if isolated:
            assert cfg.sandbox is not None
            if cfg.sandbox.drops_uid and self._uid is None:
                self._uid = UIDS.acquire()
            try:
                if self._memory is None:
                    self._memory = cfg.sandbox.memory_group(_START_MEMORY)
                else:  # a restart: the last call may have raised the cap
                    self._memory.set_limit(_START_MEMORY)
            except (OSError, CgroupUnavailable) as exc:
                raise SandboxError(f"cannot set up the sandbox's memory cgroup: {exc}") from exc
            extra = tuple((str(host), f"{DATA_MOUNT}/{name}", False) for name, host in cfg.data.items())
            argv = cfg.sandbox.wrap(argv, root=cfg.root, probes=cfg.probes, grader_src=GRADER_SRC, uid=self._uid,
                                    extra=extra, memory=self._memory)
        elif cfg.sandbox is not None:
            argv = cfg.sandbox.confine(argv)
        with open(workdir / "fork-server.log", "ab") as log:
            try:
                self._proc = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=workdir,
                    env=_clean_env("/tmp" if isolated else workdir), start_new_session=True, close_fds=True,
                )
            except OSError as exc:
                raise SandboxError(f"cannot start the student process ({argv[0]}): {exc}") from exc
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._reader = wire.FrameReader(self._proc.stdout.fileno(), max_bytes=256 * 1024 * 1024)
        init = {"root": SUBMISSION_MOUNT if isolated else str(cfg.root),
                "probes": PROBES_MOUNT if isolated else str(cfg.probes), "module": cfg.module,
                "class_name": cfg.class_name, "preload": list(cfg.preload),
                # inside a pid namespace every process but the fork server belongs to the student
                "sweep": isolated, "nproc": 64 if self._uid is not None else None}
        try:
            wire.write_frame(self._proc.stdin.fileno(), init)
            ready, _ = self._reader.read(deadline=time.monotonic() + _START_TIMEOUT_S)
        except (OSError, EOFError, TimeoutError, wire.WireError) as exc:
            tail = (workdir / "fork-server.log").read_text(errors="replace")[-2000:]
            self._kill()
            raise SandboxError(f"the student process did not start: {exc}\n{tail}") from exc
        if ready.get("status") != "ready":
            self._kill()
            raise SandboxError(f"the student process answered {ready!r} instead of ready")

    def _kill(self) -> None:
        proc, self._proc, self._reader = self._proc, None, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        proc.wait()

    def close(self) -> None:
        """End the fork server and its whole process group: it holds nothing worth a clean exit."""
        self._kill()
        if self._uid is not None:
            UIDS.release(self._uid)
            self._uid = None
        if self._memory is not None:
            self._memory.remove()
            self._memory = None

    def _cap_memory(self, memory_mb: int) -> None:
        """Before a call: let it add `memory_mb` of real memory to what the idle fork server holds,
        and note the OOM kills so far, to tell an OOM kill from another crash afterwards."""
        memory = self._memory
        if memory is None:
            return
        try:
            memory.set_limit(memory.usage() + memory_mb * _MB)
            self._ooms_before = memory.oom_kills()
        except OSError as exc:  # the grader's own failure, never the student's
            raise SandboxError(f"cannot set the sandbox's memory cgroup limit: {exc}") from exc

    def _oom_detail(self, limits: Limits) -> str | None:
        memory = self._memory
        try:
            if memory is None or memory.oom_kills() <= self._ooms_before:
                return None
        except OSError:
            return None
        return (f"out of memory: the sandbox's memory cgroup stopped the code when it held more than "
                f"{limits.memory_mb} MB (memory in files and in child processes counts too)")

    def call(self, probe: str, limits: Limits, kwargs: dict[str, Any] | None = None,
             arrays: dict[str, Any] | None = None) -> ProbeOutcome:
        """Run `probe_<probe>` in a fresh child of the fork server and return what it claims."""
        return self._request({"probe": probe, "kwargs": kwargs or {}, "limits": limits.to_json()}, arrays, limits)

    def call_batch(self, calls: list[tuple[str, dict[str, Any], dict[str, Any]]],
                   limits: Limits) -> list[ProbeOutcome] | None:
        """Run several probe calls in one child, one after the other: one fork instead of many.

        Each call's exception is its own outcome. If the child as a whole times out or crashes,
        nothing can be attributed to a single call, so None is returned and the caller falls
        back to separate calls.
        """
        request = {"batch": [{"probe": p, "kwargs": kw} for p, kw, _ in calls], "limits": limits.to_json()}
        arrays = {f"{i}/{name}": value for i, (_, _, arr) in enumerate(calls) for name, value in arr.items()}
        whole = self._request(request, arrays, limits)
        parts = whole.data.pop("__batch__", None)  # set by _request from the header
        if not whole.ok or not isinstance(parts, list) or len(parts) != len(calls):
            return None
        outcomes = []
        for i, part in enumerate(parts):
            prefix = f"{i}/"
            data = {k[len(prefix):]: v for k, v in whole.data.items() if k.startswith(prefix)}
            error = part.get("error") if isinstance(part, dict) and isinstance(part.get("error"), dict) else None
            status = str(part.get("status", "crashed")) if isinstance(part, dict) else "crashed"
            outcomes.append(ProbeOutcome(status, data, error, whole.output, "", whole.duration / len(calls)))
        return outcomes

    def _send(self, request: dict[str, Any], arrays: dict[str, Any] | None) -> None:
        """Hand a request to a live fork server, starting a new one if the last call killed it."""
        for attempt in (1, 2):
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                self._start()
            assert self._proc is not None and self._proc.stdin is not None
            self._cap_memory(int(request["limits"]["memory_mb"]))
            try:
                wire.write_frame(self._proc.stdin.fileno(), request, arrays)
                return
            except BrokenPipeError:  # it died after the last answer: the request never arrived
                self._kill()
                if attempt == 2:
                    raise

    def _request(self, request: dict[str, Any], arrays: dict[str, Any] | None, limits: Limits) -> ProbeOutcome:
        started = time.monotonic()
        try:
            self._send(request, arrays)
            assert self._reader is not None
            header, data = self._reader.read(deadline=started + limits.time_s + _GRACE_S)
        except TimeoutError:
            self._kill()
            return ProbeOutcome("timeout", detail=f"still running after {limits.time_s:.3g} s; the student process "
                                "stopped responding and was killed", duration=time.monotonic() - started)
        except (OSError, EOFError, wire.WireError) as exc:
            self._kill()
            detail = self._oom_detail(limits) or f"the student process died during the call ({exc})"
            return ProbeOutcome("crashed", detail=detail, duration=time.monotonic() - started)
        if "batch" in request:
            data["__batch__"] = header.get("batch")  # type: ignore[assignment]
        status = str(header.get("status", "crashed"))
        detail = str(header.get("detail", ""))
        if status == "crashed":
            detail = self._oom_detail(limits) or detail
        return ProbeOutcome(
            status=status,
            data=data,
            error=header.get("error") if isinstance(header.get("error"), dict) else None,
            output=str(header.get("output", ""))[: limits.output_bytes + 200],
            detail=detail,
            duration=_seconds(header.get("duration"), time.monotonic() - started),
        )


class NamespaceSession(ModuleSession):
    """The grader's handle on a notebook kernel turned fork server (`zygote.serve_namespace`).

    Same calls and outcomes as `ModuleSession`, so probes and checks are written the same way
    for functions defined in a notebook. There is no restarting: the namespace exists only in
    that kernel, so once it is gone every later call says so.
    """

    def __init__(self, socket_path: Path, gone: str = "the notebook's kernel is no longer running") -> None:
        super().__init__(SessionConfig(root=Path("/nonexistent"), probes=Path("/nonexistent"), module="notebook"))
        self.socket_path = socket_path
        self._sock: socket.socket | None = None
        self._gone: str | None = None
        self._gone_reason = gone

    def connect(self, timeout_s: float = _START_TIMEOUT_S) -> None:
        """Connect to the kernel's server (it may still be starting up); raises SandboxError if it never answers."""
        deadline = time.monotonic() + timeout_s
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(self.socket_path))
                break
            except OSError as exc:
                sock.close()
                if time.monotonic() > deadline:
                    raise SandboxError(f"the notebook's kernel did not start serving probes: {exc}") from exc
                time.sleep(0.05)
        self._sock = sock
        self._reader = wire.FrameReader(sock.fileno(), max_bytes=256 * 1024 * 1024)
        try:
            ready, _ = self._reader.read(deadline=time.monotonic() + _START_TIMEOUT_S)
        except (OSError, EOFError, TimeoutError, wire.WireError) as exc:
            self._kill()
            raise SandboxError(f"the notebook's kernel did not start serving probes: {exc}") from exc
        if ready.get("status") != "ready":
            self._kill()
            raise SandboxError(f"the notebook's kernel answered {ready!r} instead of ready")

    def _send(self, request: dict[str, Any], arrays: dict[str, Any] | None) -> None:
        if self._sock is None:
            raise OSError(self._gone or self._gone_reason)
        wire.write_frame(self._sock.fileno(), request, arrays)

    def _kill(self) -> None:
        sock, self._sock, self._reader = self._sock, None, None
        if sock is not None:
            self._gone = "the notebook's kernel stopped answering during an earlier call"
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        """Hang up: the serving cell returns and the notebook run can finish."""
        self._kill()
