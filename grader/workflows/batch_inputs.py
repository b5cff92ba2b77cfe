"""A batch's own inputs checked before anything is graded: the folders, the rubric, the gradebook, the ids.

A bad submission never stops a batch (it gets a result that says what is wrong with it). A bad
*batch* does: the wrong rubric, the repository root, an empty folder or an output folder that
would be graded as a submission next time all turn a whole class into zeros or lose work, so
the batch refuses before it starts and says what it expected and where. What can be graded
safely but deserves a word (two submissions with one name, a name that is not a safe file name)
is graded and reported as a note.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.execution.workspace import discover, submission_id
from grader.judgement.rubric import Rubric, rubrics_dirs
from grader.workflows import UsageProblem

# files that make a folder a project (the grader's own checkout, a course repository), never a class
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
# characters that are not safe in a file name on every system a report folder may be copied to
_UNSAFE_CHARS = re.compile(r'[\\/:*?"<>|]')
MAX_ID_LENGTH = 100


class BatchInputError(UsageProblem):
    """The batch cannot start: its folders, rubric or gradebook are not what `grader grade` needs."""


@dataclass
class BatchPlan:
    """What the batch grades: submission id -> its folder or zip, and notes for the TA."""

    ids: dict[str, Path]
    notes: list[str] = field(default_factory=list)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_folders(submissions: Path, out: Path) -> None:
    """SUBMISSIONS is a folder; OUT and SUBMISSIONS do not hold one another."""
    if not submissions.exists():
        raise BatchInputError(f"{submissions}: no such folder; expected a folder holding one folder or .zip per "
                              "student")
    if not submissions.is_dir():
        hint = (f"; to grade this one file, put it in a folder of its own, or check it with `grader check "
                f"{submissions}`") if submissions.suffix.lower() == ".zip" else ""
        raise BatchInputError(f"{submissions} is a file; expected a folder holding one folder or .zip per "
                              f"student{hint}")
    if out.exists() and not out.is_dir():
        raise BatchInputError(f"--out {out} is a file; expected a folder (new or from an earlier run) for the "
                              "reports and the gradebook")
    subs, dest = submissions.resolve(), out.resolve()
    if _inside(dest, subs):
        raise BatchInputError(f"--out {out} is inside the submissions folder {submissions}: the reports would be "
                              "graded as a student's submission on the next run, and the originals must never "
                              "be written to. Choose an output folder outside it, e.g. --out "
                              f"{subs.parent / 'reports'}")
    if _inside(subs, dest):
        raise BatchInputError(f"the submissions folder {submissions} is inside --out {out}, where the grader "
                              "writes a folder per student: the originals could be overwritten. Move the "
                              "submissions out of it or choose another --out")


def _expected(rubric: Rubric) -> tuple[str, ...]:
    return tuple(rubric.files.values())


def _holds(source: Path, names: set[str]) -> bool | None:
    """Whether a submission holds a file with one of `names`, anywhere; None when it cannot be read."""
    try:
        if source.is_dir():
            return any(name in names for _, _, files in os.walk(source) for name in files)
        with zipfile.ZipFile(source) as archive:
            return any(Path(n).name in names for n in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return None


def check_not_a_project_or_one_submission(submissions: Path, rubric: Rubric) -> None:
    """The folder of a class, not the repository root nor one student's own folder."""
    markers = [m for m in PROJECT_MARKERS if (submissions / m).is_file()]
    if markers:
        raise BatchInputError(f"{submissions} looks like a project's root folder (it holds {', '.join(markers)}), "
                              "not a folder of submissions: give the folder that holds one folder or .zip per "
                              "student, e.g. submissions/")
    own = [rel for rel in _expected(rubric) if (submissions / rel).is_file()]
    # a student's own folder: its sub-folders are parts of its layout (cattern/), not students
    layout = {Path(rel).parts[0] for rel in _expected(rubric) if len(Path(rel).parts) > 1}
    students = [p for p in discover(submissions) if p.name not in layout]
    names = {Path(rel).name for rel in _expected(rubric)}
    if own and not any(_holds(p, names) for p in students):
        raise BatchInputError(f"{submissions} holds {', '.join(own)} itself: it looks like one student's "
                              "submission, not a folder of them. Give the folder that holds one folder or .zip "
                              f"per student, or check this one with `grader check {submissions}`")


def check_not_empty(submissions: Path, found: list[Path]) -> None:
    if found:
        return
    others = sorted(p.name for p in submissions.iterdir() if not p.name.startswith("."))
    listed = f" (it holds only: {', '.join(others[:5])}{', ...' if len(others) > 5 else ''})" if others else ""
    raise BatchInputError(f"{submissions} holds no submission{listed}: expected one folder or .zip per student")


