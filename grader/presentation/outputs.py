"""The files one submission's result becomes: result.json, report.html and its artifacts.

Rendering is separate from writing so that a worker (a local process or a Dask worker on
another machine) can draw the pages, and only the process that owns the output folder writes
them, each atomically.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from grader.lateness import Lateness
from grader.presentation.atomic import write_bytes_atomic
from grader.presentation.gradescope import gradescope_json_text
from grader.presentation.html import render_report
from grader.results import SubmissionResult

RESULT_FILE = "result.json"
REPORT_FILE = "report.html"
GRADESCOPE_FILE = "gradescope.json"  # this submission's results.json in Gradescope's schema


def result_json_text(result: SubmissionResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def fallback_report(exc: BaseException) -> str:
    return ("<!doctype html><meta charset=utf-8><title>report unavailable</title>"
            "<p>GRADER FAILURE: this report could not be drawn (" + html.escape(repr(exc)) + "). "
            "The verdicts are in result.json.</p>\n")


def render_files(result: SubmissionResult, *, for_student: bool = False,
                 gradescope: bool = False, lateness: Lateness | None = None) -> dict[str, bytes]:
    """Everything written into the submission's folder, by file name; `for_student` words the report for one."""
    files = {RESULT_FILE: result_json_text(result).encode()}
    if gradescope:  # a batch's export: what Gradescope would show the student (hidden checks: pass/fail only)
        files[GRADESCOPE_FILE] = gradescope_json_text(result).encode()
    files.update(result.artifacts)
    try:
        page = render_report(result, for_student=for_student, lateness=lateness)
    except Exception as exc:  # noqa: BLE001 - result.json is written; one broken page must not end the batch
        page = fallback_report(exc)
    files[REPORT_FILE] = page.encode()
    return files


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        write_bytes_atomic(folder / name, data)


def write_outputs(out: Path, result: SubmissionResult, *, for_student: bool = False) -> None:
    write_files(out / result.submission, render_files(result, for_student=for_student))
