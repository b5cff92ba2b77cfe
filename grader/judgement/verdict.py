"""From check results to task results: the pure part of grading, testable without a sandbox.

Nothing here runs student code, reads a file or keeps state. The orchestration
(`grader/judgement/submission.py`) decides *when* a task failed; this module decides what that
means for its status, points and message, in one place for every kind of task.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from dataclasses import replace

from grader.execution.session import ProbeOutcome
from grader.judgement.hints import hint_for
from grader.judgement.rubric import TaskSpec
from grader.results import AFTER_SUBMISSION, Cause, CheckResult, Status, StudentError, TaskResult

OUTPUT_CAP = 8 * 1024  # characters of a task's captured student output kept in its result
GRADER_FAILURE = "GRADER FAILURE (not the student's fault)"  # how a grader failure's message begins


def from_checks(task: TaskSpec, checks: tuple[CheckResult, ...], output: str = "") -> TaskResult:
    """A task's verdict from its checks: all counted checks pass, or points by share (partial credit)."""
    counted = [c for c in checks if c.passed is not None]
    if not counted and any(c.message == AFTER_SUBMISSION for c in checks):
        return TaskResult(task.id, task.title, Status.PENDING, None, task.points,
                          f"{AFTER_SUBMISSION}: this task has hidden checks only", checks, output=output[-OUTPUT_CAP:])
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
    return TaskResult(task.id, task.title, status, points, task.points, message, checks, output=output[-OUTPUT_CAP:])


def student_error(outcome: ProbeOutcome) -> StudentError | None:
    """What the student process reported about its own exception, in the student's terms."""
    if outcome.error:
        err = outcome.error
        return StudentError(str(err.get("type", "Error")), str(err.get("message", "")),
                            tuple(str(line) for line in err.get("traceback", ())))
    return None


def failure_result(task: TaskSpec, failure: ProbeOutcome, checks: tuple[CheckResult, ...] = (), prefix: str = "",
                   output: str = "", contract_fails: bool = True) -> TaskResult:
    """A task whose student code raised, crashed or hung: status, message and the student's traceback.

    A wrong return type (a contract error) is a wrong answer, so it fails; but when the module
    cannot even be loaded (`contract_fails=False`, e.g. the class is missing) it is an error.
    """
    error = student_error(failure)
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
                      output=output[-OUTPUT_CAP:] or failure.output[-OUTPUT_CAP:])


def ended_result(task: TaskSpec, status: Status, message: str, checks: tuple[CheckResult, ...] = (),
                 output: str = "") -> TaskResult:
    """A task a check ended early with a status of its own (missing, timeout...): no points."""
    cause = Cause.SUBMISSION if status in (Status.ERROR, Status.TIMEOUT) else None
    return TaskResult(task.id, task.title, status, 0.0, task.points, message, checks, cause=cause,
                      output=output[-OUTPUT_CAP:])


def grader_failure(task: TaskSpec, detail: str, exc: BaseException | None = None) -> TaskResult:
    """A task the grader could not judge: no points at all (never a 0), `cause=grader`, and why."""
    error = None
    if exc is not None:
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
        error = StudentError("GraderError", str(exc), tuple(trace.splitlines()))
    return TaskResult(task.id, task.title, Status.ERROR, None, task.points, f"{GRADER_FAILURE}: {detail}",
                      error=error, cause=Cause.GRADER)


def base_status(task: TaskResult) -> Status:
    """A task's status from its own checks only, leaving out checks that lean on other tasks.

    A task that failed without any failing check (its code answered in the wrong form before a
    check could be recorded) stays failed.
    """
    if task.status is not Status.FAIL:
        return task.status
    own_failed = any(c.passed is False for c in task.checks if not c.depends_on)
    dependent_failed = any(c.passed is False for c in task.checks if c.depends_on)
    return Status.PASS if dependent_failed and not own_failed else Status.FAIL


def apply_dependencies(results: Iterable[TaskResult], specs: Mapping[str, TaskSpec]) -> list[TaskResult]:
    """A check that needs other tasks to be right counts only if they passed on their own checks.

    Judging dependencies on the tasks' *own* checks keeps one bug to one task even when several
    tasks share a check (the toy training run is shared by T8, T9 and T10). A rescored task keeps
    its spec's scoring (partial credit included).
    """
    results = list(results)
    status = {t.id: base_status(t) for t in results}
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
        spec = specs.get(task.id) or TaskSpec(task.id, task.title, task.max_points, "checks")
        final.append(replace(from_checks(spec, tuple(checks), task.output), plots=task.plots))
    return final
