"""A batch: every submission in a folder graded in parallel, each one committed as it finishes.

Nothing is lost. Each submission's files are written atomically and its run is committed to the
gradebook (grader/store.py) in one transaction the moment it is done; a rerun, after a crash or a
`kill -9`, skips every submission whose content, rubric and grader are unchanged. A submission
that breaks the grader still gets a result that says so. Class pages and exports are rebuilt at
the end from the gradebook, with the TAs' manual scores laid over the autograder's results.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader import __version__
from grader.course.deadlines import lateness_by_submission, sync_roster
from grader.course.roster import ROSTER_FILE
from grader.execution.workspace import content_hash
from grader.executors import DaskExecutor, Executor, GradeJob, LocalExecutor, grade_one, payload_for, warm_up
from grader.judgement.hidden import load_or_create_secret
from grader.judgement.manual import apply_manual
from grader.judgement.recordings import RECORDINGS_DIR
from grader.judgement.rubric import Rubric
from grader.lateness import Lateness
from grader.presentation.exports import write_exports
from grader.presentation.outputs import RESULT_FILE, write_files, write_outputs
from grader.results import SubmissionResult
from grader.similarity import (
    SIMILARITY_CSV,
    SIMILARITY_DIR,
    load_report,
    scheme_for,
    settings_for,
    similarity_after_batch,
)
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.workflows.batch_inputs import assign_ids, plan_batch
from grader.workflows.batch_stops import BatchStopped, disk_full, disk_full_message

__all__ = ["BatchSummary", "grade_batch", "grade_one", "refresh_pages", "write_outputs"]

RESERVED_IDS = frozenset({"index.html", "grades.csv", "junit.xml", SIMILARITY_CSV, SIMILARITY_DIR,
                          GRADEBOOK_FILE, f"{GRADEBOOK_FILE}-wal",
                          f"{GRADEBOOK_FILE}-shm", f"{GRADEBOOK_FILE}-journal"})


@dataclass
class BatchSummary:
    """Ids only: a 10,000-submission batch must not hold 10,000 results in memory."""

    out: Path
    rubric: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return sorted(self.graded + self.skipped)

    @property
    def results(self) -> list[SubmissionResult]:
        """Full results as the reports show them (manual scores included), read back from the gradebook."""
        with Gradebook(self.out / GRADEBOOK_FILE) as book:
            return [r for r in (stored_result(book, i, self.rubric) for i in self.ids) if r is not None]


def stored_result(book: Gradebook, sub_id: str, rubric: str) -> SubmissionResult | None:
    result = book.latest_result(sub_id, rubric)
    return None if result is None else apply_manual(result, book.manual_scores(sub_id))


def default_secret_file() -> Path:
    """Kept outside the output folder, so publishing reports can never publish the secret."""
    configured = os.environ.get("GRADER_SECRET_FILE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "grader" / "secret"


def unique_ids(paths: list[Path]) -> dict[str, Path]:
    """Submission ids are folder or zip names; `alice/` next to `alice.zip` keeps the full names, a name
    that is not a safe file name gets a safe one, and none collides with the class pages."""
    return assign_ids(paths, RESERVED_IDS).ids


def runs_a_notebook(source: Path, rubric: Rubric) -> bool:
    """Whether grading `source` will execute a notebook, the one cost that dwarfs the others."""
    name = Path(rubric.files.get("notebook", "")).name
    if not name or rubric.notebook is None:
        return False
    try:
        if source.is_dir():
            return next(source.rglob(name), None) is not None
        with zipfile.ZipFile(source) as archive:
            return any(Path(n).name == name for n in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False  # unreadable: grading will say so, quickly


def longest_first(jobs: list[GradeJob], rubric: Rubric) -> list[GradeJob]:
    """Start the notebook submissions first, so the batch does not end with one worker busy on a
    long notebook while the others idle (longest-processing-time-first scheduling)."""
    return sorted(jobs, key=lambda job: not runs_a_notebook(Path(job.source), rubric))


def _is_current(book: Gradebook, sub_id: str, source: Path, rubric: Rubric) -> bool:
    run = book.latest_run(sub_id, rubric.id)
    return (run is not None
            and run.rubric_version == rubric.version_tag
            and run.grader_version == __version__
            and run.grading_status == "complete"  # a grader failure is always retried
            and run.content_hash == content_hash(source))


def refresh_pages(out: Path, rubric: Rubric, book: Gradebook, ids: list[str] | None = None) -> None:
    """Rebuild the class overview and the exports from the gradebook (manual scores included)."""
    wanted = ids if ids is not None else book.submissions(rubric.id)
    light = [apply_manual(r, book.manual_scores(r.submission)) for r in book.summaries(rubric.id, wanted)]
    write_exports(out, light, {t.id: t.title for t in rubric.tasks}, lateness=lateness_by_submission(book, rubric),
                  similarity=load_report(out))


def rewrite_submission(out: Path, book: Gradebook, sub_id: str, rubric: str,
                       lateness: Lateness | None = None) -> SubmissionResult | None:
    """Redraw one submission's files from the gradebook, e.g. after a TA scored it by hand."""
    result = book.latest_result(sub_id, rubric)
    if result is None:
        return None
    manual = book.manual_scores(sub_id)
    write_files(out / sub_id, payload_for(result, manual, lateness).files)
    return apply_manual(result, manual)


