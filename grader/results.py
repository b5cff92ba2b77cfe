"""Result records that flow from judgement to presentation.

They are plain frozen dataclasses with a JSON form, so that reporters, exports and a later
run (resume) can consume them without importing anything from execution or judgement.
The JSON form is the documented `result.json` schema (see docs/gradebook.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    """How a task ended. Only `pass` and `fail` are verdicts on a complete answer."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the student's code raised or crashed (or the grader did: see `cause`)
    TIMEOUT = "timeout"
    MISSING = "missing"  # nothing was submitted for this task
    MANUAL = "manual"  # awaits a TA
    PENDING = "pending"  # not graded by this version of the grader
    GRADED = "graded"  # scored by a TA (see TaskResult.manual); autograding never overwrites it


class Visibility(enum.StrEnum):
    """Public checks are shown to students in full; hidden ones only as passed or not, never their inputs."""

    PUBLIC = "public"
    HIDDEN = "hidden"


class Cause(enum.StrEnum):
    """Who is responsible for an `error`/`timeout`: a grader failure must never read as a 0."""

    SUBMISSION = "submission"
    GRADER = "grader"


AUTO_GRADED = frozenset({Status.PASS, Status.FAIL, Status.ERROR, Status.TIMEOUT, Status.MISSING})
# the message of a check that was listed but not run (a student's pre-check leaves hidden checks out)
AFTER_SUBMISSION = "graded after submission"


@dataclass(frozen=True)
class StudentError:
    """What went wrong inside the student's code, in the student's own terms."""

    type: str
    message: str
    traceback: tuple[str, ...] = ()  # formatted frames from the student's files only

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "traceback": list(self.traceback)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudentError:
        return cls(data["type"], data["message"], tuple(data.get("traceback", ())))


@dataclass(frozen=True)
class CheckResult:
    """One comparison the grader made. `passed` is None when the check is shown but not counted.

    `rule` says in words what the check demands and why it belongs to its task, so a reader
    sees why a submission lost this task and not another (optional; written by the rubric).
    """

    name: str
    visibility: Visibility
    passed: bool | None
    expected: Any = None  # JSON-safe summary, never a live student object
    got: Any = None
    message: str = ""
    depends_on: tuple[str, ...] = ()  # task ids that must pass for this check to count
    rule: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "visibility": self.visibility.value,
            "passed": self.passed,
            "expected": self.expected,
            "got": self.got,
            "message": self.message,
        }
        if self.depends_on:
            data["depends_on"] = list(self.depends_on)
        if self.rule:
            data["rule"] = self.rule
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            name=data["name"],
            visibility=Visibility(data["visibility"]),
            passed=data["passed"],
            expected=data.get("expected"),
            got=data.get("got"),
            message=data.get("message", ""),
            depends_on=tuple(data.get("depends_on", ())),
            rule=data.get("rule", ""),
        )


@dataclass(frozen=True)
class Plot:
    """Data for a figure the report draws (kept as data, so reports can be redrawn from result.json).

    kind: `line` (data: {"series": {label: [y...]}, "xlabel", "ylabel"}), `matrix` (data:
    {"values": [[...]], "xlabel", "ylabel"}) or `images` (data: {"images": [[0..255 × h·w]], "shape": [h, w]}).
    """

    kind: str
    title: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "data": self.data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plot:
        return cls(data["kind"], data["title"], data["data"])


@dataclass(frozen=True)
class ManualScore:
    """A TA's score for one task: who gave it, when, and why. Kept apart from autograder runs."""

    task: str
    points: float
    comment: str = ""
    graded_by: str = ""
    graded_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "points": self.points, "comment": self.comment,
                "graded_by": self.graded_by, "graded_at": self.graded_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManualScore:
        return cls(data["task"], data["points"], data.get("comment", ""), data.get("graded_by", ""),
                   data.get("graded_at", ""))


