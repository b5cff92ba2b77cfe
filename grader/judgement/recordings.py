"""Recorded executions: what student code returned, kept so a regrade after a rubric edit re-runs nothing.

Checks are a deterministic function of what the probes returned. So every probe call's raw
outcome (and every notebook run) is stored, addressed by the hash of everything that could
change it:

- the submission's files (their content hash);
- the probe's own code: the source of `probe_<name>` in the rubric's probes module and of every
  module-level name it uses, transitively (a helper shared by all probes changes all their keys;
  a change to one probe changes only its own);
- the call's inputs (probe name, keyword inputs, the bytes of its arrays);
- the rubric's data (`[data]` folders' files) and the reference solution's source;
- the grader: its version and the source of its execution layer, which runs the student side.

Checks, tolerances, points and task layout are not in the key: editing them regrades from the
recordings. Only outcomes the student code decided are kept (`ok` and `error`); a timeout or a
crash may depend on the machine's load and runs again. `--no-cache` reads nothing (and records
afresh). Records are files of raw array bytes and a JSON header (no pickles), written atomically.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from grader import __version__
from grader.execution.data_cache import folder_digest
from grader.execution.notebook import NotebookRun
from grader.execution.scripts import Figure, ScriptRun, ScriptSpec, ScriptStatus
from grader.execution.session import ProbeOutcome
from grader.judgement.prepared import prepared_data
from grader.judgement.probe_cache import REPLAYABLE
from grader.results import TaskResult

RECORDINGS_DIR = ".recordings"  # under the output folder
_EXECUTION_SRC = Path(__file__).resolve().parents[1] / "execution"
_grader_digest: str | None = None
_probe_digests: dict[tuple[str, int], dict[str, str]] = {}


def grader_digest() -> str:
    """The grader's version and the source of its execution layer (what runs the student side)."""
    global _grader_digest
    if _grader_digest is None:
        h = hashlib.sha256(__version__.encode())
        for path in sorted(_EXECUTION_SRC.glob("*.py")):
            h.update(path.name.encode() + path.read_bytes())
        _grader_digest = h.hexdigest()
    return _grader_digest


