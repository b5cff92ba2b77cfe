"""The `grader` command: a thin layer that gathers options, calls one library function, reports.

Exit codes are part of the interface: `grade` exits 0 whenever grading completed, whatever the
students scored; `check` exits 1 when an auto-graded task did not pass. Usage errors exit 2
and grader failures 3, so CI can tell "the student's code is wrong" from "the grader broke".
"""

from __future__ import annotations

import enum
import secrets
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from grader import __version__
from grader.execution import sandbox as sandbox_mod
from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch, grade_one, write_outputs
from grader.results import AUTO_GRADED, Status, SubmissionResult

STATUS_STYLE = {
    "pass": "green", "fail": "red", "error": "bold red", "timeout": "dark_orange",
    "missing": "grey50", "manual": "blue", "pending": "magenta",
}


class ExitCode(enum.IntEnum):
    OK = 0
    CHECKS_FAILED = 1
    USAGE_ERROR = 2
    GRADER_FAILURE = 3


def _load_rubric(name: str) -> rubric_mod.Rubric:
    try:
        return rubric_mod.load(name)
    except rubric_mod.RubricError as exc:
        raise click.UsageError(str(exc)) from None


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def result_table(result: SubmissionResult) -> Table:
    table = Table(title=f"{result.submission}: {result.score:g} / {result.max_score:g}  ({result.rubric})",
                  title_justify="left")
    table.add_column("task")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("details", overflow="fold")
    for task in result.tasks:
        style = STATUS_STYLE.get(task.status.value, "")
        label = task.status.value + (" (grader)" if task.grader_failed else "")
        table.add_row(f"{task.id} {task.title}", f"[{style}]{label}[/]", f"{_points(task.points)}/{task.max_points:g}",
                      task.message, end_section=False)
    return table


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade machine-learning homework with verdicts student code cannot fool.

    Student code runs in separate processes and only returns numbers; the grader compares
    them with the reference solution, on the notebook's published inputs (public checks) and
    on inputs drawn from a secret seed (hidden checks).

    \b
    Typical use:
      grader grade submissions/ --out reports/     grade a whole class
      grader check path/to/student-folder          grade one submission, print a table
    """


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", default=Path("reports"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for result.json and report.html per student, index.html and grades.csv.")
@click.option("--rubric", "rubric_name", default="hw4", show_default=True,
              help="Assignment to grade against: a name under rubrics/ or a path to a rubric.toml.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Submissions graded in parallel.  [default: number of CPU cores]")
@click.option("--force", is_flag=True, help="Regrade every submission, even unchanged ones.")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File holding the secret that hidden inputs are drawn from (created if missing). "
                   "[default: $GRADER_SECRET_FILE or ~/.config/grader/secret]")
def grade(submissions: Path, out: Path, rubric_name: str, workers: int | None, force: bool,
          secret_file: Path | None) -> None:
    """Grade every submission in SUBMISSIONS (one folder or .zip per student).

    Each submission is named after its folder or zip. Results are written as each finishes:
    OUT/<submission>/result.json and report.html, then OUT/index.html (class overview) and
    OUT/grades.csv (gradebook). Unchanged submissions already graded in OUT are skipped, so an
    interrupted run can simply be started again. Exits 0 when grading completed, whatever
    the students scored.
    """
    rubric = _load_rubric(rubric_name)
    console = Console(stderr=True)
    interactive = console.is_terminal
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=not interactive)
    task_id = progress.add_task("grading", total=None)

    def started(count: int) -> None:
        progress.update(task_id, total=count)
        if not interactive:
            console.print(f"grading {count} submission(s) with rubric {rubric.id}", highlight=False)

    def finished(result: SubmissionResult, skipped: bool) -> None:
        if skipped:
            if not interactive:
                console.print(f"unchanged  {result.submission}: {result.score:g}/{result.max_score:g}", highlight=False)
            return
        progress.advance(task_id)
        line = f"graded     {result.submission}: {result.score:g}/{result.max_score:g}  {result.grading_status}"
        if interactive:
            progress.console.print(line, highlight=False)
        else:
            console.print(line, highlight=False)

    with progress:
        summary = grade_batch(submissions, out, rubric, workers=workers, force=force, secret_file=secret_file,
                              on_start=started, on_result=finished)
    failures = [r.submission for r in summary.results if r.grader_failures]
    console.print(f"{len(summary.graded)} graded, {len(summary.skipped)} unchanged; "
                  f"class overview: {out / 'index.html'}; gradebook: {out / 'grades.csv'}", highlight=False)
    if failures:
        console.print(f"[bold red]grader failures (not zeros) in: {', '.join(failures)}[/]")


@main.command()
@click.argument("directory", default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--rubric", "rubric_name", default="hw4", show_default=True,
              help="Assignment to grade against: a name under rubrics/ or a path to a rubric.toml.")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Also write result.json and report.html into this folder.")
def check(directory: Path, rubric_name: str, out: Path | None) -> None:
    """Grade one submission (a folder or .zip) and print a table of its tasks.

    Exits 0 when every auto-graded task passes, 1 when one fails, errors, times out or is
    missing, and 3 if the grader itself failed. Hidden inputs are drawn from a fresh secret
    on every run.
    """
    rubric = _load_rubric(rubric_name)
    rubric.load_judges()
    sub_id = directory.resolve().name if directory.is_dir() else directory.stem
    result = grade_one(directory, sub_id, rubric, secrets.token_bytes(32))
    if out is not None:
        write_outputs(out, result)
    Console().print(result_table(result))
    if result.grader_failures:
        sys.exit(ExitCode.GRADER_FAILURE)
    failed = [t.id for t in result.tasks if t.status in AUTO_GRADED and t.status is not Status.PASS]
    if failed:
        Console(stderr=True).print(f"not passing: {', '.join(failed)}", highlight=False)
        sys.exit(ExitCode.CHECKS_FAILED)


@main.command()
def doctor() -> None:
    """Say which sandbox level this machine gives student code, and why not a stronger one.

    Levels, strongest first: bwrap+uid (bubblewrap namespaces and a minimal read-only
    filesystem, plus an unprivileged uid of the submission's own; needs root and the Debian
    package bubblewrap), bwrap (the same in a user namespace, without its own uid), process
    (rlimits and watchdogs only: student code can read the disk and use the network).
    Exits 0 at the full level and 1 at a weaker one.
    """
    chosen, tried = sandbox_mod.detect(sys.executable)
    console = Console()
    for name, problem in tried:
        mark = "[green]works[/]" if problem is None else f"[red]unavailable[/]: {problem}"
        console.print(f"{name:10} {mark}", highlight=False)
    style = "green" if chosen.level.full else "bold red"
    console.print(f"\nsandbox level: [{style}]{chosen.level.name}[/] — {chosen.level.description}", highlight=False)
    if not chosen.level.full:
        sys.exit(ExitCode.CHECKS_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
