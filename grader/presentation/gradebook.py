"""The grades spreadsheet that TAs import into the course gradebook.

Its one hard rule: a task with no verdict (manual, pending, or a grader failure) is an EMPTY
cell, never `0`, so that a spreadsheet sum or an LMS import cannot silently turn a grader bug
into a lost grade. `grading_status` names the tasks the grader failed on.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.presentation.atomic import write_text_atomic
from grader.results import SubmissionResult

# Characters that make Excel/LibreOffice/Sheets treat a cell as a formula (OWASP "CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Keep a hostile submission id such as `=HYPERLINK(...)` from running in a TA's spreadsheet."""
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _number(x: float | None) -> str:
    if x is None:
        return ""
    x = round(float(x), 6)
    return str(int(x)) if x.is_integer() else repr(x)


def grades_csv_text(results: list[SubmissionResult], task_ids: list[str]) -> str:
    """Build the CSV in memory, so the file on disk can be swapped in atomically in one step."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["submission", "grading_status", "score", "max_score", *task_ids])
    for r in sorted(results, key=lambda r: r.submission):
        by_id = {t.id: t for t in r.tasks}
        row = [
            neutralise_formula(r.submission),
            r.grading_status,
            _number(r.score),
            _number(r.max_score),
        ]
        for tid in task_ids:
            t = by_id.get(tid)
            # A grader failure must stay blank even if a partial number was recorded for it.
            row.append("" if t is None or t.grader_failed else _number(t.points))
        writer.writerow(row)
    return buf.getvalue()


def write_grades_csv(
    path: Path, results: list[SubmissionResult], task_ids: list[str]
) -> None:
    """Write the gradebook so an interrupted run never leaves a truncated file for an LMS import."""
    write_text_atomic(path, grades_csv_text(results, task_ids))
