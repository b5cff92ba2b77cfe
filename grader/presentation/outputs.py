"""The files one submission's result becomes: result.json, report.html and its artifacts.

Rendering is separate from writing so that a worker (a local process or a Dask worker on
another machine) can draw the pages, and only the process that owns the output folder writes
them, each atomically.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from grader.lateness import Lateness
from grader.presentation.atomic import write_files_atomic
from grader.presentation.gradescope import gradescope_json_text
from grader.presentation.html import draw_plot, render_report
from grader.results import Plot, SubmissionResult

RESULT_FILE = "result.json"
REPORT_FILE = "report.html"
GRADESCOPE_FILE = "gradescope.json"  # this submission's results.json in Gradescope's schema


# result.json is indented down to each check; deeper values (a plot's images, a notebook cell's
# outputs) stay on one line each. json's C encoder only runs without `indent`: indenting everything
# made a notebook submission's result.json 1 MB and its encoding a tenth of a replayed regrade.
_INDENTED_LEVELS = 4


def result_json_text(result: SubmissionResult) -> str:
    return json_text(result.to_json(), 0) + "\n"


def json_text(value: object, depth: int) -> str:
    """json.dumps(value, indent=2) for the outer `_INDENTED_LEVELS` levels, compact below them."""
    if depth >= _INDENTED_LEVELS or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False)
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(key if isinstance(key, str) else json.dumps(key), ensure_ascii=False)}: "
                 f"{json_text(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + outer + "}"
    return "[\n" + ",\n".join(inner + json_text(item, depth + 1) for item in value) + "\n" + outer + "]"


def fallback_report(exc: BaseException) -> str:
    return ("<!doctype html><meta charset=utf-8><title>report unavailable</title>"
            "<p>GRADER FAILURE: this report could not be drawn (" + html.escape(repr(exc)) + "). "
            "The verdicts are in result.json.</p>\n")


def render_files(result: SubmissionResult, *, for_student: bool = False, gradescope: bool = False,
                 lateness: Lateness | None = None, plot_png: Callable[[Plot], str | None] = draw_plot,
                 result_json: str | None = None) -> dict[str, bytes]:
    """Everything written into the submission's folder, by file name; `for_student` words the report for one.

    `lateness` shows the submission's lateness; `plot_png` draws the report's plots (see render_report) and
    `result_json` is result_json_text(result) when the caller has it already: the web app redraws a report
    per TA score from cached pieces."""
    files = {RESULT_FILE: (result_json if result_json is not None else result_json_text(result)).encode()}
    if gradescope:  # a batch's export: what Gradescope would show the student (hidden checks: pass/fail only)
        files[GRADESCOPE_FILE] = gradescope_json_text(result).encode()
    files.update(result.artifacts)
    try:
        page = render_report(result, for_student=for_student, lateness=lateness, plot_png=plot_png)
    except Exception as exc:  # noqa: BLE001 - result.json is written; one broken page must not end the batch
        page = fallback_report(exc)
    files[REPORT_FILE] = page.encode()
    return files


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    write_files_atomic(folder, files)


def write_outputs(out: Path, result: SubmissionResult, *, for_student: bool = False) -> None:
    write_files(out / result.submission, render_files(result, for_student=for_student))
