"""The `grader` command: a thin layer that gathers options, calls one library function, reports.

Exit codes are part of the interface: `grade` exits 0 whenever grading completed, whatever the
students scored; `check` exits 1 when an auto-graded task did not pass. Usage errors exit 2
and grader failures 3, so CI can tell "the student's code is wrong" from "the grader broke".
"""

from __future__ import annotations

import enum
import getpass
import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from grader import __version__
from grader.execution import sandbox as sandbox_mod
from grader.executors import grade_one
from grader.judgement import locate
from grader.judgement import rubric as rubric_mod
from grader.judgement.grading import STUDENT_FULL, STUDENT_QUICK
from grader.judgement.hidden import load_or_create_secret
from grader.judgement.manual import ManualScoreError, parse_scores, validate
from grader.pipeline import grade_batch, refresh_pages, rewrite_submission
from grader.presentation.atomic import write_text_atomic
from grader.presentation.ci_template import DEFAULT_INSTALL, workflow_yaml
from grader.presentation.github import in_github_actions, report_to_github
from grader.presentation.gradescope import VISIBILITIES, gradescope_json_text
from grader.presentation.junit import junit_xml
from grader.presentation.outputs import write_outputs
from grader.presentation.student_view import student_view
from grader.presentation.terminal import not_passing, plain_report, rich_table
from grader.results import ManualScore, SubmissionResult
from grader.store import GRADEBOOK_FILE, Gradebook

GRADESCOPE_SECRET = "/autograder/source/secret"


def gradescope_submission_id(submission: Path) -> str:
    """Gradescope's own submission id (from submission_metadata.json next to the submission), so that
    hidden inputs differ between submissions and a regrade draws the same ones; else `submission`."""
    try:
        metadata = json.loads((submission.parent / "submission_metadata.json").read_text())
        return f"gradescope-{int(metadata['id'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "submission"

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
      grader check                                 a student checks their own HW4 folder
      grader ci-template > .github/workflows/grader.yml
      grader gradescope                            Gradescope's run_autograder
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
@click.option("--force", is_flag=True, help="Regrade every submission, even unchanged ones (TA scores are kept).")
@click.option("--dask", "dask", default=None, metavar="ADDRESS",
              help="Grade on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for a local "
                   "cluster of --workers processes. Needs: pip install 'grader[dask]'.")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File holding the secret that hidden inputs are drawn from (created if missing). "
                   "[default: $GRADER_SECRET_FILE or ~/.config/grader/secret]")
def grade(submissions: Path, out: Path, rubric_name: str, workers: int | None, force: bool, dask: str | None,
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

    failures: list[str] = []

    def finished(result: SubmissionResult, skipped: bool) -> None:
        if result.grader_failures:
            failures.append(result.submission)
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
                              dask=dask, on_start=started, on_result=finished)
    console.print(f"{len(summary.graded)} graded, {len(summary.skipped)} unchanged; "
                  f"class overview: {out / 'index.html'}; gradebook: {out / 'grades.csv'}", highlight=False)
    if failures:
        console.print(f"[bold red]grader failures (not zeros) in: {', '.join(failures)}[/]")


@main.command()
@click.argument("directory", default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--rubric", "rubric_name", default="hw4", show_default=True,
              help="Assignment to grade against: a name under rubrics/ or a path to a rubric.toml.")
@click.option("--notebook", "with_notebook", is_flag=True,
              help="Also run the notebook, T12 and the MNIST training check (minutes instead of seconds).")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Also write result.json and report.html into this folder.")
@click.option("--junit", "junit_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JUnit XML (for CI test reports).")
@click.option("--github/--no-github", "github", default=None,
              help="Print GitHub error annotations and append a job summary to $GITHUB_STEP_SUMMARY. "
                   "[default: when $GITHUB_ACTIONS is set]")
