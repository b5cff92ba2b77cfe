"""`grader gradescope`: Gradescope's run_autograder, grading /autograder/submission into results.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

from grader.judgement.hidden import load_or_create_secret
from grader.judgement.rubric import Rubric
from grader.judgement.submission import grade_submission
from grader.presentation.atomic import write_text_atomic
from grader.presentation.gradescope import gradescope_json_text
from grader.results import SubmissionResult
from grader.workflows import UsageProblem

GRADESCOPE_SECRET = "/autograder/source/secret"


class MissingSecret(Exception):
    """The autograder zip carries no secret: no results are written, so Gradescope reports that the
    autograder failed (which no student can mistake for a zero)."""


def gradescope_submission_id(submission: Path) -> str:
    """Gradescope's own submission id (from submission_metadata.json next to the submission), so that
    hidden inputs differ between submissions and a regrade draws the same ones; else `submission`."""
    try:
        metadata = json.loads((submission.parent / "submission_metadata.json").read_text())
        return f"gradescope-{int(metadata['id'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "submission"


def run_gradescope(submission: Path, results_file: Path, rubric: Rubric, *, secret_file: Path | None = None,
                   visibility: str = "visible") -> SubmissionResult:
    """Grade the submission with public and hidden checks and write Gradescope's results.json."""
    secret_path = secret_file or Path(os.environ.get("GRADER_SECRET_FILE") or GRADESCOPE_SECRET)
    if not secret_path.is_file():
        raise MissingSecret(f"autograder misconfigured: no secret at {secret_path}; put one in the autograder zip "
                            "(see `grader gradescope --help` and docs/students-and-ci.md)")
    if not submission.exists():
        raise UsageProblem(f"no submission at {submission}")
    rubric.load_judges()
    result = grade_submission(submission, rubric, load_or_create_secret(secret_path),
                              sub_id=gradescope_submission_id(submission))
    write_text_atomic(results_file, gradescope_json_text(result, visibility=visibility))
    return result
