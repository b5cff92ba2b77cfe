"""A batch: every submission in a folder graded in parallel, each result written as it finishes.

Nothing is lost: each `result.json` is written atomically the moment its submission is done,
a rerun skips submissions whose content, rubric and grader are unchanged, and a submission
that breaks the grader still gets a result that says so. The class pages and the gradebook
are rebuilt at the end from the `result.json` files on disk, so they include earlier runs.
"""

from __future__ import annotations

import html
import json
import os
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from grader import __version__
from grader.execution.workspace import content_hash, discover, submission_id
from grader.judgement.grading import TA_MODE, GradingMode, grade_submission
from grader.judgement.hidden import load_or_create_secret
from grader.judgement.rubric import Rubric
from grader.presentation.atomic import write_text_atomic
from grader.presentation.gradebook import write_grades_csv
from grader.presentation.html import write_index, write_report
from grader.results import Cause, Status, StudentError, SubmissionResult, TaskResult

RESULT_FILE = "result.json"
RESERVED_IDS = frozenset({"index.html", "grades.csv"})
REPORT_FILE = "report.html"


@dataclass
class BatchSummary:
    graded: list[SubmissionResult] = field(default_factory=list)
    skipped: list[SubmissionResult] = field(default_factory=list)

    @property
    def results(self) -> list[SubmissionResult]:
        return sorted(self.graded + self.skipped, key=lambda r: r.submission)


def default_secret_file() -> Path:
    """Kept outside the output folder, so publishing reports can never publish the secret."""
    configured = os.environ.get("GRADER_SECRET_FILE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "grader" / "secret"


def unique_ids(paths: list[Path]) -> dict[str, Path]:
    """Submission ids are folder or zip names; `alice/` next to `alice.zip` keeps the full names."""
    stems = [submission_id(p) for p in paths]
    ids = {(stem if stems.count(stem) == 1 else p.name): p for stem, p in zip(stems, paths, strict=True)}
    # an id must not collide with the class pages written next to the per-submission folders
    return {(f"{i}-submission" if i in RESERVED_IDS else i): p for i, p in ids.items()}


def grader_failure_result(sub_id: str, rubric: Rubric, exc: BaseException) -> SubmissionResult:
    """Used when grading a submission blew up in the grader itself: every task says so, none reads 0."""
    detail = tuple("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()[-30:])
    error = StudentError("GraderError", f"{type(exc).__name__}: {exc}", detail)
    tasks = tuple(TaskResult(t.id, t.title, Status.ERROR, None, t.points,
                             "GRADER FAILURE (not the student's fault): the grader crashed on this submission",
                             error=error, cause=Cause.GRADER) for t in rubric.tasks)
    return SubmissionResult(sub_id, rubric.id, f"{rubric.version}+{rubric.fingerprint}", tasks,
                            grader_version=__version__,
                            graded_at=datetime.now(UTC).isoformat(timespec="seconds"))


def load_result(path: Path) -> SubmissionResult | None:
    try:
        return SubmissionResult.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from an older schema: grade again


def is_current(previous: SubmissionResult | None, source: Path, rubric: Rubric) -> bool:
    return (previous is not None
            and previous.rubric_version == f"{rubric.version}+{rubric.fingerprint}"
            and previous.grader_version == __version__
            and not previous.grader_failures
            and previous.content_hash == content_hash(source))


def write_outputs(out: Path, result: SubmissionResult, *, for_student: bool = False) -> None:
    """result.json, the executed notebook and report.html; `for_student` words the report for a student."""
    folder = out / result.submission
    write_text_atomic(folder / RESULT_FILE, json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    for name, data in result.artifacts.items():
        write_text_atomic(folder / name, data.decode("utf-8", errors="replace"))
    try:
        write_report(folder / REPORT_FILE, result, for_student=for_student)
    except Exception as exc:  # noqa: BLE001 - result.json is written; one broken page must not end the batch
        write_text_atomic(folder / REPORT_FILE, "<!doctype html><meta charset=utf-8><title>report unavailable</title>"
                          "<p>GRADER FAILURE: this report could not be drawn (" + html.escape(repr(exc)) + "). "
                          "The verdicts are in result.json.</p>\n")


def write_class_pages(out: Path, rubric: Rubric, results: list[SubmissionResult]) -> None:
    task_ids = rubric.task_ids
    write_index(out / "index.html", results, task_ids, {t.id: t.title for t in rubric.tasks})
    write_grades_csv(out / "grades.csv", results, task_ids)


def grade_one(source: Path, sub_id: str, rubric: Rubric, secret: bytes | None,
              mode: GradingMode = TA_MODE) -> SubmissionResult:
    try:
        return grade_submission(source, rubric, secret, sub_id=sub_id, mode=mode)
    except Exception as exc:  # noqa: BLE001 - the batch must go on, and the TA must see why
        return grader_failure_result(sub_id, rubric, exc)


def grade_batch(
    submissions: Path,
    out: Path,
    rubric: Rubric,
    *,
    workers: int | None = None,
    force: bool = False,
    secret_file: Path | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[SubmissionResult, bool], None] | None = None,
) -> BatchSummary:
    """Grade every submission in `submissions` into `out`; returns what was graded and skipped."""
    out.mkdir(parents=True, exist_ok=True)
    secret = load_or_create_secret(secret_file or default_secret_file())
    todo = unique_ids(discover(submissions))
    summary = BatchSummary()
    pending: dict[str, Path] = {}
    for sub_id, source in todo.items():
        previous = None if force else load_result(out / sub_id / RESULT_FILE)
        if previous is not None and is_current(previous, source, rubric):
            summary.skipped.append(previous)
            if on_result:
                on_result(previous, True)
        else:
            pending[sub_id] = source
    if on_start:
        on_start(len(pending))
    rubric.load_judges()  # import the checks module and the reference once, before the threads start
    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        futures = {pool.submit(grade_one, source, sub_id, rubric, secret): sub_id for sub_id, source in pending.items()}
        for future in as_completed(futures):
            result = future.result()
            write_outputs(out, result)
            summary.graded.append(result)
            if on_result:
                on_result(result, False)
    write_class_pages(out, rubric, summary.results)
    return summary
