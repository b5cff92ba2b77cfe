"""Everything a batch exports for the whole class, rebuilt from the gradebook after each change.

The exports are views: the class overview (index.html), the spreadsheet (grades.csv) and a
JUnit file for dashboards (junit.xml: a suite per submission, a test case per task). All of them
get the results with TA scores already laid over, so a manual T4 score shows everywhere. Each
submission's Gradescope results.json is drawn with its report (outputs.py), where the full result is.
"""

from __future__ import annotations

from pathlib import Path

from grader.lateness import Lateness
from grader.presentation.atomic import write_text_atomic
from grader.presentation.gradebook import write_grades_csv
from grader.presentation.html import write_index
from grader.presentation.junit import junit_xml
from grader.results import SubmissionResult
from grader.similarity_results import SimilarityReport

INDEX_FILE = "index.html"
GRADES_FILE = "grades.csv"
JUNIT_FILE = "junit.xml"


def write_exports(out: Path, results: list[SubmissionResult], task_titles: dict[str, str],
                  lateness: dict[str, Lateness] | None = None, similarity: SimilarityReport | None = None) -> None:
    """`task_titles` in the rubric's order: they are the columns of every export. `lateness` (by
    submission, from the roster and the rubric's deadline) adds a column to the class overview;
    `similarity` adds its TA-only section."""
    task_ids = list(task_titles)
    write_index(out / INDEX_FILE, results, task_ids, task_titles, lateness=lateness, similarity=similarity)
    write_grades_csv(out / GRADES_FILE, results, task_ids)
    write_text_atomic(out / JUNIT_FILE, junit_xml(sorted(results, key=lambda r: r.submission), student_view=False))
