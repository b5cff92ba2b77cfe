"""Regrading one submission from its live page, in a worker process, never in the server's.

The batch's executor does the work (grader/executors.py), with spawned rather than forked
workers: the server runs threads, and forking a threaded process can leave a lock held forever
in the child. The result is committed and drawn exactly as `grader grade` does it.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from grader.executors import GradeJob, LocalExecutor
from grader.judgement.hidden import load_or_create_secret
from grader.judgement.rubric import Rubric
from grader.pipeline import default_secret_file
from grader.presentation.outputs import write_files
from grader.results import SubmissionResult
from grader.web.book import WebBook, WebBookError


class SpawnedExecutor(LocalExecutor):
    """LocalExecutor whose workers start as fresh interpreters."""

    def _pool(self, size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"))


def regrade_submission(out: Path, rubric: Rubric, wb: WebBook, sub_id: str, *,
                       secret_file: Path | None = None) -> SubmissionResult:
    source = wb.source(sub_id)
    if source is None or not Path(source).exists():
        raise WebBookError(f"the submission's files are no longer at {source}: grade the folder again instead")
    secret = load_or_create_secret(secret_file or default_secret_file())
    job = GradeJob(sub_id, source, rubric, secret, tuple(wb.book.manual_scores(sub_id)))
    for payload in SpawnedExecutor(1).run([job], rubric):
        write_files(out / sub_id, payload.files)
        result = payload.submission_result
        wb.book.record(result, source)
        return result
    raise RuntimeError("the worker returned no result")
