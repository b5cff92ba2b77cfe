"""Hostile submissions, graded together in one batch at the full sandbox level (bwrap+uid).

Each attack is the reference solution with one malicious edit, or a hostile archive or file
layout. The batch runs in a separate grader process, as `grader grade` would, with a secret
in its environment and a secret file next to the submissions, forced to
`GRADER_SANDBOX=bwrap+uid` so that an attack can never run with weaker isolation.

For every attack the module checks: the batch completes and the submission gets a result
with a clear message; no task passes that the code would otherwise fail; the submission is
byte-identical afterwards; no process it started survives; nothing is written outside the
output folder. The read-only attacks are also graded at `GRADER_SANDBOX=process` as a
control: there they do succeed, which proves these tests can see a leak.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import secrets
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from grader.judgement.hidden import load_or_create_secret
from grader.results import SubmissionResult

from .conftest import PROJECT, SOLUTION, SOLUTION_ANSWERS, SOLUTION_CODE, STARTER, mutate, not_passing

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None or shutil.which("setpriv") is None or os.geteuid() != 0,
    reason="bubblewrap/setpriv not installed or the grader is not root: the attacks must only ever run at level "
    "bwrap+uid (CI installs bubblewrap and runs as root; `apt-get install bubblewrap`)")

TOKEN = "atk" + secrets.token_hex(5)  # 13 characters: fits in a process name (comm)
ENV_SECRET = "envsecret-" + secrets.token_hex(12)
REFERENCE = SOLUTION / "cattern/neural_net.py"
UID_RANGE = range(61000, 61128)
CODE_TASKS = ("T5", "T6", "T7", "T8", "T9", "T10", "T11")
# submissions that exposed a grader bug once; every submission must now get a verdict about itself
KNOWN_BUGS: set[str] = set()


def _refuses_huge_allocations() -> bool:
    """Heuristic (0) or strict (2) overcommit refuses one allocation larger than RAM + swap at once."""
    try:
        return Path("/proc/sys/vm/overcommit_memory").read_text().strip() in ("0", "2")
    except OSError:
        return False


def _beyond_memory() -> int:
    """Twice RAM + swap, in bytes: a file no process here can read into memory in one piece."""
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kib = int(info["MemTotal"].split()[0]) + int(info["SwapTotal"].split()[0])
    return 2 * kib * 1024


RUNNER = """\
import sys
from pathlib import Path
from grader.judgement import rubric
from grader.pipeline import grade_batch
summary = grade_batch(Path(sys.argv[1]), Path(sys.argv[2]), rubric.load("hw4"), workers=2,
                      secret_file=Path(sys.argv[3]))
print("graded", len(summary.graded))
"""

# --- building the attacks ----------------------------------------------------------------------

HOOK = "        y_pred = None\n"
WRONG_PREDICT = mutate("y_pred = np.argmax(scores, axis=1)", "y_pred = np.argmax(scores, axis=0)")


def after_imports(extra: str, code: str = SOLUTION_CODE) -> str:
    """Module-level code right after the solution's imports (a __future__ import must stay first)."""
    return mutate("import numpy as np\n", "import numpy as np\n" + extra + "\n", code)


def in_predict(attack: str, code: str = SOLUTION_CODE) -> str:
    """`attack` defines `_attack(net, X)`; predict() runs it first and returns what it returns, if not None."""
    hooked = HOOK + "        _hooked = _attack(self, X)\n        if _hooked is not None:\n            return _hooked\n"
    return mutate(HOOK, hooked, after_imports(attack, code))


STEAL = '''
def _attack(net, X):
    stolen = None
    try:
        with open("@REFERENCE@") as f:
            source = f.read()
        namespace = {"__name__": "stolen"}
        exec(compile(source, "stolen", "exec"), namespace)
        ref = namespace["TwoLayerNet"].__new__(namespace["TwoLayerNet"])
        ref.params = net.params
        stolen = ref.predict(X)
        print("STOLE-REFERENCE")
    except OSError as exc:
        print("REFERENCE-DENIED", type(exc).__name__)
    try:
        with open("@SECRET_FILE@") as f:
            print("SECRET-READ", f.read().strip())
    except OSError as exc:
        print("SECRET-DENIED", type(exc).__name__)
    return stolen
'''

SNOOP = '''
import os as _os

_NEEDLE = b"GRADER_ATTACK_" + b"SECRET="


def _find(data, found):
    i = data.find(_NEEDLE)
    while i >= 0:
        found.add(data[i + len(_NEEDLE): i + len(_NEEDLE) + 80].split(b"\\0")[0].decode(errors="replace"))
        i = data.find(_NEEDLE, i + 1)


def _attack(net, X):
    if getattr(_attack, "done", False):
        return None
    _attack.done = True
    found, report = set(), []
    pids, pid = [], _os.getppid()
    while pid > 1 and len(pids) < 2:  # the fork server, and whatever runs it (the grader, if visible)
        pids.append(pid)
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    if @SCAN_ALL@:  # inside the sandbox: every process it can see, init included
        pids = sorted({1, *pids, *(int(p) for p in _os.listdir("/proc") if p.isdigit())})
    for pid in pids:
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as f:
                    _find(f.read(), found)
                report.append(f"{pid}/{part}:read")
            except OSError as exc:
                report.append(f"{pid}/{part}:{type(exc).__name__}")
    ppid, scanned = _os.getppid(), 0
    try:
        with open(f"/proc/{ppid}/maps") as maps, open(f"/proc/{ppid}/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                lo, hi = (int(x, 16) for x in span.split("-"))
                if not perms.startswith("rw") or hi - lo > 64 << 20:
                    continue
                try:
                    mem.seek(lo)
                    data = mem.read(hi - lo)
                except (OSError, ValueError, OverflowError):
                    continue
                scanned += len(data)
                _find(data, found)
        report.append(f"ppid-mem:read:{scanned}")
    except OSError as exc:
        report.append(f"ppid-mem:{type(exc).__name__}")
    print("SNOOP", " ".join(report))
    for value in sorted(found):
        print("FOUND", value)
    return None
'''

