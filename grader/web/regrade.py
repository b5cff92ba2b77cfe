"""Regrading one submission from its live page, in a helper process, never in the server's.

The helper (grader/web/worker.py) runs the executors' unit of work, `grader.executors.run_job`:
the submission is graded in its sandboxes and its pages drawn exactly as a batch worker does it.
The server then writes the files and commits the run, as `grader grade` does; TA scores stay.
"""

from __future__ import annotations

from pathlib import Path

from grader.executors import GradedPayload, GradeJob
from grader.judgement.hidden import load_or_create_secret
from grader.judgement.rubric import Rubric
from grader.pipeline import default_secret_file
from grader.presentation.outputs import write_files
from grader.results import SubmissionResult
from grader.web.book import WebBook, WebBookError
from grader.web.worker import Worker


def regrade_submission(out: Path, rubric: Rubric, wb: WebBook, sub_id: str, *,
                       secret_file: Path | None = None) -> SubmissionResult:
    source = wb.source(sub_id)
    if source is None or not Path(source).exists():
        raise WebBookError(f"the submission's files are no longer at {source}: grade the folder again instead")
    secret = load_or_create_secret(secret_file or default_secret_file())
    job = GradeJob(sub_id, source, rubric, secret, tuple(wb.book.manual_scores(sub_id)))
    worker = Worker(f"regrade {sub_id}")
    try:
        payload: GradedPayload = worker.call("grade", job)
    finally:
        worker.close()
    write_files(out / sub_id, payload.files)
    result = payload.submission_result
    wb.book.record(result, source)
    return result
