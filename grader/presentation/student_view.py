"""The student-facing form of a result: what a student may see, and nothing about the hidden checks.

Every student-facing format (the terminal table of `grader check`, its HTML report and
result.json, JUnit, the GitHub summary and annotations, Gradescope's results.json) is drawn
from `student_view(result)`, never from the TA's result, so one function decides what can
leak. A hidden check keeps only its verdict: no name (names can carry hidden parameters such
as a shape or a regularisation strength), no inputs, no expected or received values. When
hidden checks ran (after submission), the student's error messages and printed output are
withheld too, because student code can put its hidden inputs into either. Grader failures lose
their traceback, which runs through grader and reference code.
"""

from __future__ import annotations

from dataclasses import replace

from grader.results import (
    AFTER_SUBMISSION,
    Cause,
    CheckResult,
    Status,
    StudentError,
    SubmissionResult,
    TaskResult,
    Visibility,
)

WITHHELD = "withheld after submission: it may show hidden inputs; `grader check` shows it for the public checks"
GRADER_FAILED = "GRADER FAILURE (not your fault): the autograder broke on this task; the course staff will look at it"


def hidden_checks_ran(result: SubmissionResult) -> bool:
    """Whether hidden inputs may have reached the student's code, judged from the result alone.

    Only a pre-check lists checks it did not run, so a result without such a check counts as
    graded after submission: the safe side when a caller does not say.
    """
    return not any(is_deferred(c) for t in result.tasks for c in t.checks)


def is_deferred(check: CheckResult) -> bool:
    """A check listed but not run here: its name was written by the rubric to be shown."""
    return check.passed is None and check.message == AFTER_SUBMISSION and check.expected is None and check.got is None


def _hidden_check(check: CheckResult, number: int) -> CheckResult:
    if is_deferred(check):
        return CheckResult(check.name, Visibility.HIDDEN, None, message=AFTER_SUBMISSION)
    verdict = {True: "passed", False: "failed", None: "not counted"}[check.passed]
    return CheckResult(f"hidden check {number}", Visibility.HIDDEN, check.passed, message=verdict,
                       depends_on=check.depends_on)


def _checks(task: TaskResult) -> tuple[CheckResult, ...]:
    out = []
    number = 0
    for check in task.checks:
        if check.visibility is Visibility.HIDDEN:
            number += 0 if is_deferred(check) else 1
            out.append(_hidden_check(check, number))
        else:
            out.append(check)
    return tuple(out)


def _summary(task: TaskResult, checks: tuple[CheckResult, ...]) -> str:
    """The task's message rebuilt from what the student may see (the TA's names the failed hidden checks)."""
    counted = [c for c in checks if c.passed is not None]
    public_failed = [c.name for c in counted if not c.passed and c.visibility is Visibility.PUBLIC]
    hidden_failed = sum(1 for c in counted if not c.passed and c.visibility is Visibility.HIDDEN)
    deferred = sum(1 for c in checks if is_deferred(c))
    parts = []
    if task.status is Status.PASS:
        parts.append(f"all {len(counted)} checks passed")
    elif public_failed or hidden_failed:
        failed = len(public_failed) + hidden_failed
        what = "; ".join(public_failed + ([f"{hidden_failed} hidden"] if hidden_failed else []))
        parts.append(f"{failed} of {len(counted)} checks failed: {what}")
    if deferred:
        parts.append(f"{deferred} hidden check{'s' if deferred != 1 else ''} {AFTER_SUBMISSION}")
    return "; ".join(parts)


def _student_task(task: TaskResult, after_submission: bool) -> TaskResult:
    checks = _checks(task)
    if task.grader_failed:
        return TaskResult(task.id, task.title, task.status, task.points, task.max_points, GRADER_FAILED,
                          cause=Cause.GRADER)
    message, error, output = task.message, task.error, task.output
    if task.status in (Status.PASS, Status.FAIL) and task.checks:
        summary = _summary(task, checks)
        if summary and (task.status is Status.PASS or any(c.passed is False for c in checks)):
            message = summary
        elif after_submission:  # failed before any check was recorded: the student process's own words
            message = f"your code returned a value of the wrong form ({WITHHELD})"
    if after_submission:
        output = ""
        if error is not None:
            error = StudentError(error.type, WITHHELD, error.traceback)
        if task.status is Status.ERROR and error is not None:
            message = f"{error.type} in your code (the message is {WITHHELD})"
    return replace(task, message=message, checks=checks, error=error, output=output)


def student_view(result: SubmissionResult, *, after_submission: bool | None = None) -> SubmissionResult:
    """The result as a student may see it; apply it before writing anything a student reads.

    `after_submission`: whether hidden checks ran (TA or Gradescope grading: error messages and
    printed output are withheld) or not (`grader check`); by default it is read off the result.
    """
    if after_submission is None:
        after_submission = hidden_checks_ran(result)
    return replace(result, tasks=tuple(_student_task(t, after_submission) for t in result.tasks),
                   artifacts=dict(result.artifacts))