def check(directory: Path, rubric_name: str, with_notebook: bool, out: Path | None, junit_file: Path | None,
          github: bool | None) -> None:
    """Check your own work before you submit: the public checks, run the way TAs grade.

    Run it in your HW4 folder (or give the folder or .zip). Hidden checks are not run here:
    they are listed as "graded after submission", and nothing about them is shown. Without
    --notebook it takes a few seconds and leaves out the notebook and T12.

    Exits 0 when every auto-graded public check passes, 1 when a task fails, errors, times
    out or is missing, and 3 if the grader itself failed. Prints a table on a terminal and
    one line per task when piped.
    """
    rubric = _load_rubric(rubric_name)
    rubric.load_judges()
    sub_id = directory.resolve().name if directory.is_dir() else directory.stem
    mode = STUDENT_FULL if with_notebook else STUDENT_QUICK
    result = student_view(grade_one(directory, sub_id, rubric, None, mode=mode), after_submission=False)
    if out is not None:
        write_outputs(out, result, for_student=True)
    if junit_file is not None:
        write_text_atomic(junit_file, junit_xml([result], student_view=False))  # already the student view
    console = Console()
    if console.is_terminal:
        console.print(rich_table(result))
    else:
        click.echo(plain_report(result), nl=False)
    if github if github is not None else in_github_actions(os.environ):
        # lines inside a .zip cannot be annotated: its annotations name no file
        where = locate.locations(result, rubric, directory) if directory.is_dir() else {}
        for line in report_to_github(result, where, directory if directory.is_dir() else directory.parent,
                                     os.environ):
            click.echo(line)
    if result.grader_failures:
        sys.exit(ExitCode.GRADER_FAILURE)
    if not_passing(result):
        sys.exit(ExitCode.CHECKS_FAILED)


@main.command("ci-template")
@click.option("--install", "install_spec", default=DEFAULT_INSTALL, show_default=True,
              help="What `pip install` gets the grader from: the course's git URL until it is on PyPI.")
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="Assignment the repository holds.")
@click.option("--dir", "directory", default=".", show_default=True,
              help="The homework folder inside the repository.")
@click.option("--python", "python_version", default="3.11", show_default=True, help="Python version to run.")
def ci_template(install_spec: str, rubric_name: str, directory: str, python_version: str) -> None:
    """Print a GitHub Actions workflow that installs the grader and checks the homework on every push.

    Save it as .github/workflows/grader.yml in the assignment repository. Failing tasks
    show up as annotations on the student's lines, the table as the job summary, and the
    JUnit file as an artifact.
    """
    click.echo(workflow_yaml(install_spec=install_spec, rubric=rubric_name, directory=directory,
                             python_version=python_version), nl=False)


@main.command()
@click.option("--submission", default=Path("/autograder/submission"), show_default=True,
              type=click.Path(path_type=Path), help="The student's submission, as Gradescope unpacks it.")
@click.option("--results", "results_file", default=Path("/autograder/results/results.json"), show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Where Gradescope reads the results.")
@click.option("--rubric", "rubric_name", default="hw4", show_default=True,
              help="Assignment to grade against: a name under rubrics/ or a path to a rubric.toml.")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The course's secret for hidden inputs, shipped in the autograder zip. "
                   "[default: $GRADER_SECRET_FILE or /autograder/source/secret]")
@click.option("--visibility", type=click.Choice(VISIBILITIES), default="visible", show_default=True,
              help="Gradescope visibility of the results (after_published: only once grades are published).")
