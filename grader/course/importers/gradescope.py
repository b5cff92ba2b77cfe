"""Gradescope's "Export Submissions" (Assignment > Review Grades > Export Submissions).

The zip holds a folder per active submission, `submission_<id>/`, with the files as uploaded,
and `submission_metadata.yml` (the whole export perhaps wrapped in `assignment_<id>_export/`).
The metadata is YAML written by Ruby, so its keys are symbols spelled with a leading colon:

    submission_409194023:
      :submitters:
      - :name: First Last
        :sid: '123456789'
        :email: first@example.edu
      :created_at: 2026-04-26 17:34:00.861687000 Z
      :score: 2.0
      :history: [...]          # earlier submissions (their files are not in the export)

It is parsed with `yaml.safe_load_all` (never `yaml.load`: the file carries student-controlled
text), and a file split into several documents by `...` lines is merged. Plain keys without
colons are read too. A group submission lists several submitters: each gets a roster line and
they share one submission folder. `:created_at:` is the submission time; the export has no late
marker of its own that we rely on. (Key names beyond `:submitters:`, `:created_at:` and
`:history:` are not used; the format is documented by example only, so treat it as observed
rather than specified.)
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from grader.course.importers.download import read_download
from grader.course.importers.model import Harvest, Harvested, Issue, IssueKind, Upload
from grader.course.roster import RosterEntry, RosterError
from grader.lateness import DeadlineError, parse_instant

METADATA = "submission_metadata.yml"


def _get(record: dict[str, Any], key: str) -> Any:
    return record.get(f":{key}", record.get(key))


def load_metadata(text: str, where: str) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    # Gradescope's file has been seen split by bare `...` lines with no `---` after them, which a
    # YAML parser rejects as one stream: each part is read on its own and the parts merged
    documents: list[Any] = []
    try:
        for part in re.split(r"(?m)^\.\.\.[ \t]*$", text):
            documents.extend(yaml.safe_load_all(part))
    except yaml.YAMLError as exc:
        raise RosterError(f"{where}: not readable YAML ({exc})") from None
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise RosterError(f"{where}: expected a mapping of submission folders, got {type(document).__name__}")
        for key, record in document.items():
            if str(key) in merged:
                raise RosterError(f"{where}: {key} appears twice")
            if isinstance(record, dict):
                merged[str(key)] = record
    return merged


def _instant(value: Any, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_instant(value if isinstance(value, datetime) else str(value), where=where)
    except DeadlineError:
        return None


def read(download: Path, **_: object) -> Harvest:
    harvest = Harvest()
    refused: list[str] = []
    entries = read_download(download, refused)
    harvest.issues.extend(Issue(IssueKind.REFUSED, "", r) for r in refused)
    meta_entries = [e for e in entries if e.path.name == METADATA]
    if len(meta_entries) != 1:
        raise RosterError(f"{download}: expected one {METADATA} in Gradescope's export, found {len(meta_entries)}")
    root = meta_entries[0].path.parent
    metadata = load_metadata(meta_entries[0].read().decode("utf-8", "replace"), f"{download}: {meta_entries[0].path}")
    by_folder: dict[str, list[tuple[PurePosixPath, Any]]] = {}
    for entry in entries:
        if entry is meta_entries[0]:
            continue
        try:
            rel = entry.path.relative_to(root)
        except ValueError:
            rel = None
        if rel is None or len(rel.parts) < 2 or rel.parts[0] not in metadata:
            harvest.issues.append(Issue(IssueKind.STRAY, "", f"{entry.path}: in no submission folder listed in "
                                        f"{METADATA}: belongs to no student"))
            continue
        by_folder.setdefault(rel.parts[0], []).append((PurePosixPath(*rel.parts[1:]), entry))
    for folder, record in metadata.items():
        submitters = [s for s in (_get(record, "submitters") or []) if isinstance(s, dict)]
        when = _instant(_get(record, "created_at"), f"{METADATA}: {folder}")
        people = []
        for person in submitters:
            sid = str(_get(person, "sid") or "").strip()
            email = str(_get(person, "email") or "").strip()
            name = str(_get(person, "name") or "").strip()
            people.append(RosterEntry(student=sid or email or name or folder, name=name, email=email,
                                      sis_user_id=sid, submitted_at=when, source="gradescope"))
        if not people:
            harvest.issues.append(Issue(IssueKind.STRAY, "", f"{folder}: no submitter in {METADATA}; not imported"))
            continue
        first = people[0]
        slug = re.sub(r"[^\w]+", "-", first.name).strip("-") or "student"
        student = Harvested(first, slug=f"{slug}_{first.sis_user_id or folder.rsplit('_', 1)[-1]}", members=people[1:])
        history = _get(record, "history") or []
        if isinstance(history, list) and history:
            student.issues.append(Issue(IssueKind.RESUBMISSION, first.student, f"{len(history)} earlier submission(s) "
                                        f"on Gradescope; the export holds the active one ({folder})"))
        if when is None:
            student.issues.append(Issue(IssueKind.TIME_UNKNOWN, first.student, f"{folder}: no readable :created_at:"))
        for rel, entry in by_folder.get(folder, []):
            student.uploads.append(Upload(str(rel), entry.read(), str(entry.path)))
        harvest.students.append(student)
    return harvest
