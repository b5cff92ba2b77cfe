"""Putting one student's files where the rubric's `[files]` says the grader looks for them.

The rules, in order (each departure from a clean hand-in is reported):

1. A `.zip` the student handed in is unpacked in place (the grader refuses the same unsafe
   entries it refuses in a submitted zip); a single wrapping folder is stripped.
2. A file already at a `[files]` path stays there.
3. Otherwise a file with the expected name (ignoring case, and ignoring the `-N` Canvas adds to
   a re-uploaded file's name) is moved there. Several such files: the one uploaded last wins when
   the download says which (a resubmission); when it cannot say, none is chosen (ambiguous).
4. Otherwise the only file with the expected extension is moved there (`lab_v2.ipynb` as the
   notebook) when no other `[files]` entry shares that extension. Two candidates: none is chosen.
5. Every other file keeps the name the student gave it (a `best_net.pkl` next to the notebook
   is where the student put it); a file that lost a tie goes to `_unplaced/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TypeVar

from grader.course.importers.download import unpack_archive_bytes
from grader.course.importers.model import Issue, IssueKind, Upload

UNPLACED_DIR = "_unplaced"
T = TypeVar("T")
_MAX_LISTED = 8


@dataclass
class Placed:
    files: dict[str, bytes] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def extension(name: str) -> str:
    """The extension the way Canvas splits it when it renames a duplicate (`.tar.gz` is one)."""
    match = re.search(r"(\.[A-Za-z][A-Za-z0-9]*)*(\.[A-Za-z0-9]*)$", name)
    return match.group(0) if match else ""


def without_copy_suffix(name: str) -> tuple[str, int]:
    """`neural_net-1.py` -> (`neural_net.py`, 1): the number a course system adds to a file uploaded
    again under the same name (Canvas: `-1`; Moodle's file picker and browsers: ` (1)`)."""
    ext = extension(name)
    stem = name[: len(name) - len(ext)] if ext else name
    match = re.fullmatch(r"(.+?)(?:-(\d+)| \((\d+)\))", stem)
    return (match.group(1) + ext, int(match.group(2) or match.group(3))) if match else (name, 0)


def _expand_archives(uploads: list[Upload], expected: dict[str, str], student: str,
                     issues: list[Issue]) -> list[Upload]:
    expected_names = {PurePosixPath(p).name.lower() for p in expected.values()}
    out: list[Upload] = []
    for up in uploads:
        if not up.path.lower().endswith(".zip") or PurePosixPath(up.path).name.lower() in expected_names:
            out.append(up)
            continue
        refused: list[str] = []
        members = unpack_archive_bytes(up.data, up.origin, refused)
        issues.extend(Issue(IssueKind.REFUSED, student, r) for r in refused)
        if not members:
            out.append(up)
            continue
        members = _unwrap(members, set(expected.values()))
        out.extend(Upload(str(p), d, f"{up.origin} > {p}", up.order) for p, d in members)
    return out


def _unwrap(items: list[tuple[PurePosixPath, T]], expected_paths: set[str]) -> list[tuple[PurePosixPath, T]]:
    """Strip folders that wrap everything (`hw4/...`), as the grader does for a submitted zip."""
    while (items and not any(str(p) in expected_paths for p, _ in items)
           and all(len(p.parts) > 1 for p, _ in items) and len({p.parts[0] for p, _ in items}) == 1):
        items = [(PurePosixPath(*p.parts[1:]), d) for p, d in items]
    return items


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def place(uploads: list[Upload], expected: dict[str, str], student: str) -> Placed:
    """Lay out `uploads` as the rubric expects; `expected` is the rubric's `[files]` (name -> path)."""
    placed = Placed()
    issues = placed.issues
    items = _expand_archives(uploads, expected, student, issues)
    pool = [(str(p), u) for p, u in _unwrap([(PurePosixPath(u.path), u) for u in items], set(expected.values()))]
    assigned: dict[str, tuple[str, Upload]] = {}  # expected path -> (current path, upload)
    losers: list[tuple[str, Upload]] = []
    taken: set[int] = set()
    exts = [extension(PurePosixPath(rel).name).lower() for rel in expected.values()]
    ext_count = {e: exts.count(e) for e in exts}

    for key, rel in expected.items():
        want = PurePosixPath(rel).name
        exact = [i for i, (p, _) in enumerate(pool) if p == rel and i not in taken]
        if exact:
            taken.add(exact[0])
            assigned[rel] = pool[exact[0]]
            continue
        named = [i for i, (p, _) in enumerate(pool) if i not in taken
                 and without_copy_suffix(PurePosixPath(p).name)[0].lower() == want.lower()]
        if len(named) == 1:
            taken.add(named[0])
            assigned[rel] = pool[named[0]]
            issues.append(Issue(IssueKind.MOVED, student, f"{pool[named[0]][1].origin} placed at {rel} ({key})"))
            continue
        if len(named) > 1:
            def rank(i: int) -> tuple[int, int]:
                return pool[i][1].order, without_copy_suffix(PurePosixPath(pool[i][0]).name)[1]

            ranked = sorted(named, key=rank, reverse=True)
            best = pool[ranked[0]][1]
            others = [pool[i][1].origin for i in ranked[1:]]
            if rank(ranked[0]) != rank(ranked[1]):
                taken.update(named)
                assigned[rel] = pool[ranked[0]]
                losers.extend(pool[i] for i in ranked[1:])
                issues.append(Issue(IssueKind.RESUBMISSION, student,
                                    f"{len(named)} versions of {want}: used {best.origin} (uploaded last); "
                                    f"the earlier {_listing(others)} kept in {UNPLACED_DIR}/"))
            else:
                issues.append(Issue(IssueKind.AMBIGUOUS, student,
                                    f"{len(named)} candidates for {key} ({rel}): "
                                    f"{_listing([pool[i][1].origin for i in named])}; none placed there, "
                                    "move the right one by hand"))
            continue
        ext = extension(want).lower()
        if not ext or ext_count.get(ext, 0) != 1:
            continue
        by_ext = [i for i, (p, _) in enumerate(pool)
                  if i not in taken and extension(PurePosixPath(p).name).lower() == ext]
        if len(by_ext) == 1:
            taken.add(by_ext[0])
            assigned[rel] = pool[by_ext[0]]
            issues.append(Issue(IssueKind.MOVED, student, f"{pool[by_ext[0]][1].origin} taken as {key} and placed at "
                                f"{rel}: the only {ext} file (a guess from the extension)"))
        elif len(by_ext) > 1:
            issues.append(Issue(IssueKind.AMBIGUOUS, student,
                                f"{len(by_ext)} candidate {ext} files for {key} ({rel}): "
                                f"{_listing([pool[i][1].origin for i in by_ext])}; none placed there, "
                                "move the right one by hand"))

    for rel, (_, up) in assigned.items():
        placed.files[rel] = up.data
    unplaced = []
    loser_ids = {id(u) for _, u in losers}
    for i, (path, up) in enumerate(pool):
        if i in taken and id(up) not in loser_ids:
            continue
        target = path
        if id(up) in loser_ids or target in placed.files:
            target = f"{UNPLACED_DIR}/{PurePosixPath(up.origin.split(' > ')[-1]).name}"
            n = 1
            while target in placed.files:
                target = f"{UNPLACED_DIR}/{n}-{PurePosixPath(up.origin).name}"
                n += 1
        placed.files[target] = up.data
        if id(up) not in loser_ids and not (PurePosixPath(target).name == "__init__.py"
                                            and any(rel.startswith(str(PurePosixPath(target).parent) + "/")
                                                    for rel in expected.values())):
            unplaced.append(target)  # a package's __init__.py next to the module is part of the layout
    if unplaced:
        issues.append(Issue(IssueKind.UNPLACED, student,
                            f"{len(unplaced)} file(s) map to no [files] entry, kept under their own names: "
                            f"{_listing(sorted(unplaced))}"))
    return placed
