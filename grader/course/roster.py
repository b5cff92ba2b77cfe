"""The roster: who each submission belongs to in the course system, when it was handed in, and
the student's extension.

`grader import` writes it as `roster.csv` next to the submission folders; a TA edits it (an
extension, an email the download did not carry, a submission time read off the course system);
`grader grade` copies it into the gradebook; `grader export` joins grades through it. One line
a student: a student who handed in nothing has a line with an empty `submission`, and group
members share one submission.

Columns (header row required, any order; unknown columns are refused so a typo is not ignored):

    submission    the submission folder's name (empty: nothing submitted)
    student       the course system's id for the student (Canvas user id, Moodle participant id,
                  GitHub username, Gradescope SID or email): unique
    name, email, sis_user_id, sis_login_id, section    identity, as the course system spells it
    submitted_at  ISO 8601 with an offset (2025-03-14T22:59:00+00:00); empty when unknown
    late_mark     what the course system said about lateness (Canvas's LATE)
    extension     2d, 36h, or the student's own due date (ISO 8601 with an offset)
    source        which import wrote the line (canvas, moodle, github, gradescope)
    notes         anything the import wanted a TA to see
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

from grader.lateness import DeadlineError, parse_instant
from grader.presentation.atomic import write_text_atomic

ROSTER_FILE = "roster.csv"


class RosterError(ValueError):
    """A roster file that cannot be read; the message names the file, the line and the column."""


@dataclass(frozen=True)
class RosterEntry:
    student: str
    submission: str = ""
    name: str = ""
    email: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    submitted_at: datetime | None = None
    late_mark: str = ""
    extension: str = ""
    source: str = ""
    notes: str = ""

    def to_row(self) -> dict[str, str]:
        row = {k: ("" if v is None else str(v)) for k, v in asdict(self).items()}
        row["submitted_at"] = self.submitted_at.astimezone(UTC).isoformat() if self.submitted_at else ""
        return row

    def with_(self, **changes: object) -> RosterEntry:
        return replace(self, **changes)  # type: ignore[arg-type]


COLUMNS = [f.name for f in fields(RosterEntry)]


def entry_from_row(row: dict[str, str], where: str) -> RosterEntry:
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    if not values["student"]:
        raise RosterError(f"{where}: the column student is empty (the course system's id for the student)")
    when = None
    if values["submitted_at"]:
        try:
            when = parse_instant(values["submitted_at"], where=f"{where}: submitted_at")
        except DeadlineError as exc:
            raise RosterError(str(exc)) from None
    return RosterEntry(**{**values, "submitted_at": when})  # type: ignore[arg-type]


def roster_csv_text(entries: list[RosterEntry]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in sorted(entries, key=lambda e: (e.submission == "", e.submission, e.student)):
        writer.writerow(entry.to_row())
    return buf.getvalue()


def course_csv(path: Path, required: set[str], what: str) -> csv.DictReader:
    """A course system's CSV export (a spreadsheet's BOM tolerated), refused as not `what` when one of
    the `required` columns is missing; the importers read their course rosters through it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    if not required <= set(reader.fieldnames or []):
        raise RosterError(f"{path}: not {what}")
    return reader


def read_roster(path: Path) -> list[RosterEntry]:
    """Every line of a roster.csv, checked: unique students, readable times, known columns."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in COLUMNS]
    if "student" not in header or unknown:
        raise RosterError(f"{path}: expected the columns {', '.join(COLUMNS)}"
                          + (f"; unknown: {', '.join(unknown)}" if unknown else "; student is missing"))
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        entry = entry_from_row(row, f"{path}, line {number}")
        if entry.student in seen:
            raise RosterError(f"{path}, line {number}: student {entry.student!r} is already on "
                              f"line {seen[entry.student]}")
        seen[entry.student] = number
        entries.append(entry)
    return entries


def write_roster(path: Path, entries: list[RosterEntry]) -> None:
    write_text_atomic(path, roster_csv_text(entries))


def merge_ta_edits(fresh: list[RosterEntry], previous: list[RosterEntry]) -> list[RosterEntry]:
    """A re-import keeps what a TA typed into the old roster: extensions always; an email, SIS ids
    or a submission time only where the new download has none."""
    old = {e.student: e for e in previous}
    merged = []
    for entry in fresh:
        before = old.get(entry.student)
        if before is not None:
            entry = entry.with_(
                extension=entry.extension or before.extension,
                email=entry.email or before.email,
                sis_user_id=entry.sis_user_id or before.sis_user_id,
                sis_login_id=entry.sis_login_id or before.sis_login_id,
                section=entry.section or before.section,
                submitted_at=entry.submitted_at or before.submitted_at,
            )
        merged.append(entry)
    return merged