@dataclass(frozen=True)
class TaskResult:
    id: str
    title: str
    status: Status
    points: float | None  # None when no points can be given yet (manual, pending, grader failure)
    max_points: float
    message: str = ""
    checks: tuple[CheckResult, ...] = ()
    error: StudentError | None = None
    cause: Cause | None = None  # set for error/timeout
    submitted_text: str | None = None  # e.g. a written proof shown to the TA
    output: str = ""  # captured stdout/stderr of the student's code, capped
    plots: tuple[Plot, ...] = ()
    manual: ManualScore | None = None  # set when a TA scored this task by hand

    @property
    def grader_failed(self) -> bool:
        return self.cause is Cause.GRADER

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "points": self.points,
            "max_points": self.max_points,
            "message": self.message,
            "checks": [c.to_json() for c in self.checks],
            "error": self.error.to_json() if self.error else None,
            "cause": self.cause.value if self.cause else None,
            "submitted_text": self.submitted_text,
            "output": self.output,
            "plots": [p.to_json() for p in self.plots],
            "manual": self.manual.to_json() if self.manual else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        return cls(
            id=data["id"],
            title=data["title"],
            status=Status(data["status"]),
            points=data["points"],
            max_points=data["max_points"],
            message=data.get("message", ""),
            checks=tuple(CheckResult.from_json(c) for c in data.get("checks", ())),
            error=StudentError.from_json(data["error"]) if data.get("error") else None,
            cause=Cause(data["cause"]) if data.get("cause") else None,
            submitted_text=data.get("submitted_text"),
            output=data.get("output", ""),
            plots=tuple(Plot.from_json(p) for p in data.get("plots", ())),
            manual=ManualScore.from_json(data["manual"]) if data.get("manual") else None,
        )


@dataclass(frozen=True)
class CellOutput:
    """One output of an executed notebook cell: `kind` is text, error or image (a PNG, base64)."""

    kind: str
    text: str = ""
    png: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "png": self.png}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellOutput:
        return cls(data["kind"], data.get("text", ""), data.get("png"))


@dataclass(frozen=True)
class CellReport:
    index: int  # 1-based, as a student counts cells
    source: str
    status: str  # ok, error, timeout (the cell that was running), not run
    outputs: tuple[CellOutput, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "source": self.source, "status": self.status,
                "outputs": [o.to_json() for o in self.outputs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellReport:
        return cls(data["index"], data["source"], data["status"],
                   tuple(CellOutput.from_json(o) for o in data.get("outputs", ())))


@dataclass(frozen=True)
class NotebookReport:
    """How the submitted notebook ran: ok, error, timeout, dead, invalid or missing."""

    status: str
    message: str
    duration_s: float = 0.0
    cells: tuple[CellReport, ...] = ()
    notes: tuple[str, ...] = ()
    executed_file: str | None = None  # the executed notebook, next to result.json

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "duration_s": self.duration_s,
                "cells": [c.to_json() for c in self.cells], "notes": list(self.notes),
                "executed_file": self.executed_file}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotebookReport:
        return cls(data["status"], data["message"], data.get("duration_s", 0.0),
                   tuple(CellReport.from_json(c) for c in data.get("cells", ())), tuple(data.get("notes", ())),
                   data.get("executed_file"))


@dataclass(frozen=True)
class FigureReport:
    """A figure a script showed or saved (`how`: show or savefig), as a base64 PNG."""

    name: str
    how: str
    png: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "how": self.how, "png": self.png}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FigureReport:
        return cls(data["name"], data.get("how", ""), data.get("png", ""))


@dataclass(frozen=True)
class ScriptReport:
    """How one of the submission's scripts ran: ok, error, timeout, killed, missing or failed (the grader's).

    `output` is what it printed (a claim, capped); `files` the outputs the rubric names that it left."""

    name: str
    path: str
    status: str
    message: str
    exit_code: int | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    cpu_budget_s: float = 0.0
    output: str = ""
    figures: tuple[FigureReport, ...] = ()
    files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "status": self.status, "message": self.message,
                "exit_code": self.exit_code, "wall_s": self.wall_s, "cpu_s": self.cpu_s,
                "cpu_budget_s": self.cpu_budget_s, "output": self.output,
                "figures": [f.to_json() for f in self.figures], "files": list(self.files)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScriptReport:
        return cls(data["name"], data["path"], data["status"], data.get("message", ""), data.get("exit_code"),
                   data.get("wall_s", 0.0), data.get("cpu_s", 0.0), data.get("cpu_budget_s", 0.0),
                   data.get("output", ""), tuple(FigureReport.from_json(f) for f in data.get("figures", ())),
                   tuple(data.get("files", ())))