def gradescope(submission: Path, results_file: Path, rubric_name: str, secret_file: Path | None,
               visibility: str) -> None:
    """Gradescope autograder entry point: grade /autograder/submission, write results.json.

    Public and hidden checks run, as in TA grading; students see each task's score and
    which checks passed, never the hidden inputs or expected values. Exits 3 without
    writing results when the secret is missing (Gradescope then reports that the
    autograder failed, which no student can mistake for a zero), and 3 after writing them
    when a task hit a grader failure.
    """
    rubric = _load_rubric(rubric_name)
    secret_path = secret_file or Path(os.environ.get("GRADER_SECRET_FILE") or GRADESCOPE_SECRET)
    if not secret_path.is_file():
        click.echo(f"autograder misconfigured: no secret at {secret_path}; put one in the autograder zip "
                   "(see `grader gradescope --help` and the README)", err=True)
        sys.exit(ExitCode.GRADER_FAILURE)
    if not submission.exists():
        raise click.UsageError(f"no submission at {submission}")
    rubric.load_judges()
    result = grade_one(submission, gradescope_submission_id(submission), rubric, load_or_create_secret(secret_path))
    write_text_atomic(results_file, gradescope_json_text(result, visibility=visibility))
    click.echo(f"{result.score:g}/{result.max_score:g} {result.grading_status}; wrote {results_file}")
    if result.grader_failures:
        sys.exit(ExitCode.GRADER_FAILURE)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no $USER and no passwd entry (a container): still say something
        return "unknown"


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("submission", required=False)
@click.argument("task", required=False)
@click.argument("points", required=False, type=float)
@click.option("-m", "--comment", default="", help="Why: shown to the student in the report.")
@click.option("--by", "graded_by", default=None, help="Who scored it.  [default: your login name]")
@click.option("--import", "import_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A CSV of scores with the columns submission,task,points and optionally comment,graded_by.")
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="The rubric OUT was graded with.")
def manual(out: Path, submission: str | None, task: str | None, points: float | None, comment: str,
           graded_by: str | None, import_file: Path | None, rubric_name: str) -> None:
    """Record a TA's score for a task graded by hand (like T4), or import a CSV of them.

    \b
      grader manual reports alice T4 0.5 -m "step 3 assumes what it proves"
      grader manual reports --import t4-scores.csv

    Scores go into OUT/gradebook.sqlite with who gave them and when; the student's report,
    index.html and grades.csv are redrawn at once. Regrading (even --force) never overwrites
    them. Scoring a task again replaces the score in force and keeps the old one in the history.
    """
    rubric = _load_rubric(rubric_name)
    task_points = {t.id: t.points for t in rubric.tasks}
    by = graded_by or _login_name()
    path = out / GRADEBOOK_FILE
    if not path.is_file():
        raise click.UsageError(f"{out} has no {GRADEBOOK_FILE}: grade the submissions into it first")
    with Gradebook(path) as book:
        known = set(book.submissions(rubric.id))
        if import_file is not None:
            if submission or task or points is not None:
                raise click.UsageError("give either SUBMISSION TASK POINTS or --import FILE, not both")
            scores, problems = parse_scores(import_file.read_text(encoding="utf-8-sig"), task_points, known, by)
            if problems:
                raise click.UsageError(f"{import_file}: nothing was saved:\n" + "\n".join(map(str, problems)))
        else:
            if submission is None or task is None or points is None:
                raise click.UsageError("give SUBMISSION TASK POINTS (e.g. alice T4 0.5), or --import FILE")
            if submission not in known:
                raise click.UsageError(f"no graded submission {submission!r} in {path}")
            score = ManualScore(task, points, comment, by)
            try:
                validate(score, task_points)
            except ManualScoreError as exc:
                raise click.UsageError(str(exc)) from None
            scores = [(submission, score)]
        book.set_manual_many(scores)
        for sub in sorted({sub for sub, _ in scores}):
            rewrite_submission(out, book, sub, rubric.id)
        refresh_pages(out, rubric, book)
    for sub, score in scores:
        Console().print(f"{sub} {score.task}: {score.points:g}/{task_points[score.task]:g} by {by}"
                        + (f" — {score.comment}" if score.comment else ""), highlight=False)


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="The rubric OUT was graded with.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the default unless every machine that reaches it is trusted.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0: any free port.")
@click.option("--blind/--no-blind", default=None,
              help="Hide submission ids behind pseudonyms (kept in the gradebook for every TA until one unblinds).")
@click.option("--by", "graded_by", default=None, help="Default TA name for scores.  [default: your login name]")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The secret for hidden inputs, for regrades.  [default: as for `grader grade`]")
def serve(out: Path, rubric_name: str, host: str, port: int, blind: bool | None, graded_by: str | None,
          secret_file: Path | None) -> None:
    """Grade written answers together in a browser: a queue per manual task, rubric items, live pages.

    Prints a URL with an access token; several TAs may use it (or their own servers) on the same
    OUT at once. Scores land in OUT/gradebook.sqlite like `grader manual`'s, and the reports and
    exports in OUT follow. See docs/web.md.
    """
    from grader.web.book import WebBookError
    from grader.web.serve import serve as run_server

    try:
        run_server(out, _load_rubric(rubric_name), say=click.echo, host=host, port=port, blind=blind,
                   by=graded_by or _login_name(), secret_file=secret_file)
    except (WebBookError, OSError) as exc:  # no gradebook, or the port is taken
        raise click.UsageError(str(exc)) from None


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="The rubric OUT was graded with.")
@click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the feedback pages.  [default: OUT/release]")
def release(out: Path, rubric_name: str, dest: Path | None) -> None:
    """Write each student's feedback as one self-contained HTML page: the student view of their
    report (hidden checks as pass/fail only) with the TAs' rubric items and comments."""
    from grader.web.book import WebBookError
    from grader.web.release import release_from_folder

    try:
        summary = release_from_folder(out, _load_rubric(rubric_name), dest)
    except WebBookError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {summary.written} feedback page(s) into {summary.folder}"
               + (f"; {summary.ungraded} task(s) graded by hand are not scored yet" if summary.ungraded else ""))


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
