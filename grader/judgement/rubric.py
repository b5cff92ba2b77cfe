"""Rubrics are data: a `rubric.toml` per assignment plus, where needed, a checks module beside it.

The core knows four ways to grade a task: `answers` (values in the written-answers file,
compared with a tolerance), `checks` (a function of the rubric's checks module, which drives
probes in the student process), `manual` (a TA decides) and `pending` (not graded yet).
Adding an assignment means adding a folder under `rubrics/`; nothing in `grader/` changes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.execution.documents import DocumentSpec
from grader.execution.scripts import ScriptSpec
from grader.execution.session import Limits

GRADER_KINDS = ("answers", "checks", "manual", "pending")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
INSTALLED_DATA = Path(__file__).resolve().parents[1] / "_data"  # where a wheel puts rubrics/ and reference/


def data_root() -> Path:
    """The folder holding `rubrics/` and `reference/` side by side.

    An installed wheel carries them as `grader/_data/` (see pyproject.toml); a source checkout
    or an editable install reads them at the top of the repository. Either way the rubric
    files' relative paths (`../../reference/hw4/...`) resolve, since the two stay siblings.
    """
    return INSTALLED_DATA if (INSTALLED_DATA / "rubrics").is_dir() else PROJECT_ROOT


class RubricError(Exception):
    """The rubric itself is wrong: a configuration problem for the course staff, never a student's."""


@dataclass(frozen=True)
class AnswerSpec:
    key: str
    expected: float
    abs_tol: float = 1e-9
    rel_tol: float = 0.0
    aliases: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class TaskSpec:
    id: str
    title: str
    points: float
    grader: str
    check: str | None = None
    section: str | None = None
    answers: tuple[AnswerSpec, ...] = ()
    partial_credit: bool = False
    needs: tuple[str, ...] = ()  # names from [files] this task reads
    limits: Limits = Limits()
    params: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    function: str | None = None  # the function in the module file this task grades (where CI points)
    document: str | None = None  # a manual task judged from this [documents] entry (shown next to it)


@dataclass
class Rubric:
    id: str
    title: str
    version: str
    path: Path
    files: dict[str, str]
    tasks: tuple[TaskSpec, ...]
    module_name: str | None = None
    class_name: str | None = None
    probes: Path | None = None
    preload: tuple[str, ...] = ("numpy",)
    checks_path: Path | None = None
    reference_path: Path | None = None
    answers_template: Path | None = None
    notebook: dict[str, Any] | None = None  # [notebook]: limits and the final cell that extracts results
    data: dict[str, Path] = field(default_factory=dict)  # [data]: read-only folders next to student files
    scripts: dict[str, ScriptSpec] = field(default_factory=dict)  # [scripts]: run headlessly on a budget
    documents: dict[str, DocumentSpec] = field(default_factory=dict)  # [documents]: reports shown to the TA
    fingerprint: str = ""
    _checks: ModuleType | None = None
    _reference: ModuleType | None = None

    @property
    def version_tag(self) -> str:
        """What results record as `rubric_version`: a rerun regrades when it differs."""
        return f"{self.version}+{self.fingerprint}"

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    @property
    def module_file(self) -> str | None:
        return self.files.get("module")

    def checks(self) -> ModuleType:
        """The rubric's judge-side module, loaded once in the grader process (it is trusted code)."""
        if self._checks is None:
            if self.checks_path is None:
                raise RubricError(f"rubric {self.id} has checks tasks but no [checks] module")
            self._checks = load_module_from(self.checks_path, f"grader_rubric_{self.id}_checks")
        return self._checks

    def __getstate__(self) -> dict[str, Any]:
        """Rubrics travel to worker processes as data; each worker imports its own judges."""
        return {**self.__dict__, "_checks": None, "_reference": None}

    def without_param(self, name: str) -> Rubric:
        """A copy whose tasks lack the parameter `name` (e.g. to leave out an optional, slow check)."""
        tasks = tuple(replace(t, params={k: v for k, v in t.params.items() if k != name}) for t in self.tasks)
        return replace(self, tasks=tasks)

    def load_judges(self) -> None:
        """Import the checks module and the reference up front (once, before any worker thread)."""
        if any(t.grader == "checks" for t in self.tasks):
            self.checks()
            if self.reference_path is not None:
                self.reference()

    def reference(self) -> ModuleType:
        """The reference solution, run by the grader on the same inputs the student code gets."""
        if self._reference is None:
            if self.reference_path is None:
                raise RubricError(f"rubric {self.id} names no reference solution")
            self._reference = load_module_from(self.reference_path, f"grader_rubric_{self.id}_reference")
        return self._reference


