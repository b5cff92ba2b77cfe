"""`grader manual`: a TA's scores for tasks graded by hand, kept in the gradebook with who and when."""

from __future__ import annotations

from pathlib import Path

from grader.judgement.manual import ManualScoreError, parse_scores, validate
from grader.judgement.rubric import Rubric
from grader.pipeline import refresh_pages, rewrite_submission
from grader.results import ManualScore
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.workflows import UsageProblem


def record_scores(out: Path, rubric: Rubric, graded_by: str, *, submission: str | None = None,
                  task: str | None = None, points: float | None = None, comment: str = "",
                  import_file: Path | None = None) -> list[tuple[str, ManualScore]]:
    """Save one score (SUBMISSION TASK POINTS) or a CSV of them, then redraw the pages they change.

    Nothing is saved unless every score is valid; each problem is a `UsageProblem` naming it.
    """
    task_points = {t.id: t.points for t in rubric.tasks}
    path = out / GRADEBOOK_FILE
    if not path.is_file():
        raise UsageProblem(f"{out} has no {GRADEBOOK_FILE}: grade the submissions into it first")
    with Gradebook(path) as book:
        known = set(book.submissions(rubric.id))
        if import_file is not None:
            if submission or task or points is not None:
                raise UsageProblem("give either SUBMISSION TASK POINTS or --import FILE, not both")
            scores, problems = parse_scores(import_file.read_text(encoding="utf-8-sig"), task_points, known,
                                            graded_by)
            if problems:
                raise UsageProblem(f"{import_file}: nothing was saved:\n" + "\n".join(map(str, problems)))
        else:
            if submission is None or task is None or points is None:
                raise UsageProblem("give SUBMISSION TASK POINTS (e.g. alice T4 0.5), or --import FILE")
            if submission not in known:
                raise UsageProblem(f"no graded submission {submission!r} in {path}")
            score = ManualScore(task, points, comment, graded_by)
            try:
                validate(score, task_points)
            except ManualScoreError as exc:
                raise UsageProblem(str(exc)) from None
            scores = [(submission, score)]
        book.set_manual_many(scores)
        for sub in sorted({sub for sub, _ in scores}):
            rewrite_submission(out, book, sub, rubric.id)
        refresh_pages(out, rubric, book)
    return scores
