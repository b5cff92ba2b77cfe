"""Where in a submission a task's failure should be shown (CI annotations point there).

For an exception: the deepest frame in the student's own files (the traceback the sandbox
reports keeps only those). For a wrong value: the line where the graded function is defined
(`function` in the rubric, found with `ast`). For a written answer: the task's `## Tn` heading
in the answers file. Only the submission's own files are read, never run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.judgement.rubric import Rubric, TaskSpec
from grader.results import SubmissionResult, TaskResult

_FRAME = re.compile(r'^File "([^"]+)", line (\d+)')


@dataclass(frozen=True)
class Location:
    file: str | None  # relative to the submission's root
    line: int | None = None


def function_line(source: str, name: str, class_name: str | None = None) -> int | None:
    """The line of `def name` (inside `class_name` when given and present), or None."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    fallback = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name:
                    return item.lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name and fallback is None:
            fallback = node.lineno
    return fallback


def _heading_line(text: str, section: str) -> int | None:
    pattern = re.compile(rf"^\s*#+\s*{re.escape(section)}\b", re.IGNORECASE)
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _read(root: Path, relpath: str) -> str | None:
    path = root / relpath
    try:
        if path.is_file() and not path.is_symlink():
            return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return None


def locate(task: TaskResult, spec: TaskSpec | None, rubric: Rubric, root: Path) -> Location:
    """Where in the submission a task's failure should be shown."""
    if task.error is not None:
        frames = [m for line in task.error.traceback if (m := _FRAME.match(line.strip()))]
        if frames:
            return Location(frames[-1].group(1), int(frames[-1].group(2)))
    if spec is None:
        return Location(None)
    if spec.grader in ("answers", "manual"):
        relpath = rubric.files.get("answers", "answers.md")
        text = _read(root, relpath)
        return Location(relpath if text is not None else None,
                        _heading_line(text, spec.section or spec.id) if text is not None else None)
    if "module" in spec.needs and rubric.module_file:
        text = _read(root, rubric.module_file)
        if text is None:
            return Location(None)
        line = function_line(text, spec.function, rubric.class_name) if spec.function else None
        return Location(rubric.module_file, line)
    if "notebook" in spec.needs and rubric.files.get("notebook"):
        relpath = rubric.files["notebook"]
        return Location(relpath if (root / relpath).is_file() else None)
    return Location(None)


def locations(result: SubmissionResult, rubric: Rubric, root: Path) -> dict[str, tuple[str | None, int | None]]:
    """Task id -> (file relative to the submission's root, line) for every task of the result."""
    specs = {t.id: t for t in rubric.tasks}
    found = {}
    for task in result.tasks:
        where = locate(task, specs.get(task.id), rubric, root)
        found[task.id] = (where.file, where.line)
    return found
