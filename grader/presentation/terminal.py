"""What `grader check` prints: a coloured table on a terminal, plain greppable lines when piped.

In a CI log or a pipe, colour codes and box drawing are noise, and a line per task
(`T7  fail  0/1  ...`) is what people grep for, so the plain form is chosen whenever the
output is not a terminal. Both show the failing public checks under their task, and the
student's own frame for an exception.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from grader.presentation.student_view import is_deferred
from grader.results import AUTO_GRADED, Status, SubmissionResult, TaskResult

STATUS_STYLE = {
    "pass": "green", "fail": "red", "error": "bold red", "timeout": "dark_orange",
    "missing": "grey50", "manual": "blue", "graded": "cyan", "pending": "magenta",
}


def _points(task: TaskResult) -> str:
    return f"{'—' if task.points is None else f'{task.points:g}'}/{task.max_points:g}"


def not_passing(result: SubmissionResult) -> list[str]:
    """Auto-graded tasks that did not pass: what makes `grader check` exit 1."""
    return [t.id for t in result.tasks if t.status in AUTO_GRADED and t.status is not Status.PASS]


def details(task: TaskResult) -> list[str]:
    """Lines under a task that did not pass: its failing public checks, and where the code raised."""
    if task.status is Status.PASS:
        return []
    lines = [f"✗ {c.name}: {c.message}".rstrip(": ") for c in task.checks if c.passed is False]
    if task.error is not None and task.error.traceback:
        frames = [line.strip() for line in task.error.traceback if line.strip().startswith("File ")]
        if frames:
            lines.append(f"at {frames[-1]}")
    return lines


def _headline(result: SubmissionResult) -> str:
    with_hidden = [t.id for t in result.tasks if any(is_deferred(c) for c in t.checks)]
    later = [t.id for t in result.tasks if t.status in (Status.MANUAL, Status.PENDING)]
    text = f"{result.submission}: {result.score:g} / {result.max_score:g} ({result.rubric}, public checks only)"
    parts = ([f"the hidden checks of {', '.join(with_hidden)}"] if with_hidden else []) + \
        ([" and ".join(later)] if later else [])
    if parts:
        text += "; graded after submission: " + "; ".join(parts)
    return text


def _verdict(result: SubmissionResult) -> str:
    if result.grader_failures:
        return f"GRADER FAILURE (not your fault) in {', '.join(result.grader_failures)}"
    failing = not_passing(result)
    return f"not passing: {', '.join(failing)}" if failing else "all auto-graded public checks pass"


def plain_report(result: SubmissionResult) -> str:
    """One line per task, details indented below; no colour, no box drawing."""
    width = max((len(t.id) for t in result.tasks), default=3)
    lines = [_headline(result)]
    for task in result.tasks:
        status = task.status.value + (" (grader)" if task.grader_failed else "")
        lines.append(f"{task.id:<{width}}  {status:<8} {_points(task):>6}  {task.title}: {task.message}".rstrip())
        lines.extend(f"{'':<{width}}    {line}" for line in details(task))
    lines.append(_verdict(result))
    return "\n".join(lines) + "\n"


def rich_table(result: SubmissionResult) -> Table:
    """The same content as a coloured table for a terminal."""
    table = Table(title=escape(_headline(result)), title_justify="left", caption=escape(_verdict(result)),
                  caption_justify="left")
    table.add_column("task")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("details", overflow="fold")
    for task in result.tasks:
        style = STATUS_STYLE.get(task.status.value, "")
        label = task.status.value + (" (grader)" if task.grader_failed else "")
        text = "\n".join([escape(task.message), *(f"[red]{escape(line)}[/]" for line in details(task))])
        table.add_row(f"{task.id} {escape(task.title)}", f"[{style}]{label}[/]", _points(task), text)
    return table
