"""The typed sections of `rubric.toml`, and the one pattern for adding another.

Each `[table]` of a rubric is a frozen dataclass registered with `@section("name")`; the loader
(`grader/judgement/rubric.py`) reads every table through its dataclass, so a key the dataclass
does not declare, a value of the wrong type, a file that does not exist or a negative time is an
error at load time that names the file, the line and the key. Code reads the typed value with
`rubric.section(NotebookSection)`, never a raw dict.

Adding a section (say `[deadline]`) is one dataclass here, or in a module of its own that this
module imports at the bottom:

    @section("deadline")
    @dataclass(frozen=True)
    class DeadlineSection:
        \"\"\"[deadline]: when submissions are due, and what lateness costs.\"\"\"
        due: str                                 # no default: the key is required
        grace_minutes: Annotated[float, NON_NEGATIVE] = 0.0
        policy: str = "none"

A field's type says how its value is read: `str`, `int`, `float`, `bool`, `tuple[str, ...]`,
`dict[str, str]`, an `X | None`, another dataclass (an inline table), or `RubricFile` /
`RubricFolder` (a path relative to the rubric's folder that must exist, read as an absolute
`Path`). `Annotated[..., POSITIVE]`, `NON_NEGATIVE` and `TOLERANCE` bound numbers; a field
whose TOML key is a Python keyword names it in `metadata={"key": "class"}`. A section whose
keys are the author's own names (`[files]`, `[data]`) is registered with `mapping_section`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from grader.execution.documents import DocumentSpec
from grader.execution.scripts import ScriptSpec
from grader.execution.session import Limits
from grader.judgement.similarity.settings import SimilaritySettingsError, settings_from_table
from grader.lateness import DeadlineError, parse_policy

T = TypeVar("T")


class Bound:
    """A constraint on a number: `POSITIVE`, `NON_NEGATIVE` or `TOLERANCE` (finite and >= 0)."""

    def __init__(self, name: str, test: Callable[[float], bool], words: str) -> None:
        self.name, self.test, self.words = name, test, words


POSITIVE = Bound("positive", lambda v: math.isfinite(v) and v > 0, "a finite number above 0")
NON_NEGATIVE = Bound("non-negative", lambda v: math.isfinite(v) and v >= 0, "a finite number of at least 0")
TOLERANCE = Bound("tolerance", lambda v: math.isfinite(v) and v >= 0, "a tolerance: a finite number of at least 0")


class _PathKind:
    def __init__(self, folder: bool) -> None:
        self.folder = folder


RubricFile = Annotated[Path, _PathKind(folder=False)]
RubricFolder = Annotated[Path, _PathKind(folder=True)]


@dataclass(frozen=True)
class SectionSpec:
    name: str
    cls: type | None  # None for a mapping section
    value_type: Any = None  # the type of each value of a mapping section
    doc: str = ""
    # a section read by a parser of its own (raising ConfigProblem), when a dataclass cannot say it
    reader: Callable[[dict[str, Any], tuple[str | int, ...], Path], Any] | None = None
    # False for a section that changes no verdict ([deadline]): the rubric's fingerprint leaves it
    # out, so editing it regrades nothing
    graded: bool = True


SECTIONS: dict[str, SectionSpec] = {}


def section(name: str) -> Callable[[type[T]], type[T]]:
    """Register a frozen dataclass as the typed form of the rubric's `[name]` table."""

    def register(cls: type[T]) -> type[T]:
        if name in SECTIONS:
            raise ValueError(f"rubric section [{name}] is registered twice")
        SECTIONS[name] = SectionSpec(name, cls, doc=(cls.__doc__ or "").strip())
        return cls

    return register


def mapping_section(name: str, value_type: Any, doc: str) -> None:
    """Register `[name]` as a table of the author's own keys, each value read as `value_type`."""
    SECTIONS[name] = SectionSpec(name, None, value_type, doc)


def parsed_section(name: str, reader: Callable[[dict[str, Any], tuple[str | int, ...], Path], Any], doc: str,
                   *, graded: bool = True) -> None:
    """Register `[name]` as a table read by `reader(table, path, rubric_folder)`, which raises
    ConfigProblem for a wrong value; `graded=False` keeps it out of the rubric's fingerprint."""
    if name in SECTIONS:
        raise ValueError(f"rubric section [{name}] is registered twice")
    SECTIONS[name] = SectionSpec(name, None, doc=doc, reader=reader, graded=graded)


# --- the sections every rubric may have ----------------------------------------------------------


@section("assignment")
@dataclass(frozen=True)
class AssignmentSection:
    """[assignment]: the rubric's id (default: its folder's name), title and version."""

    id: str = ""
    title: str = ""
    version: str = "1"


mapping_section("files", str, "[files]: where a submission keeps each input, relative to its root; "
                              "`module`, `notebook` and `answers` have a meaning of their own")
mapping_section("data", RubricFolder, "[data]: read-only folders linked next to the student's files")