def probe_digests(probes: Path) -> dict[str, str]:
    """For each `probe_<name>` of a probes module: the hash of its source and of every module-level
    definition it reaches (imports always count: they are the module's context)."""
    stat = probes.stat()
    cache_key = (str(probes), stat.st_mtime_ns)
    if cache_key in _probe_digests:
        return _probe_digests[cache_key]
    source = probes.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)

    def text(node: ast.stmt) -> str:  # the statement's lines (ast.get_source_segment re-splits the file per call)
        return "".join(lines[node.lineno - 1:node.end_lineno or node.lineno])

    defined: dict[str, list[ast.stmt]] = {}
    context: list[str] = []
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        if names:
            for name in names:
                defined.setdefault(name, []).append(node)
        else:  # imports, docstring, module-level statements: every probe depends on them
            context.append(text(node))
    base = hashlib.sha256("\n".join(context).encode()).hexdigest()
    digests = {}
    for name in defined:
        if not name.startswith("probe_"):
            continue
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen or current not in defined:
                continue
            seen.add(current)
            for node in defined[current]:
                todo += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
                todo += [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
        h = hashlib.sha256(base.encode())
        for current in sorted(seen):
            for node in defined[current]:
                h.update(text(node).encode())
        digests[name[len("probe_"):]] = h.hexdigest()
    _probe_digests[cache_key] = digests
    return digests


def file_digest(path: Path | None) -> str:
    if path is None or not Path(path).is_file():
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_MAGIC = b"GRADREC1"


def write_record(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """One record: a JSON header (the meta, each array's dtype, shape and place) and the arrays' bytes.

    One read and a view per array: an `.npz` costs a zip member and a header parse per array, and a
    training probe returns dozens."""
    entries, chunks, offset = [], [], 0
    for name, value in arrays.items():
        arr = np.asarray(value)  # (ascontiguousarray would make a 0-d array 1-d)
        raw = arr.tobytes(order="C")
        entries.append({"name": name, "descr": np.lib.format.dtype_to_descr(arr.dtype), "shape": list(arr.shape),
                        "offset": offset, "nbytes": len(raw)})
        chunks.append(raw)
        offset += len(raw)
    header = json.dumps({"meta": meta, "arrays": entries}).encode()
    return _MAGIC + len(header).to_bytes(8, "little") + header + b"".join(chunks)


def read_record(blob: bytes) -> dict[str, Any]:
    """The meta (under `__meta__`) and arrays of a record; dtypes are read from their description, never unpickled."""
    if not blob.startswith(_MAGIC):
        raise ValueError("not a recording")
    size = int.from_bytes(blob[8:16], "little")
    header = json.loads(blob[16:16 + size])
    body = memoryview(blob)[16 + size:]
    found: dict[str, Any] = {"__meta__": header["meta"]}
    for entry in header["arrays"]:
        dtype = np.lib.format.descr_to_dtype(entry["descr"])
        if dtype.hasobject:
            raise ValueError("a recording never holds Python objects")
        chunk = body[entry["offset"]:entry["offset"] + entry["nbytes"]]
        found[entry["name"]] = np.frombuffer(chunk, dtype=dtype).reshape(tuple(entry["shape"])).copy()
    return found


@dataclass
class Recordings:
    """The store under `<out>/.recordings/`. `read=False` (`--no-cache`) runs everything and records afresh."""

    root: Path
    read: bool = True
    ran: Counter[str] = field(default_factory=Counter)  # probe name -> calls run in this process
    replayed: Counter[str] = field(default_factory=Counter)
    judged_tasks: Counter[str] = field(default_factory=Counter)  # task id -> verdicts judged and stored
    reused_tasks: Counter[str] = field(default_factory=Counter)  # task id -> stored verdicts read back

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.rec"

    def _load(self, key: str) -> dict[str, np.ndarray] | None:
        if not self.read:
            return None
        try:
            return read_record(self._path(key).read_bytes())
        except (OSError, ValueError, KeyError, TypeError):  # absent or unreadable: run it again
            return None

    def _save(self, key: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(write_record(meta, arrays))
        os.replace(tmp, path)

    # --- probe calls ---------------------------------------------------------------------------

    def probe_outcome(self, key: str) -> ProbeOutcome | None:
        stored = self._load(key)
        if stored is None or "__meta__" not in stored:
            return None
        meta = stored.pop("__meta__")
        data = {k[2:]: v for k, v in stored.items() if k.startswith("d_")}
        return ProbeOutcome(meta["status"], data, meta["error"], meta["output"], meta["detail"], meta["duration"])

    def save_probe_outcome(self, key: str, outcome: ProbeOutcome, probe: str = "") -> None:
        if outcome.status not in REPLAYABLE:
            return
        if any(np.asarray(v).dtype == object for v in outcome.data.values()):
            return
        meta = {"probe": probe, "status": outcome.status, "error": outcome.error, "output": outcome.output,
                "detail": outcome.detail,
                "duration": outcome.duration}
        self._save(key, meta, {f"d_{k}": v for k, v in outcome.data.items()})

    # --- notebook runs -------------------------------------------------------------------------

    def notebook_run(self, key: str) -> NotebookRun | None:
        stored = self._load(key)
        if stored is None or "__meta__" not in stored:
            return None
        meta = stored.pop("__meta__")
        executed = nbformat.reads(meta["executed"], as_version=4) if meta["executed"] is not None else None
        files = {meta["files"][k[2:]]: v.tobytes() for k, v in stored.items() if k.startswith("d_")}
        return NotebookRun(meta["status"], meta["message"], executed, meta["failed_cell"], meta["duration_s"],
                           files, list(meta["notes"]))

    def save_notebook_run(self, key: str, run: NotebookRun) -> None:
        if not notebook_recordable(run):
            return
        names = {f"f{i}": name for i, name in enumerate(run.files)}
        meta = {"status": run.status, "message": run.message, "failed_cell": run.failed_cell,
                "duration_s": run.duration_s, "notes": list(run.notes), "files": names,
                "executed": nbformat.writes(run.executed) if run.executed is not None else None}
        self._save(key, meta, {f"d_{k}": np.frombuffer(run.files[name], dtype=np.uint8) for k, name in names.items()})

    # --- judged tasks (judged_tasks.py) --------------------------------------------------------

    def task_result(self, key: str) -> TaskResult | None:
        stored = self._load(key)
        if stored is None or "__meta__" not in stored:
            return None
        try:
            result = TaskResult.from_json(stored["__meta__"]["task"])
        except (KeyError, TypeError, ValueError):
            return None
        self.reused_tasks[result.id] += 1
        return result

    def save_task_result(self, key: str, result: TaskResult) -> None:
        self.judged_tasks[result.id] += 1
        self._save(key, {"task": result.to_json()}, {})

    # --- script runs (script mode) ------------------------------------------------------------

    def script_run(self, key: str, spec: ScriptSpec) -> ScriptRun | None:
        stored = self._load(key)
        if stored is None or "__meta__" not in stored:
            return None
        meta = stored.pop("__meta__")
        figures = tuple(Figure(name, how, stored[f"g{i}"].tobytes()) for i, (name, how) in enumerate(meta["figures"]))
        files = {name: stored[f"f{i}"].tobytes() for i, name in enumerate(meta["files"])}
        return ScriptRun(spec, ScriptStatus(meta["status"]), meta["message"], meta["exit_code"], meta["output"],
                         meta["wall_s"], meta["cpu_s"], figures, files)

    def save_script_run(self, key: str, run: ScriptRun) -> None:
        if run.status not in (ScriptStatus.OK, ScriptStatus.ERROR, ScriptStatus.MISSING):
            return  # a budget, a signal or the grader decided these, not the student's code alone
        names = list(run.files)
        meta = {"status": run.status.value, "message": run.message, "exit_code": run.exit_code, "output": run.output,
                "wall_s": run.wall_s, "cpu_s": run.cpu_s, "figures": [[f.name, f.how] for f in run.figures],
                "files": names}
        arrays = {f"g{i}": np.frombuffer(f.png, dtype=np.uint8) for i, f in enumerate(run.figures)}
        arrays.update({f"f{i}": np.frombuffer(run.files[name], dtype=np.uint8) for i, name in enumerate(names)})
        self._save(key, meta, arrays)


def notebook_recordable(run: NotebookRun) -> bool:
    """A run the student's notebook alone decided; a timeout, a dead kernel or a grader failure may
    come out differently on another try, so it is never recorded (and never judged from for keeps)."""
    return run.status not in ("timeout", "dead") and not run.message.startswith("grader failure")


@dataclass(frozen=True)
class SubmissionKeys:
    """The content address of one submission's executions (see the module docstring)."""

    base: str
    probes: Path | None

    @classmethod
    def of(cls, content_hash: str, rubric: Any) -> SubmissionKeys:
        h = hashlib.sha256(f"{content_hash}\0{grader_digest()}\0".encode())
        for name, folder in sorted(rubric.data.items()):
            h.update(f"{name}\0{folder_digest(Path(folder))}\0".encode())
        for name, folder in sorted(prepared_data(rubric).items()):  # its folder's name holds its key
            h.update(f"{name}\0{Path(folder).name}\0".encode())
        h.update(file_digest(rubric.reference_path).encode())
        h.update(json.dumps([rubric.module_name, rubric.class_name, list(rubric.preload)]).encode())
        return cls(h.hexdigest(), rubric.probes)

    def probe(self, probe: str, call_digest: str) -> str:
        code = probe_digests(self.probes).get(probe, "") if self.probes and self.probes.is_file() else ""
        return hashlib.sha256(f"probe\0{self.base}\0{probe}\0{code}\0{call_digest}".encode()).hexdigest()

    def script(self, spec: ScriptSpec) -> str:
        described = json.dumps([spec.name, spec.path, spec.cpu_s, spec.wall_s, spec.memory_mb, list(spec.outputs),
                                list(spec.args)])
        return hashlib.sha256(f"script\0{self.base}\0{described}".encode()).hexdigest()

    def notebook(self, rubric: Any) -> str:
        config = rubric.notebook
        parts = [self.base, str(rubric.files.get("notebook", "")), config.final_cell_source() or "",
                 json.dumps([config.cell_timeout_s, config.budget_s, config.memory_mb])]
        return hashlib.sha256(("notebook\0" + "\0".join(parts)).encode()).hexdigest()


class ProbeRecorder:
    """What a `ProbeCache` needs: one submission's keys and the store."""

    def __init__(self, store: Recordings, keys: SubmissionKeys) -> None:
        self.store = store
        self.keys = keys

    def load(self, probe: str, call_digest: str) -> ProbeOutcome | None:
        outcome = self.store.probe_outcome(self.keys.probe(probe, call_digest))
        if outcome is not None:
            self.store.replayed[probe] += 1
        return outcome

    def save(self, probe: str, call_digest: str, outcome: ProbeOutcome) -> None:
        self.store.ran[probe] += 1
        self.store.save_probe_outcome(self.keys.probe(probe, call_digest), outcome, probe)
