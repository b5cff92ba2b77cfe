"""Running a submission's scripts headlessly, each as `python script.py`, inside the sandbox, on a budget.

Some hand-ins are plain scripts that train a model, print their results and draw plots. Each
named script runs in a fresh copy of the submission (the sandbox's size-capped /tmp), with the
rubric's data folders linked in read-only, matplotlib headless (Agg) and its figures captured
(`script_boot.py`). Its output is kept, capped. It is a claim, never a verdict: the grader reads
back only the files the rubric names (a trained model, say) and judges them itself.

A budget bounds each script: CPU seconds (RLIMIT_CPU, so a busy machine does not cut a script
short), wall-clock seconds (a script that sleeps or waits), and memory. A script stopped at its
budget keeps whatever it had already written: the named files are copied out after the script
ends, however it ended, and the run says that it was stopped and what it had saved.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.execution.sandbox import DATA_MOUNT, SINGLE_THREAD_BLAS, SUBMISSION_MOUNT, UIDS, Sandbox

OUT_MOUNT = "/out"
WORK_DIR = "/tmp/work"
_OUTPUT_HEAD = 48 * 1024
_OUTPUT_TAIL = 16 * 1024
_MAX_FILE_BYTES = 256 * 1024 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CPU_FILE = ".cpu-times"  # the shell's `times` after the script: its children's user and system seconds
_GRACE_S = 30.0  # past the wall budget, the whole sandbox is killed (nothing can be copied out then)


class ScriptStatus(enum.StrEnum):
    """How a script run ended."""

    OK = "ok"  # exit code 0
    ERROR = "error"  # a non-zero exit code (an uncaught exception, sys.exit(1)...)
    TIMEOUT = "timeout"  # stopped at its CPU or wall-clock budget
    KILLED = "killed"  # ended by a signal other than the budget's (or out of memory)
    MISSING = "missing"  # the script is not in the submission
    FAILED = "failed"  # the grader could not run it: a grader failure, never the student's


@dataclass(frozen=True)
class ScriptSpec:
    """One script the rubric runs (`[scripts.<name>]` in rubric.toml)."""

    name: str
    path: str  # relative to the submission root; the script runs with the root as its working folder
    cpu_s: float = 60.0
    wall_s: float | None = None  # default: twice the CPU budget plus 30 s
    memory_mb: int = 2048
    outputs: tuple[str, ...] = ()  # files (relative to the root) read back after the run, however it ended
    args: tuple[str, ...] = ()

    @property
    def wall_budget_s(self) -> float:
        return self.wall_s if self.wall_s is not None else 2 * self.cpu_s + 30


@dataclass(frozen=True)
class Figure:
    """A figure the script showed or saved, as PNG bytes. `how`: show or savefig."""

    name: str
    how: str
    png: bytes


@dataclass
class ScriptRun:
    spec: ScriptSpec
    status: ScriptStatus
    message: str
    exit_code: int | None = None
    output: str = ""  # stdout and stderr as one stream, capped (head and tail kept)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU seconds of the script and everything it started
    figures: tuple[Figure, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)  # spec.outputs that existed when the script ended

    @property
    def stopped_at_budget(self) -> bool:
        return self.status is ScriptStatus.TIMEOUT


class _CappedReader(threading.Thread):
    """Drains a pipe, keeping its head and its tail: a script printing gigabytes costs no memory or disk."""

    def __init__(self, stream: object) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def run(self) -> None:
        read = self.stream.read  # type: ignore[attr-defined]
        while chunk := read(65536):
            room = _OUTPUT_HEAD - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail += chunk
            if len(self.tail) > _OUTPUT_TAIL:
                self.dropped += len(self.tail) - _OUTPUT_TAIL
                del self.tail[:-_OUTPUT_TAIL]

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes of output not kept ...]\n" if self.dropped else ""
        return (bytes(self.head).decode(errors="replace") + middle + bytes(self.tail).decode(errors="replace"))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _shell(spec: ScriptSpec, *, source: str, work: str, out: str, python: str, boot: str,
           data: dict[str, str], memory: int, nproc: bool) -> str:
    """The script run, then the copy of its named outputs to `out`, whatever the exit code was."""
    links = "".join(f" && {{ [ -e {_quote(name)} ] || ln -s {_quote(target)} {_quote(name)}; }}"
                    for name, target in data.items())
    cpu = max(1, int(round(spec.cpu_s)))
    run = (f"timeout -s KILL {spec.wall_budget_s:.0f} prlimit --cpu={cpu}:{cpu + 2} --as={memory} --core=0 "
           f"--nofile=256 --fsize={64 * 1024 * 1024}" + (" --nproc=64" if nproc else "")
           + f" -- {_quote(python)} -E -s {_quote(boot)} {_quote(spec.path)} "
           + " ".join(_quote(a) for a in spec.args))
    copies = "".join(f"; if [ -f {_quote(rel)} ]; then mkdir -p {_quote(os.path.dirname(f'{out}/files/{rel}'))} "
                     f"&& cp -- {_quote(rel)} {_quote(f'{out}/files/{rel}')}; fi" for rel in spec.outputs)
    return (f"rc=99; mkdir -p {_quote(work)} && cp -r {_quote(source)}/. {_quote(work)}/ && cd {_quote(work)}{links}"
            f" && {{ {run}; rc=$?; }} < /dev/null; times > {_quote(out + '/' + CPU_FILE)}{copies}; exit $rc")


def run_script(spec: ScriptSpec, root: Path, *, sandbox: Sandbox, python: str, grader_src: str, workdir: Path,
               data: dict[str, Path] | None = None) -> ScriptRun:
    """Run `spec` against the submission copy `root` and collect its output, figures and named files.

    Never raises for anything the script does; a failure to start the sandbox is `FAILED`.
    """
    if not (root / spec.path).is_file():
        return ScriptRun(spec, ScriptStatus.MISSING, f"{spec.path} was not found in the submission")
    out = workdir / "out"
    shutil.rmtree(workdir, ignore_errors=True)
    (out / "figures").mkdir(parents=True)
    (out / "files").mkdir()
    boot_host = str(Path(grader_src) / "grader" / "execution" / "script_boot.py")
    uid = UIDS.acquire() if sandbox.drops_uid else None
    try:
        if sandbox.isolates:
            if uid is not None:
                for folder in (out, out / "figures", out / "files"):
                    os.chown(folder, uid, uid)
            shell = _shell(spec, source=SUBMISSION_MOUNT, work=WORK_DIR, out=OUT_MOUNT, python=python,
                           boot=boot_host, data={n: f"{DATA_MOUNT}/{n}" for n in (data or {})},
                           memory=spec.memory_mb * 1024 * 1024, nproc=uid is not None)
            extra = [(str(out), OUT_MOUNT, True)]
            extra += [(str(host), f"{DATA_MOUNT}/{name}", False) for name, host in (data or {}).items()]
            if Path("/etc/fonts").is_dir():  # matplotlib's font lookup, read-only
                extra.append(("/etc/fonts", "/etc/fonts", False))
            argv = sandbox.wrap(["/bin/sh", "-c", shell], root=root, probes=None, grader_src=grader_src, uid=uid,
                                extra=tuple(extra), env=_env(f"{OUT_MOUNT}/figures", "/tmp"))
            env = None
        else:  # no sandbox: host folders play the parts of /tmp/work and /out
            shell = _shell(spec, source=str(root), work=str(workdir / "work"), out=str(out), python=python,
                           boot=boot_host, data={n: str(p) for n, p in (data or {}).items()},
                           memory=spec.memory_mb * 1024 * 1024, nproc=False)
            argv = ["/bin/sh", "-c", shell]
            env = _env(str(out / "figures"), str(workdir))
        return _run(spec, argv, env, out)
    finally:
        if uid is not None:
            UIDS.release(uid)


def _env(figures: str, home: str) -> dict[str, str]:
    """A clean environment: nothing of the grader's (secrets included) reaches the script."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": home, "GRADER_FIGURES": figures, "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1", **SINGLE_THREAD_BLAS}


