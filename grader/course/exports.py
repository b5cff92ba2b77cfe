"""`grader export canvas|moodle OUT`: the class's grades in the course system's import format,
joined through the roster, with the late policy applied now (from the recorded submission time,
the rubric's `[deadline]` and each student's extension). Nothing is graded again: the gradebook's
results are read, the penalty is worked out, the grade file and the pages are redrawn.

Every roster line or graded submission that cannot be matched, and every grade left blank, is
listed in the returned problems (and in `<format>-export-report.txt`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.deadlines import lateness_by_submission, student_lateness, sync_roster
from grader.judgement.manual import apply_manual
from grader.judgement.rubric import Rubric
from grader.lateness import DeadlineError, LateStatus, policy_from_rubric
from grader.pipeline import refresh_pages, rewrite_submission
from grader.presentation.atomic import write_text_atomic
from grader.presentation.lms_csv import GradeRow, canvas_csv_text, moodle_csv_text, moodle_identity
from grader.results import Status, SubmissionResult
from grader.store import GRADEBOOK_FILE, Gradebook

EXPORT_FORMATS = ("canvas", "moodle")


class ExportError(Exception):
    """The export cannot start: no gradebook, no roster, an unknown format."""


@dataclass
class ExportResult:
    path: Path
    rows: list[GradeRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _feedback(result: SubmissionResult, final: float, penalised: bool, late_summary: str) -> str:
    parts = [f"Autograder: {result.score:g}/{result.max_score:g}"]
    if penalised:
        parts.append(f"{late_summary}: {final:g}/{result.max_score:g}")
    failing = [t.id for t in result.tasks if t.status in (Status.FAIL, Status.ERROR, Status.TIMEOUT, Status.MISSING)]
    if failing:
        parts.append("not passing: " + ", ".join(failing))
    waiting = [t.id for t in result.tasks if t.status is Status.MANUAL]
    if waiting:
        parts.append("awaiting a TA: " + ", ".join(waiting))
    return "; ".join(parts) + "."


def grade_rows(book: Gradebook, rubric: Rubric) -> tuple[list[GradeRow], list[str]]:
    """One row per roster line, and what a TA must know about each row left blank or unmatched."""
    policy = policy_from_rubric(rubric.path)
    results = {r.submission: apply_manual(r, book.manual_scores(r.submission))
               for r in book.summaries(rubric.id)}
    rows: list[GradeRow] = []
    problems: list[str] = []
    unknown_times = 0
    awaiting: Counter[str] = Counter()
    roster = sorted(book.roster(), key=lambda e: (e.name.lower(), e.student))
    for entry in roster:
        who = f"{entry.name or entry.student} ({entry.student})"
        grade: float | None = None
        feedback = ""
        result = results.get(entry.submission) if entry.submission else None
        if not entry.submission:
            problems.append(f"{who}: nothing submitted: grade left blank")
        elif result is None:
            problems.append(f"{who}: roster line names submission {entry.submission!r}, which matches no graded "
                            "submission: grade left blank")
        elif result.grading_status != "complete":
            problems.append(f"{who}: grader failure on {entry.submission} ({result.grading_status}): "
                            "grade left blank, regrade first")
        else:
            try:
                late = student_lateness(entry, policy)
            except DeadlineError as exc:
                late = None
                problems.append(f"{who}: {exc}: grade left blank")
            if late is not None:
                if late.status is LateStatus.UNKNOWN and entry.late_mark:
                    problems.append(f"{who}: marked {entry.late_mark} by the course system but roster.csv has no "
                                    "submitted_at: grade left blank (fill in the time to apply the penalty)")
                else:
                    if late.status is LateStatus.NO_DEADLINE and entry.late_mark:
                        problems.append(f"{who}: marked {entry.late_mark} by the course system, but the rubric has "
                                        "no [deadline]: exported without a penalty")
                    unknown_times += late.status is LateStatus.UNKNOWN
                    penalised = late.status in (LateStatus.LATE, LateStatus.ZERO)
                    grade = late.apply(result.score, result.max_score) if penalised else result.score
                    feedback = _feedback(result, grade, penalised, late.summary)
                    awaiting.update(t.id for t in result.tasks if t.status is Status.MANUAL)
        rows.append(GradeRow(entry.name, entry.student if entry.source == "canvas" else "", entry.sis_user_id,
                             entry.sis_login_id, entry.section, entry.email, grade, feedback))
    if unknown_times and policy is not None:
        problems.append(f"{unknown_times} submission(s) have no recorded time and no late mark: "
                        "exported without a late penalty")
    for task, n in sorted(awaiting.items()):
        problems.append(f"{task} is not yet scored by a TA for {n} student(s): it counts 0 in their grade "
                        "(grader manual, then export again)")
    in_roster = {e.submission for e in roster}
    for sub in sorted(set(results) - in_roster):
        problems.append(f"graded submission {sub!r} has no roster line: not exported")
    return rows, problems


def export_grades(fmt: str, out: Path, rubric: Rubric, *, roster: Path | None = None,
                  assignment: str | None = None, assignment_id: str | None = None,
                  points_possible: bool = True, identity: str = "email",
                  target: Path | None = None) -> ExportResult:
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
    path = out / GRADEBOOK_FILE
    if not path.is_file():
        raise ExportError(f"{out} has no {GRADEBOOK_FILE}: grade the submissions into it first")
    with Gradebook(path) as book:
        source = roster or (Path(book.roster_source() or "") if book.roster_source() else None)
        if source is not None and source.is_file():
            sync_roster(book, source)  # a TA's latest edits (an extension) count
        elif roster is not None:
            raise ExportError(f"{roster}: no such roster file")
        if not book.roster():
            raise ExportError(f"{path} holds no roster: grade a folder written by `grader import` "
                              "(it has roster.csv), or pass --roster")
        rows, problems = grade_rows(book, rubric)
        name = assignment or rubric.title
        if fmt == "canvas":
            column = f"{name} ({assignment_id})" if assignment_id else name
            maximum = sum(t.points for t in rubric.tasks)
            text = canvas_csv_text(rows, column, maximum if points_possible else None)
        else:
            missing = [r for r in rows if not moodle_identity(r, identity)]
            for r in missing:
                problems.append(f"{r.name or '(no name)'}: no {identity} in the roster: left out of the Moodle file "
                                "(add it to roster.csv)")
            text = moodle_csv_text([r for r in rows if moodle_identity(r, identity)], identity, name)
        result = ExportResult(target or out / f"{fmt}-grades.csv", rows, problems)
        write_text_atomic(result.path, text)
        write_text_atomic(out / f"{fmt}-export-report.txt", "\n".join(problems) + ("\n" if problems else ""))
        # the pages show the lateness the export applied (only roster submissions have any to show)
        late = lateness_by_submission(book, rubric)
        for sub in sorted(set(late) & set(book.submissions(rubric.id))):
            rewrite_submission(out, book, sub, rubric.id, late[sub])
        refresh_pages(out, rubric, book)
    return result
