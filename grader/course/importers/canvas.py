"""Canvas "Download Submissions": one zip, every file flattened into the zip's root.

Canvas names each file (lib/content_zipper.rb, `get_filename` and `add_upload_submission`):

    <name>[_LATE]_<user id>_<attachment id>_<file name as uploaded>
    <name>[_LATE]_<user id>_text.html   and   ..._link.html   (text entry and URL submissions)

`<name>` is the student's sortable name ("Smith, Bob") lower-cased with every non-word character
removed (`smithbob`); `_<digits>_` inside a name is collapsed so the ids can be found. `LATE` is
added when Canvas itself counts the submission late (against Canvas's due date and overrides).
Anonymous grading replaces name and id by `anon_<anonymous id>`. A file name a student uploads a
second time gets `-1` (then `-2`...) before its extension (Attachment.make_unique_filename). The
download holds only each student's latest submission, and no submission time: the zip entries'
times are when the zip was made. Older Canvas versions lower-cased `late` too; both are read.

The optional course roster is Canvas's own gradebook export (Grades > Export): `Student, ID,
SIS User ID, SIS Login ID, Section, ...`, perhaps with a "Points Possible" row. It supplies the
identity columns the gradebook import needs, and the students who handed in nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.course.importers.download import read_download
from grader.course.importers.model import Harvest, Harvested, Issue, IssueKind, Upload
from grader.course.roster import RosterEntry, course_csv

_FILE = re.compile(r"^(?P<name>.*?)_?(?:(?P<late>LATE|late)_)?(?P<uid>\d+|anon_[A-Za-z0-9]+)_"
                   r"(?:(?P<att>\d+)_(?P<file>.+)|(?P<kind>text|link)\.html)$")
SKIP_ROWS = {"points possible", "student, test"}  # Canvas's own extra rows, not students


def parse_name(filename: str) -> dict[str, str] | None:
    match = _FILE.match(filename)
    if not match:
        return None
    return {k: v or "" for k, v in match.groupdict().items()}


def read_course_roster(path: Path) -> dict[str, RosterEntry]:
    """Canvas's gradebook export, by Canvas user id."""
    reader = course_csv(path, {"Student", "ID"}, "a Canvas gradebook export (expected the columns Student, ID, "
                        "SIS User ID, SIS Login ID, Section)")
    entries: dict[str, RosterEntry] = {}
    for row in reader:
        name = (row.get("Student") or "").strip()
        uid = (row.get("ID") or "").strip()
        if not uid or name.lower() in SKIP_ROWS or name.lower().startswith("points possible"):
            continue
        entries[uid] = RosterEntry(student=uid, name=name, sis_user_id=(row.get("SIS User ID") or "").strip(),
                                   sis_login_id=(row.get("SIS Login ID") or "").strip(),
                                   section=(row.get("Section") or "").strip(), source="canvas")
    return entries


def read(download: Path, course_roster: Path | None = None, **_: object) -> Harvest:
    harvest = Harvest()
    refused: list[str] = []
    entries = read_download(download, refused)
    harvest.issues.extend(Issue(IssueKind.REFUSED, "", r) for r in refused)
    known = read_course_roster(course_roster) if course_roster else {}
    students: dict[str, Harvested] = {}
    for entry in entries:
        if len(entry.path.parts) > 1:
            harvest.issues.append(Issue(IssueKind.STRAY, "", f"{entry.path}: Canvas puts every file at the top of "
                                        "its zip; this one is in a folder, so it belongs to no student"))
            continue
        fields = parse_name(entry.path.name)
        if fields is None:
            harvest.issues.append(Issue(IssueKind.STRAY, "", f"{entry.path}: not a Canvas submission file name "
                                        "(<name>_<user id>_<attachment id>_<file>): belongs to no student"))
            continue
        uid = fields["uid"]
        student = students.get(uid)
        if student is None:
            base = known.get(uid) or RosterEntry(student=uid, name=fields["name"], source="canvas")
            slug = f"{fields['name'] or 'student'}_{uid}"
            student = students[uid] = Harvested(base.with_(source="canvas"), slug=slug)
        if fields["late"] and not student.entry.late_mark:
            student.entry = student.entry.with_(late_mark="LATE")
            student.issues.append(Issue(IssueKind.LATE, uid, "Canvas marked the submission LATE "
                                        "(against Canvas's own due date)"))
        if fields["kind"]:
            filename, order = f"{fields['kind']}.html", 0
        else:
            filename, order = fields["file"], int(fields["att"])
        student.uploads.append(Upload(filename, entry.read(), str(entry.path), order=order))
    for uid, student in students.items():
        if known and uid not in known:
            student.issues.append(Issue(IssueKind.NOT_IN_ROSTER, uid, f"user id {uid} is not in {course_roster}"))
    if students:
        harvest.issues.append(Issue(IssueKind.TIME_UNKNOWN, "", "Canvas's download carries no submission times: "
                                    "lateness is known only where Canvas wrote LATE; for a late penalty put "
                                    "submitted_at (from SpeedGrader) into roster.csv for those students"))
    harvest.students = list(students.values())
    harvest.students += [Harvested(e, slug=f"{e.student}") for uid, e in known.items() if uid not in students]
    return harvest
