"""`grader import FORMAT DOWNLOAD --out SUBMISSIONS`: a course system's bulk download turned into
one folder per student in the rubric's layout, a roster.csv, and an import report.

The download is only read. Each importer (one module per course system) reads identities,
times and files; layout.py places the files; this module writes the folders and the roster
and collects every issue into `import-report.txt` next to them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.course.importers import canvas, github_classroom, gradescope, moodle
from grader.course.importers.layout import place
from grader.course.importers.model import Harvest, Issue, IssueKind
from grader.course.roster import ROSTER_FILE, RosterEntry, merge_ta_edits, read_roster, write_roster
from grader.judgement.rubric import Rubric
from grader.lateness import policy_from_rubric
from grader.presentation.atomic import write_bytes_atomic, write_text_atomic

REPORT_FILE = "import-report.txt"
FORMATS: dict[str, Callable[..., Harvest]] = {
    "canvas": canvas.read,
    "moodle": moodle.read,
    "github": github_classroom.read,
    "gradescope": gradescope.read,
}
_RESERVED = {"index.html", "grades.csv", "junit.xml", "roster.csv", REPORT_FILE}


class ImportRefused(Exception):
    """The import cannot start (unknown format, an output folder that is not an import's)."""


@dataclass
class ImportResult:
    out: Path
    roster: list[RosterEntry] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # submission folders

    @property
    def report_path(self) -> Path:
        return self.out / REPORT_FILE


def _folder_name(slug: str, used: set[str]) -> str:
    base = re.sub(r"[^\w.-]+", "-", slug).strip("-._") or "student"
    name, n = base, 2
    while name in used or name in _RESERVED:
        name, n = f"{base}-{n}", n + 1
    used.add(name)
    return name


def _safe(rel: str) -> bool:
    path = PurePosixPath(rel)
    return not path.is_absolute() and ".." not in path.parts and bool(path.parts)


def report_text(result: ImportResult, fmt: str, download: Path) -> str:
    lines = [f"grader import {fmt} {download}", f"{len(result.written)} submission folder(s), "
             f"{len(result.roster)} roster line(s), {len(result.issues)} issue(s)", ""]
    by_kind: dict[IssueKind, list[Issue]] = {}
    for issue in result.issues:
        by_kind.setdefault(issue.kind, []).append(issue)
    for kind in IssueKind:
        for issue in by_kind.get(kind, []):
            lines.append(str(issue))
    return "\n".join(lines) + "\n"


def import_download(fmt: str, download: Path, out: Path, rubric: Rubric, *, course_roster: Path | None = None,
                    timezone: str | None = None) -> ImportResult:
    """Read `download` (never writing to it) and lay it out in `out` for `grader grade`."""
    if fmt not in FORMATS:
        raise ImportRefused(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    roster_path = out / ROSTER_FILE
    if out.exists() and any(out.iterdir()) and not roster_path.is_file():
        raise ImportRefused(f"{out} is not empty and holds no {ROSTER_FILE}: import into a new folder "
                           "(or one an earlier import wrote)")
    if out.resolve() == download.resolve() or download.resolve() in out.resolve().parents:
        raise ImportRefused("--out must not be inside the download: the download is never modified")
    previous = read_roster(roster_path) if roster_path.is_file() else []
    harvest = FORMATS[fmt](download, course_roster=course_roster, timezone=timezone,
                           policy=policy_from_rubric(rubric.path), previous={e.student: e for e in previous})
    result = ImportResult(out, issues=list(harvest.issues))
    out.mkdir(parents=True, exist_ok=True)
    for old in {e.submission for e in previous if e.submission}:  # folders an earlier import wrote
        if (out / old).is_dir():
            shutil.rmtree(out / old)
    used: set[str] = set()
    fresh: list[RosterEntry] = []
    for student in sorted(harvest.students, key=lambda s: (s.slug, s.entry.student)):
        result.issues.extend(student.issues)
        key = student.entry.student
        if not student.uploads:
            result.issues.append(Issue(IssueKind.NOTHING, key, "handed in nothing: no submission folder; "
                                       "the export leaves the grade blank"))
            fresh.extend([student.entry.with_(submission=""), *(m.with_(submission="") for m in student.members)])
            continue
        placed = place(student.uploads, rubric.files, key)
        result.issues.extend(placed.issues)
        name = _folder_name(student.slug, used)
        for rel, data in sorted(placed.files.items()):
            if not _safe(rel):
                result.issues.append(Issue(IssueKind.REFUSED, key, f"{rel}: outside the submission, not written"))
                continue
            write_bytes_atomic(out / name / rel, data)
        result.written.append(name)
        fresh.extend([student.entry.with_(submission=name), *(m.with_(submission=name) for m in student.members)])
    unique: dict[str, RosterEntry] = {}
    for entry in fresh:
        if entry.student in unique:
            result.issues.append(Issue(IssueKind.AMBIGUOUS, entry.student, f"appears in two submissions "
                                       f"({unique[entry.student].submission or 'none'}, {entry.submission or 'none'}): "
                                       "the roster keeps the first; fix roster.csv by hand"))
            continue
        unique[entry.student] = entry
    merged = merge_ta_edits(list(unique.values()), previous)
    present = {e.student for e in merged}
    for gone in (e for e in previous if e.student not in present):
        result.issues.append(Issue(IssueKind.NOT_IN_ROSTER, gone.student, "was in the previous roster.csv but is not "
                                   "in this download: its line is kept without a submission"))
        merged.append(gone.with_(submission=""))
    result.roster = merged
    write_roster(roster_path, merged)
    write_text_atomic(result.report_path, report_text(result, fmt, download))
    return result
