"""Grading one submission against a rubric: every task judged on its own.

This is the one choke point that turns whatever happens (a wrong value, a student exception,
a hang, a grader bug) into a `TaskResult`. Student failures are data; a grader failure is
recorded with `cause=grader`, so it can never pass for a zero the student earned.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from grader import __version__
from grader.execution.documents import DocumentRun, DocumentStatus
from grader.execution.notebook import NotebookLimits, NotebookRun, ProbeServing, run_notebook
from grader.execution.probe_api import IMPORT_PROBE
from grader.execution.sandbox import DATA_MOUNT, Sandbox, detect
from grader.execution.scripts import ScriptRun
from grader.execution.session import (
    GRADER_SRC,
    Limits,
    ModuleSession,
    NamespaceSession,
    ProbeOutcome,
    SandboxError,
    SessionConfig,
)
from grader.execution.workspace import SubmissionError, Workspace, content_hash, prepare, submission_id
from grader.judgement import answers as answers_mod
from grader.judgement.hidden import HiddenInputs
from grader.judgement.hints import hint_for
from grader.judgement.notebook_report import notebook_report
from grader.judgement.rubric import Rubric, TaskSpec
from grader.judgement.script_runs import ScriptRuns
from grader.results import (
    AFTER_SUBMISSION,
    Cause,
    CheckResult,
    DocumentReport,
    Plot,
    ScriptReport,
    Status,
    StudentError,
    SubmissionResult,
    TaskResult,
    Visibility,
)

_OUTPUT_CAP = 8 * 1024


@dataclass(frozen=True)
class GradingMode:
    """What one grading run may do.

    TA grading runs everything. A student's own pre-check (`grader check`) runs the public checks
    only: hidden checks are not run at all, so nothing about their inputs or expected values can
    reach a student, and it is faster; without `notebook` it also leaves out the notebook, the
    tasks that need it and checks a rubric marks as slow (`ctx.full_run`).
    """

    name: str
    hidden: bool = True
    notebook: bool = True

    @property
    def is_student(self) -> bool:
        return not self.hidden


TA_MODE = GradingMode("ta")
STUDENT_QUICK = GradingMode("student", hidden=False, notebook=False)
STUDENT_FULL = GradingMode("student", hidden=False, notebook=True)
# inputs for a rubric that draws "hidden" inputs in student mode anyway: nothing secret, and never shown
_NO_SECRET = b"student-mode: hidden checks are not run, so no secret is used"


class TaskEnded(Exception):
    """Raised by a checks function to end its task with a given status (e.g. `missing`, `timeout`)."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ProbeFailure(Exception):
    """Raised into a checks function when the student's code did not return a value."""

    def __init__(self, probe: str, outcome: ProbeOutcome) -> None:
        super().__init__(f"{probe}: {outcome.status}")
        self.probe = probe
        self.outcome = outcome