@dataclass(frozen=True)
class PreparedSection:
    """[prepared.<name>]: arrays a checks-module function derives once from a [data] folder, kept in the
    grader's read-only cache and mounted at /data/<name> (grader/execution/data_cache.py)."""

    data: str  # the [data] folder it is made from
    function: str  # in the checks module: (folder: Path) -> dict[str, numpy array]


mapping_section("prepared", PreparedSection, "[prepared.<name>]: arrays decoded once from a [data] folder into "
                                             "a read-only cache; ctx.prepared(name) and ctx.data_dir(name)")


@section("answers")
@dataclass(frozen=True)
class AnswersSection:
    """[answers]: the written-answers template handed out; its own lines are not a student's answer."""

    template: RubricFile | None = None


@section("module")
@dataclass(frozen=True)
class ModuleSection:
    """[module]: the student's module, its class, and the probes run next to it."""

    name: str
    class_name: str | None = dataclasses.field(default=None, metadata={"key": "class"})
    probes: RubricFile | None = None
    preload: tuple[str, ...] = ("numpy",)


@section("checks")
@dataclass(frozen=True)
class ChecksSection:
    """[checks]: the checks module, run by the grader (a task's `check` names one of its functions)."""

    module: RubricFile


@section("reference")
@dataclass(frozen=True)
class ReferenceSection:
    """[reference]: the reference solution the grader runs on the same inputs (`ctx.reference`)."""

    module: RubricFile


@section("notebook")
@dataclass(frozen=True)
class NotebookSection:
    """[notebook]: run the submitted notebook headlessly in the sandbox, within these limits."""

    cell_timeout_s: Annotated[float, POSITIVE] = 600.0
    budget_s: Annotated[float, POSITIVE] = 900.0
    memory_mb: Annotated[int, POSITIVE] = 4096
    final_cell: RubricFile | None = None  # appended to the student's cells: extracts results
    probes: RubricFile | None = None  # probes served by the kernel against the notebook's globals

    def final_cell_source(self) -> str | None:
        return self.final_cell.read_text() if self.final_cell is not None else None

    def __getitem__(self, key: str) -> Any:
        """`rubric.notebook["budget_s"]`, as checks written when [notebook] was a dict read it."""
        return getattr(self, key)


@section("limits")
@dataclass(frozen=True)
class LimitsSection:
    """[limits]: each task's limits unless the task says otherwise."""

    time_s: Annotated[float, POSITIVE] = Limits.time_s
    memory_mb: Annotated[int, POSITIVE] = Limits.memory_mb
    output_bytes: Annotated[int, POSITIVE] = Limits.output_bytes
    result_bytes: Annotated[int, POSITIVE] = Limits.result_bytes

    def limits(self) -> Limits:
        return Limits(self.time_s, self.memory_mb, self.output_bytes, self.result_bytes)


@section("selftest")
@dataclass(frozen=True)
class SelftestSection:
    """[selftest]: what `grader rubric check` grades: the solution, the starter, and the mutants.

    The solution and the starter are folders laid out as a submission. Mutants are made from the
    `mutate` files of the solution (names from [files]; default: the module), only in the lines
    the starter leaves for the student to write. In a notebook, code cells that do not match
    `keep_cells` (a regular expression on the cell's source) are emptied in mutant runs, so long
    training cells do not run once per mutant; `without_params` leaves slow checks out of them.
    """

    solution: RubricFolder | None = None
    starter: RubricFolder | None = None
    mutate: tuple[str, ...] = ()
    keep_cells: str = ""
    without_params: tuple[str, ...] = ()  # task params left out of mutant runs (slow checks)
    max_mutants: Annotated[int, POSITIVE] = 200
    budget_s: Annotated[float, POSITIVE] = 600.0


def _read_deadline(table: dict[str, Any], path: tuple[str | int, ...], base: Path) -> Any:
    """[deadline] is parsed by grader/lateness.py, the one place that knows its keys."""
    try:
        return parse_policy(table, "[deadline]")
    except DeadlineError as exc:
        raise ConfigProblem(path, str(exc).removeprefix("[deadline]: ")) from None


# the due date and late policy: applied when grades are exported, never while grading
parsed_section("deadline", _read_deadline, "[deadline]: the due date and the late policy (docs/lms.md)",
               graded=False)


def _read_similarity(table: dict[str, Any], path: tuple[str | int, ...], base: Path) -> Any:
    """[similarity] is checked by the similarity engine's own reader, the one place that knows its keys."""
    try:
        return settings_from_table(table, "[similarity]", base, base.name, {})
    except SimilaritySettingsError as exc:
        raise ConfigProblem(path, str(exc).removeprefix("[similarity]: ")) from None


# copied-work detection across a class: run after a batch, never part of a verdict
parsed_section("similarity", _read_similarity, "[similarity]: the threshold and starter of the copied-work "
               "check (docs/similarity.md)", graded=False)


