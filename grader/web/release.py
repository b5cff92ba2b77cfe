"""Releasing feedback: one self-contained HTML page per student, safe to send as it is.

The page is the student's report drawn from `student_view` (hidden checks as pass/fail only,
error messages and printed output withheld after submission: see student_view.py) with the TA's
scores for the tasks graded by hand on top: each rubric item applied, with its points, and the
TA's comment. Like the static reports it loads nothing and runs nothing: inline CSS, data: images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from grader.judgement.manual import apply_manual
from grader.judgement.rubric import Rubric
from grader.presentation.atomic import write_text_atomic
from grader.presentation.html import render_report
from grader.presentation.student_view import student_view
from grader.results import Status
from grader.store import GRADEBOOK_FILE, Gradebook
from grader.web.answers import env
from grader.web.book import WebBook, WebBookError

RELEASE_DIR = "release"


@dataclass
class ReleaseSummary:
    folder: Path
    written: int = 0
    ungraded: int = 0  # manual tasks nobody has scored yet (their feedback says so)
    files: list[Path] = field(default_factory=list)


def feedback_page(wb: WebBook, sub_id: str) -> str | None:
    result = wb.book.latest_result(sub_id, wb.rubric.id)
    if result is None:
        return None
    shown = student_view(apply_manual(result, wb.book.manual_scores(sub_id)))
    scored = []
    for task in shown.tasks:
        grade = wb.grade(sub_id, task.id)
        if grade is None and task.status is not Status.MANUAL:
            continue
        items = {i.id: i for i in wb.items(task.id)}
        scored.append({"task": task, "grade": grade, "applied": [items[i] for i in grade.items if i in items]
                       if grade else []})
    section = env().get_template("release_feedback.html.j2").render(scored=scored)
    return render_report(shown, for_student=True, chrome={"top": Markup(section)})


def release_feedback(out: Path, rubric: Rubric, wb: WebBook, dest: Path | None = None) -> ReleaseSummary:
    """Write OUT/release/<submission>.html for every graded submission (or into `dest`)."""
    subs = wb.submissions()
    folder = dest or out / RELEASE_DIR
    if dest is None and RELEASE_DIR in subs:
        raise WebBookError(f"a submission is named {RELEASE_DIR!r}: choose another folder for the feedback")
    summary = ReleaseSummary(folder)
    # tasks still waiting for a TA (an empty answer already scored 0 automatically: not waiting)
    waiting = {t.id: {sub for sub, (status, _) in wb.task_states(t.id).items() if status == Status.MANUAL.value}
               for t in wb.manual_tasks()}
    for sub in subs:
        page = feedback_page(wb, sub)
        if page is None:
            continue
        path = folder / f"{sub}.html"
        write_text_atomic(path, page)
        summary.files.append(path)
        summary.written += 1
        summary.ungraded += sum(1 for t, subs_waiting in waiting.items()
                                if sub in subs_waiting and wb.grade(sub, t) is None)
    return summary


def release_from_folder(out: Path, rubric: Rubric, dest: Path | None = None) -> ReleaseSummary:
    """`grader release OUT`: the same pages as the app's button."""
    if not (out / GRADEBOOK_FILE).is_file():
        raise WebBookError(f"{out} has no {GRADEBOOK_FILE}: grade the submissions into it first")
    with Gradebook(out / GRADEBOOK_FILE) as book:
        return release_feedback(out, rubric, WebBook(book, rubric), dest)
