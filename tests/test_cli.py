"""The command line as TAs and students use it: exit codes, outputs and help text."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from grader.cli import ExitCode, main

from .conftest import PROJECT, mutate


def test_grade_writes_every_output_and_exits_zero_whatever_the_scores(tmp_path: Path, make_submission) -> None:
    make_submission("good")
    make_submission("bad", code=mutate("y_pred = np.argmax(scores, axis=1)", "y_pred = np.argmax(scores, axis=0)"))
    subs = tmp_path / "subs"
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(subs), "--out", str(out), "--secret-file", str(tmp_path / "s"),
                                       "--workers", "2"])
    assert result.exit_code == ExitCode.OK, result.output
    for name in ("good", "bad"):
        data = json.loads((out / name / "result.json").read_text())
        assert data["submission"] == name and data["rubric"] == "hw4"
        assert (out / name / "report.html").is_file()
    assert (out / "index.html").is_file() and (out / "grades.csv").is_file()
    bad = json.loads((out / "bad" / "result.json").read_text())
    assert {t["id"]: t["status"] for t in bad["tasks"]}["T11"] == "fail"
    assert "2 graded" in result.output


def test_check_exits_one_naming_the_failing_task(make_submission) -> None:
    broken = make_submission("broken", code=mutate('grads["W1"] = X.T @ dX1 + reg * W1', 'grads["W1"] = X.T @ dX1'))
    bad = CliRunner().invoke(main, ["check", str(broken)])
    assert bad.exit_code == ExitCode.CHECKS_FAILED
    # T12 needs the notebook: a quick student check leaves it for after submission
    assert "not passing: T7" in bad.output.splitlines()


def test_check_counts_missing_files_as_not_passing(make_submission) -> None:
    result = CliRunner().invoke(main, ["check", str(make_submission("nothing", code=None, answers=None))])
    assert result.exit_code == ExitCode.CHECKS_FAILED
    assert "missing" in result.output


def test_unknown_rubric_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "--rubric", "no-such-assignment"])
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert "no rubric 'no-such-assignment'" in result.output and "hw4" in result.output


def test_help_explains_the_commands_to_a_ta() -> None:
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0 and "grade" in top.output and "check" in top.output
    grade_help = runner.invoke(main, ["grade", "--help"])
    for phrase in ("one folder or .zip per student", "result.json", "grades.csv", "--workers", "--force",
                   "Exits 0 when grading completed"):
        assert phrase in grade_help.output, phrase
    check_help = runner.invoke(main, ["check", "--help"])
    assert "Exits 0 when every auto-graded public check passes" in check_help.output


def test_check_exits_zero_for_the_reference_from_any_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the rubric folder is found wherever the command runs
    result = CliRunner().invoke(main, ["check", str(PROJECT / "submissions" / "reference-solution")])
    assert result.exit_code == ExitCode.OK, result.output