@dataclass(frozen=True)
class ScriptSection:
    """[scripts.<name>]: a script of the submission run headlessly in the sandbox on a budget (script mode)."""

    path: str  # relative to the submission root, which is its working folder
    cpu_s: Annotated[float, POSITIVE] = 60.0  # CPU seconds (RLIMIT_CPU)
    wall_s: Annotated[float, POSITIVE] | None = None  # default: twice the CPU budget plus 30 s
    memory_mb: Annotated[int, POSITIVE] = 2048
    outputs: tuple[str, ...] = ()  # files read back after the run, however it ended (a saved model)
    args: tuple[str, ...] = ()

    def spec(self, name: str) -> ScriptSpec:
        return ScriptSpec(name, self.path, float(self.cpu_s), None if self.wall_s is None else float(self.wall_s),
                          self.memory_mb, self.outputs, self.args)


@dataclass(frozen=True)
class DocumentSection:
    """[documents.<name>]: a written report shown to the TA next to the manual tasks with document = <name>."""

    paths: tuple[str, ...]  # where the submission may keep it; the first found is shown
    max_pages: Annotated[int, POSITIVE] = 16

    def spec(self, name: str) -> DocumentSpec:
        return DocumentSpec(name, self.paths, self.max_pages)


mapping_section("scripts", ScriptSection, "[scripts.<name>]: scripts run headlessly, each on a CPU, wall-clock "
                                          "and memory budget; ctx.script(name) gives a task the run")
mapping_section("documents", DocumentSection, "[documents.<name>]: a PDF or Markdown report shown to the TA")


# --- reading a value through its declared type ---------------------------------------------------


class ConfigProblem(Exception):
    """One wrong value: `path` is where it is in the TOML document, relative to the section."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def toml_key(field: dataclasses.Field) -> str:
    return field.metadata.get("key", field.name)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *extra = typing.get_args(tp)
        kind = next((e for e in extra if isinstance(e, _PathKind)), None)
        if kind is not None:
            return "a folder path" if kind.folder else "a file path"
        return _type_name(base)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}s"
    if origin is dict:
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, f"a table ({getattr(tp, '__name__', tp)})")


def read_value(tp: Any, value: Any, path: tuple[str | int, ...], base: Path) -> Any:
    """`value` as type `tp`, or a ConfigProblem that says what was expected."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        inner, *extra = typing.get_args(tp)
        kind = next((e for e in extra if isinstance(e, _PathKind)), None)
        if kind is not None:
            if not isinstance(value, str) or not value:
                raise ConfigProblem(path, f"expected {_type_name(tp)} relative to the rubric's folder, got {value!r}")
            resolved = (base / value).resolve()
            exists = resolved.is_dir() if kind.folder else resolved.is_file()
            if not exists:
                what = "folder" if kind.folder else "file"
                raise ConfigProblem(path, f"{value!r}: no such {what} ({resolved})")
            return resolved
        result = read_value(inner, value, path, base)
        for bound in (e for e in extra if isinstance(e, Bound)):
            if not bound.test(float(result)):
                raise ConfigProblem(path, f"must be {bound.words}, got {value!r}")
        return result
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(tp)):
            return None
        last: ConfigProblem | None = None
        for option in options:
            try:
                return read_value(option, value, path, base)
            except ConfigProblem as exc:
                last = exc
        assert last is not None
        raise last
    if origin is tuple:
        item = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise ConfigProblem(path, f"expected {_type_name(tp)}, got {value!r}")
        return tuple(read_value(item, v, (*path, i), base) for i, v in enumerate(value))
    if origin is dict:
        _, item = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigProblem(path, f"expected a table, got {value!r}")
        return {k: read_value(item, v, (*path, k), base) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigProblem(path, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigProblem(path, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigProblem(path, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and path and path[-1] == "version":
            return str(value)  # version = 1 reads as "1"
        if not isinstance(value, str):
            raise ConfigProblem(path, f"expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigProblem(path, f"expected a table, got {value!r}")
        result = read_dataclass(tp, value, path, base)
        assert result is not None
        return result
    raise TypeError(f"rubric sections cannot declare a field of type {tp!r}")


def read_dataclass(cls: type[T], data: dict[str, Any], path: tuple[str | int, ...], base: Path,
                   problems: list[ConfigProblem] | None = None) -> T | None:
    """Read a table into `cls`: every key must be declared, every required key given.

    With `problems`, every problem is collected there and None is returned if there was one;
    without it, the first one is raised.
    """
    collect: list[ConfigProblem] = [] if problems is None else problems
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {toml_key(f): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    start = len(collect)
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            collect.append(ConfigProblem((*path, key), f"unknown key {key!r}; known keys: {', '.join(fields)}"))
            continue
        try:
            values[field.name] = read_value(hints[field.name], value, (*path, key), base)
        except ConfigProblem as exc:
            collect.append(exc)
    for key, field in fields.items():
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and key not in data:
            collect.append(ConfigProblem(path, f"the key {key!r} is required"))
    if len(collect) > start:
        if problems is None:
            raise collect[start]
        return None
    return cls(**values)
