"""Moodle's "Download all submissions" (assignment activity, mod/assign/classes/downloader.php).

With "Download submissions in folders" (the default since Moodle 3.1) every student gets a folder
per submission plugin, and the files keep their names and subfolders:

    Full Name_<participant id>_assignsubmission_file/neural_net.py        (Moodle 4.x)
    Full Name_<participant id>_assignsubmission_file_/neural_net.py       (Moodle 3.x: a trailing _)
    Full Name_<participant id>_assignsubmission_onlinetext/onlinetext.html

Without folders, the same prefix is glued to each file name (`..._assignsubmission_file_neural_net.py`).
The number is Moodle's participant id for this assignment (assign_user_mapping), not the user id;
the name is "Participant" under blind marking, and a group's name and id for team submissions.
The zip's entry times are when the zip was made (the zip writer is given no time), so the download
carries no submission time.

The optional course roster is the assignment's grading worksheet (View all submissions > Grading
action > Download grading worksheet): `Identifier` ("Participant 12345"), `Full name`, `Email
address`, `Status`, `Last modified (submission)`. It supplies emails (the grade import matches on
them), submission times and the students who handed in nothing. Its times are written in the
downloading user's time zone without an offset, in the user's language: give `--timezone`; an
English date such as "Friday, 14 March 2025, 11:59 PM" is read, anything else is reported (a guess
at the format, from Moodle's default strftimedatetime).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.course.importers.download import read_download
from grader.course.importers.model import Harvest, Harvested, Issue, IssueKind, Upload
from grader.course.roster import RosterEntry, course_csv
from grader.lateness import DeadlineError, parse_instant

_PREFIX = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_(?P<plugin>assignsubmission_[a-z0-9]+)(?:_(?P<rest>.*))?$")
_IDENT = re.compile(r"(\d+)\s*$")
_WORKSHEET_TIMES = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M")


def parse_folder(name: str) -> dict[str, str] | None:
    match = _PREFIX.match(name)
    return {k: v or "" for k, v in match.groupdict().items()} if match else None


def _worksheet_time(text: str, zone: str | None, where: str) -> datetime | None:
    text = text.strip()
    if not text or text == "-":
        return None
    for fmt in _WORKSHEET_TIMES:
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parse_instant(naive, zone=zone, where=where)
    raise DeadlineError(f"{where}: cannot read the time {text!r} (expected e.g. 'Friday, 14 March 2025, 11:59 PM')")


def read_course_roster(path: Path, zone: str | None, issues: list[Issue]) -> dict[str, RosterEntry]:
    """The grading worksheet, by participant id."""
    reader = course_csv(path, {"Identifier", "Full name"}, "a Moodle grading worksheet (expected the columns "
                        "Identifier, Full name, Email address, Last modified (submission))")
    entries: dict[str, RosterEntry] = {}
    for number, row in enumerate(reader, start=2):
        match = _IDENT.search(row.get("Identifier") or "")
        if not match:
            issues.append(Issue(IssueKind.STRAY, "", f"{path}, line {number}: no participant number in "
                                f"Identifier {row.get('Identifier')!r}"))
            continue
        pid = match.group(1)
        when = None
        try:
            when = _worksheet_time(row.get("Last modified (submission)") or "", zone, f"{path}, line {number}")
        except DeadlineError as exc:
            issues.append(Issue(IssueKind.TIME_UNKNOWN, pid, str(exc)))
        entries[pid] = RosterEntry(student=pid, name=(row.get("Full name") or "").strip(),
                                   email=(row.get("Email address") or "").strip(), submitted_at=when, source="moodle",
                                   notes=(row.get("Status") or "").strip())
    return entries


def read(download: Path, course_roster: Path | None = None, timezone: str | None = None, **_: object) -> Harvest:
    harvest = Harvest()
    refused: list[str] = []
    entries = read_download(download, refused)
    harvest.issues.extend(Issue(IssueKind.REFUSED, "", r) for r in refused)
    known = read_course_roster(course_roster, timezone, harvest.issues) if course_roster else {}
    students: dict[str, Harvested] = {}
    for entry in entries:
        fields = parse_folder(entry.path.parts[0])
        deep = len(entry.path.parts) > 1
        if fields is None or (not deep and not fields["rest"]):
            harvest.issues.append(Issue(IssueKind.STRAY, "", f"{entry.path}: not in a Moodle submission folder "
                                        "(<Full Name>_<id>_assignsubmission_<plugin>): belongs to no student"))
            continue
        pid = fields["pid"]
        student = students.get(pid)
        if student is None:
            base = known.get(pid) or RosterEntry(student=pid, name=fields["name"])
            slug = re.sub(r"[^\w]+", "-", fields["name"]).strip("-") or "participant"
            student = students[pid] = Harvested(base.with_(source="moodle"), slug=f"{slug}_{pid}")
        rel = PurePosixPath(*entry.path.parts[1:]) if deep else PurePosixPath(fields["rest"])
        student.uploads.append(Upload(str(rel), entry.read(), str(entry.path)))
    for pid, student in students.items():
        if known and pid not in known:
            student.issues.append(Issue(IssueKind.NOT_IN_ROSTER, pid, f"participant {pid} is not in {course_roster}"))
    if students and not known:
        harvest.issues.append(Issue(IssueKind.TIME_UNKNOWN, "", "Moodle's download carries no submission times "
                                    "or emails: pass the grading worksheet as --roster (and --timezone)"))
    harvest.students = list(students.values())
    harvest.students += [Harvested(e, slug=e.student) for pid, e in known.items() if pid not in students]
    return harvest
