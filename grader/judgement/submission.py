"""Grading one submission: the workspace, the student process, the notebook thread, every task.

This is the one place where whatever happens (a wrong value, a student exception, a hang, a bug
in a checks module, a sandbox that would not start) becomes a `TaskResult`. Student failures
are data; a grader failure is recorded with `cause=grader`, so it can never pass for a zero the
student earned. Which status and points a set of checks means is `verdict.py`'s job.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from grader import __version__
from grader.execution.notebook import NotebookRun
from grader.execution.probe_api import IMPORT_PROBE
from grader.execution.sandbox import Sandbox, detect
from grader.execution.session import Limits, ModuleSession, SandboxError, SessionConfig
from grader.execution.workspace import SubmissionError, Workspace, content_hash, prepare, submission_id
from grader.judgement import answers as answers_mod
from grader.judgement.context import TA_MODE, GraderFailure, GradingMode, ProbeFailure, TaskContext, TaskEnded
from grader.judgement.hidden import HiddenInputs
from grader.judgement.judged_tasks import JudgedTasks
from grader.judgement.notebook_report import notebook_report
from grader.judgement.prepared import sandbox_data
from grader.judgement.probe_cache import ProbeCache
from grader.judgement.recordings import ProbeRecorder, Recordings, SubmissionKeys
from grader.judgement.rubric import Rubric, TaskSpec
from grader.judgement.script_runs import ScriptRuns, grade_from_document
from grader.judgement.submission_run import SubmissionRun, missing_file_message
from grader.judgement.verdict import (
    GRADER_FAILURE,
    apply_dependencies,
    ended_result,
    failure_result,
    from_checks,
    grader_failure,
)
from grader.judgement.written import grade_answers, grade_manual, parse_answers
from grader.results import (
    AFTER_SUBMISSION,
    Cause,
    CheckResult,
    DocumentReport,
    ScriptReport,
    Status,
    StudentError,
    SubmissionResult,
    TaskResult,
    Visibility,
)

# inputs for a rubric that draws "hidden" inputs in student mode anyway: nothing secret, and never shown
_NO_SECRET = b"student-mode: hidden checks are not run, so no secret is used"


def grade_submission(source: Path, rubric: Rubric, secret: bytes | None, *, python: str | None = None,
                     sub_id: str | None = None, sandbox: Sandbox | None = None,
                     mode: GradingMode = TA_MODE, recordings: Recordings | None = None) -> SubmissionResult:
    """Grade one folder or zip. Never raises for anything the submission or the grader does.

    `sandbox` is the isolation level to run student code at (default: the strongest this
    machine supports, detected once per process). `mode` says which checks run: a student's
    pre-check (`STUDENT_QUICK`) needs no secret, since its hidden checks are not run.
    `recordings` replays probe calls and notebook runs recorded by an earlier run (recordings.py).
    """
    if mode.hidden and secret is None:
        raise ValueError("hidden checks need the grading secret")
    sub_id = sub_id or submission_id(source)
    try:
        return _grade(source, rubric, secret, python, sub_id, sandbox, mode, recordings)
    except Exception as exc:  # noqa: BLE001 - the batch must go on, and the TA must see why
        return grader_failure_result(sub_id, rubric, exc)


def grader_failure_result(sub_id: str, rubric: Rubric, exc: BaseException) -> SubmissionResult:
    """Grading a submission blew up in the grader itself (or its worker died): every task says so,
    none reads 0."""
    detail = tuple("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()[-30:])
    error = StudentError("GraderError", f"{type(exc).__name__}: {exc}", detail)
    tasks = tuple(TaskResult(t.id, t.title, Status.ERROR, None, t.points,
                             f"{GRADER_FAILURE}: the grader crashed on this submission",
                             error=error, cause=Cause.GRADER) for t in rubric.tasks)
    return SubmissionResult(sub_id, rubric.id, rubric.version_tag, tasks,
                            grader_version=__version__,
                            graded_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _grade(source: Path, rubric: Rubric, secret: bytes | None, python: str | None, sub_id: str,
           sandbox: Sandbox | None, mode: GradingMode, recordings: Recordings | None = None) -> SubmissionResult:
    started = time.monotonic()
    sandbox = sandbox or detect(python or sys.executable)[0]
    graded_at = datetime.now(UTC).isoformat(timespec="seconds")
    base = dict(submission=sub_id, rubric=rubric.id, rubric_version=rubric.version_tag,
                grader_version=__version__, graded_at=graded_at, sandbox=sandbox.description)
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
            workspace, rubric, secret if mode.hidden else None, Path(tmp), python, sub_id, sandbox, mode, recordings)
    report, artifacts = notebook_report(notebook)
    return SubmissionResult(tasks=tuple(tasks), content_hash=workspace.content_hash, notes=tuple(workspace.notes),
                            duration_s=round(time.monotonic() - started, 3), notebook=report, scripts=scripts,
                            documents=documents, artifacts=artifacts, **base)


def _answers_doc(workspace: Workspace, rubric: Rubric, answers_file: str) -> answers_mod.AnswersDoc | None:
    answers_path = workspace.find(answers_file)
    if answers_path is None:
        return None
    template = ""
    if rubric.answers_template is not None and rubric.answers_template.is_file():
        template = rubric.answers_template.read_text(encoding="utf-8")
    text = answers_path.read_text(encoding="utf-8", errors="replace")
    return parse_answers(text, template, {t.section or t.id for t in rubric.tasks})


def _grade_workspace(workspace: Workspace, rubric: Rubric, secret: bytes | None, tmp: Path, python: str | None,
                     sub_id: str, sandbox: Sandbox, mode: GradingMode = TA_MODE,
                     recordings: Recordings | None = None) -> tuple[list[TaskResult], NotebookRun | None,
                                tuple[tuple[ScriptReport, ...], tuple[DocumentReport, ...]]]:
    answers_file = rubric.files.get("answers", "answers.md")
    doc = _answers_doc(workspace, rubric, answers_file)
    hidden = HiddenInputs(secret if secret is not None else _NO_SECRET, rubric.id, sub_id)
    needs_module = any(t.grader == "checks" and "module" in t.needs for t in rubric.tasks)
    session = None
    module_problem: TaskResult | None = None  # a template result for every module task
    if needs_module and rubric.module_file:
        if workspace.find(rubric.module_file) is None:
            message = missing_file_message(workspace, rubric.module_file)
            module_problem = TaskResult("", "", Status.MISSING, 0.0, 0.0, message)
        else:
            session = ModuleSession(SessionConfig(
                root=workspace.root, probes=rubric.probes or Path("/nonexistent"), module=rubric.module_name or "",
                class_name=rubric.class_name, preload=rubric.preload, workdir=tmp / "home",
                sandbox=sandbox, data=sandbox_data(rubric), **({"python": python} if python else {})))
    keys = SubmissionKeys.of(workspace.content_hash, rubric) if recordings is not None else None
    recorder = ProbeRecorder(recordings, keys) if recordings is not None and keys is not None else None
    runner = ProbeCache(session, recorder) if session else None
    run = SubmissionRun(rubric, workspace, sandbox, tmp, python or sys.executable, runner)
    if recordings is not None and keys is not None and rubric.notebook is not None and rubric.notebook.probes is None:
        run.recorded = (recordings, keys.notebook(rubric))  # a notebook that serves probes needs its kernel
    run.scripts = ScriptRuns(rubric, workspace, sandbox, tmp, python or sys.executable, run_scripts=mode.notebook)
    if recordings is not None and keys is not None:
        run.scripts.recorded = (recordings, keys)
    results: list[TaskResult] = []
    try:
        # the notebook and the scripts run alongside the module checks, each on its own budget
        run.scripts.start()
        if mode.notebook:
            run.start_notebook()
        if runner is not None:
            module_problem = _check_import(rubric, runner)
        judged = (JudgedTasks(recordings, keys, rubric, secret if secret is not None else _NO_SECRET, sub_id, mode)
                  if recordings is not None and keys is not None else None)
        for task in rubric.tasks:
            stored = judged.load(task) if judged is not None else None
            if stored is not None:  # judged before on the same recordings, checks and task entry
                results.append(stored)
                continue
            result = _grade_task(task, rubric, runner, hidden, workspace, doc, answers_file, module_problem, run, mode)
            if judged is not None:
                judged.save(task, result, runner, run)
            results.append(result)
    finally:
        # joined here in any case: the kernel never outlives its submission (None when it never started)
        notebook = run.finish()
        shown = run.scripts.finish()
        if session is not None:
            session.close()
    return apply_dependencies(results, {t.id: t for t in rubric.tasks}), notebook, shown


def _check_import(rubric: Rubric, runner: ProbeCache) -> TaskResult | None:
    """Import the module once up front: a SyntaxError or a missing class gets one clear message."""
    limits = max((t.limits for t in rubric.tasks if t.grader == "checks"), key=lambda lim: lim.time_s, default=Limits())
    spec = TaskSpec("", "", 0.0, "checks")
    try:
        outcome = runner.run(IMPORT_PROBE, {}, limits)
    except SandboxError as exc:
        return grader_failure(spec, str(exc))
    if outcome.ok:
        return None
    return failure_result(spec, outcome, (), prefix=f"{rubric.module_file} could not be loaded: ",
                          contract_fails=False)


def _grade_task(task: TaskSpec, rubric: Rubric, runner: ProbeCache | None, hidden: HiddenInputs,
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
        return grader_failure(task, f"{type(exc).__name__}: {exc}", exc)


def grade_checks(task: TaskSpec, ctx: TaskContext) -> TaskResult:
    """Run the task's checks function and turn whatever it does into the task's result."""
    func: Callable[[TaskContext], Iterable[CheckResult]] = getattr(ctx.rubric.checks(), task.check or "")
    checks: list[CheckResult] = []
    try:
        for check in func(ctx):
            if check.visibility is Visibility.HIDDEN and not ctx.mode.hidden and check.passed is not None:
                # a rubric that ignores ctx.hidden: its verdict on non-secret inputs is no verdict at all
                check = ctx.after_submission("hidden check")
            checks.append(check)
    except ProbeFailure as failure:
        return failure_result(task, failure.outcome, tuple(checks), output="\n".join(ctx.outputs))
    except TaskEnded as ended:
        return replace(ended_result(task, ended.status, ended.message, tuple(checks), "\n".join(ctx.outputs)),
                       plots=ctx.plots)
    except GraderFailure as exc:
        return grader_failure(task, str(exc), exc)
    except Exception as exc:  # noqa: BLE001 - a bug in a checks module is a grader failure
        return grader_failure(task, f"{type(exc).__name__}: {exc}", exc)
    return replace(from_checks(task, tuple(checks), "\n".join(ctx.outputs)), plots=ctx.plots)
