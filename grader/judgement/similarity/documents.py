"""A submission's code as text: the files the rubric names, and a notebook's code cells.

Only read, never run. A folder or zip is copied or unpacked with the same safeguards as for
grading (grader/execution/workspace.py: no links followed, no paths outside, size limits), and a
module left in the wrong folder is still read from where the student put it, since a copy is a
copy wherever it sits.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.execution.workspace import SubmissionError, prepare

MAX_CODE_CHARS = 400_000  # per file: far beyond any homework; a generated blob is not worth comparing


@dataclass(frozen=True)
class CodeDocument:
    path: str  # as the rubric names it (or where the student put it)
    text: str


def notebook_code(raw: str) -> str:
    """The code cells of a notebook, one after the other, each headed by a comment naming it."""
    nb = nbformat.reads(raw, as_version=nbformat.NO_CONVERT)
    if nb.get("nbformat", 4) < 4:
        nb = nbformat.convert(nb, 4)
    parts = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") == "code" and str(cell.get("source", "")).strip():
            parts.append(f"# --- cell {number} ---\n{cell.source}")
    return "\n\n".join(parts) + ("\n" if parts else "")


def read_code(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    return (notebook_code(raw) if path.suffix == ".ipynb" else raw)[:MAX_CODE_CHARS]


def code_paths(root: Path, files: tuple[str, ...]) -> list[tuple[str, Path]]:
    """Where each file the rubric names is read from, in the rubric's order: `root / rel`, or where
    the student put a file of that name (the first one found)."""
    found = []
    for rel in files:
        path = root / rel
        if not path.is_file():
            moved = sorted(p for p in root.rglob(Path(rel).name) if p.is_file())
            if not moved:
                continue
            path = moved[0]
        found.append((rel, path))
    return found


def documents_in(root: Path, files: tuple[str, ...], notes: list[str]) -> list[CodeDocument]:
    """The code files of a laid-out folder (a submission's root, or the starter), in the rubric's order."""
    docs = []
    for rel, path in code_paths(root, files):
        if path != root / rel:
            notes.append(f"{rel} read from {path.relative_to(root)}")
        try:
            docs.append(CodeDocument(str(path.relative_to(root)), read_code(path)))
        except (OSError, ValueError, nbformat.ValidationError) as exc:  # a broken notebook: nothing to compare
            notes.append(f"{rel} unreadable as code ({type(exc).__name__})")
    return docs


def submission_documents(source: Path, files: tuple[str, ...]) -> tuple[list[CodeDocument], list[str]]:
    """Read a submission folder or zip; returns its code documents and notes for the TA."""
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        try:
            workspace = prepare(source, Path(tmp), files)
        except SubmissionError as exc:
            return [], [str(exc)]
        notes.extend(workspace.notes)
        return documents_in(workspace.root, files, notes), notes