def _rubric_guesses(found: list[Path], current: str) -> list[str]:
    """Other rubrics (from --rubric's search path) whose files these submissions do hold."""
    guesses = []
    for base in rubrics_dirs():
        for toml in sorted(base.glob("*/rubric.toml")) if base.is_dir() else []:
            try:
                data = tomllib.loads(toml.read_text(encoding="utf-8"))
                files = {Path(str(v)).name for v in data.get("files", {}).values()}
                name = str(data.get("assignment", {}).get("id", toml.parent.name))
            except (OSError, ValueError, AttributeError):
                continue
            if name != current and files and any(_holds(p, files) for p in found[:20]):
                guesses.append(toml.parent.name)
    return guesses


def check_rubric_matches(found: list[Path], rubric: Rubric) -> None:
    """At least one submission holds a file the rubric expects, else it is the wrong rubric."""
    names = {Path(rel).name for rel in _expected(rubric)}
    if not names:
        return
    readable = 0
    for source in found:
        holds = _holds(source, names)
        if holds:
            return
        readable += holds is not None
    if readable == 0:  # every one is an unreadable zip: grading says so, one result each
        return
    guesses = _rubric_guesses(found, rubric.id)
    hint = (f"; these look like work for --rubric {' or '.join(guesses)}" if guesses
            else "; is this the right --rubric?")
    raise BatchInputError(f"none of the {len(found)} submission(s) holds any file rubric {rubric.id!r} expects "
                          f"({', '.join(_expected(rubric))}), so every one would grade to zero{hint}")


def check_gradebook_rubric(out: Path, rubric: Rubric) -> None:
    """OUT's gradebook, reports and exports belong to one assignment."""
    from grader.store import GRADEBOOK_FILE  # orchestration, like this module

    path = out / GRADEBOOK_FILE
    if not path.is_file():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            others = sorted({row[0] for row in db.execute("SELECT DISTINCT rubric FROM runs")} - {rubric.id})
    except sqlite3.DatabaseError as exc:
        raise BatchInputError(f"{path} is not a readable gradebook ({exc}); choose another --out, or move it "
                              "away to start afresh") from None
    if others:
        raise BatchInputError(f"{path} holds grades for rubric {', '.join(others)}, not {rubric.id!r}: grading "
                              f"into {out} would overwrite that assignment's reports and exports. Choose another "
                              f"--out for {rubric.id!r}, or pass the rubric that folder was graded with")


def safe_id(name: str) -> str | None:
    """`name` when it is safe as a file name, a URL part and a CSV cell everywhere; else None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (the OS hands them over as surrogates)
        return None
    if (not name or len(name) > MAX_ID_LENGTH or name in (".", "..") or name[0] in "-. " or name[-1] in ". "
            or _UNSAFE_CHARS.search(name) or any(unicodedata.category(c).startswith("C") for c in name)):
        return None
    return name


def _made_safe(name: str) -> str:
    """A stable safe id for an unsafe name: its safe characters plus a digest of the original name."""
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    text = name.encode("utf-8", "replace").decode("utf-8")  # bytes that are not UTF-8 become '?'
    kept = "".join("_" if _UNSAFE_CHARS.match(c) or unicodedata.category(c).startswith("C") else c for c in text)
    kept = kept.strip("-. _")[:60]
    return f"{kept}-{digest}" if kept else f"submission-{digest}"


def assign_ids(found: list[Path], reserved: frozenset[str]) -> BatchPlan:
    """One id per submission: its folder or zip name, kept unique, safe and clear of the class pages."""
    plan = BatchPlan({})
    stems = [submission_id(p) for p in found]
    for stem, source in zip(stems, found, strict=True):
        wanted = stem if stems.count(stem) == 1 else source.name
        if wanted != stem:
            twins = [p.name + ("/" if p.is_dir() else "") for p in found if submission_id(p) == stem]
            plan.notes.append(f"two submissions are named {stem!r} ({', '.join(twins)}): "
                              f"{source.name} is graded as {wanted!r}. If one is an older hand-in, move it out "
                              "of the folder and run again")
        sub_id = safe_id(wanted)
        if sub_id is None:
            sub_id = _made_safe(wanted)
            plan.notes.append(f"{wanted!r} is not a safe file name: graded as {sub_id!r}")
        if sub_id in reserved:
            sub_id = f"{sub_id}-submission"
            plan.notes.append(f"{wanted!r} is the name of a class page: graded as {sub_id!r}")
        plan.ids[sub_id] = source
    return plan


def plan_batch(submissions: Path, out: Path, rubric: Rubric, reserved: frozenset[str]) -> BatchPlan:
    """Check the batch's inputs; the ids to grade and the notes, or a `BatchInputError` saying what is wrong."""
    check_folders(submissions, out)
    check_not_a_project_or_one_submission(submissions, rubric)
    found = discover(submissions)
    check_not_empty(submissions, found)
    check_gradebook_rubric(out, rubric)
    check_rubric_matches(found, rubric)
    return assign_ids(found, reserved)