KILL_PPID = '''
import os as _os, signal as _signal


def _attack(net, X):
    _os.kill(_os.getppid(), _signal.SIGKILL)
'''

KILL_ALL = '''
import os as _os, signal as _signal


def _attack(net, X):
    _os.kill(-1, _signal.SIGKILL)  # every process this uid may signal
'''

KILL_GROUP = '''
import os as _os, signal as _signal


def _attack(net, X):
    try:
        _os.kill(1, _signal.SIGKILL)
        _os.write(1, b"KILLED-INIT\\n")
    except OSError as exc:
        _os.write(1, f"INIT-DENIED {type(exc).__name__}\\n".encode())
    _os.killpg(0, _signal.SIGKILL)
'''

_QUIET = '''
def _quiet():
    fd = _os.open(_os.devnull, _os.O_RDWR)
    for target in (0, 1, 2):
        _os.dup2(fd, target)
    _os.closerange(3, 1 << 16)
'''

SWARM_AT_IMPORT = '''
import os as _os
''' + _QUIET + '''

def _swarm():
    spawned = 0
    while True:
        try:
            pid = _os.fork()
        except OSError:  # RLIMIT_NPROC
            return spawned
        if pid == 0:
            _quiet()
            _os.execv("/bin/sleep", ["@TOKEN@-swarm", "600"])
        spawned += 1


_SPAWNED = _swarm()
print("SWARM spawned", _SPAWNED)
'''

FORK_BOMB = '''
import ctypes as _ctypes, os as _os, time as _time
''' + _QUIET + '''

def _attack(net, X):
    _ctypes.CDLL(None).prctl(15, b"@TOKEN@", 0, 0, 0)  # PR_SET_NAME, inherited by every fork
    me = _os.getpid()
    while True:
        try:
            _os.fork()
        except OSError:
            if _os.getpid() == me:
                raise
            _quiet()
            _time.sleep(600)
'''

SETSID_ESCAPEE = '''
import os as _os


def _attack(net, X):
    if getattr(_attack, "done", False):  # once per process: train() calls predict() every epoch
        return None
    _attack.done = True
    r, w = _os.pipe()
    pid = _os.fork()
    if pid == 0:
        _os.setsid()
        if _os.fork() == 0:
            fd = _os.open(_os.devnull, _os.O_RDWR)
            for target in (0, 1, 2):
                _os.dup2(fd, target)
            _os.closerange(3, w)
            _os.closerange(w + 1, 1 << 16)
            _os.execv("/bin/sleep", ["@TOKEN@-setsid", "600"])  # closes w (close-on-exec): the parent reads EOF
        _os._exit(0)
    _os.close(w)
    _os.read(r, 1)
    _os.close(r)
    _os.waitpid(pid, 0)
    for entry in _os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if entry.isdigit() and f.read().startswith(b"@TOKEN@-setsid"):
                    print("ESCAPEE running in a session of its own:", _os.getsid(int(entry)) != _os.getsid(0))
        except OSError:
            pass
'''

MEMORY_BOMB = '''
def _attack(net, X):
    _attack.hog = bytearray(8 * 1024 ** 3)
'''

MANY_FILES = '''
def _attack(net, X):
    if getattr(_attack, "done", False):
        return None
    _attack.done = True
    count, err = 0, None
    for i in range(200_000):
        try:
            with open(f"/tmp/fill-@TOKEN@-{i}", "wb") as f:
                f.write(b"x" * 1024)
        except OSError as exc:
            err = exc
            break
        count += 1
    print("FILES", count, "errno", getattr(err, "errno", None))
'''

HUGE_FILE = '''
def _attack(net, X):
    if getattr(_attack, "done", False):
        return None
    _attack.done = True
    written = 0
    try:
        with open("/tmp/huge-@TOKEN@", "wb") as f:
            chunk = b"x" * (1 << 20)
            for _ in range(1024):
                f.write(chunk)
                f.flush()
                written += len(chunk)
    except OSError as exc:
        print("HUGE stopped at", written, "errno", exc.errno)
    else:
        print("HUGE wrote", written)
'''

STDOUT_FLOOD = '''
import sys as _sys


def _attack(net, X):
    if not getattr(_attack, "done", False):
        _attack.done = True
        _sys.stdout.write("x" * (100 * 1024 * 1024))
        _sys.stdout.flush()
'''

