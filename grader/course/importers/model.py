"""What an importer reads out of a course system's download, and what it must report.

An importer only reads: it yields one `Harvested` per student (identity, submission time, the
files with the names the student gave them) and an `Issue` for everything it could not place.
Putting the files into the rubric's layout and writing the folders is shared (layout.py, run.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from grader.course.roster import RosterEntry


class IssueKind(enum.StrEnum):
    """Every way an import can be less than clean. None of them is ever silent."""

    STRAY = "stray"  # a file in the download that belongs to no student
    UNPLACED = "unplaced"  # a student's file that maps to no [files] entry (kept under its own name)
    AMBIGUOUS = "ambiguous"  # two candidates for one [files] entry
    NOTHING = "nothing submitted"  # a student with no file at all
    RESUBMISSION = "resubmission"  # several versions of a file or submission; which one was used
    MOVED = "moved"  # a file put at the rubric's path from another name or folder
    NOT_IN_ROSTER = "not in roster"  # a submission whose student the course roster does not list
    REFUSED = "refused"  # an unsafe entry (a path leaving the folder, a link) that was not copied
    LATE = "late mark"  # the course system marked the submission late
    TIME_UNKNOWN = "time unknown"  # the download carries no submission time for this student


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    student: str  # the student's id, or "" for the download itself
    message: str

    def __str__(self) -> str:
        who = f"{self.student}: " if self.student else ""
        return f"[{self.kind.value}] {who}{self.message}"


@dataclass(frozen=True)
class Upload:
    """One file a student handed in, under the path the student gave it (relative, POSIX)."""

    path: str
    data: bytes
    origin: str  # where it is in the download, for messages
    order: int = 0  # larger = uploaded later, where the download says (Canvas's attachment id)


@dataclass
class Harvested:
    """One student's part of a download."""

    entry: RosterEntry  # identity and submission time; `submission` is filled in by run.py
    uploads: list[Upload] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    slug: str = ""  # a readable base for the submission folder's name
    members: list[RosterEntry] = field(default_factory=list)  # group partners sharing the submission


@dataclass
class Harvest:
    students: list[Harvested] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # about the download itself (stray files)
