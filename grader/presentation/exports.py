"""Everything a batch exports for the whole class, rebuilt from the gradebook after each change.

The exports are views: the class overview (index.html), the spreadsheet (grades.csv). All of
them get the results with TA scores already laid over, so a manual T4 score shows everywhere.
"""

from __future__ import annotations

from pathlib import Path

from grader.presentation.gradebook import write_grades_csv
from grader.presentation.html import write_index
from grader.results import SubmissionResult

INDEX_FILE = "index.html"
GRADES_FILE = "grades.csv"


def write_exports(out: Path, results: list[SubmissionResult], task_titles: dict[str, str]) -> None:
    """`task_titles` in the rubric's order: they are the columns of every export."""
    task_ids = list(task_titles)
    write_index(out / INDEX_FILE, results, task_ids, task_titles)
    write_grades_csv(out / GRADES_FILE, results, task_ids)
