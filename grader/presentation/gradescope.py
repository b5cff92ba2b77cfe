"""Gradescope's results.json, so a course can use the grader as its Gradescope autograder.

Schema (Gradescope autograder specification, https://gradescope-autograders.readthedocs.io/en/latest/specs/):
top level `score`, `execution_time`, `output`, `visibility`, `stdout_visibility`, `extra_data`
and `tests`; each test has `score`, `max_score`, `status` ("passed"/"failed"), `name`,
`number`, `output` and `visibility` ("hidden", "after_due_date", "after_published" or
"visible"). One test per task. It is drawn from the student-facing result: a hidden check
shows only whether it passed, never its name, inputs or expected values.

Tasks no machine grades (manual, pending) are listed with max_score 0, so the autograder's
total is the auto-graded points and a TA grades the rest as a separate Gradescope question.
"""

from __future__ import annotations

import json
from typing import Any

from grader.presentation.student_view import GRADER_FAILED
from grader.presentation.student_view import student_view as to_student_view
from grader.results import CheckResult, Status, SubmissionResult, TaskResult

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _check_line(check: CheckResult) -> str:
    mark = {True: "✓", False: "✗", None: "·"}[check.passed]
    return f"{mark} [{check.visibility.value}] {check.name}" + (f": {check.message}" if check.message else "")


def _output(task: TaskResult) -> str:
    lines = [task.message, *(_check_line(c) for c in task.checks)]
    if task.error is not None:
        lines += [f"{task.error.type}: {task.error.message}", *task.error.traceback]
    return "\n".join(line for line in lines if line)


def _test(task: TaskResult, visibility: str) -> dict[str, Any]:
    graded = task.status not in (Status.MANUAL, Status.PENDING)
    name = f"{task.id} {task.title}"
    if not graded:
        output = f"{task.status.value}: {task.message}. Not part of the autograder score " \
                 f"(worth {task.max_points:g} points, graded separately)."
        return {"name": name, "number": task.id, "score": 0.0, "max_score": 0.0, "status": "passed",
                "output": output, "visibility": visibility}
    return {"name": name + (" (grader failure: not a grade)" if task.grader_failed else ""), "number": task.id,
            "score": float(task.points or 0.0), "max_score": float(task.max_points),
            "status": "passed" if task.status is Status.PASS
            or (task.status is Status.GRADED and (task.points or 0) >= task.max_points) else "failed",
            "output": _output(task), "visibility": visibility}


def gradescope_json_text(result: SubmissionResult, *, visibility: str = "visible") -> str:
    """The results.json file itself, as the entry point and the batch export both write it."""
    return json.dumps(gradescope_results(result, visibility=visibility), indent=2, ensure_ascii=False) + "\n"


def gradescope_results(result: SubmissionResult, *, visibility: str = "visible") -> dict[str, Any]:
    """results.json for one submission graded with hidden checks (after submission).

    `visibility` applies to every test and to the whole result (Gradescope's setting: use
    "after_published" to show results only once grades are published).
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")
    shown = to_student_view(result, after_submission=True)
    tests = [_test(t, visibility) for t in shown.tasks]
    output = [f"{shown.rubric}: {sum(t['score'] for t in tests):g} / {sum(t['max_score'] for t in tests):g} "
              "auto-graded points (public and hidden checks)."]
    if shown.grader_failures:
        output.insert(0, f"{GRADER_FAILED} Tasks affected: {', '.join(shown.grader_failures)}; "
                         "their 0 is not a grade and they will be regraded.")
    output += list(shown.notes)
    return {
        "score": round(sum(t["score"] for t in tests), 6),
        "execution_time": round(shown.duration_s, 3),
        "output": "\n".join(output),
        "visibility": visibility,
        "stdout_visibility": "hidden",  # the grader's log is for the course staff
        "extra_data": {"grading_status": shown.grading_status, "rubric_version": shown.rubric_version,
                       "grader_version": shown.grader_version},
        "tests": tests,
    }