IGNORE_SIGINT_AND_LOOP = """        num_train = X.shape[0]
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            pass
"""

FORGE = '''
import json as _json, os as _os


def _forge():
    marker = "FOR" + "GED-" + "@TOKEN@"
    claim = _json.dumps({"submission": "forge", "score": 12, "max_score": 12, "note": marker})
    print("T11 PASSED 1/1\\nAll tests passed! score 12/12")
    for path in map(_os.path.expanduser, @TARGETS@):
        try:
            with open(path, "w") as f:
                f.write(claim)
        except OSError:
            pass


_forge()
'''


FORGED_FRAME = '''
import os as _os
from grader.execution import wire as _wire


def _attack(net, X):  # answer with a hand-made frame instead of returning
    _wire.write_frame(3, @HEADER@)
    _os._exit(0)
'''

FORGED_HEADERS = {
    "forged_frame_missing_keys": {"status": "ok"},
    "forged_frame_bad_duration": {"status": "ok", "duration": "forged"},
    "forged_frame_bad_traceback": {"status": "error", "error": {"type": "X", "message": "m", "traceback": 5}},
}


class _Payload:
    """Unpickling this anywhere writes the marker file: the grader must never unpickle student files."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').write('pwned')",)


def pwned(name: str) -> str:
    return f"/tmp/pwned-{TOKEN}-{name}"


def fill(template: str, **values: object) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    assert not re.search(r"@[A-Z_]+@", template), template
    return template


def folder(subs: Path, name: str, code: str | None = SOLUTION_CODE,
           files: dict[str, str | bytes] | None = None) -> Path:
    root = subs / name
    (root / "cattern").mkdir(parents=True)
    shutil.copy(STARTER / "cattern/__init__.py", root / "cattern/__init__.py")
    if code is not None:
        (root / "cattern/neural_net.py").write_text(code)
    (root / "answers.md").write_text(SOLUTION_ANSWERS)
    for rel, content in (files or {}).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return root


def zipped(subs: Path, name: str, extra: Callable[[zipfile.ZipFile], None], code: bool = True) -> Path:
    path = subs / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.write(STARTER / "cattern/__init__.py", "cattern/__init__.py")
        if code:
            zf.writestr("cattern/neural_net.py", SOLUTION_CODE)
        zf.writestr("answers.md", SOLUTION_ANSWERS)
        extra(zf)
    return path


def _zip_slip(zf: zipfile.ZipFile) -> None:
    zf.writestr(zipfile.ZipInfo("../../../../../../../../../tmp/zipslip-" + TOKEN), "escaped")
    zf.writestr(zipfile.ZipInfo(f"/tmp/zipabs-{TOKEN}"), "absolute")
    link = zipfile.ZipInfo("cattern/passwd")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(link, "/etc/passwd")


def _zip_module_link(zf: zipfile.ZipFile) -> None:
    link = zipfile.ZipInfo("cattern/neural_net.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(link, str(REFERENCE))


def _zip_bomb(zf: zipfile.ZipFile) -> None:
    with zf.open("cattern/weights.bin", "w") as member:  # 150 MB of zeros, under 1 MB packed
        chunk = bytes(1 << 20)
        for _ in range(150):
            member.write(chunk)


NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5, "metadata": {},
    "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "id": "c1",
               "source": "print('T5 PASSED\\nT11 PASSED\\nAll tests PASSED: 12/12')",
               "outputs": [{"output_type": "stream", "name": "stdout",
                            "text": "T5 PASSED\nT11 PASSED\nAll tests PASSED: 12/12\n"}]}],
})


def build_attacks(subs: Path, out: Path, secret_file: Path) -> None:
    """Every submission of the attack batch, plus an honest and an honest-but-wrong control."""
    folder(subs, "honest")
    folder(subs, "honest_wrong", WRONG_PREDICT)
    folder(subs, "steal_reference", in_predict(fill(STEAL, REFERENCE=REFERENCE, SECRET_FILE=secret_file),
                                               WRONG_PREDICT))
    folder(subs, "proc_snoop", in_predict(fill(SNOOP, SCAN_ALL=True)))
    folder(subs, "kill_parent", in_predict(KILL_PPID))
    folder(subs, "kill_all", in_predict(KILL_ALL))
    folder(subs, "kill_init_and_group", in_predict(KILL_GROUP))
    folder(subs, "fork_swarm_at_import", after_imports(fill(SWARM_AT_IMPORT, TOKEN=TOKEN)))
    folder(subs, "fork_bomb", in_predict(fill(FORK_BOMB, TOKEN=TOKEN)))
    folder(subs, "setsid_escapee", in_predict(fill(SETSID_ESCAPEE, TOKEN=TOKEN)))
    folder(subs, "memory_bomb", in_predict(MEMORY_BOMB))
    folder(subs, "many_files", in_predict(fill(MANY_FILES, TOKEN=TOKEN)))
    folder(subs, "huge_file", in_predict(fill(HUGE_FILE, TOKEN=TOKEN)))
    folder(subs, "stdout_flood", in_predict(STDOUT_FLOOD))
    # sorts first, so its 3 x 5 s of timeouts overlap the rest of the batch on the other worker
    folder(subs, "00_sigint_loop", mutate("        num_train = X.shape[0]\n", IGNORE_SIGINT_AND_LOOP))
    folder(subs, "sys_exit_at_import", after_imports("import sys as _sys\n_sys.exit(0)\n"))
    folder(subs, "os_exit_at_import", after_imports("import os as _os\n_os._exit(0)\n"))
    folder(subs, "sys_exit_in_predict", in_predict("import sys as _sys\n\n\ndef _attack(net, X):\n    _sys.exit(0)\n"))
    folder(subs, "os_exit_in_predict", in_predict("import os as _os\n\n\ndef _attack(net, X):\n    _os._exit(0)\n"))
    payload = _Payload(pwned("pickle"))
    npz = subs / "npz.tmp"
    np.savez(npz, net=np.array([payload], dtype=object))
    folder(subs, "malicious_pickle", files={"best_net.pkl": pickle.dumps(payload),
                                            "best_net.npz": (subs / "npz.tmp.npz").read_bytes()})
    (subs / "npz.tmp.npz").unlink()
    zipped(subs, "zip_slip", _zip_slip)
    zipped(subs, "zip_module_symlink", _zip_module_link, code=False)
    zipped(subs, "zip_bomb", _zip_bomb)
    linked = folder(subs, "symlinked_module", code=None)
    (linked / "cattern/neural_net.py").symlink_to(REFERENCE)
    dir_linked = folder(subs, "symlinked_package", code=None)
    shutil.rmtree(dir_linked / "cattern")
    (dir_linked / "cattern").symlink_to(REFERENCE.parent, target_is_directory=True)
    folder(subs, "notebook_claims_pass", WRONG_PREDICT, files={"Simple_Neural_Network_Lab.ipynb": NOTEBOOK})
    for name, header in FORGED_HEADERS.items():
        folder(subs, name, in_predict(fill(FORGED_FRAME, HEADER=repr(header)), WRONG_PREDICT))
    folder(subs, "deep_expression", after_imports("_x = " + "1+" * 200_000 + "1\n"))
    zipped(subs, "zip_file_folder_clash", lambda zf: zf.writestr("cattern/neural_net.py/README", "a folder here"))
    if _refuses_huge_allocations():
        sparse = folder(subs, "huge_sparse_file")
        with open(sparse / "data.bin", "wb") as f:  # sparse: takes no disk space
            f.truncate(_beyond_memory())
    targets = ["result.json", "../result.json", "../../result.json", pwned("tmp"), f"~/pwned-{TOKEN}",
               f"/root/pwned-{TOKEN}", str(out / f"pwned-{TOKEN}"), str(out.parent / f"pwned-{TOKEN}"),
               str(subs / f"pwned-{TOKEN}"), str(subs / "forge_results" / f"pwned-{TOKEN}"),
               str(PROJECT / f"pwned-{TOKEN}"), str(out / "honest/result.json"), str(out / "forge_results/result.json")]
    folder(subs, "forge_results", after_imports(fill(FORGE, TOKEN=TOKEN, TARGETS=repr(targets)), WRONG_PREDICT))


def build_controls(subs: Path, secret_file: Path) -> None:
    """The read-only attacks, for the process-level control batch."""
    folder(subs, "steal_reference", in_predict(fill(STEAL, REFERENCE=REFERENCE, SECRET_FILE=secret_file),
                                               WRONG_PREDICT))
    folder(subs, "proc_snoop", in_predict(fill(SNOOP, SCAN_ALL=False)))


# --- running a batch and looking at the machine afterwards ---------------------------------------


def tree_digest(path: Path) -> dict[str, str]:
    """Every entry under `path` (links not followed) -> what it is and holds."""
    if path.is_file() and not path.is_symlink():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    found = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(path))
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[rel] = "link:" + os.readlink(full)
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = f"dir:{st.st_mode:o}"
            elif st.st_size > 256 * 1024 * 1024:  # the sparse file: size and time, not its contents
                found[rel] = f"file:{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}"
            else:
                found[rel] = f"file:{st.st_mode:o}:" + hashlib.sha256(full.read_bytes()).hexdigest()
    return found


@dataclass
class Proc:
    pid: int
    ppid: int
    uid: int
    name: str
    cmdline: bytes
    started: int  # clock ticks after boot


def ticks_now() -> int:
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK"))


def processes() -> dict[int, Proc]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat") as f:
                started = int(f.read().rsplit(")", 1)[1].split()[19])
        except (OSError, IndexError, ValueError):
            continue
        if fields.get("State", "").startswith("Z"):
            continue
        found[int(entry)] = Proc(int(entry), int(fields["PPid"]), int(fields["Uid"].split()[0]), fields["Name"],
                                 cmdline, started)
    return found


def survivors(since: int = 0) -> list[Proc]:
    """Processes left by student code: any carrying the token, and any sandbox uid started after `since`
    that is not inside a sandbox a live grader still runs (another grading run on this machine may
    legitimately have those)."""
    procs = processes()
    left = [p for p in procs.values() if TOKEN in p.name or TOKEN.encode() in p.cmdline]
    for p in procs.values():
        if p.uid not in UID_RANGE or p in left or p.started < since:
            continue
        chain, current = [], p
        while current is not None and current.pid > 1 and len(chain) < 64:
            chain.append(current)
            current = procs.get(current.ppid)
        outer = [a for a in chain if a.name == "bwrap"]
        runner = procs.get(outer[-1].ppid) if outer else None
        if runner is None or runner.pid <= 1 or runner.name == "bwrap" or runner.pid == os.getpid():
            left.append(p)
    return left


@dataclass
class Batch:
    base: Path
    subs: Path
    out: Path
    secret: str
    run: subprocess.CompletedProcess[str]
    before: dict[str, dict[str, str]]
    after: dict[str, dict[str, str]] = field(default_factory=dict)
    left: list[Proc] = field(default_factory=list)

    def result(self, name: str) -> SubmissionResult:
        return SubmissionResult.from_json(json.loads((self.out / name / "result.json").read_text()))

    def published(self) -> str:
        """Everything the grader wrote, as one text."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.out.rglob("*")) if p.is_file())


