"""`grader check` as students and CI use it: public checks only, exit codes, plain and coloured
output, JUnit validated against its XSD, GitHub annotations and summary, the CI template."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner
from rich.console import Console

from grader.cli import ExitCode, main
from grader.judgement import rubric as rubric_mod
from grader.judgement.context import STUDENT_QUICK
from grader.judgement.locate import function_line
from grader.judgement.submission import grade_submission
from grader.presentation.ci_template import workflow_yaml
from grader.presentation.junit import junit_xml
from grader.presentation.student_view import student_view
from grader.presentation.terminal import rich_table
from grader.results import AFTER_SUBMISSION, Cause, Status, Visibility

from .conftest import SECRET, SOLUTION, SOLUTION_ANSWERS, STARTER, mutate
from .test_second_assignment import GOOD_ANSWERS, TOY, WRONG_CODE, write_submission

JUNIT_XSD = Path(__file__).parent / "fixtures" / "junit-10.xsd"
W1_BUG = ('grads["W1"] = X.T @ dX1 + reg * W1', 'grads["W1"] = X.T @ dX1')
# T6 raises in the student's own loss(): the annotation must point at this line
RAISE_IN_LOSS = ("loss /= N\n", 'loss /= N\n        raise RuntimeError("student bug in the loss")\n')


def _grader_command() -> str:
    installed = Path(sys.executable).parent / "grader"
    return str(installed) if installed.exists() else shutil.which("grader") or "grader"


def test_new_user_copy_of_the_starter_passes_then_names_the_task_with_one_bug(tmp_path: Path) -> None:
    """As a new user would: the starter folder with the solution filled in, then one bug."""
    hw = tmp_path / "hw4"
    shutil.copytree(STARTER, hw)
    shutil.copy(SOLUTION / "cattern/neural_net.py", hw / "cattern/neural_net.py")
    shutil.copy(SOLUTION / "answers.md", hw / "answers.md")
    good = subprocess.run([_grader_command(), "check"], cwd=hw, capture_output=True, text=True, timeout=120)
    assert good.returncode == ExitCode.OK, good.stdout + good.stderr
    assert "all auto-graded public checks pass" in good.stdout
    assert "T12  pending" in good.stdout  # the notebook waits for --notebook
    (hw / "cattern/neural_net.py").write_text(mutate(*W1_BUG))
    bad = subprocess.run([_grader_command(), "check", str(hw)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == ExitCode.CHECKS_FAILED, bad.stdout + bad.stderr
    assert "not passing: T7" in bad.stdout
    t7 = next(line for line in bad.stdout.splitlines() if line.startswith("T7 "))
    assert "fail" in t7 and "Backward pass" in t7
    assert "\x1b[" not in bad.stdout  # piped: plain text, no colour codes


def test_student_mode_runs_no_hidden_check_and_lists_them_as_graded_after_submission(make_submission, hw4) -> None:
    result = grade_submission(make_submission(), hw4, None, mode=STUDENT_QUICK)
    hidden = [c for t in result.tasks for c in t.checks if c.visibility is Visibility.HIDDEN]
    assert hidden and all(c.passed is None and c.message == AFTER_SUBMISSION for c in hidden)
    assert {t.id for t in result.tasks if any(c in hidden for c in t.checks)} == {f"T{i}" for i in range(5, 12)}
    assert result.task("T12").status is Status.PENDING and "--notebook" in result.task("T12").message
    assert result.notebook is None
    with pytest.raises(ValueError, match="secret"):
        grade_submission(make_submission("other"), hw4, None)  # TA mode needs the secret


def test_student_mode_skips_the_mnist_run_unless_notebook(make_submission, hw4_full) -> None:
    result = grade_submission(make_submission(), hw4_full, None, mode=STUDENT_QUICK)
    mnist = [c for c in result.task("T10").checks if c.name.startswith("MNIST")]
    assert len(mnist) == 1 and mnist[0].passed is None and "--notebook" in mnist[0].message
    assert result.task("T10").status is Status.PASS


def test_a_rubric_unaware_of_student_mode_still_shows_no_hidden_verdict(tmp_path: Path) -> None:
    """Generic: the toy assignment's checks ignore ctx.hidden; their hidden verdicts are dropped."""
    toy = rubric_mod.load(str(TOY))
    toy.load_judges()
    wrong = write_submission(tmp_path / "wrong", WRONG_CODE, GOOD_ANSWERS)
    ta = grade_submission(wrong, toy, SECRET)
    student = grade_submission(wrong, toy, None, mode=STUDENT_QUICK)
    dot_ta = ta.task(next(t.id for t in toy.tasks if t.check == "dot"))
    dot_student = student.task(dot_ta.id)
    assert dot_ta.status is Status.FAIL  # the hidden cases catch the hard-coded answer
    assert dot_student.status is Status.PASS  # only the public check counts before submission
    hidden = [c for c in dot_student.checks if c.visibility is Visibility.HIDDEN]
    assert hidden and all(c.name == "hidden check" and c.passed is None for c in hidden)


