"""Lateness for a graded class: the gradebook's roster joined with the rubric's deadline.

Called whenever pages or exports are drawn, so it always reflects the rubric and roster as
they are now; nothing it computes is stored with the results.
"""

from __future__ import annotations

from pathlib import Path

from grader.course.roster import RosterEntry, read_roster
from grader.judgement.rubric import Rubric
from grader.lateness import Lateness, LatePolicy, assess, policy_from_rubric
from grader.store import Gradebook


def sync_roster(book: Gradebook, path: Path) -> list[RosterEntry]:
    """Copy roster.csv into the gradebook (replacing the roster there) and remember where it lives."""
    entries = read_roster(path)
    book.set_roster(entries, str(path.resolve()))
    return entries


def student_lateness(entry: RosterEntry, policy: LatePolicy | None) -> Lateness:
    note = ""
    if entry.submitted_at is None:
        note = ("the course system marked it " + entry.late_mark) if entry.late_mark else "the download has no time"
    return assess(policy, entry.submitted_at, entry.extension, unknown_note=note)


def lateness_by_submission(book: Gradebook, rubric: Rubric) -> dict[str, Lateness]:
    """Each submission's lateness (a group's: its first member's line). Empty without a roster."""
    roster = book.roster()
    if not roster:
        return {}
    policy = policy_from_rubric(rubric.path)
    result: dict[str, Lateness] = {}
    for entry in roster:
        if entry.submission and entry.submission not in result:
            result[entry.submission] = student_lateness(entry, policy)
    return result