def _run(spec: ScriptSpec, argv: list[str], env: dict[str, str] | None, out: Path) -> ScriptRun:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env if env is not None else _env("", "/tmp"), start_new_session=True,
                                close_fds=True)
    except OSError as exc:
        return ScriptRun(spec, ScriptStatus.FAILED, f"GRADER FAILURE (not the student's fault): cannot start "
                                                    f"{spec.path}: {exc}")
    reader = _CappedReader(proc.stdout)
    reader.start()
    killed = threading.Event()

    def watchdog() -> None:  # the last resort: `timeout` inside should have stopped it already
        killed.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    timer = threading.Timer(spec.wall_budget_s + _GRACE_S, watchdog)
    timer.daemon = True
    timer.start()
    try:
        code = proc.wait()
    finally:
        timer.cancel()
    reader.join(timeout=10)
    wall = time.monotonic() - started
    cpu = _cpu_seconds(out / CPU_FILE)
    files = _files(out / "files", spec.outputs)
    figures = _figures(out / "figures")
    status_, message = _verdict(spec, code, cpu, wall, killed.is_set())
    saved = [rel for rel in spec.outputs if rel in files]
    if spec.outputs and status_ is not ScriptStatus.OK:
        message += (f"; it had saved {', '.join(saved)} by then, which is graded" if saved else
                    f"; it had not saved {', '.join(spec.outputs)} by then")
    return ScriptRun(spec, status_, message, code, reader.text(), round(wall, 2), round(cpu, 2), figures, files)