def test_exit_codes_plain_lines_and_junit_that_validates(make_submission, tmp_path: Path) -> None:
    broken = make_submission("broken", code=mutate(*W1_BUG))
    junit = tmp_path / "out" / "junit.xml"
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["check", str(broken), "--junit", str(junit), "--out", str(out),
                                       "--no-github"])
    assert result.exit_code == ExitCode.CHECKS_FAILED, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("T7   fail") for line in lines)
    assert any(line.startswith("T5   pass") for line in lines)
    assert "✗ toy gradient check at reg=0.05 (numeric vs your grads): W1" in result.output
    assert lines[-1] == "not passing: T7"
    assert "::error" not in result.output
    xmlschema.XMLSchema(JUNIT_XSD).validate(junit)
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "broken" and suite.get("tests") == "12"
    cases = {c.get("name").split()[0]: c for c in suite.iter("testcase")}
    assert cases["T7"].find("failure") is not None and cases["T5"].find("failure") is None
    assert cases["T4"].find("skipped") is not None and cases["T12"].find("skipped") is not None
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "0", "2")
    report = (out / "broken" / "report.html").read_text()
    assert "graded after submission on inputs you have not" in report and "paste their values" not in report
    assert (out / "broken" / "result.json").is_file()


def test_junit_for_a_batch_validates_and_marks_errors_and_grader_failures(make_submission, grade) -> None:
    crash = grade(make_submission("crash", code=mutate(*RAISE_IN_LOSS)))
    good = grade(make_submission("good"))
    failed_grader = grade(make_submission("nothing", code=None, answers=None))
    broken_task = failed_grader.task("T5")
    failed_grader = replace(failed_grader, tasks=tuple(
        replace(t, status=Status.ERROR, cause=Cause.GRADER, points=None) if t is broken_task else t
        for t in failed_grader.tasks))
    text = junit_xml([crash, good, failed_grader], student_view=True)
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    root = ET.fromstring(text)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"crash", "good", "nothing"}
    crash_cases = {c.get("name").split()[0]: c for c in suites["crash"].iter("testcase")}
    assert crash_cases["T6"].find("error").get("type") == "error"
    nothing = {c.get("name").split()[0]: c for c in suites["nothing"].iter("testcase")}
    assert nothing["T5"].find("error").get("type") == "grader-failure"
    assert nothing["T6"].find("failure").get("type") == "missing"
    # a module-only submission hands in no model: T12 is its one failure
    assert suites["good"].get("failures") == "1" and suites["good"].get("errors") == "0"
    assert int(root.get("tests")) == 36


def test_junit_survives_control_characters_in_student_output(make_submission, grade) -> None:
    noisy = mutate("N, _ = X.shape\n", 'N, _ = X.shape\n        print("bell\\x07 nul\\x00 esc\\x1b[31m")\n')
    text = junit_xml([grade(make_submission("noisy", code=noisy))], student_view=False)
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    assert "bell\ufffd" in text


