"""GitHub Actions: error annotations on the student's own lines, and a job summary in Markdown.

Annotations are workflow commands printed on stdout (`::error file=F,line=N,title=T::message`);
GitHub shows them on the file in the pull request and on the run page. The summary is Markdown
appended to the file named by $GITHUB_STEP_SUMMARY. Both are drawn from the student-facing
result only (see student_view), so CI logs show nothing about hidden checks.

Where an annotation points is decided by grader.judgement.locate (it knows the rubric); this
module only formats.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from grader.results import AUTO_GRADED, Status, SubmissionResult, TaskResult

# task id -> (file relative to the submission's root, line): see grader.judgement.locate
Locations = Mapping[str, tuple[str | None, int | None]]


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _needs_attention(task: TaskResult) -> bool:
    return task.status in AUTO_GRADED and task.status is not Status.PASS


def annotations(result: SubmissionResult, locations: Locations, prefix: str = "") -> list[str]:
    """Workflow commands, one per task that did not pass; `prefix` is the submission's path in the repository."""
    lines = []
    for task in result.tasks:
        if not _needs_attention(task):
            continue
        title = f"{task.id} {task.title}: {task.status.value}"
        if task.grader_failed:
            lines.append(f"::warning title={_escape_property(title + ' (grader failure)')}::"
                         f"{_escape_data(task.message)}")
            continue
        file, line = locations.get(task.id, (None, None))
        props = []
        if file:
            props.append(f"file={_escape_property(os.path.normpath(os.path.join(prefix, file)))}")
            if line:
                props.append(f"line={line}")
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


def report_to_github(result: SubmissionResult, locations: Locations, root: Path,
                     env: Mapping[str, str]) -> list[str]:
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
    return annotations(result, locations, "" if prefix == "." else prefix)
