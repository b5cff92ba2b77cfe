"""`grader check`: a student checks their own work with the public checks, graded the TA's way."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from grader.judgement import locate
from grader.judgement.context import STUDENT_FULL, STUDENT_QUICK
from grader.judgement.rubric import Rubric
from grader.judgement.submission import grade_submission
from grader.presentation.atomic import write_text_atomic
from grader.presentation.github import report_to_github
from grader.presentation.junit import junit_xml
from grader.presentation.outputs import write_outputs
from grader.presentation.student_view import student_view
from grader.results import SubmissionResult


def check_own_work(directory: Path, rubric: Rubric, *, notebook: bool = False, out: Path | None = None,
                   junit_file: Path | None = None) -> SubmissionResult:
    """Grade `directory` (a folder or .zip) with the public checks only; the student's view of it.

    Hidden checks are not run at all, so no secret is needed and nothing about them can be shown.
    Without `notebook` the notebook, the tasks that need it and slow checks are left out.
    """
    rubric.load_judges()
    sub_id = directory.resolve().name if directory.is_dir() else directory.stem
    mode = STUDENT_FULL if notebook else STUDENT_QUICK
    result = student_view(grade_submission(directory, rubric, None, sub_id=sub_id, mode=mode),
                          after_submission=False)
    if out is not None:
        write_outputs(out, result, for_student=True)
    if junit_file is not None:
        write_text_atomic(junit_file, junit_xml([result], student_view=False))  # already the student view
    return result


def github_lines(result: SubmissionResult, rubric: Rubric, directory: Path, env: Mapping[str, str]) -> list[str]:
    """GitHub annotations on the student's own lines (none inside a .zip), and the job summary."""
    where = locate.locations(result, rubric, directory) if directory.is_dir() else {}
    return report_to_github(result, where, directory if directory.is_dir() else directory.parent, env)