def _digest(probe: str, kwargs: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(probe.encode())
    h.update(json.dumps(kwargs, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"{name}{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


class ProbeData(dict):
    """A probe's arrays; a key the student process did not send ends the task as a wrong answer,
    never as a grader failure (the student controls what comes back)."""

    def __init__(self, probe: str, data: dict[str, np.ndarray]) -> None:
        super().__init__(data)
        self.probe = probe

    def __missing__(self, key: str) -> np.ndarray:
        raise ProbeFailure(self.probe, ProbeOutcome("error", error={
            "type": "WrongReturn", "message": f"the student process returned no {key!r} for {self.probe}",
            "traceback": [], "kind": "contract"}))


class ProbeRunner:
    """Calls probes in the student process, once per distinct input, within a task's time budget."""

    def __init__(self, session: ModuleSession) -> None:
        self.session = session
        self._cache: dict[str, ProbeOutcome] = {}

    @staticmethod
    def _split(probe: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
        arrays = {k: np.asarray(v) for k, v in inputs.items() if isinstance(v, np.ndarray)}
        kwargs = {k: v for k, v in inputs.items() if k not in arrays}
        return _digest(probe, kwargs, arrays), kwargs, arrays

    def run(self, probe: str, inputs: dict[str, Any], limits: Limits) -> ProbeOutcome:
        key, kwargs, arrays = self._split(probe, inputs)
        if key not in self._cache:
            self._cache[key] = self.session.call(probe, limits, kwargs, arrays)
        return self._cache[key]

    def prefetch(self, calls: list[tuple[str, dict[str, Any]]], limits: Limits) -> None:
        """Run calls not yet cached in one child; if that child fails as a whole, leave them uncached."""
        todo = {}
        for probe, inputs in calls:
            key, kwargs, arrays = self._split(probe, inputs)
            if key not in self._cache:
                todo[key] = (probe, kwargs, arrays)
        if len(todo) < 2:
            return
        outcomes = self.session.call_batch(list(todo.values()), limits)
        if outcomes is not None:
            self._cache.update(zip(todo, outcomes, strict=True))


class SubmissionRun:
    """What the tasks of one submission share: the student process, and the notebook run (at most once).

    With `[notebook] probes` in the rubric, the notebook's kernel stays up after the student's
    cells and serves probes against its globals (`notebook_runner`) until `finish`.
    """

    def __init__(self, rubric: Rubric, workspace: Workspace, sandbox: Sandbox, tmp: Path, python: str,
                 runner: ProbeRunner | None) -> None:
        self.rubric = rubric
        self.workspace = workspace
        self.sandbox = sandbox
        self.tmp = tmp
        self.python = python
        self.runner = runner
        self._notebook: NotebookRun | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()  # the student's cells are done (or the notebook ended)
        self._socket: Path | None = None
        self._namespace: NamespaceSession | None = None
        self._namespace_runner: ProbeRunner | None = None
        self._namespace_problem: str | None = None
        self._lock = threading.Lock()
        self.scripts: ScriptRuns | None = None  # the rubric's [scripts] and [documents], when it has any

    def start_notebook(self) -> None:
        """Run the notebook in the background while the module checks use the other core."""
        if self.rubric.notebook is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run_notebook, name="notebook", daemon=True)
            self._thread.start()

    def notebook(self) -> NotebookRun | None:
        """The submitted notebook's run, executed once (None when the rubric has no notebook)."""
        if self.rubric.notebook is None:
            return None
        self.start_notebook()
        self._ready.wait()
        return self._notebook

    def notebook_runner(self) -> tuple[ProbeRunner | None, str]:
        """Probes against the executed notebook's globals, or None and why they cannot run."""
        run = self.notebook()
        with self._lock:
            if self._namespace_runner is None and self._namespace_problem is None:
                if run is None or self._socket is None:
                    why = run.message if run is not None else "the rubric runs no notebook"
                    grader = why.startswith("GRADER FAILURE")
                    self._namespace_problem = why if grader else f"the notebook's functions could not be called: {why}"
                else:
                    session = NamespaceSession(self._socket)
                    try:
                        session.connect()
                    except SandboxError as exc:
                        self._namespace_problem = f"GRADER FAILURE (not the student's fault): {exc}"
                    else:
                        self._namespace = session
                        self._namespace_runner = ProbeRunner(session)
            return self._namespace_runner, self._namespace_problem or ""

    def finish(self) -> NotebookRun | None:
        """Hang up on the kernel and wait for the notebook to end: it never outlives its submission."""
        if self._thread is None:
            return self._notebook
        self._ready.wait()
        with self._lock:
            if self._namespace is not None:
                self._namespace.close()
            elif self._socket is not None:  # nobody connected: connect and hang up so the serving cell ends
                session = NamespaceSession(self._socket)
                try:
                    session.connect(timeout_s=5)
                except SandboxError:
                    pass
                finally:
                    session.close()
        self._thread.join()
        return self._notebook

    def _on_ready(self, run: NotebookRun, socket_path: Path | None) -> None:
        self._notebook = run
        self._socket = socket_path
        self._ready.set()

    def _run_notebook(self) -> None:
        try:
            self._run_notebook_once()
        finally:
            self._ready.set()

    def _run_notebook_once(self) -> None:
        config = self.rubric.notebook
        assert config is not None
        relpath = self.rubric.files.get("notebook", "")
        path = self.workspace.find(relpath)
        if path is None:
            self._notebook = NotebookRun("missing", _missing_file_message(self.workspace, relpath))
            return
        limits = NotebookLimits(cell_timeout_s=float(config.get("cell_timeout_s", 600)),
                                budget_s=float(config.get("budget_s", 900)),
                                memory_mb=int(config.get("memory_mb", 4096)))
        probes = config.get("probes_path")
        serve = ProbeServing(Path(probes), self._on_ready) if probes else None
        try:
            final = run_notebook(path, self.workspace.root, sandbox=self.sandbox, python=self.python,
                                 grader_src=GRADER_SRC, workdir=self.tmp / "notebook",
                                 data=self.rubric.data, limits=limits,
                                 final_cell=config.get("final_cell_source"), serve=serve)
        except Exception as exc:  # noqa: BLE001 - a grader failure, reported as such, never a lost submission
            final = NotebookRun("dead", f"GRADER FAILURE (not the student's fault): could not run the "
                                        f"notebook: {type(exc).__name__}: {exc}")
        self._notebook = final


class TaskContext:
    """What a rubric's checks function may use: probes, hidden inputs, the reference, parameters,
    the submitted files and the executed notebook."""

    def __init__(self, task: TaskSpec, rubric: Rubric, runner: ProbeRunner | None, hidden: HiddenInputs,
                 workspace: Workspace, run: SubmissionRun | None = None, mode: GradingMode = TA_MODE) -> None:
        self.task = task
        self.mode = mode
        self.rubric = rubric
        self.params = task.params
        self.workspace = workspace
        self._runner = runner
        self._hidden = hidden
        self._run = run
        self._deadline = time.monotonic() + task.limits.time_s
        self.outputs: list[str] = []
        self.plots: tuple[Plot, ...] = ()

    @property
    def hidden(self) -> bool:
        """Whether hidden checks run. When False (a student's pre-check) a checks function should not
        draw hidden inputs or call probes for them, and yield `ctx.after_submission(...)` instead."""
        return self.mode.hidden

    @property
    def full_run(self) -> bool:
        """Whether slow checks (a training run on real data) run; False in a quick student check."""
        return self.mode.notebook

    def after_submission(self, name: str, visibility: Visibility = Visibility.HIDDEN,
                         why: str = AFTER_SUBMISSION) -> CheckResult:
        """A check that was not run here, listed so the student knows it exists. Not counted."""
        return CheckResult(name, visibility, None, message=why)

    def add_plot(self, kind: str, title: str, data: dict[str, Any]) -> None:
        """Attach figure data to this task's result (the report draws it)."""
        self.plots = (*self.plots, Plot(kind, title, data))

    def notebook(self) -> NotebookRun | None:
        """The submitted notebook, executed in the sandbox (once per submission), or None.

        Waiting for it does not count against the task's time limit."""
        if self._run is None or not self.mode.notebook:
            return None
        waited = time.monotonic()
        run = self._run.notebook()
        self._deadline += time.monotonic() - waited
        return run

    def script(self, name: str) -> ScriptRun | None:
        """The run of the rubric's script `name` (`[scripts.<name>]`): its status, output, figures and the
        files it saved, run once per submission. None in a quick student check, which runs no scripts.

        Waiting for it does not count against the task's time limit."""
        if self._run is None or self._run.scripts is None:
            raise KeyError(f"the rubric has no [scripts.{name}]")
        waited = time.monotonic()
        run = self._run.scripts.script(name)
        self._deadline += time.monotonic() - waited
        return run

    def submitted_file(self, relpath: str) -> Path | None:
        """A file as the student handed it in (a private copy), or None."""
        return self.workspace.find(relpath)

    def data_dir(self, name: str) -> str:
        """Where probes find the rubric's data folder `name` inside the student process."""
        isolated = self._run is not None and self._run.sandbox.isolates
        return f"{DATA_MOUNT}/{name}" if isolated else str(self.rubric.data[name])

    def long_outcome(self, probe: str, limits: Limits, **inputs: Any) -> ProbeOutcome:
        """A probe with its own limits, outside the task's time budget (a training run on real data)."""
        return self._run_probe(probe, inputs, limits)

    def _probe_runner(self) -> ProbeRunner | None:
        """Where this task's probes run: the student's module, or, when the rubric has notebook
        probes (`[notebook] probes`) and the task needs only the notebook, the executed notebook's
        globals. If the notebook cannot serve, the task ends with a status that says why. A task
        that needs the notebook in a rubric without notebook probes (HW4's T12 reads the model the
        notebook saved) keeps the module's probes."""
        notebook_probes = bool((self.rubric.notebook or {}).get("probes_path"))
        if not notebook_probes or "notebook" not in self.task.needs or "module" in self.task.needs:
            return self._runner
        if self._run is None:
            return None
        waited = time.monotonic()
        runner, problem = self._run.notebook_runner()
        self._deadline += time.monotonic() - waited
        if runner is None:
            run = self._run.notebook()
            status = {"missing": Status.MISSING, "timeout": Status.TIMEOUT}.get(run.status if run else "",
                                                                                Status.ERROR)
            if problem.startswith("GRADER FAILURE"):
                raise RuntimeError(problem)
            raise TaskEnded(status, problem)
        return runner

    def _run_probe(self, probe: str, inputs: dict[str, Any], limits: Limits) -> ProbeOutcome:
        """Every probe call: keep its output for the report, and guard what came back (ProbeData)."""
        runner = self._probe_runner()
        if runner is None:
            raise RuntimeError(f"task {self.task.id} calls probes but the rubric has no [module] or notebook probes")
        result = runner.run(probe, inputs, limits)
        if result.output and result.output not in self.outputs:
            self.outputs.append(result.output)
        return replace(result, data=ProbeData(probe, result.data))

    @property
    def reference(self) -> Any:
        return self.rubric.reference()

    def rng(self, label: str) -> np.random.Generator:
        """A generator for hidden inputs, reproducible for this submission and secret."""
        return self._hidden.rng(self.task.id, label)

    def _limits(self) -> Limits | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return None
        return replace(self.task.limits, time_s=max(0.5, min(self.task.limits.time_s, remaining)))

    def prefetch(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        """Announce the probe calls a check is about to make, so they run in one process.

        Purely an optimisation: results are cached and `call` returns them; a batch that hangs
        or crashes is simply run again call by call, so each failure is still attributed.
        """
        runner = self._probe_runner()
        limits = self._limits()
        if runner is not None and limits is not None:
            runner.prefetch(calls, limits)

    def outcome(self, probe: str, **inputs: Any) -> ProbeOutcome:
        """Run a probe and return its outcome whatever happened (for checks with fallbacks)."""
        if self._probe_runner() is None:
            raise RuntimeError(f"task {self.task.id} calls probes but the rubric has no [module] or notebook probes")
        limits = self._limits()
        if limits is None:
            return ProbeOutcome("timeout", detail=f"the task used its whole time budget of {self.task.limits.time_s} s")
        return self._run_probe(probe, inputs, limits)

    def call(self, probe: str, **inputs: Any) -> dict[str, np.ndarray]:
        """Run a probe; if the student's code did not return, the task ends with that failure."""
        result = self.outcome(probe, **inputs)
        if not result.ok:
            raise ProbeFailure(probe, result)
        return result.data


def _student_error(outcome: ProbeOutcome) -> StudentError | None:
    if outcome.error:
        err = outcome.error
        return StudentError(str(err.get("type", "Error")), str(err.get("message", "")),
                            tuple(str(line) for line in err.get("traceback", ())))
    return None


def _failure_result(task: TaskSpec, failure: ProbeOutcome, checks: tuple[CheckResult, ...], prefix: str = "",
                    output: str = "", contract_fails: bool = True) -> TaskResult:
    """A task whose student code raised, crashed or hung: status, message and the student's traceback.

    A wrong return type (a contract error) is a wrong answer, so it fails; but when the module
    cannot even be loaded (`contract_fails=False`, e.g. the class is missing) it is an error.
    """
    error = _student_error(failure)
    if failure.status == "timeout":
        status, message = Status.TIMEOUT, f"timed out: {failure.detail}; look for an endless loop"
    elif contract_fails and failure.status == "error" and failure.error and failure.error.get("kind") == "contract":
        status, message = Status.FAIL, failure.error.get("message", "")
        error = None
    elif failure.status == "error" and error is not None:
        status, message = Status.ERROR, f"{error.type}: {error.message}".rstrip()
        hint = hint_for(error.type, error.message)
        if hint:
            message += f"{'' if message.endswith(('.', '?', '!')) else '.'} {hint}"
    else:
        status, message = Status.ERROR, f"the student process crashed: {failure.detail}"
    if prefix:
        message = f"{prefix}{message}"
    return TaskResult(task.id, task.title, status, 0.0, task.points, message, checks, error,
                      Cause.SUBMISSION if status in (Status.ERROR, Status.TIMEOUT) else None,
                      output=output[-_OUTPUT_CAP:] or failure.output[-_OUTPUT_CAP:])


def _from_checks(task: TaskSpec, checks: tuple[CheckResult, ...], output: str = "") -> TaskResult:
    counted = [c for c in checks if c.passed is not None]
    if not counted and any(c.message == AFTER_SUBMISSION for c in checks):
        return TaskResult(task.id, task.title, Status.PENDING, None, task.points,
                          f"{AFTER_SUBMISSION}: this task has hidden checks only", checks, output=output[-_OUTPUT_CAP:])
    if not counted:
        return TaskResult(task.id, task.title, Status.ERROR, None, task.points,
                          "the rubric ran no counted check for this task", checks, cause=Cause.GRADER)
    passed = sum(1 for c in counted if c.passed)
    if passed == len(counted):
        status, points = Status.PASS, task.points
        message = f"all {len(counted)} checks passed"
    else:
        status = Status.FAIL
        points = round(task.points * passed / len(counted), 4) if task.partial_credit else 0.0
        failed = [c.name for c in counted if not c.passed]
        message = f"{len(failed)} of {len(counted)} checks failed: " + "; ".join(failed)
    return TaskResult(task.id, task.title, status, points, task.points, message, checks, output=output[-_OUTPUT_CAP:])


def _grader_failure(task: TaskSpec, exc: BaseException) -> TaskResult:
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
    return TaskResult(task.id, task.title, Status.ERROR, None, task.points,
                      f"GRADER FAILURE (not the student's fault): {type(exc).__name__}: {exc}",
                      error=StudentError("GraderError", str(exc), tuple(detail.splitlines())),
                      cause=Cause.GRADER)


# --- the four kinds of task ------------------------------------------------------------------


def grade_answers(task: TaskSpec, doc: answers_mod.AnswersDoc | None, answers_file: str) -> TaskResult:
    if doc is None:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points,
                          f"no answers file: expected {answers_file} at the top of the submission")
    section = doc.section(task.section or task.id)
    if section is None or not section.values:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points,
                          f"{answers_file} has no filled-in '## {task.section or task.id}' section")
    checks = []
    for spec in task.answers:
        keys = [answers_mod.normalise_key(k) for k in (spec.key, *spec.aliases)]
        raw = next((section.values[k] for k in keys if k in section.values), None)
        if raw is None:
            checks.append(CheckResult(spec.label, Visibility.PUBLIC, False, spec.expected, None,
                                      f"no line '{spec.key} = ...' in section {section.name}"))
            continue
        try:
            value = float(answers_mod.parse_number(raw))
        except (answers_mod.NumberError, OverflowError) as exc:
            checks.append(CheckResult(spec.label, Visibility.PUBLIC, False, spec.expected, raw[:200], str(exc)))
            continue
        tol = max(spec.abs_tol, spec.rel_tol * abs(spec.expected))
        ok = abs(value - spec.expected) <= tol
        checks.append(CheckResult(spec.label, Visibility.PUBLIC, ok, spec.expected, value,
                                  "" if ok else f"read {raw.strip()[:80]!r} as {value:g}"))
    return _from_checks(task, tuple(checks))


def grade_manual(task: TaskSpec, doc: answers_mod.AnswersDoc | None, answers_file: str) -> TaskResult:
    section = doc.section(task.section or task.id) if doc else None
    text = section.text if section else ""
    body = "\n".join(line for line in text.splitlines() if line.strip()).strip()
    if not body:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points,
                          f"nothing written in the '## {task.section or task.id}' section of {answers_file}")
    return TaskResult(task.id, task.title, Status.MANUAL, None, task.points,
                      task.message or "awaits a TA: the submitted text is shown below", submitted_text=text[:20000])


def grade_from_document(task: TaskSpec, document: DocumentRun) -> TaskResult:
    """A manual task judged from a written report: the TA reads its pages next to the task."""
    if document.status is DocumentStatus.MISSING:
        return TaskResult(task.id, task.title, Status.MISSING, 0.0, task.points, document.message)
    if document.status is DocumentStatus.FAILED:
        return TaskResult(task.id, task.title, Status.ERROR, None, task.points, document.message, cause=Cause.GRADER)
    where = f"judge from {document.path}" + (" (shown with this task)" if document.status is DocumentStatus.OK else
                                             f": {document.message}")
    return TaskResult(task.id, task.title, Status.MANUAL, None, task.points,
                      f"{task.message or 'awaits a TA'}: {where}")


def grade_checks(task: TaskSpec, ctx: TaskContext) -> TaskResult:
    func: Callable[[TaskContext], Iterable[CheckResult]] = getattr(ctx.rubric.checks(), task.check or "")
    checks: list[CheckResult] = []
    try:
        for check in func(ctx):
            if check.visibility is Visibility.HIDDEN and not ctx.mode.hidden and check.passed is not None:
                # a rubric that ignores ctx.hidden: its verdict on non-secret inputs is no verdict at all
                check = ctx.after_submission("hidden check")
            checks.append(check)
    except ProbeFailure as failure:
        return _failure_result(task, failure.outcome, tuple(checks), output="\n".join(ctx.outputs))
    except TaskEnded as ended:
        cause = Cause.SUBMISSION if ended.status in (Status.ERROR, Status.TIMEOUT) else None
        return TaskResult(task.id, task.title, ended.status, 0.0, task.points, ended.message, tuple(checks),
                          cause=cause, output="\n".join(ctx.outputs)[-_OUTPUT_CAP:], plots=ctx.plots)
    except Exception as exc:  # noqa: BLE001 - a bug in a checks module is a grader failure
        return _grader_failure(task, exc)
    return replace(_from_checks(task, tuple(checks), "\n".join(ctx.outputs)), plots=ctx.plots)


# --- a whole submission ------------------------------------------------------------------------


def _base_status(task: TaskResult) -> Status:
    """A task's status from its own checks only, leaving out checks that lean on other tasks.

    A task that failed without any failing check (its code answered in the wrong form before a
    check could be recorded) stays failed.
    """
    if task.status is not Status.FAIL:
        return task.status
    own_failed = any(c.passed is False for c in task.checks if not c.depends_on)
    dependent_failed = any(c.passed is False for c in task.checks if c.depends_on)
    return Status.PASS if dependent_failed and not own_failed else Status.FAIL


def _apply_dependencies(results: list[TaskResult]) -> list[TaskResult]:
    """A check that needs other tasks to be right counts only if they passed on their own checks.

    Judging dependencies on the tasks' *own* checks keeps one bug to one task even when several
    tasks share a check (the toy training run is shared by T8, T9 and T10).
    """
    status = {t.id: _base_status(t) for t in results}
    final = []
    for task in results:
        if not any(c.depends_on for c in task.checks) or task.status not in (Status.PASS, Status.FAIL):
            final.append(task)
            continue
        checks = []
        for c in task.checks:
            broken = [d for d in c.depends_on if d != task.id and status.get(d) is not Status.PASS]
            if broken and c.passed is not None:
                note = f"not counted: it relies on {', '.join(broken)}, which did not pass"
                c = replace(c, passed=None, message=f"{note}. {c.message}".strip())
            checks.append(c)
        spec = TaskSpec(task.id, task.title, task.max_points, "checks")
        final.append(replace(_from_checks(spec, tuple(checks), task.output), plots=task.plots))
    return final


def grade_submission(source: Path, rubric: Rubric, secret: bytes | None, *, python: str | None = None,
                     sub_id: str | None = None, sandbox: Sandbox | None = None,
                     mode: GradingMode = TA_MODE) -> SubmissionResult:
    """Grade one folder or zip. Never raises for anything the submission does.

    `sandbox` is the isolation level to run student code at (default: the strongest this
    machine supports, detected once per process). `mode` says which checks run: a student's
    pre-check (`STUDENT_QUICK`) needs no secret, since its hidden checks are not run.
    """
    if mode.hidden and secret is None:
        raise ValueError("hidden checks need the grading secret")
    started = time.monotonic()
    sandbox = sandbox or detect(python or sys.executable)[0]
    sub_id = sub_id or submission_id(source)
    graded_at = datetime.now(UTC).isoformat(timespec="seconds")
    base = dict(submission=sub_id, rubric=rubric.id, rubric_version=rubric.version_tag,
                grader_version=__version__, graded_at=graded_at, sandbox=sandbox.level.description)
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        try:
            workspace = prepare(source, Path(tmp) / "submission", tuple(rubric.files.values()))
        except SubmissionError as exc:
            message = f"the submission could not be read: {exc}"
            tasks = tuple(TaskResult(t.id, t.title, Status.ERROR, 0.0, t.points, message, cause=Cause.SUBMISSION)
                          for t in rubric.tasks)
            return SubmissionResult(tasks=tasks, duration_s=round(time.monotonic() - started, 3),
                                    content_hash=content_hash(source), **base)
        tasks, notebook, (scripts, documents) = _grade_workspace(
            workspace, rubric, secret if mode.hidden else None, Path(tmp), python, sub_id, sandbox, mode)
    report, artifacts = notebook_report(notebook)
    return SubmissionResult(tasks=tuple(tasks), content_hash=workspace.content_hash, notes=tuple(workspace.notes),
                            duration_s=round(time.monotonic() - started, 3), notebook=report, scripts=scripts,
                            documents=documents, artifacts=artifacts, **base)


def _missing_file_message(workspace: Workspace, relpath: str) -> str:
    elsewhere = workspace.locate_elsewhere(relpath)
    message = f"{relpath} was not found in the submission"
    if elsewhere:
        message += f"; found {', '.join(elsewhere)} instead: move it to {relpath}"
    return message


def _grade_workspace(workspace: Workspace, rubric: Rubric, secret: bytes | None, tmp: Path, python: str | None,
                     sub_id: str, sandbox: Sandbox, mode: GradingMode = TA_MODE,
                     ) -> tuple[list[TaskResult], NotebookRun | None,
                                                 tuple[tuple[ScriptReport, ...], tuple[DocumentReport, ...]]]:
    answers_file = rubric.files.get("answers", "answers.md")
    doc = None
    answers_path = workspace.find(answers_file)
    if answers_path is not None:
        template = ""
        if rubric.answers_template is not None and rubric.answers_template.is_file():
            template = rubric.answers_template.read_text(encoding="utf-8")
        text = answers_path.read_text(encoding="utf-8", errors="replace")
        section_ids = {t.section or t.id for t in rubric.tasks}
        doc = answers_mod.parse(answers_mod.without_template(text, template), section_ids)
    hidden = HiddenInputs(secret if secret is not None else _NO_SECRET, rubric.id, sub_id)
    needs_module = any(t.grader == "checks" and "module" in t.needs for t in rubric.tasks)
    session = None
    module_problem: TaskResult | None = None  # a template result for every module task
    if needs_module and rubric.module_file:
        if workspace.find(rubric.module_file) is None:
            message = _missing_file_message(workspace, rubric.module_file)
            module_problem = TaskResult("", "", Status.MISSING, 0.0, 0.0, message)
        else:
            session = ModuleSession(SessionConfig(
                root=workspace.root, probes=rubric.probes or Path("/nonexistent"), module=rubric.module_name or "",
                class_name=rubric.class_name, preload=rubric.preload, workdir=tmp / "home",
                sandbox=sandbox, data=rubric.data, **({"python": python} if python else {})))
    runner = ProbeRunner(session) if session else None
    run = SubmissionRun(rubric, workspace, sandbox, tmp, python or sys.executable, runner)
    run.scripts = ScriptRuns(rubric, workspace, sandbox, tmp, python or sys.executable, run_scripts=mode.notebook)
    results: list[TaskResult] = []
    try:
        # the notebook and the scripts run alongside the module checks, each on its own budget
        run.scripts.start()
        if mode.notebook:
            run.start_notebook()
        if runner is not None:
            module_problem = _check_import(rubric, runner)
        for task in rubric.tasks:
            results.append(_grade_task(task, rubric, runner, hidden, workspace, doc, answers_file, module_problem,
                                       run, mode))
    finally:
        # joined here in any case: the kernel never outlives its submission (None when it never started)
        notebook = run.finish()
        shown = run.scripts.finish()
        if session is not None:
            session.close()
    return _apply_dependencies(results), notebook, shown


def _check_import(rubric: Rubric, runner: ProbeRunner) -> TaskResult | None:
    """Import the module once up front: a SyntaxError or a missing class gets one clear message."""
    limits = max((t.limits for t in rubric.tasks if t.grader == "checks"), key=lambda lim: lim.time_s, default=Limits())
    try:
        outcome = runner.run(IMPORT_PROBE, {}, limits)
    except SandboxError as exc:
        return TaskResult("", "", Status.ERROR, None, 0.0, f"GRADER FAILURE (not the student's fault): {exc}",
                          cause=Cause.GRADER)
    if outcome.ok:
        return None
    spec = TaskSpec("", "", 0.0, "checks")
    return _failure_result(spec, outcome, (), prefix=f"{rubric.module_file} could not be loaded: ",
                           contract_fails=False)


def _grade_task(task: TaskSpec, rubric: Rubric, runner: ProbeRunner | None, hidden: HiddenInputs,
                workspace: Workspace, doc: answers_mod.AnswersDoc | None, answers_file: str,
                module_problem: TaskResult | None, run: SubmissionRun | None = None,
                mode: GradingMode = TA_MODE) -> TaskResult:
    try:
        if task.grader == "pending":
            return TaskResult(task.id, task.title, Status.PENDING, None, task.points, task.message or "not graded yet")
        if task.grader == "answers":
            return grade_answers(task, doc, answers_file)
        if task.grader == "manual" and task.document is not None and run is not None and run.scripts is not None:
            return grade_from_document(task, run.scripts.document(task.document))
        if task.grader == "manual":
            return grade_manual(task, doc, answers_file)
        if not mode.notebook and any(need in rubric.scripts for need in task.needs):
            return TaskResult(task.id, task.title, Status.PENDING, None, task.points,
                              f"not run in a quick check: it needs a script's training run ({AFTER_SUBMISSION}; "
                              "`grader check --notebook` runs it here)")
        if "notebook" in task.needs and not mode.notebook:
            return TaskResult(task.id, task.title, Status.PENDING, None, task.points,
                              f"not run in a quick check: it needs the notebook run ({AFTER_SUBMISSION}; "
                              "`grader check --notebook` runs it here)")
        if "module" in task.needs and module_problem is not None:
            return replace(module_problem, id=task.id, title=task.title, max_points=task.points)
        ctx = TaskContext(task, rubric, runner, hidden, workspace, run, mode)
        return grade_checks(task, ctx)
    except Exception as exc:  # noqa: BLE001 - never lose a submission to a grader bug (SandboxError included)
        return _grader_failure(task, exc)
