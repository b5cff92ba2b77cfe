"""Running a student's notebook headlessly, its kernel inside the same sandbox as the module checks.

nbclient drives the kernel from the grader process; the kernel itself runs in bubblewrap
under the submission's own uid, talking over ipc sockets in a private runtime folder (tcp
ports would live in the sandbox's own network namespace). The kernel's working folder is a
copy of the submission in the sandbox's size-capped /tmp, with the starter's data folders
linked in read-only; `/out` is the one folder it can write that the grader reads back.

Three clocks bound a run: nbclient's per-cell timeout, the notebook budget, and an outer
watchdog that kills the kernel's whole sandbox (a cell that ignores SIGINT hangs nbclient's
own interrupt). Everything the kernel prints is a claim, capped in size, never a verdict.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager, KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.execution.sandbox import DATA_MOUNT, PROBES_MOUNT, SINGLE_THREAD_BLAS, SUBMISSION_MOUNT, UIDS, Sandbox

OUT_MOUNT = "/out"
WORK_DIR = "/tmp/work"
_MAX_CELL_OUTPUT = 64 * 1024


@dataclass(frozen=True)
class NotebookLimits:
    cell_timeout_s: float = 600.0
    budget_s: float = 900.0
    memory_mb: int = 4096
    output_bytes_per_cell: int = _MAX_CELL_OUTPUT


@dataclass
class NotebookRun:
    """What happened when the notebook ran. `status`: ok, error, timeout, dead, invalid, missing."""

    status: str
    message: str
    executed: Any = None  # the executed nbformat NotebookNode (outputs capped), or None
    failed_cell: int | None = None
    duration_s: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)  # what the kernel left in /out
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProbeServing:
    """After the student's cells, keep the kernel and serve probes against its globals.

    `ready` is called exactly once, from the notebook's thread: with the run so far and the
    host path of the socket to connect a `NamespaceSession` to, or with None when the kernel
    never got to serve (the notebook timed out, died or could not start). The serving cell ends
    when the grader hangs up; its time is not charged to the notebook's budget.
    """

    probes: Path
    ready: Callable[[NotebookRun, Path | None], None]


_SERVE_CELL = """\
import sys as _grader_sys
for _grader_name in [n for n in _grader_sys.modules if n == "grader" or n.startswith("grader.")]:
    del _grader_sys.modules[_grader_name]  # the notebook's own "grader" modules, if any, are not used