def test_github_annotations_point_at_the_students_lines_and_the_summary_is_written(make_submission,
                                                                                  tmp_path: Path) -> None:
    code = mutate(*RAISE_IN_LOSS, code=mutate(*W1_BUG))
    code = mutate("y_pred = np.argmax(scores, axis=1)", "y_pred = np.argmax(scores, axis=0)", code=code)
    sub = make_submission("alice", code=code)
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(tmp_path)}
    result = CliRunner().invoke(main, ["check", str(sub)], env=env)
    assert result.exit_code == ExitCode.CHECKS_FAILED, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("::error ")]
    by_task = {line.split("title=")[1].split("%3A")[0].split()[0]: line for line in errors}
    raise_line = code.splitlines().index('        raise RuntimeError("student bug in the loss")') + 1
    # T6's loss raised: the deepest frame in the student's own file
    assert by_task["T6"].startswith(f"::error file=subs/alice/cattern/neural_net.py,line={raise_line},")
    assert by_task["T6"].endswith("RuntimeError: student bug in the loss")
    # T11 returns wrong labels: the line where predict is defined
    predict_line = function_line(code, "predict", "TwoLayerNet")
    assert predict_line and by_task["T11"].startswith(
        f"::error file=subs/alice/cattern/neural_net.py,line={predict_line},")
    assert "T5" not in by_task and "T4" not in by_task  # passing and manual tasks are not annotated
    text = summary.read_text()
    assert text.startswith("## hw4 check of `alice`")
    assert "not passing: T6" in text and "| T11 predict(): argmax labels | ❌ fail |" in text
    quiet = CliRunner().invoke(main, ["check", str(sub)], env={"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": ""})
    assert "::error" not in quiet.output


def test_answers_annotation_points_at_the_section_heading(make_submission, tmp_path: Path) -> None:
    answers = SOLUTION_ANSWERS.replace("parameters = ", "parameters = 1 + ", 1)
    assert answers != SOLUTION_ANSWERS
    sub = make_submission("bob", answers=answers)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": "", "GITHUB_WORKSPACE": str(sub)}
    result = CliRunner().invoke(main, ["check", str(sub)], env=env)
    heading = answers.splitlines().index(next(line for line in answers.splitlines() if line.startswith("## T3"))) + 1
    assert f"::error file=answers.md,line={heading},title=T3 " in result.output


def test_coloured_table_on_a_terminal(make_submission, hw4) -> None:
    result = student_view(grade_submission(make_submission(code=mutate(*W1_BUG)), hw4, None, mode=STUDENT_QUICK),
                          after_submission=False)
    console = Console(force_terminal=True, color_system="truecolor", width=160, record=True)
    console.print(rich_table(result))
    rendered = console.export_text(styles=True, clear=False)
    assert "\x1b[" in rendered and ("┃" in rendered or "│" in rendered)
    plain = console.export_text()
    assert "T7 Backward pass" in plain and "not passing: T7" in plain


def test_ci_template_installs_the_grader_and_runs_the_check() -> None:
    result = CliRunner().invoke(main, ["ci-template", "--install", "git+https://example.org/course/grader.git@v1",
                                       "--dir", "hw4"])
    assert result.exit_code == 0
    text = result.output
    assert 'python -m pip install "git+https://example.org/course/grader.git@v1"' in text
    assert 'grader check "hw4" --rubric "hw4" --junit grader-junit.xml' in text
    assert "actions/checkout@v4" in text and "if: always()" in text
    default = CliRunner().invoke(main, ["ci-template"]).output
    assert "YOUR-COURSE" in default  # a placeholder that fails loudly, never a look-alike package
    with pytest.raises(ValueError):
        workflow_yaml(install_spec='x"; rm -rf /')


def test_check_help_tells_a_student_what_it_does() -> None:
    text = CliRunner().invoke(main, ["check", "--help"]).output
    for phrase in ("public checks", "graded after submission", "--notebook", "--junit", "--github",
                   "Exits 0 when every auto-graded public check passes"):
        assert phrase in text, phrase


@pytest.mark.skipif(os.environ.get("GRADER_SLOW") != "1", reason="runs the notebook (~80 s); GRADER_SLOW=1")
def test_check_with_notebook_grades_t12() -> None:  # pragma: no cover - documented, run by hand
    from .conftest import PROJECT
    result = CliRunner().invoke(main, ["check", str(PROJECT / "submissions/reference-solution"), "--notebook"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "T12  pass" in result.output
