"""GitHub Actions: error annotations on the student's own lines, and a job summary in Markdown.

Annotations are workflow commands printed on stdout (`::error file=F,line=N,title=T::message`);
GitHub shows them on the file in the pull request and on the run page. The summary is Markdown
appended to the file named by $GITHUB_STEP_SUMMARY. Both are drawn from the student-facing
result only (see student_view), so CI logs show nothing about hidden checks.

Where an annotation points: for an exception, the deepest frame in the student's own files (the
traceback the sandbox reports keeps only those); for a wrong value, the line where the graded
function is defined (`function` in the rubric, found with `ast`); for a written answer, the
task's `## Tn` heading in the answers file.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.judgement.rubric import Rubric, TaskSpec
from grader.results import AUTO_GRADED, Status, SubmissionResult, TaskResult

_FRAME = re.compile(r'^File "([^"]+)", line (\d+)')


@dataclass(frozen=True)
class Location:
    file: str | None  # relative to the submission's root
    line: int | None = None


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


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


def _needs_attention(task: TaskResult) -> bool:
    return task.status in AUTO_GRADED and task.status is not Status.PASS


def annotations(result: SubmissionResult, rubric: Rubric, root: Path, prefix: str = "") -> list[str]:
    """Workflow commands, one per task that did not pass; `prefix` is the submission's path in the repository."""
    specs = {t.id: t for t in rubric.tasks}
    lines = []
    for task in result.tasks:
        if not _needs_attention(task):
            continue
        title = f"{task.id} {task.title}: {task.status.value}"
        if task.grader_failed:
            lines.append(f"::warning title={_escape_property(title + ' (grader failure)')}::"
                         f"{_escape_data(task.message)}")
            continue
        where = locate(task, specs.get(task.id), rubric, root)
        props = []
        if where.file:
            props.append(f"file={_escape_property(os.path.normpath(os.path.join(prefix, where.file)))}")
            if where.line:
                props.append(f"line={where.line}")
        props.append(f"title={_escape_property(title)}")
        lines.append(f"::error {','.join(props)}::{_escape_data(task.message or task.status.value)}")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


_ICONS = {"pass": "✅", "fail": "❌", "error": "💥", "timeout": "⏱️", "missing": "❔", "manual": "📝", "pending": "⏳"}


def summary_markdown(result: SubmissionResult) -> str:
    """A job summary: the score of the public checks and one row per task."""
    failing = [t.id for t in result.tasks if _needs_attention(t)]
    verdict = "all auto-graded public checks pass" if not failing else f"not passing: {', '.join(failing)}"
    lines = [f"## {result.rubric} check of `{_cell(result.submission)}`: {result.score:g} / {result.max_score:g}",
             "", f"**{verdict}** (hidden checks are graded after submission)", "",
             "| task | status | points | details |", "|---|---|---|---|"]
    for task in result.tasks:
        points = "—" if task.points is None else f"{task.points:g}"
        status = task.status.value + (" (grader failure)" if task.grader_failed else "")
        lines.append(f"| {task.id} {_cell(task.title)} | {_ICONS.get(task.status.value, '')} {status} "
                     f"| {points}/{task.max_points:g} | {_cell(task.message)} |")
    return "\n".join(lines) + "\n"


def in_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def report_to_github(result: SubmissionResult, rubric: Rubric, root: Path, env: Mapping[str, str]) -> list[str]:
    """Append the job summary (when $GITHUB_STEP_SUMMARY is set) and return the annotation lines to print."""
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    try:
        prefix = os.path.relpath(root.resolve(), workspace.resolve())
    except ValueError:
        prefix = str(root)
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as out:
            out.write(summary_markdown(result))
    return annotations(result, rubric, root, "" if prefix == "." else prefix)
