"""The `grader` command: each command gathers options, calls one library function, and reports.

The work itself lives in grader/pipeline.py (grade), grader/workflows/ (check, gradescope, manual)
and grader/authoring/ (rubric new, rubric check); nothing here decides a verdict.

Exit codes are part of the interface: `grade` exits 0 whenever grading completed, whatever the
students scored; `check` exits 1 when an auto-graded task did not pass. Usage errors exit 2
and grader failures 3, so CI can tell "the student's code is wrong" from "the grader broke".
"""

from __future__ import annotations

import enum
import getpass
import os
import signal
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from grader import __version__
from grader.authoring.scaffold import new_rubric
from grader.authoring.selfcheck import check_rubric
from grader.authoring.selfcheck_report import markdown
from grader.execution import sandbox as sandbox_mod
from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch
from grader.presentation.ci_template import DEFAULT_INSTALL, workflow_yaml
from grader.presentation.github import in_github_actions
from grader.presentation.gradescope import VISIBILITIES
from grader.presentation.terminal import not_passing, plain_report, rich_table
from grader.results import SubmissionResult
from grader.workflows import UsageProblem
from grader.workflows.batch_inputs import BatchInputError
from grader.workflows.batch_stops import BatchStopped, Interrupted, interrupted_message, stop_on_signals
from grader.workflows.gradescope_entry import MissingSecret, gradescope_submission_id, run_gradescope
from grader.workflows.manual_scores import record_scores
from grader.workflows.sandbox_policy import REQUIRE_ENV, SandboxRequirement
from grader.workflows.sandbox_policy import assess as assess_sandbox
from grader.workflows.sandbox_policy import refusal as sandbox_refusal
from grader.workflows.sandbox_policy import warning as sandbox_warning
from grader.workflows.similarity_run import similarity_of_class
from grader.workflows.student_check import check_own_work, github_lines

__all__ = ["ExitCode", "gradescope_submission_id", "main"]


