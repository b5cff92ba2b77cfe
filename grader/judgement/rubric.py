"""Rubrics are data: a `rubric.toml` per assignment plus, where needed, a checks module beside it.

The core knows four ways to grade a task: `answers` (values in the written-answers file,
compared with a tolerance), `checks` (a function of the rubric's checks module, which drives
probes in the student process), `manual` (a TA decides) and `pending` (not graded yet).
Adding an assignment means adding a folder under `rubrics/`; nothing in `grader/` changes.

Loading is strict: every table is read through its typed section (`sections.py`), and what is
wrong (an unknown key or section, a check or probe name that does not exist, a missing file, a
bad tolerance, a task with no way to be graded) is a `RubricError` listing each problem with the
file, the line and the key, before a single submission is graded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TypeVar

from grader.execution.documents import DocumentSpec
from grader.execution.scripts import ScriptSpec
from grader.execution.session import Limits
from grader.judgement.rubric_code import check_code
from grader.judgement.sections import (
    NON_NEGATIVE,
    POSITIVE,
    SECTIONS,
    TOLERANCE,
    ChecksSection,
    ConfigProblem,
    ModuleSection,
    NotebookSection,
    read_dataclass,
    read_value,
)
from grader.judgement.toml_lines import TomlLines

T = TypeVar("T")

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


@dataclass(frozen=True)
class RubricProblem:
    """One thing wrong with a rubric: where (file, line, key) and what."""

    file: Path
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class RubricError(Exception):
    """The rubric itself is wrong: a configuration problem for the course staff, never a student's."""

    def __init__(self, problems: list[RubricProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [RubricProblem(Path(), None, "", problems)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class AnswerSpec:
    key: str
    expected: float
    abs_tol: Annotated[float, TOLERANCE] = 1e-9
    rel_tol: Annotated[float, TOLERANCE] = 0.0
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
    functions: tuple[str, ...] = ()  # every function (or class) of the submission this task grades
    document: str | None = None  # a manual task judged from this [documents] entry (shown next to it)


@dataclass(frozen=True)
class _TaskLimits:
    time_s: Annotated[float, POSITIVE] | None = None
    memory_mb: Annotated[int, POSITIVE] | None = None
    output_bytes: Annotated[int, POSITIVE] | None = None
    result_bytes: Annotated[int, POSITIVE] | None = None


@dataclass(frozen=True)
class _TaskTable:
    """A [[tasks]] entry as written: read strictly, then turned into a TaskSpec."""

    id: str
    title: str
    grader: str
    points: Annotated[float, NON_NEGATIVE] = 1.0
    check: str | None = None
    section: str | None = None
    answers: tuple[AnswerSpec, ...] = ()
    partial_credit: bool = False
    needs: tuple[str, ...] = ()
    limits: _TaskLimits = _TaskLimits()
    params: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    function: str | tuple[str, ...] | None = None
    document: str | None = None


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
    notebook: NotebookSection | None = None  # [notebook]: limits, the final cell, notebook probes
    data: dict[str, Path] = field(default_factory=dict)  # [data]: read-only folders next to student files
    fingerprint: str = ""
    sections: dict[str, Any] = field(default_factory=dict)  # every typed section given, by name
    scripts: dict[str, ScriptSpec] = field(default_factory=dict)  # [scripts]: run headlessly on a budget
    documents: dict[str, DocumentSpec] = field(default_factory=dict)  # [documents]: reports shown to the TA
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

    def section(self, cls: type[T]) -> T | None:
        """The typed `[name]` table registered for `cls` (see sections.py), or None when absent."""
        return next((v for v in self.sections.values() if isinstance(v, cls)), None)

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




# --- loading, strictly ---------------------------------------------------------------------------

_TOLERANCE_KEY = re.compile(r"(^|_)(tol|rtol|atol)$")


class _Report:
    """Problems found while loading one rubric.toml, each placed on its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = TomlLines(text)
        self.problems: list[RubricProblem] = []
        self.task_ids: dict[int, str] = {}
        self.broken: set[str] = set()  # sections given but unreadable: no follow-on "missing" problems

    def key_name(self, where: tuple[str | int, ...]) -> str:
        parts: list[str] = []
        for i, part in enumerate(where):
            if isinstance(part, int):
                if i == 1 and where[0] == "tasks":
                    parts[-1] = f"tasks[{self.task_ids.get(part) or f'#{part + 1}'}]"
                else:
                    parts[-1] += f"[{part}]"
            else:
                parts.append(part)
        return ".".join(parts)

    def add(self, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append(RubricProblem(self.path, self.lines.line(where), self.key_name(where), message))

    def add_config(self, problem: ConfigProblem) -> None:
        self.add(problem.path, problem.message)

    def add_at(self, file: Path, line: int | None, key: str, message: str) -> None:
        self.problems.append(RubricProblem(file, line, key, message))


def _read_sections(data: dict[str, Any], here: Path, report: _Report) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key == "tasks":
            continue
        spec = SECTIONS.get(key)
        if spec is None:
            known = ", ".join(f"[{n}]" for n in [*SECTIONS, "[tasks]"])
            report.add((key,), f"unknown section [{key}]; known sections: {known}")
            continue
        if not isinstance(value, dict):
            report.add((key,), f"[{key}] must be a table, got {value!r}")
            continue
        collected: list[ConfigProblem] = []
        if spec.reader is not None:
            try:
                sections[key] = spec.reader(value, (key,), here)
            except ConfigProblem as exc:
                collected.append(exc)
        elif spec.cls is not None:
            sections[key] = read_dataclass(spec.cls, value, (key,), here, collected)
        else:
            mapping = {}
            for name, item in value.items():
                try:
                    mapping[name] = read_value(spec.value_type, item, (key, name), here)
                except ConfigProblem as exc:
                    collected.append(exc)
            sections[key] = mapping
        for problem in collected:
            report.add_config(problem)
        if collected:
            report.broken.add(key)
    return {k: v for k, v in sections.items() if v is not None}


def _check_tolerances(params: Any, where: tuple[str | int, ...], report: _Report) -> None:
    """A parameter named tol, rtol, atol or *_tol/_rtol/_atol is a tolerance: a finite number >= 0."""
    if isinstance(params, dict):
        for key, value in params.items():
            if _TOLERANCE_KEY.search(key) and not isinstance(value, dict):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                if not ok or not TOLERANCE.test(float(value)):
                    report.add((*where, key), f"must be {TOLERANCE.words}, got {value!r}")
            else:
                _check_tolerances(value, (*where, key), report)


def _read_tasks(data: dict[str, Any], here: Path, defaults: Limits, report: _Report) -> list[tuple[int, TaskSpec]]:
    """Each [[tasks]] entry that could be read, with its index in the file."""
    raw = data.get("tasks")
    if raw is None:
        report.add((), "no [[tasks]]: a rubric grades at least one task")
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        report.add(("tasks",), "tasks must be [[tasks]] tables")
        return []
    report.task_ids = {i: str(t.get("id")) for i, t in enumerate(raw) if isinstance(t.get("id"), str)}
    tasks: list[tuple[int, TaskSpec]] = []
    for i, entry in enumerate(raw):
        collected: list[ConfigProblem] = []
        table = read_dataclass(_TaskTable, entry, ("tasks", i), here, collected)
        for problem in collected:
            report.add_config(problem)
        if table is None:
            continue
        _check_tolerances(table.params, ("tasks", i, "params"), report)
        overrides = {k: v for k, v in vars(table.limits).items() if v is not None}
        functions = (table.function,) if isinstance(table.function, str) else tuple(table.function or ())
        tasks.append((i, TaskSpec(
            id=table.id, title=table.title, points=table.points, grader=table.grader, check=table.check,
            section=table.section or table.id,
            answers=tuple(replace(a, label=a.label or a.key) for a in table.answers),
            partial_credit=table.partial_credit, needs=table.needs, limits=replace(defaults, **overrides),
            params=dict(table.params), message=table.message,
            function=functions[0] if functions else None, functions=functions, document=table.document)))
    return tasks


def _check_tasks(tasks: list[tuple[int, TaskSpec]], sections: dict[str, Any], report: _Report) -> None:
    """Every task has a way to be graded, with what it needs declared."""
    files = sections.get("files", {})
    scripts = sections.get("scripts", {})
    documents = sections.get("documents", {})
    given = set(sections) | report.broken
    seen: set[str] = set()
    for i, task in tasks:
        where: tuple[str | int, ...] = ("tasks", i)
        if task.id in seen:
            report.add((*where, "id"), f"duplicate task id {task.id!r}")
        seen.add(task.id)
        if task.grader not in GRADER_KINDS:
            report.add((*where, "grader"), f"grader must be one of {', '.join(GRADER_KINDS)}, got {task.grader!r}")
            continue
        for need in task.needs:
            if need not in files and need not in scripts and "files" not in report.broken:
                report.add((*where, "needs"), f"{need!r} is not a name in [files] or [scripts] "
                                              f"(known: {', '.join([*files, *scripts]) or 'none'})")
        if task.document is not None and task.document not in documents and "documents" not in report.broken:
            report.add((*where, "document"), f"{task.document!r} is not a name in [documents] "
                                             f"(known: {', '.join(documents) or 'none'})")
        if task.grader == "answers" and not task.answers:
            report.add(where, "grader = \"answers\" but no answers = [...] to compare: nothing to grade")
        if task.grader != "checks":
            continue
        if not task.check:
            report.add(where, "grader = \"checks\" needs check = \"<a function of the checks module>\"")
        if "checks" not in given:
            report.add((*where, "check"), "the rubric has no [checks] module = \"checks.py\" to find it in")
        if not task.needs:
            report.add(where, "a checks task must say what it reads: needs = [\"module\"] or [\"notebook\"] "
                              "(names from [files])")
        if "module" in task.needs and "module" not in given:
            report.add((*where, "needs"), "needs the module, but the rubric has no [module] section "
                                          "(its name and probes)")
        elif "module" in task.needs and "module" in sections and sections["module"].probes is None:
            report.add(("module",), f"task {task.id} needs the module, but [module] names no probes = \"probes.py\"")
        if "notebook" in task.needs and "notebook" not in given:
            report.add((*where, "needs"), "needs the notebook, but the rubric has no [notebook] section to run it")


def load(name_or_path: str) -> Rubric:
    """Read a rubric strictly: a `RubricError` lists every problem, each with file, line and key."""
    path = find(name_or_path)
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise RubricError([RubricProblem(path, int(line.group(1)) if line else None, "",
                                         f"not valid TOML: {exc}")]) from None
    except RecursionError:  # tomllib recurses once per level of nested arrays and inline tables
        raise RubricError([RubricProblem(path, None, "", "arrays or inline tables nested too deeply "
                                                         "(more than Python's recursion limit)")]) from None
    here = path.parent
    report = _Report(path, text)
    sections = _read_sections(data, here, report)
    defaults = sections["limits"].limits() if "limits" in sections else Limits()
    numbered = _read_tasks(data, here, defaults, report)
    _check_tasks(numbered, sections, report)
    tasks = [task for _, task in numbered]
    files = sections.get("files", {})
    module: ModuleSection | None = sections.get("module")
    if module is not None and "module" not in files:
        report.add(("module",), "[files] has no module = \"<path of the student's module>\"")
    info = sections.get("assignment")
    checks: ChecksSection | None = sections.get("checks")
    notebook: NotebookSection | None = sections.get("notebook")
    reference = sections.get("reference")
    # sections that change no verdict ([deadline]) are left out: editing them regrades nothing
    graded = {key: value for key, value in data.items() if key not in SECTIONS or SECTIONS[key].graded}
    digest = hashlib.sha256(json.dumps(graded, sort_keys=True, default=str).encode())
    for extra in (checks and checks.module, module and module.probes, reference and reference.module,
                  notebook and notebook.final_cell, notebook and notebook.probes):
        if extra and Path(extra).is_file():
            digest.update(Path(extra).read_bytes())
    rubric = Rubric(
        id=(info.id if info else "") or here.name, title=(info.title if info else "") or here.name,
        version=info.version if info else "1", path=path, files=dict(files), tasks=tuple(tasks),
        module_name=module.name if module else None, class_name=module.class_name if module else None,
        probes=module.probes if module else None, preload=module.preload if module else ("numpy",),
        checks_path=checks.module if checks else None, reference_path=reference.module if reference else None,
        answers_template=sections["answers"].template if "answers" in sections else None,
        notebook=notebook, data=dict(sections.get("data", {})), fingerprint=digest.hexdigest()[:16],
        sections=sections,
        scripts={name: entry.spec(name) for name, entry in sections.get("scripts", {}).items()},
        documents={name: entry.spec(name) for name, entry in sections.get("documents", {}).items()},
    )
    check_code(rubric, report, {task.id: i for i, task in numbered})
    if report.problems:
        raise RubricError(report.problems)
    return rubric