def grade_batch(
    submissions: Path,
    out: Path,
    rubric: Rubric,
    *,
    workers: int | None = None,
    force: bool = False,
    secret_file: Path | None = None,
    executor: Executor | None = None,
    dask: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[SubmissionResult, bool], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    no_cache: bool = False,
) -> BatchSummary:
    """Grade every submission in `submissions` into `out`; returns the ids graded and skipped.

    Probe calls and notebook runs are recorded in `out/.recordings` and replayed when a rubric edit
    (a tolerance, a check, points) regrades; `no_cache` runs them all again (recordings.py).

    `dask` is a scheduler address or "local"; without it, `workers` local processes grade.
    Raises `BatchInputError` before grading anything when the batch's own inputs are wrong (see
    grader/workflows/batch_inputs.py), and `BatchStopped` when the disk fills up: what was
    committed stays, and a rerun resumes.
    """
    plan = plan_batch(submissions, out, rubric, RESERVED_IDS)
    for note in plan.notes:
        if on_note:
            on_note(note)
    summary = BatchSummary(out, rubric.id)
    try:
        return _grade(plan.ids, submissions, out, rubric, summary, workers=workers, force=force,
                      secret_file=secret_file, executor=executor, dask=dask, on_start=on_start, on_result=on_result,
                      no_cache=no_cache)
    except (OSError, sqlite3.OperationalError) as exc:
        if not disk_full(exc):
            raise
        raise BatchStopped(disk_full_message(out, exc, len(summary.graded))) from exc


def _grade(todo: dict[str, Path], submissions: Path, out: Path, rubric: Rubric, summary: BatchSummary, *,
           workers: int | None, force: bool, secret_file: Path | None, executor: Executor | None, dask: str | None,
           on_start: Callable[[int], None] | None,
           on_result: Callable[[SubmissionResult, bool], None] | None, no_cache: bool) -> BatchSummary:
    out.mkdir(parents=True, exist_ok=True)
    secret = load_or_create_secret(secret_file or default_secret_file())
    if executor is None:
        executor = DaskExecutor(dask, workers) if dask else LocalExecutor(workers)
    with Gradebook(out / GRADEBOOK_FILE) as book:
        if (submissions / ROSTER_FILE).is_file():  # written by `grader import`, perhaps edited by a TA
            sync_roster(book, submissions / ROSTER_FILE)
        late = lateness_by_submission(book, rubric)
        jobs: dict[str, GradeJob] = {}
        for sub_id, source in todo.items():
            if not force and _is_current(book, sub_id, source, rubric):
                summary.skipped.append(sub_id)
                if not (out / sub_id / RESULT_FILE).is_file():  # files deleted by hand: redraw, don't regrade
                    rewrite_submission(out, book, sub_id, rubric.id, late.get(sub_id))
                if on_result:
                    on_result(stored_result(book, sub_id, rubric.id), True)
                continue
            jobs[sub_id] = GradeJob(sub_id, str(source.resolve()), rubric, secret, tuple(book.manual_scores(sub_id)),
                                    lateness=late.get(sub_id), recordings=str(out / RECORDINGS_DIR),
                                    replay=not no_cache)
        # a regrade after a rubric edit: the code's fingerprints (similarity) are in the gradebook already
        if jobs:
            scheme = scheme_for(settings_for(rubric))
            hashes = {sub_id: content_hash(Path(job.source)) for sub_id, job in jobs.items()}
            known = book.fingerprints(scheme, set(hashes.values()))
            jobs = {sub_id: replace(job, fingerprints=hashes[sub_id] not in known) for sub_id, job in jobs.items()}
        if on_start:
            on_start(len(jobs))
        if jobs:
            warm_up(rubric)
        # closed at once when the batch stops (a signal, a full disk): the workers stop with it
        with closing(executor.run(longest_first(list(jobs.values()), rubric), rubric)) as graded:
            for payload in graded:
                job = jobs[payload.sub_id]
                write_files(out / job.sub_id, payload.files)
                result = payload.submission_result
                # from here on, a rerun skips this submission; a path that is not UTF-8 is kept readable
                book.record(result, job.source.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
                if payload.code is not None:  # similarity's fingerprints, computed by the worker
                    book.save_fingerprints(*payload.code)
                summary.graded.append(job.sub_id)
                if on_result:
                    on_result(apply_manual(result, job.manual), False)
        similarity_after_batch(out, rubric, book)
        refresh_pages(out, rubric, book)
    return summary
