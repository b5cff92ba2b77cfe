"""JUnit XML: one testsuite per submission, one testcase per task, for CI systems and batch exports.

CI servers (GitHub, GitLab, Jenkins) read this format to show which tests failed. A failing or
missing task is a `failure`, a crash or a timeout an `error`, a task no machine can grade yet
(manual, pending, graded after submission) is `skipped`, so a CI run is red only for what the
student can fix now. A grader failure is an `error` of type `grader-failure`, never a failure.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.presentation.student_view import student_view as to_student_view
from grader.results import CheckResult, Status, SubmissionResult, TaskResult

_FAILURES = (Status.FAIL, Status.MISSING)
_ERRORS = (Status.ERROR, Status.TIMEOUT)
_SKIPPED = (Status.MANUAL, Status.PENDING)
# characters XML 1.0 cannot carry at all, even escaped; student output may contain them
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _check_line(check: CheckResult) -> str:
    mark = {True: "ok  ", False: "FAIL", None: "--  "}[check.passed]
    line = f"{mark} [{check.visibility.value}] {check.name}"
    return line + (f": {check.message}" if check.message else "")


def _details(task: TaskResult) -> str:
    lines = [task.message, *(_check_line(c) for c in task.checks)]
    if task.error is not None:
        lines.append(f"{task.error.type}: {task.error.message}")
        lines.extend(task.error.traceback)
    return "\n".join(line for line in lines if line)


def _testcase(parent: ET.Element, result: SubmissionResult, task: TaskResult) -> str:
    case = ET.SubElement(parent, "testcase", name=_xml(f"{task.id} {task.title}"),
                         classname=_xml(f"{result.rubric}.{task.id}"))
    points = f"{'—' if task.points is None else f'{task.points:g}'}/{task.max_points:g} points"
    if task.status in _FAILURES or (task.status is Status.GRADED and (task.points or 0) < task.max_points):
        # a TA's partial score reads as a failure with the TA's comment; a full one passes
        failure = ET.SubElement(case, "failure", type=task.status.value, message=_xml(f"{task.message} ({points})"))
        failure.text = _xml(_details(task))
        kind = "failures"
    elif task.status in _ERRORS:
        kind_type = "grader-failure" if task.grader_failed else task.status.value
        ET.SubElement(case, "error", type=kind_type, message=_xml(task.message)).text = _xml(_details(task))
        kind = "errors"
    elif task.status in _SKIPPED:
        ET.SubElement(case, "skipped", message=_xml(f"{task.status.value}: {task.message}"))
        kind = "skipped"
    else:
        kind = "passed"
    if task.output:
        ET.SubElement(case, "system-out").text = _xml(task.output)
    return kind


def junit_xml(results: list[SubmissionResult], *, student_view: bool) -> str:
    """The results as a JUnit XML document (a `testsuites` root).

    `student_view=True` draws every suite from the student-facing result (no hidden check
    names, inputs or values): use it for anything a student can read, such as CI logs.
    """
    root = ET.Element("testsuites", name="grader")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in results:
        shown = to_student_view(result) if student_view else result
        suite = ET.SubElement(root, "testsuite", name=_xml(shown.submission), tests=str(len(shown.tasks)),
                              timestamp=shown.graded_at or "", time=f"{shown.duration_s:.3f}",
                              package=shown.rubric)
        properties = ET.SubElement(suite, "properties")
        for name, value in (("score", f"{shown.score:g}"), ("max_score", f"{shown.max_score:g}"),
                            ("grading_status", shown.grading_status), ("rubric_version", shown.rubric_version)):
            ET.SubElement(properties, "property", name=name, value=value)
        counts = {"failures": 0, "errors": 0, "skipped": 0, "passed": 0}
        for task in shown.tasks:
            counts[_testcase(suite, shown, task)] += 1
        for name in ("failures", "errors", "skipped"):
            suite.set(name, str(counts[name]))
        totals["tests"] += len(shown.tasks)
        totals["failures"] += counts["failures"]
        totals["errors"] += counts["errors"]
    for name, value in totals.items():
        root.set(name, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
