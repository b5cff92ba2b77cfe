"""A submission's scripts and written reports: each run (or rendered) once, in the background.

The rubric's `[scripts]` run one after the other on a thread of their own while the function
checks use the other core, as a notebook does; a task that reads a script's results waits for
that script only, and the wait is not charged to the task. `[documents]` (a PDF or Markdown
report) are rendered first: they are quick and feed the TA's manual tasks. What ran becomes
`ScriptReport`s and `DocumentReport`s for the report page.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from grader.execution.documents import DocumentRun, DocumentStatus, render_document
from grader.execution.sandbox import Sandbox
from grader.execution.scripts import ScriptRun, ScriptSpec, ScriptStatus, run_script
from grader.execution.session import GRADER_SRC
from grader.execution.workspace import Workspace
from grader.judgement.rubric import Rubric, TaskSpec
from grader.results import Cause, DocumentReport, FigureReport, ScriptReport, Status, TaskResult

if TYPE_CHECKING:
    from grader.judgement.recordings import Recordings, SubmissionKeys

GRADER_FAILURE = "GRADER FAILURE (not the student's fault)"
_NOT_NEEDED = "not run: no task of this grading needs it"


class ScriptRuns:
    """Runs the rubric's scripts and renders its documents for one submission, at most once each."""

    def __init__(self, rubric: Rubric, workspace: Workspace, sandbox: Sandbox, tmp: Path, python: str, *,
                 run_scripts: bool) -> None:
        self.rubric = rubric
        self.workspace = workspace
        self.sandbox = sandbox
        self.tmp = tmp
        self.python = python
        self.run_scripts = run_scripts
        self._scripts: dict[str, ScriptRun] = {}
        self._documents: dict[str, DocumentRun] = {}
        self._script_done = {name: threading.Event() for name in rubric.scripts}
        self._document_done = {name: threading.Event() for name in rubric.documents}
        self._thread: threading.Thread | None = None
        self.recorded: tuple[Recordings, SubmissionKeys] | None = None  # set to replay and record script runs

    @property
    def active(self) -> bool:
        return bool(self.rubric.documents or (self.run_scripts and self.rubric.scripts))

    def start(self) -> None:
        if self.active and self._thread is None:
            self._thread = threading.Thread(target=self._run_all, name="scripts", daemon=True)
            self._thread.start()

    def script(self, name: str) -> ScriptRun | None:
        """The run of script `name` (waiting for it), or None when scripts are not run (a quick check)."""
        if name not in self.rubric.scripts:
            raise KeyError(f"the rubric has no [scripts.{name}]")
        if not self.run_scripts:
            return None
        self.start()
        self._script_done[name].wait()
        return self._scripts[name]

    def document(self, name: str) -> DocumentRun:
        self.start()
        self._document_done[name].wait()
        return self._documents[name]

    def finish(self) -> tuple[tuple[ScriptReport, ...], tuple[DocumentReport, ...]]:
        """Wait for everything started, and what the report shows of it."""
        if self._thread is not None:
            self._thread.join()
        scripts = tuple(script_report(run) for run in self._scripts.values() if run.message != _NOT_NEEDED)
        documents = tuple(document_report(run, tuple(t.id for t in self.rubric.tasks if t.document == run.spec.name))
                          for run in self._documents.values())
        return scripts, documents

    def _run_all(self) -> None:
        for name, spec in self.rubric.documents.items():
            try:
                self._documents[name] = render_document(spec, self.workspace.root, sandbox=self.sandbox,
                                                        python=self.python, grader_src=GRADER_SRC,
                                                        workdir=self.tmp / "documents" / name)
            except Exception as exc:  # noqa: BLE001 - a grader failure is reported as such, never lost
                self._documents[name] = DocumentRun(spec, DocumentStatus.FAILED, f"{GRADER_FAILURE}: {exc}")
            self._document_done[name].set()
        wanted = {need for task in self.rubric.tasks for need in task.needs}
        for name, spec in self.rubric.scripts.items():
            if not self.run_scripts:
                break
            if name not in wanted:  # no task reads it (e.g. a rubric narrowed to some tasks): not worth its budget
                self._scripts[name] = ScriptRun(spec, ScriptStatus.MISSING, _NOT_NEEDED)
                self._script_done[name].set()
                continue
            replayed = self._replay(spec)
            if replayed is not None:
                self._scripts[name] = replayed
                self._script_done[name].set()
                continue
            try:
                self._scripts[name] = run_script(spec, self.workspace.root, sandbox=self.sandbox, python=self.python,
                                                 grader_src=GRADER_SRC, workdir=self.tmp / "scripts" / name,
                                                 data=self.rubric.data)
                self._record(spec, self._scripts[name])
            except Exception as exc:  # noqa: BLE001
                self._scripts[name] = ScriptRun(spec, ScriptStatus.FAILED, f"{GRADER_FAILURE}: {exc}")
            self._script_done[name].set()

    def _replay(self, spec: ScriptSpec) -> ScriptRun | None:
        """The run recorded by an earlier grading of the same files, script and grader (recordings.py)."""
        if self.recorded is None:
            return None
        store, keys = self.recorded
        run = store.script_run(keys.script(spec), spec)
        if run is not None:
            store.replayed[f"<script:{spec.name}>"] += 1
        return run

    def _record(self, spec: ScriptSpec, run: ScriptRun) -> None:
        if self.recorded is not None:
            store, keys = self.recorded
            store.ran[f"<script:{spec.name}>"] += 1
            store.save_script_run(keys.script(spec), run)


def script_report(run: ScriptRun) -> ScriptReport:
    return ScriptReport(run.spec.name, run.spec.path, run.status.value, run.message, run.exit_code, run.wall_s,
                        run.cpu_s, run.spec.cpu_s, run.output,
                        tuple(FigureReport(f.name, f.how, base64.b64encode(f.png).decode()) for f in run.figures),
                        tuple(sorted(run.files)))


def document_report(run: DocumentRun, tasks: tuple[str, ...]) -> DocumentReport:
    return DocumentReport(run.spec.name, run.status.value, run.message, run.path, run.kind, run.page_count,
                          tuple(base64.b64encode(p).decode() for p in run.pages), run.text, tasks)


def grade_from_document(task: TaskSpec, document: DocumentRun) -> TaskResult:
    """A manual task judged from a written report: the TA reads its pages next to the task."""
    if document.status is DocumentStatus.MISSING:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points, document.message)
    if document.status is DocumentStatus.FAILED:
        return TaskResult(task.id, task.title, Status.ERROR, None, task.points, document.message, cause=Cause.GRADER)
    where = f"judge from {document.path}" + (" (shown with this task)" if document.status is DocumentStatus.OK else
                                             f": {document.message}")
    message = f"{task.message or 'awaits a TA'}: {where}"
    return TaskResult(task.id, task.title, Status.MANUAL, None, task.points, message)