@dataclass(frozen=True)
class DocumentReport:
    """A written report from the submission, for the TA: PDF pages as base64 PNGs, or Markdown/text.

    `status`: ok, invalid (could not be read), missing or failed (the grader's); `tasks` are the
    manual tasks it feeds."""

    name: str
    status: str
    message: str
    path: str | None = None
    kind: str = ""
    page_count: int = 0
    pages: tuple[str, ...] = ()
    text: str = ""
    tasks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message, "path": self.path,
                "kind": self.kind, "page_count": self.page_count, "pages": list(self.pages), "text": self.text,
                "tasks": list(self.tasks)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentReport:
        return cls(data["name"], data["status"], data.get("message", ""), data.get("path"), data.get("kind", ""),
                   data.get("page_count", 0), tuple(data.get("pages", ())), data.get("text", ""),
                   tuple(data.get("tasks", ())))


@dataclass(frozen=True)
class SubmissionResult:
    submission: str
    rubric: str
    rubric_version: str
    tasks: tuple[TaskResult, ...]
    grader_version: str = ""
    content_hash: str = ""
    graded_at: str = ""
    duration_s: float = 0.0
    sandbox: str = ""
    notes: tuple[str, ...] = field(default=())  # submission-level messages (layout fixes, junk ignored)
    notebook: NotebookReport | None = None
    scripts: tuple[ScriptReport, ...] = ()  # scripts the rubric ran (script mode)
    documents: tuple[DocumentReport, ...] = ()  # written reports shown to the TA
    # files to write next to result.json (the executed notebook); not part of the JSON itself
    artifacts: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def score(self) -> float:
        return round(sum(t.points or 0.0 for t in self.tasks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_points for t in self.tasks), 6)

    @property
    def grader_failures(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tasks if t.grader_failed)

    @property
    def grading_status(self) -> str:
        """`complete` only when every task carries a verdict about the submission itself."""
        failed = self.grader_failures
        return "grader-error: " + " ".join(failed) if failed else "complete"

    def task(self, task_id: str) -> TaskResult:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "rubric": self.rubric,
            "rubric_version": self.rubric_version,
            "score": self.score,
            "max_score": self.max_score,
            "grading_status": self.grading_status,
            "tasks": [t.to_json() for t in self.tasks],
            "grader_version": self.grader_version,
            "content_hash": self.content_hash,
            "graded_at": self.graded_at,
            "duration_s": self.duration_s,
            "sandbox": self.sandbox,
            "notes": list(self.notes),
            "notebook": self.notebook.to_json() if self.notebook else None,
            **({"scripts": [x.to_json() for x in self.scripts]} if self.scripts else {}),
            **({"documents": [d.to_json() for d in self.documents]} if self.documents else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(
            submission=data["submission"],
            rubric=data["rubric"],
            rubric_version=data.get("rubric_version", ""),
            tasks=tuple(TaskResult.from_json(t) for t in data["tasks"]),
            grader_version=data.get("grader_version", ""),
            content_hash=data.get("content_hash", ""),
            graded_at=data.get("graded_at", ""),
            duration_s=data.get("duration_s", 0.0),
            sandbox=data.get("sandbox", ""),
            notes=tuple(data.get("notes", ())),
            notebook=NotebookReport.from_json(data["notebook"]) if data.get("notebook") else None,
            scripts=tuple(ScriptReport.from_json(x) for x in data.get("scripts", ())),
            documents=tuple(DocumentReport.from_json(d) for d in data.get("documents", ())),
        )