class ExitCode(enum.IntEnum):
    OK = 0
    CHECKS_FAILED = 1
    USAGE_ERROR = 2
    GRADER_FAILURE = 3
    WEAK_SANDBOX = 4  # `grade --sandbox full` on a machine that gives less


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
      grader rubric new NAME                       start a rubric for your own assignment
      grader rubric check NAME                     is the rubric right, and how strong is it?
    """


@main.command()
@click.argument("submissions", type=click.Path(path_type=Path))
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
@click.option("--sandbox", "sandbox_required", type=click.Choice([r.value for r in SandboxRequirement]),
              default=SandboxRequirement.ANY.value, show_default=True, envvar=REQUIRE_ENV, show_envvar=True,
              help="full: refuse to grade unless student code gets full isolation (bubblewrap, its own uid, "
                   "seccomp). any: grade at the strongest level this machine gives, with a warning when it is weak.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Run every probe call and notebook again instead of replaying those recorded in OUT/.recordings "
                   "(a regrade after a rubric edit replays them; see docs/recordings.md).")
def grade(submissions: Path, out: Path, rubric_name: str, workers: int | None, force: bool, dask: str | None,
          secret_file: Path | None, sandbox_required: str, no_cache: bool) -> None:
    """Grade every submission in SUBMISSIONS (one folder or .zip per student).

    Each submission is named after its folder or zip. Results are written as each finishes:
    OUT/<submission>/result.json and report.html, then OUT/index.html (class overview) and
    OUT/grades.csv (gradebook). Unchanged submissions already graded in OUT are skipped, so an
    interrupted run can simply be started again. Exits 0 when grading completed, whatever
    the students scored; 2 when the batch's inputs are wrong (nothing is graded); 3 when it
    stopped on a full disk; 4 when --sandbox full is not met; 130/143 after Ctrl-C/SIGTERM.
    """
    rubric = _load_rubric(rubric_name)
    console = Console(stderr=True)

    def say(text: str, style: str | None = None) -> None:  # one message a line: for grep and CI logs
        console.print(text, style=style, highlight=False, markup=False, soft_wrap=True)

    level = assess_sandbox()
    if not level.full:
        if SandboxRequirement(sandbox_required) is SandboxRequirement.FULL:
            say(sandbox_refusal(level), style="bold red")
            sys.exit(ExitCode.WEAK_SANDBOX)
        say(sandbox_warning(level), style="bold yellow")
    interactive = console.is_terminal
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=not interactive)
    task_id = progress.add_task("grading", total=None)

    def started(count: int) -> None:
        progress.update(task_id, total=count)
        if not interactive:
            console.print(f"grading {count} submission(s) with rubric {rubric.id}", highlight=False)

    failures: list[str] = []
    graded_now = [0]

    def finished(result: SubmissionResult, skipped: bool) -> None:
        if result.grader_failures:
            failures.append(result.submission)
        graded_now[0] += not skipped
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

    from grader.course.roster import RosterError
    from grader.lateness import DeadlineError
    from grader.store import GradebookError

    def note(text: str) -> None:
        say(f"note: {text}")

    try:
        with stop_on_signals(), progress:
            summary = grade_batch(submissions, out, rubric, workers=workers, force=force, secret_file=secret_file,
                                  dask=dask, on_start=started, on_result=finished, on_note=note,
                                  no_cache=no_cache)
    except (RosterError, DeadlineError, BatchInputError, GradebookError) as exc:  # raised before anything is graded
        raise click.UsageError(str(exc)) from None
    except BatchStopped as exc:
        say(str(exc), style="bold red")
        sys.exit(ExitCode.GRADER_FAILURE)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (see stop_on_signals)
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        say(interrupted_message(signum, graded_now[0]), style="bold red")
        sys.exit(128 + signum)
    console.print(f"{len(summary.graded)} graded, {len(summary.skipped)} unchanged; "
                  f"class overview: {out / 'index.html'}; gradebook: {out / 'grades.csv'}", highlight=False)
    if failures:
        console.print(f"[bold red]grader failures (not zeros) in: {', '.join(failures)}[/]")
    if not level.full:  # said again at the end, where a TA looks once the batch is done
        say(sandbox_warning(level), style="bold yellow")


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
    result = check_own_work(directory, rubric, notebook=with_notebook, out=out, junit_file=junit_file)
    console = Console()
    if console.is_terminal:
        console.print(rich_table(result))
    else:
        click.echo(plain_report(result), nl=False)
    if github if github is not None else in_github_actions(os.environ):
        for line in github_lines(result, rubric, directory, os.environ):
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
    try:
        result = run_gradescope(submission, results_file, rubric, secret_file=secret_file, visibility=visibility)
    except MissingSecret as exc:
        click.echo(str(exc), err=True)
        sys.exit(ExitCode.GRADER_FAILURE)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
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
    by = graded_by or _login_name()
    try:
        scores = record_scores(out, rubric, by, submission=submission, task=task, points=points, comment=comment,
                               import_file=import_file)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    task_points = {t.id: t.points for t in rubric.tasks}
    for sub, score in scores:
        Console().print(f"{sub} {score.task}: {score.points:g}/{task_points[score.task]:g} by {by}"
                        + (f" — {score.comment}" if score.comment else ""), highlight=False)


@main.group()
def rubric() -> None:
    """Write and check rubrics for your own assignments (see docs/authoring.md)."""


@rubric.command("new")
@click.argument("name")
@click.option("--dir", "parent", default=Path("."), show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to create NAME/ in.")
@click.option("--module", default=None, metavar="PATH",
              help="Where students keep their code, e.g. lab/ops.py.  [default: NAME/functions.py]")
def rubric_new(name: str, parent: Path, module: str | None) -> None:
    """Write a working rubric skeleton into NAME/: rubric.toml, checks.py, probes.py, solution/, starter/.

    `grader rubric check NAME` passes on it as written; edit it one working step at a time.
    """
    try:
        folder = new_rubric(name, parent, module)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {folder}/: rubric.toml, checks.py, probes.py, solution/, starter/\n"
               f"next: grader rubric check {folder}")


@rubric.command("check")
@click.argument("name")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Submissions graded in parallel.  [default: number of CPU cores]")
@click.option("--budget", "budget_s", type=click.FloatRange(min=1), default=None,
              help="Seconds the mutants may take; no new mutant starts after that.  [default: [selftest] budget_s]")
@click.option("--max-mutants", type=click.IntRange(min=1), default=None,
              help="Grade at most this many mutants, sampled the same way every run.  "
                   "[default: [selftest] max_mutants]")
@click.option("--no-mutants", is_flag=True, help="Only grade the solution and the starter.")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report to this Markdown file.")
def rubric_check(name: str, workers: int | None, budget_s: float | None, max_mutants: int | None,
                 no_mutants: bool, markdown_file: Path | None) -> None:
    """Check the rubric NAME (a name under rubrics/ or a folder): load it strictly, then grade
    the solution (every auto-graded point), the starter (no code point) and mutants of the
    solution, and print per task the share of mutants caught and the diff of each survivor.

    Exits 0 when the solution and the starter grade as they must, 1 when not, 2 when the rubric
    does not load (every problem is listed with its file, line and key), 3 on a grader failure.
    """
    loaded = _load_rubric(name)
    console = Console(stderr=True)
    try:
        report = check_rubric(loaded, workers=workers, budget_s=budget_s, max_mutants=max_mutants,
                              mutants=not no_mutants, progress=lambda line: console.print(line, highlight=False))
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    text = markdown(report, loaded)
    click.echo(text, nl=False)
    if markdown_file is not None:
        markdown_file.write_text(text)
    if report.grader_failed:
        sys.exit(ExitCode.GRADER_FAILURE)
    if not report.ok:
        sys.exit(ExitCode.CHECKS_FAILED)
@main.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["canvas", "moodle", "github", "gradescope"]))
@click.argument("download", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one submission folder per student, roster.csv and import-report.txt.")
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="Whose [files] say where files go.")
@click.option("--roster", "course_roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The course system's list of students: Canvas's gradebook export, Moodle's grading worksheet, "
                   "GitHub Classroom's roster. Adds ids and emails, and the students who handed in nothing.")
@click.option("--timezone", default=None, help="Time zone of the times in Moodle's grading worksheet "
              "(e.g. Europe/Stockholm).")
def import_(fmt: str, download: Path, out: Path, rubric_name: str, course_roster: Path | None,
            timezone: str | None) -> None:
    """Turn a course system's bulk download into one folder per student for `grader grade`.

    \b
      grader import canvas submissions.zip --out hw4 --roster canvas-gradebook.csv
      grader import moodle "HW4-123.zip" --out hw4 --roster worksheet.csv --timezone Europe/Stockholm
      grader import github classroom-clones/ --out hw4
      grader import gradescope submissions_export.zip --out hw4

    The download is only read. Every file that maps nowhere, every ambiguity and every student
    with nothing is listed in OUT/import-report.txt; roster.csv keeps who each folder belongs to,
    the submission time, and (edit it) each student's extension. See docs/lms.md.
    """
    from grader.course.importers import ImportRefused, import_download
    from grader.course.importers.download import DownloadError
    from grader.course.roster import RosterError
    from grader.lateness import DeadlineError

    rubric = _load_rubric(rubric_name)
    try:
        result = import_download(fmt, download, out, rubric, course_roster=course_roster, timezone=timezone)
    except (ImportRefused, DownloadError, RosterError, DeadlineError) as exc:
        raise click.UsageError(str(exc)) from None
    console = Console(stderr=True, soft_wrap=True)  # one issue a line, for grep
    for issue in result.issues:
        console.print(str(issue), highlight=False, markup=False)
    console.print(f"{len(result.written)} submission folder(s) in {out}; roster: {out / 'roster.csv'}; "
                  f"{len(result.issues)} issue(s) listed in {result.report_path}", highlight=False)


@main.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["canvas", "moodle"]))
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="The rubric OUT was graded with.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="roster.csv to join through. [default: the one `grader grade` read]")
@click.option("--assignment", default=None, help="The grade column's name. [default: the rubric's title]")
@click.option("--assignment-id", default=None, help="Canvas: the assignment's id, written as 'Name (id)'.")
@click.option("--points-possible/--no-points-possible", default=True, show_default=True,
              help="Canvas: a second row with the assignment's points.")
@click.option("--identity", type=click.Choice(["email", "idnumber", "username"]), default="email", show_default=True,
              help="Moodle: the column Moodle matches students on.")
def export(fmt: str, out: Path, rubric_name: str, roster: Path | None, assignment: str | None,
           assignment_id: str | None, points_possible: bool, identity: str) -> None:
    """Write OUT/canvas-grades.csv or OUT/moodle-grades.csv, late penalties applied, to upload.

    Nothing is regraded: the late policy (the rubric's [deadline]) and the extensions (roster.csv)
    are applied to the grades in OUT's gradebook now, so change either and export again. Blank
    grades and unmatched lines are listed (and in OUT/<format>-export-report.txt).
    """
    from grader.course.exports import ExportError, export_grades
    from grader.course.roster import RosterError
    from grader.lateness import DeadlineError

    rubric = _load_rubric(rubric_name)
    try:
        result = export_grades(fmt, out, rubric, roster=roster, assignment=assignment, assignment_id=assignment_id,
                               points_possible=points_possible, identity=identity)
    except (ExportError, RosterError, DeadlineError) as exc:
        raise click.UsageError(str(exc)) from None
    console = Console(stderr=True, soft_wrap=True)
    for problem in result.problems:
        console.print(problem, highlight=False, markup=False)
    graded = sum(r.grade is not None for r in result.rows)
    console.print(f"{graded} grade(s), {len(result.rows) - graded} blank: {result.path}", highlight=False)


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rubric", "rubric_name", default="hw4", show_default=True, help="The rubric OUT was graded with.")
def similarity(out: Path, rubric_name: str) -> None:
    """Find submissions in OUT that share code beyond the starter (TA only; `grade` runs it too).

    Writes OUT/similarity.csv (a,b,score for every pair sharing code, highest first), a page
    per pair at or above the rubric's [similarity] threshold, and a section of OUT/index.html.
    """
    rubric = _load_rubric(rubric_name)
    try:
        report = similarity_of_class(out, rubric)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    Console().print(f"{len(report.compared)} compared, {len(report.pairs)} pairs share code, "
                    f"{len(report.flagged)} at or above {report.threshold:g}; see {out / 'index.html'}#similarity",
                    highlight=False)


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

    Levels, strongest first: bwrap+uid+cgroup (bwrap+uid plus a memory cgroup per sandbox;
    needs a writable memory cgroup), bwrap+uid (bubblewrap namespaces and a minimal read-only
    filesystem, plus an unprivileged uid of the submission's own and a seccomp filter; needs
    root, the Debian packages bubblewrap and libseccomp2), bwrap (the same in a user namespace,
    without its own uid), process (rlimits and watchdogs only: student code can read the disk
    and use the network).
    Exits 0 at the full level and 1 at a weaker one.
    """
    chosen, tried = sandbox_mod.detect(sys.executable)
    console = Console()
    for name, problem in tried:
        mark = "[green]works[/]" if problem is None else f"[red]unavailable[/]: {problem}"
        console.print(f"{name:16} {mark}", highlight=False)
    style = "green" if chosen.level.full else "bold red"
    console.print(f"\nsandbox level: [{style}]{chosen.level.name}[/] — {chosen.description}", highlight=False)
    if not chosen.level.full:
        sys.exit(ExitCode.CHECKS_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