def run_batch(base: Path, level: str, build: Callable[[Path, Path, Path], None]) -> Batch:
    subs, out, secret_file = base / "subs", base / "out", base / "secret"
    subs.mkdir()
    secret = load_or_create_secret(secret_file).decode()
    build(subs, out, secret_file)
    before = {p.name: tree_digest(p) for p in subs.iterdir()}
    since = ticks_now()
    env = {**os.environ, "GRADER_SANDBOX": level, "GRADER_ATTACK_SECRET": ENV_SECRET, "PYTHONPATH": str(PROJECT)}
    run = subprocess.run([sys.executable, "-c", RUNNER, str(subs), str(out), str(secret_file)], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    batch = Batch(base, subs, out, secret, run, before)
    batch.after = {p.name: tree_digest(p) for p in subs.iterdir()}
    limit = time.monotonic() + 2.0  # a limit for SIGKILL to land on a namespace being torn down, not a duration
    while (left := survivors(since)) and time.monotonic() < limit:
        time.sleep(0.05)
    batch.left = left
    return batch


def _kill(procs: list[Proc]) -> None:
    for p in procs:  # clean up after a failed test: only processes this module's attacks started
        try:
            os.kill(p.pid, 9)
        except OSError:
            pass


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    result = run_batch(tmp_path_factory.mktemp("attacks"), "bwrap+uid", build_attacks)
    yield result
    _kill([p for p in survivors() if TOKEN in p.name or TOKEN.encode() in p.cmdline])


@pytest.fixture(scope="module")
def control(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    return run_batch(tmp_path_factory.mktemp("controls"), "process", lambda subs, out, sf: build_controls(subs, sf))


def submission_names(batch: Batch) -> list[str]:
    return sorted(name[:-4] if name.endswith(".zip") else name for name in batch.before)


# --- what holds for every attack ----------------------------------------------------------------


def test_the_survivor_scan_sees_sandbox_processes_and_token_carriers(tmp_path: Path) -> None:
    """Control for test_no_process_started_by_a_submission_survives: the scan is not blind."""
    from grader.execution.probe_api import IMPORT_PROBE
    from grader.execution.sandbox import LEVELS, Sandbox
    from grader.execution.session import Limits, ModuleSession, SessionConfig
    from grader.judgement import rubric as rubric_mod

    root = folder(tmp_path, "live")
    for dirpath, _, filenames in os.walk(tmp_path):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    hw4 = rubric_mod.load("hw4")
    config = SessionConfig(root=root, probes=hw4.probes, module="cattern.neural_net", class_name="TwoLayerNet",
                           workdir=tmp_path / "home", sandbox=Sandbox(LEVELS["bwrap+uid"], sys.executable))
    with ModuleSession(config) as session:
        assert session.call(IMPORT_PROBE, Limits()).ok
        assert any(p.uid in UID_RANGE for p in survivors())  # a live sandbox of this very process is flagged
    sleeper = subprocess.Popen([f"{TOKEN}-selftest", "60"], executable="/bin/sleep")
    try:
        assert sleeper.pid in [p.pid for p in survivors()]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_batch_completes_with_a_result_for_every_submission(batch: Batch) -> None:
    assert batch.run.returncode == 0, batch.run.stderr[-3000:]
    names = submission_names(batch)
    assert f"graded {len(names)}" in batch.run.stdout
    for name in names:
        result = batch.result(name)
        assert result.submission == name
        assert [t.id for t in result.tasks] == [f"T{i}" for i in range(1, 13)]
        if name not in KNOWN_BUGS:
            assert result.sandbox.startswith("full:"), result.sandbox
            assert not result.grader_failures, (name, [t.message for t in result.tasks])
        for task in result.tasks:
            assert task.message, (name, task.id)
            assert len(task.output) <= 8 * 1024 + 200, (name, task.id, len(task.output))


def test_the_output_folder_holds_only_the_graders_files(batch: Batch) -> None:
    expected = {"index.html", "grades.csv", "junit.xml", "gradebook.sqlite", "similarity.csv", "similarity",
                ".recordings", *submission_names(batch)}  # .recordings: probe outcomes kept for a regrade
    # SQLite's write-ahead log may still be beside the gradebook; nothing else may be
    wal = {"gradebook.sqlite-wal", "gradebook.sqlite-shm"}
    assert expected <= {p.name for p in batch.out.iterdir()} <= expected | wal
    for name in submission_names(batch):
        files = {p.name for p in (batch.out / name).iterdir()}
        assert {"result.json", "report.html", "gradescope.json"} <= files
        assert files <= {"result.json", "report.html", "gradescope.json", "executed.ipynb"}
    assert {p.name for p in batch.base.iterdir()} == {"subs", "out", "secret"}
    assert "FOR" + "GED-" + TOKEN not in batch.published()


def test_every_submission_is_left_byte_identical(batch: Batch) -> None:
    assert batch.after == batch.before


def test_no_process_started_by_a_submission_survives(batch: Batch) -> None:
    assert batch.left == []


def test_nothing_is_written_outside_the_output_folder(batch: Batch) -> None:
    planted = [pwned("tmp"), pwned("pickle"), f"/tmp/zipslip-{TOKEN}", f"/tmp/zipabs-{TOKEN}", f"/tmp/huge-{TOKEN}",
               f"/tmp/fill-{TOKEN}-0", str(Path.home() / f"pwned-{TOKEN}"), f"/root/pwned-{TOKEN}",
               str(batch.base / f"pwned-{TOKEN}"), str(PROJECT / f"pwned-{TOKEN}")]
    assert [p for p in planted if os.path.lexists(p)] == []
    assert not list(Path("/tmp").glob(f"*{TOKEN}*"))


def test_no_secret_reaches_what_the_grader_publishes(batch: Batch) -> None:
    text = batch.published()
    assert ENV_SECRET not in text
    assert batch.secret not in text


# --- the controls in the batch ------------------------------------------------------------------


def test_honest_neighbours_are_graded_as_usual(batch: Batch) -> None:
    assert not_passing(batch.result("honest")) == {}
    assert not_passing(batch.result("honest_wrong")) == {"T11": "fail"}


# --- reading what the student must not see ------------------------------------------------------


def test_reading_the_reference_and_the_secret_fails_like_an_honest_wrong_answer(batch: Batch) -> None:
    cheat, honest = batch.result("steal_reference"), batch.result("honest_wrong")
    assert not_passing(cheat) == not_passing(honest) == {"T11": "fail"}
    assert cheat.score == honest.score
    output = cheat.task("T11").output
    assert "REFERENCE-DENIED FileNotFoundError" in output or "REFERENCE-DENIED PermissionError" in output
    assert "SECRET-DENIED FileNotFoundError" in output or "SECRET-DENIED PermissionError" in output
    assert "STOLE-REFERENCE" not in output and "SECRET-READ" not in output


def test_control_at_process_level_the_same_theft_succeeds(control: Batch) -> None:
    assert control.run.returncode == 0, control.run.stderr[-3000:]
    cheat = control.result("steal_reference")
    assert cheat.sandbox.startswith("WEAK")
    assert not_passing(cheat) == {}  # the stolen reference passes T11: the test above can see a theft
    assert "STOLE-REFERENCE" in cheat.task("T11").output
    assert "SECRET-READ " + control.secret in cheat.task("T11").output


def test_snooping_on_proc_finds_no_secret(batch: Batch) -> None:
    result = batch.result("proc_snoop")
    assert not_passing(result) == {}
    output = result.task("T11").output
    assert "SNOOP " in output  # the attack ran
    assert "1/environ:PermissionError" in output  # init of the sandbox (bwrap, root) cannot be read
    assert "FOUND" not in output and ENV_SECRET not in output


def test_control_at_process_level_snooping_finds_the_secret(control: Batch) -> None:
    output = control.result("proc_snoop").task("T11").output
    assert f"FOUND {ENV_SECRET}" in output


# --- the grader's processes ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kill_parent", "kill_all"])
def test_killing_the_fork_server_costs_only_the_task_that_did_it(batch: Batch, name: str) -> None:
    result = batch.result(name)
    assert not_passing(result) == {"T11": "error"}
    assert "crashed" in result.task("T11").message


def test_killing_init_is_refused_and_killing_its_own_group_costs_one_task(batch: Batch) -> None:
    result = batch.result("kill_init_and_group")
    assert not_passing(result) in ({"T11": "error"}, {"T11": "timeout"})
    assert "INIT-DENIED PermissionError" in result.task("T11").output


def test_a_child_killed_by_sigkill_is_not_reported_as_a_cpu_timeout(batch: Batch) -> None:
    message = batch.result("kill_init_and_group").task("T11").message
    assert "CPU time" not in message and "endless loop" not in message, message


def test_a_fork_swarm_at_import_is_capped_and_gains_nothing(batch: Batch) -> None:
    result = batch.result("fork_swarm_at_import")
    assert not_passing(result) == {}
    spawned = re.search(r"SWARM spawned (\d+)", result.task("T5").output)
    assert spawned, result.task("T5").output
    assert 0 < int(spawned.group(1)) < 64  # RLIMIT_NPROC stopped it, and every sleeper was then killed


def test_a_fork_bomb_hits_the_process_limit(batch: Batch) -> None:
    result = batch.result("fork_bomb")
    assert not_passing(result) == {"T11": "error"}
    assert "BlockingIOError" in result.task("T11").message


def test_a_setsid_escapee_gains_nothing(batch: Batch) -> None:
    result = batch.result("setsid_escapee")
    assert not_passing(result) == {}
    assert "ESCAPEE running in a session of its own: True" in result.task("T11").output  # it did escape the group
    # ... and test_no_process_started_by_a_submission_survives finds it gone


# --- resources ------------------------------------------------------------------------------------


def test_a_memory_bomb_is_a_memory_error_for_that_task(batch: Batch) -> None:
    result = batch.result("memory_bomb")
    assert not_passing(result) == {"T11": "error"}
    assert "MemoryError" in result.task("T11").message and "out of memory" in result.task("T11").message


def test_many_small_files_fill_only_the_private_tmp(batch: Batch) -> None:
    result = batch.result("many_files")
    assert not_passing(result) == {}
    found = re.search(r"FILES (\d+) errno (\d+)", result.task("T11").output)
    assert found, result.task("T11").output
    assert int(found.group(2)) == 28 and int(found.group(1)) < 200_000  # ENOSPC long before 200k files


def test_one_huge_file_stops_at_the_size_cap(batch: Batch) -> None:
    result = batch.result("huge_file")
    assert not_passing(result) == {}
    found = re.search(r"HUGE stopped at (\d+) errno (\d+)", result.task("T11").output)
    assert found, result.task("T11").output
    assert int(found.group(1)) <= 64 * 1024 * 1024 and int(found.group(2)) in (27, 28)  # EFBIG or ENOSPC


def test_an_infinite_loop_ignoring_sigint_times_out_t8_to_t10_only(batch: Batch) -> None:
    result = batch.result("00_sigint_loop")
    assert not_passing(result) == {"T8": "timeout", "T9": "timeout", "T10": "timeout"}
    assert "endless loop" in result.task("T8").message


def test_a_100_mb_stdout_flood_is_capped(batch: Batch) -> None:
    result = batch.result("stdout_flood")
    assert not_passing(result) == {}
    output = result.task("T11").output
    assert output.startswith("x" * 1000) and "more bytes of output not kept" in output
    assert len((batch.out / "stdout_flood/result.json").read_bytes()) < 256 * 1024


# --- leaving early ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sys_exit_at_import", "os_exit_at_import"])
def test_exiting_at_import_is_an_error_for_every_code_task(batch: Batch, name: str) -> None:
    result = batch.result(name)
    assert not_passing(result) == dict.fromkeys(CODE_TASKS, "error")
    assert "exit" in result.task("T5").message


@pytest.mark.parametrize("name", ["sys_exit_in_predict", "os_exit_in_predict"])
def test_exiting_inside_a_method_is_an_error_for_its_task(batch: Batch, name: str) -> None:
    result = batch.result(name)
    assert not_passing(result) == {"T11": "error"}
    assert "exit" in result.task("T11").message


# --- files handed in ---------------------------------------------------------------------------------


def test_a_malicious_pickle_is_unpickled_only_inside_the_sandbox(batch: Batch, tmp_path: Path) -> None:
    result = batch.result("malicious_pickle")
    assert not_passing(result) == {}
    t12 = result.task("T12")
    assert t12.status.value != "pass" and "best_net.pkl" in t12.message
    assert not os.path.lexists(pwned("pickle"))  # its payload ran, if at all, in the sandbox's own /tmp
    proof = tmp_path / "proof"  # control: the same payload does run when unpickled
    pickle.loads(pickle.dumps(_Payload(str(proof))))
    assert proof.read_text() == "pwned"


def test_zip_entries_outside_the_submission_are_refused(batch: Batch) -> None:
    result = batch.result("zip_slip")
    assert not_passing(result) == {}
    notes = "\n".join(result.notes)
    assert notes.count("refused archive entry") == 2 and "points outside the submission" in notes
    assert "ignored archive entry 'cattern/passwd': symbolic link" in notes
    assert not os.path.lexists(f"/tmp/zipslip-{TOKEN}") and not os.path.lexists(f"/tmp/zipabs-{TOKEN}")


@pytest.mark.parametrize("name", ["symlinked_module", "symlinked_package", "zip_module_symlink"])
def test_a_link_to_the_reference_is_not_followed(batch: Batch, name: str) -> None:
    result = batch.result(name)
    assert not_passing(result) == dict.fromkeys(CODE_TASKS, "missing")
    assert "cattern/neural_net.py was not found" in result.task("T5").message
    assert any("link" in note for note in result.notes), result.notes


def test_a_zip_bomb_is_refused_with_a_message(batch: Batch) -> None:
    result = batch.result("zip_bomb")
    assert {t.status.value for t in result.tasks} == {"error"}
    assert all(t.cause is not None and t.cause.value == "submission" for t in result.tasks)
    assert "could not be read" in result.task("T5").message and "limit" in result.task("T5").message


def test_a_notebook_printing_passed_changes_nothing(batch: Batch) -> None:
    claim, honest = batch.result("notebook_claims_pass"), batch.result("honest_wrong")
    assert not_passing(claim) == not_passing(honest) == {"T11": "fail"}
    assert claim.score == honest.score


def test_forged_result_files_change_nothing(batch: Batch) -> None:
    forge, honest = batch.result("forge_results"), batch.result("honest_wrong")
    assert not_passing(forge) == not_passing(honest) == {"T11": "fail"}
    assert forge.score == honest.score
    assert "PASSED" in forge.task("T11").output  # shown to the TA as output, never read as a verdict
    assert json.loads((batch.out / "honest/result.json").read_text())["submission"] == "honest"


# --- attacks that once exposed grader bugs (each would read as a grader failure or stall the batch) ------


@pytest.mark.parametrize("name", sorted(FORGED_HEADERS))
def test_a_hand_made_result_frame_is_the_students_failure_not_the_graders(batch: Batch, name: str) -> None:
    result = batch.result(name)
    t11 = result.task("T11")
    assert not result.grader_failures, t11.message
    assert t11.status.value in ("fail", "error") and t11.points == 0.0
    assert not_passing(result) == {"T11": t11.status.value}


def test_a_module_too_deep_to_parse_is_the_students_error(batch: Batch) -> None:
    result = batch.result("deep_expression")
    assert not result.grader_failures, result.task("T5").message
    assert not_passing(result) == dict.fromkeys(CODE_TASKS, "error")
    assert "RecursionError" in result.task("T5").message


def test_a_zip_with_a_file_and_a_folder_of_one_name_is_refused_with_a_message(batch: Batch) -> None:
    result = batch.result("zip_file_folder_clash")
    assert not result.grader_failures, result.task("T5").message
    assert result.task("T5").cause is not None and result.task("T5").cause.value == "submission"


def test_a_folder_with_a_file_bigger_than_memory_is_refused_with_a_message(batch: Batch) -> None:
    if "huge_sparse_file" not in batch.before:
        pytest.skip("vm.overcommit_memory=1: a huge allocation would not fail, so the file is not built")
    result = batch.result("huge_sparse_file")
    assert not result.grader_failures, result.task("T5").message
    assert "could not be read" in result.task("T5").message


def test_a_submission_named_like_a_class_page_does_not_break_the_batch(tmp_path: Path, hw4) -> None:
    from grader.pipeline import grade_batch

    folder(tmp_path / "subs", "index.html")
    summary = grade_batch(tmp_path / "subs", tmp_path / "out", hw4, workers=1, secret_file=tmp_path / "secret")
    # the id is renamed so its folder cannot take the class page's place
    assert [r.submission for r in summary.results] == ["index.html-submission"]
    assert not summary.results[0].grader_failures
    assert (tmp_path / "out/grades.csv").is_file() and (tmp_path / "out/index.html").is_file()
    assert (tmp_path / "out/index.html-submission/result.json").is_file()


# --- answers.md parsed in the grader, where there is no time limit -------------------------------------

REDOS = {
    # `_PAIR` backtracks cubically over a run of spaces on a line without '=' or ':'
    "spaces_without_a_key": SOLUTION_ANSWERS.replace("## T1\n", "## T1\n" + " " * 3000 + "x\n", 1),
    # `_PAIR`'s `(.*?)\s*$` and `_clean`'s `\s*(#|//|...).*$` are quadratic in a value's length
    "long_value": SOLUTION_ANSWERS.replace("dz/dw0 = -0.2\n", "dz/dw0 = -0.2" + " " * 100_000 + "x\n", 1),
}
REDOS_LIMIT_S = 8  # a limit, far from both sides: fixed parsing takes milliseconds, the bug minutes to hours
GRADE_ANSWERS = """\
import sys
from pathlib import Path
from grader.judgement import rubric
from grader.judgement.submission import grade_submission
r = rubric.load("hw4")
r.load_judges()
result = grade_submission(Path(sys.argv[1]), r, b"redos-secret-0123456789")
print("T1", result.task("T1").status.value, "T2", result.task("T2").status.value)
"""


@pytest.fixture(scope="module")
def redos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int | None, str]]:
    """Grade each hostile answers.md (no code: answers only) in its own grader process, all at once, within
    REDOS_LIMIT_S; a process still parsing then is stopped. Name -> (exit code or None, its output)."""
    base = tmp_path_factory.mktemp("redos")
    procs = {}
    for name, text in REDOS.items():
        root = folder(base, name, code=None)
        (root / "answers.md").write_text(text)
        procs[name] = subprocess.Popen([sys.executable, "-c", GRADE_ANSWERS, str(root)], cwd=PROJECT, text=True,
                                       env={**os.environ, "PYTHONPATH": str(PROJECT)}, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + REDOS_LIMIT_S
    outcomes = {}
    for name, proc in procs.items():
        try:
            out, _ = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            outcomes[name] = (proc.returncode, out)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            outcomes[name] = (None, f"still parsing answers.md after {REDOS_LIMIT_S} s")
    return outcomes


@pytest.mark.parametrize("name", sorted(REDOS))
def test_a_hostile_answers_file_cannot_stall_the_grader(redos: dict[str, tuple[int | None, str]], name: str) -> None:
    code, out = redos[name]
    assert code == 0, out[-2000:]
    assert "T2 pass" in out