def load_module_from(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RubricError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def rubrics_dirs() -> list[Path]:
    """Where `--rubric NAME` is looked up: $GRADER_RUBRICS, then the rubrics that ship with the grader."""
    dirs = [Path(p) for p in os.environ.get("GRADER_RUBRICS", "").split(os.pathsep) if p]
    return dirs + [data_root() / "rubrics"]


def find(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.is_file():
        return candidate
    if (candidate / "rubric.toml").is_file():
        return candidate / "rubric.toml"
    for base in rubrics_dirs():
        if (base / name_or_path / "rubric.toml").is_file():
            return base / name_or_path / "rubric.toml"
    known = sorted(p.parent.name for base in rubrics_dirs() if base.is_dir() for p in base.glob("*/rubric.toml"))
    raise RubricError(f"no rubric {name_or_path!r}; known rubrics: {', '.join(known) or 'none'}")


def _limits(data: dict[str, Any], base: Limits) -> Limits:
    return Limits(
        time_s=float(data.get("time_s", base.time_s)),
        memory_mb=int(data.get("memory_mb", base.memory_mb)),
        output_bytes=int(data.get("output_bytes", base.output_bytes)),
        result_bytes=int(data.get("result_bytes", base.result_bytes)),
    )


def _task(data: dict[str, Any], defaults: Limits, where: Path) -> TaskSpec:
    try:
        grader = data["grader"]
        if grader not in GRADER_KINDS:
            raise RubricError(f"{where}: task {data.get('id')}: grader must be one of {GRADER_KINDS}")
        answers = tuple(
            AnswerSpec(key=a["key"], expected=float(a["expected"]), abs_tol=float(a.get("abs_tol", 1e-9)),
                       rel_tol=float(a.get("rel_tol", 0.0)), aliases=tuple(a.get("aliases", ())),
                       label=a.get("label", a["key"]))
            for a in data.get("answers", ())
        )
        return TaskSpec(
            id=data["id"], title=data["title"], points=float(data.get("points", 1)), grader=grader,
            check=data.get("check"), section=data.get("section", data["id"]), answers=answers,
            partial_credit=bool(data.get("partial_credit", False)), needs=tuple(data.get("needs", ())),
            limits=_limits(data.get("limits", {}), defaults), params=dict(data.get("params", {})),
            message=data.get("message", ""), function=data.get("function"), document=data.get("document"),
        )
    except KeyError as exc:
        raise RubricError(f"{where}: a task is missing the field {exc}") from None


def _scripts(section: dict[str, Any], where: Path) -> dict[str, ScriptSpec]:
    """`[scripts.<name>]`: path, cpu_s, wall_s, memory_mb, outputs, args."""
    specs = {}
    for name, entry in section.items():
        if not isinstance(entry, dict) or "path" not in entry:
            raise RubricError(f"{where}: [scripts.{name}] needs a path")
        wall = entry.get("wall_s")
        specs[name] = ScriptSpec(name, str(entry["path"]), cpu_s=float(entry.get("cpu_s", 60)),
                                 wall_s=float(wall) if wall is not None else None,
                                 memory_mb=int(entry.get("memory_mb", 2048)),
                                 outputs=tuple(str(o) for o in entry.get("outputs", ())),
                                 args=tuple(str(a) for a in entry.get("args", ())))
    return specs


def _documents(section: dict[str, Any], where: Path) -> dict[str, DocumentSpec]:
    """`[documents.<name>]`: paths (first found wins), max_pages."""
    specs = {}
    for name, entry in section.items():
        paths = entry.get("paths") if isinstance(entry, dict) else None
        if not paths or not all(isinstance(p, str) for p in paths):
            raise RubricError(f"{where}: [documents.{name}] needs paths = [\"report.pdf\", ...]")
        specs[name] = DocumentSpec(name, tuple(paths), max_pages=int(entry.get("max_pages", 16)))
    return specs


def load(name_or_path: str) -> Rubric:
    path = find(name_or_path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: {exc}") from None
    here = path.parent
    info = data.get("assignment", {})
    module = data.get("module", {})
    defaults = _limits(data.get("limits", {}), Limits())
    tasks = tuple(_task(t, defaults, path) for t in data.get("tasks", ()))
    if not tasks:
        raise RubricError(f"{path}: no [[tasks]]")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise RubricError(f"{path}: duplicate task ids")
    checks = data.get("checks", {}).get("module")
    template = data.get("answers", {}).get("template")
    notebook = dict(data["notebook"]) if "notebook" in data else None
    if notebook and notebook.get("final_cell"):
        cell_file = here / notebook["final_cell"]
        if not cell_file.is_file():
            raise RubricError(f"{path}: [notebook] final_cell {cell_file} does not exist")
        notebook["final_cell_source"] = cell_file.read_text()
    if notebook and notebook.get("probes"):  # probes run against the executed notebook's globals
        probes_file = (here / notebook["probes"]).resolve()
        if not probes_file.is_file():
            raise RubricError(f"{path}: [notebook] probes {probes_file} does not exist")
        notebook["probes_path"] = probes_file
    data_dirs = {name: (here / rel).resolve() for name, rel in data.get("data", {}).items()}
    for name, folder in data_dirs.items():
        if not folder.is_dir():
            raise RubricError(f"{path}: [data] {name} = {folder} is not a folder")
    scripts = _scripts(data.get("scripts", {}), path)
    documents = _documents(data.get("documents", {}), path)
    for task in tasks:
        if task.document is not None and task.document not in documents:
            raise RubricError(f"{path}: task {task.id} names document {task.document!r}, which [documents] lacks")
    reference = data.get("reference", {}).get("module")
    digest = hashlib.sha256(raw)
    for extra in (checks, module.get("probes"), reference, (notebook or {}).get("final_cell"),
                  (notebook or {}).get("probes")):
        if extra and (here / extra).is_file():
            digest.update((here / extra).read_bytes())
    return Rubric(
        id=info.get("id", here.name), title=info.get("title", here.name), version=str(info.get("version", "1")),
        path=path, files=dict(data.get("files", {})), tasks=tasks,
        module_name=module.get("name"), class_name=module.get("class"),
        probes=(here / module["probes"]).resolve() if module.get("probes") else None,
        preload=tuple(module.get("preload", ("numpy",))),
        checks_path=(here / checks).resolve() if checks else None,
        reference_path=(here / reference).resolve() if reference else None,
        answers_template=(here / template).resolve() if template else None,
        notebook=notebook, data=data_dirs, scripts=scripts, documents=documents,
        fingerprint=digest.hexdigest()[:16],
    )