def _verdict(spec: ScriptSpec, code: int, cpu: float, wall: float, killed: bool) -> tuple[ScriptStatus, str]:
    if killed:
        return ScriptStatus.TIMEOUT, (f"stopped: still running {wall:.0f} s after it started (wall-clock budget "
                                      f"{spec.wall_budget_s:.0f} s); the sandbox was killed")
    if code == 0:
        return ScriptStatus.OK, f"ran to the end in {cpu:.1f} CPU-s ({wall:.1f} s)"
    if code in (128 + signal.SIGXCPU, -signal.SIGXCPU) or (code in (137, -9) and cpu >= spec.cpu_s - 0.5):
        return ScriptStatus.TIMEOUT, f"stopped at its budget of {spec.cpu_s:g} CPU-seconds"
    if code in (137, -9) and wall >= spec.wall_budget_s - 1:
        return ScriptStatus.TIMEOUT, (f"stopped at its wall-clock budget of {spec.wall_budget_s:.0f} s (it used "
                                      f"{cpu:.1f} CPU-s: waiting or sleeping?)")
    if code > 128 or code < 0:
        number = code - 128 if code > 128 else -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return ScriptStatus.KILLED, f"killed by {name} after {cpu:.1f} CPU-s (out of memory? limit {spec.memory_mb} MB)"
    return ScriptStatus.ERROR, f"exited with code {code} after {cpu:.1f} CPU-s"


def _cpu_seconds(path: Path) -> float:
    """Children's user + system time from the shell's `times` ("0m1.50s 0m0.20s" on its second line).

    The sandbox's pid namespace hides the script from the grader's own rusage. The figure is for
    the report and the benchmark; the budget itself is enforced by the kernel (RLIMIT_CPU)."""
    try:
        lines = path.read_text()[:200].splitlines()
    except OSError:
        return 0.0
    if len(lines) < 2:
        return 0.0
    total = 0.0
    for minutes, seconds in re.findall(r"(\d+)m([\d.]+)s", lines[1])[:2]:
        total += 60 * int(minutes) + float(seconds)
    return total


def _files(folder: Path, outputs: tuple[str, ...]) -> dict[str, bytes]:
    files = {}
    for rel in outputs:
        path = folder / rel
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_FILE_BYTES:
            files[rel] = path.read_bytes()
    return files


def _figures(folder: Path) -> tuple[Figure, ...]:
    """The PNGs the boot captured, in order; anything else a script dropped there is ignored."""
    found = []
    for path in sorted(folder.iterdir())[:48]:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 1024 * 1024:
            continue
        data = path.read_bytes()
        if not data.startswith(_PNG_MAGIC):
            continue
        how = "savefig" if "-savefig" in path.name else "show"
        found.append(Figure(path.stem, how, data))
    return tuple(found)
