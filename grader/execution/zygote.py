"""The student-side process: a fork server that runs one probe per forked child.

The grader starts this module in a fresh interpreter that holds no secrets and no reference
values. It imports numpy (and other heavy libraries the rubric allows) once, then forks a
child per probe call, so every task gets its own process, rlimits and wall-clock limit for
the price of a fork instead of an interpreter start. Student code is imported only in those
children, never here, so one task's hang or crash cannot poison the next.

Everything sent back is a claim: the grader re-validates each frame and decides.
Imports: stdlib, numpy and `wire` only.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import resource
import selectors
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from grader.execution import wire
from grader.execution.probe_api import IMPORT_PROBE, ContractError, NamespaceStudent, Student

RESULT_FD = 3
_NOTEBOOK_CELL = "/ipykernel_"  # ipykernel compiles each cell to <tmp>/ipykernel_<pid>/<hash>.py
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def _address_space() -> int:
    """Bytes of address space this process already holds (a forked kernel starts with all of it)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _set_limits(limits: dict[str, Any], nproc: int | None, memory_on_top: bool = False) -> None:
    cpu = int(limits["time_s"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    mem = int(limits["memory_mb"]) * 1024 * 1024
    if memory_on_top:  # a probe forked from a notebook's kernel: the limit is on what the call adds
        mem += _address_space()
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = int(limits.get("file_mb", 64)) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    if nproc:  # only under a uid of the sandbox's own: the count is per uid
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _student_frames(tb: Any, root: str) -> list[str]:
    """Format only the frames from the student's files: the grader's own frames are noise to them."""
    lines = []
    for frame in traceback.extract_tb(tb):
        if _NOTEBOOK_CELL in frame.filename:  # code of a notebook cell, compiled by ipykernel
            lines.append(f'File "notebook cell", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        elif frame.filename.startswith(root + os.sep):
            rel = os.path.relpath(frame.filename, root)
            lines.append(f'File "{rel}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    return lines


def _describe(exc: BaseException, root: str) -> dict[str, Any]:
    if isinstance(exc, SyntaxError):
        rel = os.path.relpath(exc.filename, root) if exc.filename and exc.filename.startswith(root) else exc.filename
        frames = [f'File "{rel}", line {exc.lineno}']
        if exc.text:
            text = exc.text.rstrip("\n")
            code = text.lstrip()
            frames.append(f"    {code}")
            if exc.offset:
                frames.append("    " + " " * max(exc.offset - 1 - (len(text) - len(code)), 0) + "^")
        return {"type": type(exc).__name__, "message": str(exc.msg), "traceback": frames,
                "file": rel, "line": exc.lineno}
    kind = "contract" if isinstance(exc, ContractError) else "raised"
    frames = _student_frames(exc.__traceback__, root)
    message = str(exc) if not isinstance(exc, SystemExit) else f"the code called sys.exit({exc.code!r})"
    return {"type": type(exc).__name__, "message": message[:4000], "traceback": frames[-40:], "kind": kind}


def _import_student(student: Student, state: dict[str, Any]) -> dict[str, Any]:
    student.module()
    if state["class_name"]:
        student.cls()
    return {}


def _run_one(probe_name: str, kwargs: dict[str, Any], arrays: dict[str, Any], student: Student,
             state: dict[str, Any], request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One probe call; the student's exception (or unsendable return value) becomes data."""
    try:
        if probe_name == IMPORT_PROBE:
            result = _import_student(student, state)
        else:
            probe = getattr(state["probes"], "probe_" + probe_name)
            result = probe(student, **kwargs, **arrays)
        payload = result or {}
        wire.encode({}, payload)  # refuse non-numeric data here, per call, rather than losing the frame
        return {"status": "ok"}, payload
    except wire.WireError as exc:
        return {"status": "error", "error": {"type": "WrongReturnType", "message": str(exc), "traceback": [],
                                             "kind": "contract"}}, {}
    except BaseException as exc:  # noqa: BLE001 - the student's failure is data, not a crash
        error = _describe(exc, state["root"])
        if isinstance(exc, MemoryError):
            error["message"] = f"out of memory (limit {request['limits']['memory_mb']} MB)"
        return {"status": "error", "error": error}, {}


def _child(request: dict[str, Any], arrays: dict[str, Any], state: dict[str, Any], result_w: int, out_w: int) -> None:
    """Runs in the forked child; never returns."""
    try:
        os.setpgid(0, 0)
        libc = ctypes.CDLL(None)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(_PR_SET_DUMPABLE, 1)
        try:  # in a memory cgroup the OOM killer picks this call, never the fork server it would restart
            with open("/proc/self/oom_score_adj", "w") as adj:
                adj.write("1000")
        except OSError:
            pass
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.dup2(result_w, RESULT_FD)
        os.closerange(RESULT_FD + 1, 1 << 16)
        sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the child
        in_kernel = "namespace" in state
        if in_kernel:  # the kernel's sys.stdout is a zmq stream: it must not be used from a fork
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        _set_limits(request["limits"], state.get("nproc"), memory_on_top=in_kernel)
    except BaseException:  # pragma: no cover - only if the OS refuses the set-up
        os._exit(70)

    root = state["root"]
    os.chdir(root)
    sys.path.insert(0, root)
    if "namespace" in state:
        student: Student = NamespaceStudent(state["namespace"])
    else:
        student = Student(state["module"], state["class_name"])
    if "batch" in request:
        header: dict[str, Any] = {"status": "ok", "batch": []}
        payload: dict[str, Any] = {}
        for i, call in enumerate(request["batch"]):
            prefix = f"{i}/"
            mine = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            sub_header, sub_payload = _run_one(call["probe"], call.get("kwargs", {}), mine, student, state, request)
            header["batch"].append(sub_header)
            payload.update({prefix + k: v for k, v in sub_payload.items()})
    else:
        header, payload = _run_one(request["probe"], request.get("kwargs", {}), arrays, student, state, request)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    try:
        wire.write_frame(RESULT_FD, header, payload)
    except BaseException:  # noqa: BLE001
        os._exit(71)
    os._exit(0)


def _sweep() -> None:
    """In the sandbox's pid namespace, anything but init and this fork server was started by
    student code (a setsid() escapee, a daemon): it does not outlive the call."""
    keep = {1, os.getpid(), os.getppid()}
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in keep:
            try:
                os.kill(int(name), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _supervise(pid: int, result_r: int, out_r: int, limits: dict[str, Any], sweep: bool = False) -> dict[str, Any]:
    """Collect the child's result and output under a wall-clock deadline and size caps."""
    deadline = time.monotonic() + float(limits["time_s"])
    out_cap = int(limits.get("output_bytes", 64 * 1024))
    result_cap = int(limits.get("result_bytes", 64 * 1024 * 1024))
    result = bytearray()
    output = bytearray()
    output_total = 0
    verdict: str | None = None
    sel = selectors.DefaultSelector()
    sel.register(result_r, selectors.EVENT_READ, "result")
    sel.register(out_r, selectors.EVENT_READ, "output")
    open_streams = 2
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            verdict = "timeout"
            break
        for key, _ in sel.select(remaining):
            chunk = os.read(key.fd, 1 << 16)
            if not chunk:
                sel.unregister(key.fd)
                open_streams -= 1
            elif key.data == "result":
                result += chunk
                if len(result) > result_cap:
                    verdict = "oversize"
            else:
                output_total += len(chunk)
                if len(output) < out_cap:
                    output += chunk[: out_cap - len(output)]
        if verdict:
            break
    sel.close()
    # always: nothing the call started may outlive it (the group exists until the child is reaped)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _, status, usage = os.wait4(pid, 0)
    if sweep:
        _sweep()
    os.close(result_r)
    os.close(out_r)
    text = output.decode("utf-8", "replace")
    if output_total > len(output):
        text += f"\n[... {output_total - len(output)} more bytes of output not kept]"
    response: dict[str, Any] = {"output": text}
    if verdict == "timeout":
        response.update(status="timeout", detail=f"still running after {float(limits['time_s']):.3g} s (wall clock)")
        return response
    if verdict == "oversize":
        response.update(status="crashed", detail=f"returned more than {result_cap} bytes")
        return response
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        cpu = usage.ru_utime + usage.ru_stime
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= int(limits["time_s"])):
            response.update(status="timeout", detail=f"used more than {float(limits['time_s']):.3g} s of CPU time")
        else:
            response.update(status="crashed", detail=f"the process was killed by signal {signal.Signals(sig).name}")
        return response
    response["frame"] = bytes(result)
    response["exit_code"] = os.WEXITSTATUS(status)
    return response


def _call(request: dict[str, Any], arrays: dict[str, Any], state: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    result_r, result_w = os.pipe()
    out_r, out_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        os.close(out_r)
        _child(request, arrays, state, result_w, out_w)
    os.close(result_w)
    os.close(out_w)
    response = _supervise(pid, result_r, out_r, request["limits"], bool(state.get("sweep")))
    duration = time.monotonic() - started
    frame = response.pop("frame", None)
    exit_code = response.pop("exit_code", None)
    header: dict[str, Any] = {**response, "duration": duration}
    payload: dict = {}
    if frame is not None:
        if not frame:
            header.update(status="crashed", detail=f"the process exited (code {exit_code}) without returning a result; "
                          "does the code call exit(), sys.exit() or os._exit()?")
        else:
            try:
                reader_header, payload = wire.decode(*_split(frame))
                header.update(_sanitise(reader_header))
            except wire.WireError as exc:
                header.update(status="crashed", detail=f"returned an unreadable result: {exc}")
    return header, payload


def _error_fields(error: Any) -> dict[str, Any] | None:
    if not isinstance(error, dict):
        return None
    trace = error.get("traceback")
    fields = {"type": str(error.get("type", "Error"))[:200], "message": str(error.get("message", ""))[:4000],
              "traceback": [str(line)[:500] for line in trace[:60]] if isinstance(trace, list) else [],
              "kind": "contract" if error.get("kind") == "contract" else "raised"}
    if "file" in error:  # a SyntaxError's location
        fields["file"] = str(error["file"])[:500]
        fields["line"] = error["line"] if isinstance(error.get("line"), int) else None
    return fields


def _sanitise(header: Any) -> dict[str, Any]:
    """Keep only what a result may say, in the types the grader expects: the child is the student."""
    if not isinstance(header, dict):
        raise wire.WireError("the result header is not a mapping")
    status = header.get("status")
    if status not in ("ok", "error"):
        raise wire.WireError(f"unknown result status {str(status)[:40]!r}")
    clean: dict[str, Any] = {"status": status}
    if status == "error":
        clean["error"] = _error_fields(header.get("error")) or {"type": "Error", "message": "", "traceback": [],
                                                                 "kind": "raised"}
    if "batch" in header:
        parts = header["batch"]
        if not isinstance(parts, list):
            raise wire.WireError("the batch results are not a list")
        clean["batch"] = [{"status": p.get("status") if p.get("status") in ("ok", "error") else "crashed",
                           "error": _error_fields(p.get("error"))} if isinstance(p, dict) else {"status": "crashed"}
                          for p in parts]
    return clean


def _split(frame: bytes) -> tuple[bytes, bytes]:
    if len(frame) < wire._HEAD.size:
        raise wire.WireError(f"a result of only {len(frame)} bytes")
    magic, head_len, payload_len = wire._HEAD.unpack_from(frame)
    if magic != wire.MAGIC or len(frame) != wire._HEAD.size + head_len + payload_len:
        raise wire.WireError("truncated or foreign frame")
    start = wire._HEAD.size
    return frame[start:start + head_len], frame[start + head_len:]


def _load_probes(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("grader_probes", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load probes from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _warm_up() -> None:
    """Pay numpy's lazy first-use costs (the global RNG, BLAS) once here instead of in every fork."""
    import numpy

    numpy.random.random()
    numpy.ones((2, 2)) @ numpy.ones((2, 2))


def _imported_by(path: Path) -> set[str]:
    """Top-level packages the student's module imports, read from its syntax tree without running it."""
    import ast

    try:
        tree = ast.parse(path.read_bytes())
    except Exception:  # noqa: BLE001 - unparsable (or too deep) source is reported when a child imports it
        return {"numpy"}
    names = {"numpy"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def main() -> None:
    """Serve probe calls read from stdin until it closes; answer each on stdout."""
    # compile the student's module once, into a private cache, instead of once per fork
    sys.dont_write_bytecode = False
    sys.pycache_prefix = os.path.join(os.environ.get("TMPDIR", "/tmp"), "pycache")
    reader = wire.FrameReader(0, max_bytes=256 * 1024 * 1024)
    init, _ = reader.read()
    wanted = _imported_by(Path(init["root"]) / (init["module"].replace(".", "/") + ".py"))
    for name in init.get("preload", ()):
        if name.split(".")[0] not in wanted:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional library is the student's import error later
            pass
    _warm_up()
    state = {
        "root": str(Path(init["root"]).resolve()),
        "module": init["module"],
        "class_name": init.get("class_name"),
        "sweep": bool(init.get("sweep")),
        "nproc": init.get("nproc"),
        "probes": _load_probes(init["probes"]),
    }
    # student children share this uid: without this they could ptrace the fork server or write its
    # memory through /proc and so shed their rlimits; each child turns it back on for itself
    ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0)
    wire.write_frame(1, {"status": "ready", "pid": os.getpid()})
    while True:
        try:
            request, arrays = reader.read()
        except EOFError:
            return
        header, payload = _call(request, arrays, state)
        wire.write_frame(1, header, payload)


def serve_namespace(namespace: dict[str, Any], socket_path: str, probes: str, *, sweep: bool = False,
                    nproc: int | None = None, accept_timeout_s: float = 120.0) -> None:
    """Serve probe calls against a notebook's executed namespace, from inside its kernel.

    Run by a cell the grader appends to the student's notebook: the kernel becomes a fork
    server like `main`, with the notebook's globals in place of an imported module. Each call
    runs in a forked child (a copy of the namespace, so calls cannot disturb one another) under
    the same limits, output capture and raw-array frames as module probes. The grader connects
    to `socket_path`; when it hangs up, the cell ends.

    The kernel ran student code before this, so nothing here is trusted more than a probe's
    answer: the grader validates every frame and decides.
    """
    state: dict[str, Any] = {"root": os.getcwd(), "module": None, "class_name": None, "namespace": namespace,
                             "sweep": sweep, "nproc": nproc, "probes": _load_probes(probes)}
    _warm_up()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(socket_path)
        server.listen(1)
        server.settimeout(accept_timeout_s)
        conn, _ = server.accept()
    finally:
        server.close()
    with conn:
        conn.settimeout(None)
        fd = conn.fileno()
        reader = wire.FrameReader(fd, max_bytes=256 * 1024 * 1024)
        wire.write_frame(fd, {"status": "ready", "pid": os.getpid()})
        while True:
            try:
                request, arrays = reader.read()
            except (EOFError, OSError):
                return
            header, payload = _call(request, arrays, state)
            wire.write_frame(fd, header, payload)


if __name__ == "__main__":
    main()
