"""TA scores laid over an autograder result.

Manual scores live apart from autograder runs (in the gradebook), and are merged in only when a
result is shown or exported. That is what makes "re-running autograding never overwrites a TA's
score" true by construction: a regrade replaces the run, never the score laid over it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace

from grader.results import ManualScore, Status, SubmissionResult, TaskResult


class ManualScoreError(ValueError):
    """A manual score that cannot apply: an unknown task, or points outside 0..max."""


def validate(score: ManualScore, task_points: dict[str, float]) -> None:
    if score.task not in task_points:
        raise ManualScoreError(f"unknown task {score.task!r}; the rubric's tasks are {', '.join(task_points)}")
    top = task_points[score.task]
    if not 0 <= score.points <= top:
        raise ManualScoreError(f"{score.task}: {score.points:g} points is outside 0..{top:g}")


def _scored(task: TaskResult, score: ManualScore) -> TaskResult:
    who = f" by {score.graded_by}" if score.graded_by else ""
    when = f" on {score.graded_at[:10]}" if score.graded_at else ""
    note = f"Scored{who}{when}: {score.points:g}/{task.max_points:g}"
    if score.comment:
        note += f" — {score.comment}"
    if task.status not in (Status.MANUAL, Status.PENDING, Status.GRADED):
        note += f" (overrides the autograder's {task.status.value}: {task.message})"
    # A TA's score is a verdict on the submission, so it also settles a task the grader failed on.
    return replace(task, status=Status.GRADED, points=score.points, message=note, manual=score, cause=None)


def apply_manual(result: SubmissionResult, scores: Iterable[ManualScore]) -> SubmissionResult:
    by_task = {s.task: s for s in scores}
    if not by_task:
        return result
    tasks = tuple(_scored(t, by_task[t.id]) if t.id in by_task else t for t in result.tasks)
    return replace(result, tasks=tasks)


# --- a TA's spreadsheet of scores: every problem reported by line before anything is saved ---

COLUMNS = ("submission", "task", "points")  # required; `comment` and `graded_by` are optional


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_scores(text: str, task_points: dict[str, float], known: set[str],
                 default_by: str) -> tuple[list[tuple[str, ManualScore]], list[ImportProblem]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [ImportProblem(1, f"the header must have the columns {', '.join(COLUMNS)} "
                                     f"(and optionally comment, graded_by); missing {', '.join(missing)}")]
    scores: list[tuple[str, ManualScore]] = []
    problems: list[ImportProblem] = []
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        sub = row["submission"]
        if sub not in known:
            problems.append(ImportProblem(line, f"no graded submission {sub!r} in this gradebook"))
            continue
        try:
            points = float(row["points"])
        except ValueError:
            problems.append(ImportProblem(line, f"points must be a number, got {row['points']!r}"))
            continue
        score = ManualScore(row["task"], points, row.get("comment", ""), row.get("graded_by") or default_by)
        try:
            validate(score, task_points)
        except ManualScoreError as exc:
            problems.append(ImportProblem(line, str(exc)))
            continue
        scores.append((sub, score))
    return scores, problems