_grader_sys.path.insert(0, {grader_src!r})
from grader.execution import zygote as _grader_zygote
_grader_sys.path.remove({grader_src!r})
_grader_zygote.serve_namespace(globals(), {socket!r}, {probes!r}, sweep={sweep!r}, nproc={nproc!r})
"""


def read_notebook(path: Path) -> tuple[Any, list[str]]:
    """Parse a notebook file; raises ValueError with a message a student can act on."""
    notes: list[str] = []
    try:
        raw = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc}); re-save it from Jupyter") from None
    except RecursionError:  # a real notebook is a few levels deep
        raise ValueError(f"{path.name} is JSON nested too deeply to be a notebook; re-save it from Jupyter") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise ValueError(f"{path.name} is JSON but not a notebook (no cells)")
    major = raw.get("nbformat")
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds on malformed input
        raise ValueError(f"{path.name} could not be read as a notebook: {exc}") from None
    if major != 4:
        notes.append(f"{path.name} is in nbformat {major}; it was converted to nbformat 4 to run")
    return nb, notes


class _SandboxedKernelManager(AsyncKernelManager):
    """An (async) KernelManager whose kernel command is wrapped in the sandbox.

    Async matters: with a blocking client nbclient waits on the iopub socket inside its event
    loop, and neither the cell timeout nor the dead-kernel check can run."""

    wrap_command: Any = None  # callable(connection_file) -> argv; set per run

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return self.wrap_command(os.path.realpath(self.connection_file))


class _CappedClient(NotebookClient):
    """nbclient with a cap on how much output one cell may keep in the grader's memory."""

    def output(self, outs: list, msg: dict, display_id: str, cell_index: int) -> Any:
        size = sum(len(json.dumps(o, default=str)) for o in outs)
        if size > self.output_cap:
            if not any(o.get("name") == "grader" for o in outs):
                outs.append(nbformat.v4.new_output("stream", name="grader",
                                                   text=f"[output beyond {self.output_cap} bytes not kept]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    output_cap: int = _MAX_CELL_OUTPUT


def _kernel_env() -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": "/tmp",
            **SINGLE_THREAD_BLAS, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def run_notebook(
    path: Path,
    root: Path,
    *,
    sandbox: Sandbox,
    python: str,
    grader_src: str,
    workdir: Path,
    data: dict[str, Path] | None = None,
    limits: NotebookLimits = NotebookLimits(),
    final_cell: str | None = None,
    serve: ProbeServing | None = None,
) -> NotebookRun:
    """Execute `path` (a notebook inside the submission copy `root`) and collect what it left in /out.

    `data` maps folder names to host folders linked read-only into the working folder (the
    starter's mnist_data). `final_cell` is appended and run after the student's cells even
    when one of them raised (it extracts the model); `{out}` in it names the folder the grader
    reads back. Its output is a claim like any other. With `serve`, one more cell then turns
    the kernel into a fork server for probes against the notebook's globals (see ProbeServing).
    """
    started = time.monotonic()
    try:
        nb, notes = read_notebook(path)
    except ValueError as exc:
        return NotebookRun("invalid", str(exc), duration_s=time.monotonic() - started)
    student_cells = len(nb.cells)
    runtime = workdir / "kernel-runtime"
    out = workdir / "out"
    for folder in (runtime, out):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    if final_cell:
        target = OUT_MOUNT if sandbox.isolates else str(out)
        nb.cells.append(nbformat.v4.new_code_cell(final_cell.replace("{out}", target),
                                                  metadata={"grader": "injected"}))
    socket_host = runtime / "probes.sock"
    serve_index = None
    if serve is not None:
        serve_index = len(nb.cells)
        nb.cells.append(nbformat.v4.new_code_cell(_SERVE_CELL.format(
            grader_src=grader_src, socket=str(socket_host),
            probes=PROBES_MOUNT if sandbox.isolates else str(serve.probes),
            sweep=sandbox.isolates, nproc=64 if sandbox.drops_uid else None), metadata={"grader": "injected"}))
    host_cwd = root / path.relative_to(root).parent
    if not sandbox.isolates:  # no sandbox: a host copy plays the part of the sandbox's /tmp/work
        work = workdir / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(root, work, symlinks=False)
        for name, host in (data or {}).items():
            if not (work / name).exists():
                (work / name).symlink_to(host)
        host_cwd = work / path.relative_to(root).parent
    uid = UIDS.acquire() if sandbox.drops_uid else None
    memory = None
    try:
        # the kernel's whole sandbox (its probe calls included) shares one cap on real memory
        memory = sandbox.memory_group(limits.memory_mb * 1024 * 1024)
        if uid is not None:
            for folder in (runtime, out):
                os.chown(folder, uid, uid)
                os.chmod(folder, 0o700)
        links = "".join(f" && ln -s {_shell_quote(DATA_MOUNT + '/' + name)} {_shell_quote(name)}"
                        for name in (data or {}))
        rel = path.relative_to(root).parent
        kernel_cwd = WORK_DIR if str(rel) == "." else f"{WORK_DIR}/{rel}"

        def wrap(connection_file: str) -> list[str]:
            os.chmod(connection_file, 0o600)
            if uid is not None:
                os.chown(connection_file, uid, uid)
            cpu = int(limits.budget_s) + 60
            mem = limits.memory_mb * 1024 * 1024
            # -m puts the working folder on sys.path, as Jupyter does (the notebook imports cattern)
            launcher = [python, "-E", "-s", "-m", "ipykernel_launcher", "-f", connection_file]
            if not sandbox.isolates:
                return sandbox.confine(launcher)
            script = (f"mkdir -p {WORK_DIR} && cp -r {SUBMISSION_MOUNT}/. {WORK_DIR}/ && cd {WORK_DIR}{links}"
                      f" && cd {_shell_quote(kernel_cwd)} && exec prlimit --as={mem} --cpu={cpu} --core=0 "
                      f"--nofile=256 --fsize={64 * 1024 * 1024}"
                      + (" --nproc=64" if uid is not None else "")
                      + " -- " + " ".join(_shell_quote(a) for a in launcher))
            extra = [(str(runtime), str(runtime), True), (str(out), OUT_MOUNT, True)]
            extra += [(str(host), f"{DATA_MOUNT}/{name}", False) for name, host in (data or {}).items()]
            if Path("/etc/fonts").is_dir():  # matplotlib's font lookup, read-only
                extra.append(("/etc/fonts", "/etc/fonts", False))
            return sandbox.wrap(["/bin/sh", "-c", script], root=root, probes=serve.probes if serve else None,
                                grader_src=grader_src, uid=uid, extra=tuple(extra), env=_kernel_env(), memory=memory)

        km = _SandboxedKernelManager(transport="ipc", ip=str(runtime / "kernel"))
        km.connection_file = str(runtime / "kernel.json")
        km.wrap_command = wrap
        client = _CappedClient(nb, km=km, timeout=limits.cell_timeout_s, allow_errors=True,
                               interrupt_on_timeout=False, startup_timeout=120, record_timing=True,
                               resources={"metadata": {"path": str(host_cwd)}})
        client.output_cap = limits.output_bytes_per_cell
        fired = threading.Event()
        announced = threading.Event()

        def watchdog() -> None:
            fired.set()
            _kill_kernel(km)

        timer = threading.Timer(limits.budget_s, watchdog)
        timer.daemon = True
        timer.start()

        if serve is not None:
            client.timeout_func = lambda cell: None if cell is nb.cells[serve_index] else limits.cell_timeout_s

            def on_cell_start(cell: Any, cell_index: int) -> None:
                if cell_index == serve_index and not fired.is_set():
                    timer.cancel()  # serving is the grader's time, not the notebook's
                    announced.set()
                    so_far = _summary(client.nb, "ok", "the notebook ran to the end", None, student_cells, out,
                                      started, notes)
                    serve.ready(so_far, socket_host)

            client.on_cell_start = on_cell_start
        status, message, failed = "ok", "the notebook ran to the end", None
        log = open(workdir / "kernel.log", "wb")  # noqa: SIM115 - closed in finally
        try:
            client.execute(env=_kernel_env(), stdout=log, stderr=log)
        except CellTimeoutError:
            status, message = "timeout", f"a cell ran longer than its limit of {limits.cell_timeout_s:g} s"
        except DeadKernelError as exc:
            if fired.is_set():
                status, message = "timeout", f"the notebook did not finish within its budget of {limits.budget_s:g} s"
            else:
                status, message = "dead", f"the kernel died ({exc}); does the notebook call exit() or use all memory?"
        except Exception as exc:  # noqa: BLE001 - nbclient/zmq failures while the watchdog kills the kernel
            if fired.is_set():
                status, message = "timeout", f"the notebook did not finish within its budget of {limits.budget_s:g} s"
            else:
                status, message = "dead", f"the notebook could not be run: {type(exc).__name__}: {exc}"
        finally:
            timer.cancel()
            _kill_kernel(km)
            log.close()
        if status == "dead" and memory is not None and memory.oom_kills():
            message = (f"the kernel ran out of memory: the notebook held more than its limit of {limits.memory_mb} MB "
                       "(memory in files and child processes counts too)")
        if status == "dead":
            tail = (workdir / "kernel.log").read_text(errors="replace")[-1500:].strip()
            if tail:
                message += f"\nkernel log (tail):\n{tail}"
        if announced.is_set() and status != "ok":  # the student's cells had all run: only serving broke off
            status, message = "ok", "the notebook ran to the end"
        result = _summary(client.nb, status, message, failed, student_cells, out, started, notes)
        if serve is not None and not announced.is_set():
            serve.ready(result, None)
        return result
    finally:
        if uid is not None:
            UIDS.release(uid)
        if memory is not None:
            memory.remove()


def merge_adjacent_streams(nb: Any) -> None:
    """Join a cell's consecutive stdout (or stderr) outputs into one, in place.

    ipykernel sends a cell's printing in chunks cut by time, so on a busy machine one `print` can land
    in two outputs ("Final training loss: " and "0.0171"): a claim read from the printed text would
    then be found or not depending on the load. Only neighbours are joined, so text printed after an
    image stays after it.
    """
    for cell in getattr(nb, "cells", []):
        merged: list[Any] = []
        for out in cell.get("outputs", []) or []:
            last = merged[-1] if merged else None
            if (out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                    and last.get("name") == out.get("name")):
                last["text"] = str(last.get("text", "")) + str(out.get("text", ""))
            else:
                merged.append(out)
        if cell.get("outputs"):
            cell["outputs"] = merged


def _summary(executed: Any, status: str, message: str, failed: int | None, student_cells: int, out: Path,
             started: float, notes: list[str]) -> NotebookRun:
    """The run as the grader reports it: the first failing student cell, and what the kernel left in /out."""
    merge_adjacent_streams(executed)
    if status == "ok":
        for index, cell in enumerate(executed.cells[:student_cells]):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                status, failed = "error", index
                message = f"cell {index + 1} raised {errors[0].get('ename')}: {errors[0].get('evalue')}"[:500]
                break
    elif status == "timeout" or status == "dead":
        failed = _last_started(executed, student_cells)
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.stat().st_size < 256 * 2**20}
    return NotebookRun(status, message, executed, failed, time.monotonic() - started, files, list(notes))


def _last_started(nb: Any, student_cells: int) -> int | None:
    started = [i for i, c in enumerate(nb.cells[:student_cells]) if c.get("cell_type") == "code"
               and c.get("metadata", {}).get("execution", {}).get("iopub.execute_input")]
    return started[-1] if started else None


def _kill_kernel(km: KernelManager) -> None:
    """SIGKILL the kernel's sandbox (bwrap's --die-with-parent takes every process in it along)."""
    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    pid = getattr(process, "pid", None)
    if pid:
        for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass
