"""No leaks: nothing a student reads contains hidden inputs, hidden expected values, the reference
solution or the secret.

A submission written to leak (it prints the inputs it is given and raises with them in the
message whenever they are not the notebook's toy data) is graded in every student-facing way:
`grader check` (terminal lines, coloured table, HTML report, result.json, JUnit, GitHub
annotations and summary), `grader gradescope` (results.json, hidden checks run with a known
secret), and the student views of the TA's result that batch exports use. The forbidden values
are collected independently: the hidden inputs are drawn again from the same secret, the hidden
expected values and check names are read from the TA's result of the same submission, and
the reference solution's own lines come from its source. As a control, the TA's result must
contain the hidden inputs (so the search looks for values that really were exposed to it).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from grader.cli import main
from grader.judgement import rubric as rubric_mod
from grader.judgement.hidden import HiddenInputs
from grader.judgement.locate import locations
from grader.judgement.submission import grade_submission
from grader.presentation.github import annotations, summary_markdown
from grader.presentation.gradescope import gradescope_results
from grader.presentation.html import render_report
from grader.presentation.junit import junit_xml
from grader.presentation.student_view import student_view
from grader.presentation.terminal import plain_report, rich_table
from grader.results import Cause, Status, StudentError, SubmissionResult, TaskResult, Visibility
from grader.store import GRADEBOOK_FILE, Gradebook

from .conftest import SECRET, SOLUTION, STARTER

SUB_ID = "submission"  # the id `grader gradescope` grades under: the same hidden inputs

# Written apart from the reference, so that no line of it is a line of the reference solution.
LEAKY_CODE = '''\
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {"W1": std * np.random.randn(input_size, hidden_size), "b1": np.zeros(hidden_size),
                       "W2": std * np.random.randn(hidden_size, output_size), "b2": np.zeros(output_size)}

    def loss(self, X, y=None, reg=0.0):
        p = self.params
        if X.shape[1] != 4:  # not the toy data: show what the grader sent
            print("LEAK-INPUT", repr(X.ravel()[:4].tolist()), repr(reg), repr(p["W1"].ravel()[:2].tolist()))
        act = np.maximum(X.dot(p["W1"]) + p["b1"], 0.0)
        out = act.dot(p["W2"]) + p["b2"]
        if y is None:
            return out
        count = X.shape[0]
        expo = np.exp(out)  # no shift by the max: overflows on large scores (a hidden T6 check)
        prob = expo / expo.sum(axis=1, keepdims=True)
        penalty = 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        total = -np.mean(np.log(prob[np.arange(count), y])) + penalty
        d_out = prob.copy()
        d_out[np.arange(count), y] -= 1.0
        d_out /= count
        g = {"W2": act.T.dot(d_out) + reg * p["W2"], "b2": d_out.sum(axis=0)}
        d_act = d_out.dot(p["W2"].T) * (act > 0)
        g["W1"] = X.T.dot(d_act) + reg * p["W1"]
        g["b1"] = d_act.sum(axis=0)
        return total, g

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, verbose=False):
        per_epoch = max(X.shape[0] / batch_size, 1)
        history = []
        for step in range(num_iters):
            rows = np.random.choice(X.shape[0], batch_size, replace=True)
            value, g = self.loss(X[rows], y=y[rows], reg=reg)
            history.append(value)
            for key in self.params:
                self.params[key] -= learning_rate * g[key]
            if step % per_epoch == 0:
                self.predict(X_val)
                learning_rate *= learning_rate_decay
        return {"loss_history": history, "train_acc_history": [], "val_acc_history": []}

    def predict(self, X):
        if X.shape[1] != 4:
            raise ValueError("LEAK-ERROR " + repr(X.ravel()[:3].tolist()))
        return np.argmax(self.loss(X), axis=1)
'''


def number_forms(value: float) -> set[str]:
    """The ways a float is commonly printed, kept only where they are distinctive (6+ digits)."""
    forms = {repr(value), f"{value:.6g}", f"{value:.8g}", f"{value:.8f}", f"{value:.6e}", str(np.float64(value))}
    return {f for f in forms if sum(ch.isdigit() for ch in f.lstrip("-0.")) >= 6 and ("." in f or "e" in f)}


def numbers_in(value: Any) -> list[float]:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, int | float):
        return [float(value)] if isinstance(value, float) and np.isfinite(value) and abs(value) > 1e-3 else []
    if isinstance(value, dict):
        return [x for v in value.values() for x in numbers_in(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in numbers_in(v)]
    return []


def hidden_inputs(rubric: rubric_mod.Rubric) -> list[float]:
    """The first values of the hidden inputs of T5, T6 and T11, drawn again from the secret."""
    checks = rubric.checks()
    hidden = HiddenInputs(SECRET, rubric.id, SUB_ID)
    values: list[float] = []
    forward = hidden.rng("T5", "forward")
    for _ in range(3):
        case = checks.random_case(forward)
        values += [*case.X.ravel()[:4], *case.params["W1"].ravel()[:2]]
    loss = hidden.rng("T6", "loss")
    values += [float(loss.uniform(0.01, 0.5)), float(loss.uniform(1.0, 5.0))]
    predict = hidden.rng("T11", "predict")
    for _ in range(2):
        case = checks.random_case(predict, n=(10, 60))
        values += [*case.X.ravel()[:4], *case.params["W1"].ravel()[:2]]
    return [float(v) for v in values]


def reference_lines() -> set[str]:
    """Lines of the reference solution that are neither in the starter nor in the leaky code."""
    starter = {line.strip() for line in (STARTER / "cattern/neural_net.py").read_text().splitlines()}
    ours = {line.strip() for line in LEAKY_CODE.splitlines()}
    lines = {line.strip() for line in (SOLUTION / "cattern/neural_net.py").read_text().splitlines()}
    return {line for line in lines if len(line) >= 24 and line not in starter and line not in ours
            and not line.startswith("#")}


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("leaky") / "leaky-student"
    (root / "cattern").mkdir(parents=True)
    (root / "cattern/neural_net.py").write_text(LEAKY_CODE)
    (root / "cattern/__init__.py").write_text("")
    (root / "answers.md").write_text((SOLUTION / "answers.md").read_text())
    return root


@pytest.fixture(scope="module")
def ta_result(leaky: Path, hw4: rubric_mod.Rubric) -> SubmissionResult:
    return grade_submission(leaky, hw4, SECRET, sub_id=SUB_ID)


@pytest.fixture(scope="module")
def forbidden(ta_result: SubmissionResult, hw4: rubric_mod.Rubric) -> dict[str, set[str]]:
    hidden_checks = [c for t in ta_result.tasks for c in t.checks if c.visibility is Visibility.HIDDEN]
    expected = {f for c in hidden_checks for x in numbers_in(c.expected) for f in number_forms(x)}
    return {
        "hidden input": {f for v in hidden_inputs(hw4) for f in number_forms(v)},
        "hidden expected value": expected,
        # names that carry hidden parameters (N=17 D=4 ..., reg=0.2345); fixed descriptions may be listed
        "hidden check name": {c.name for c in hidden_checks if "=" in c.name},
        "secret": {SECRET.decode(), SECRET.hex(), SECRET[:16].decode(), SECRET.hex()[:24]},
        "reference solution line": reference_lines(),
    }


@pytest.fixture(scope="module")
def artifacts(leaky: Path, ta_result: SubmissionResult, hw4: rubric_mod.Rubric,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every student-facing artifact, by name."""
    base = tmp_path_factory.mktemp("artifacts")
    found: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rubric_mod, "load", lambda name: hw4)
        summary = base / "summary.md"
        env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(base)}
        check = CliRunner().invoke(main, ["check", str(leaky), "--out", str(base / "out"), "--junit",
                                          str(base / "junit.xml")], env=env)
        assert check.exit_code == 0, check.output  # its bugs show only on hidden inputs
        found["check: terminal lines and GitHub annotations"] = check.output
        found["check: GitHub job summary"] = summary.read_text()
        found["check: JUnit"] = (base / "junit.xml").read_text()
        found["check: report.html"] = (base / "out" / leaky.name / "report.html").read_text()
        result_json = (base / "out" / leaky.name / "result.json").read_text()
        found["check: result.json"] = result_json
        console = Console(record=True, width=200, force_terminal=True)
        console.print(rich_table(SubmissionResult.from_json(json.loads(result_json))))
        found["check: coloured table"] = console.export_text()
        secret_file = base / "secret"
        secret_file.write_bytes(SECRET)
        gradescope = CliRunner().invoke(main, ["gradescope", "--submission", str(leaky), "--results",
                                               str(base / "results.json"), "--secret-file", str(secret_file)])
        assert gradescope.exit_code == 0, gradescope.output
        found["gradescope: results.json"] = (base / "results.json").read_text()
    shown = student_view(ta_result)
    found["batch export: JUnit (student view)"] = junit_xml([ta_result], student_view=True)
    found["batch export: report.html (student view)"] = render_report(shown, for_student=True)
    found["batch export: result.json (student view)"] = json.dumps(shown.to_json(), ensure_ascii=False)
    found["batch export: GitHub summary and annotations"] = summary_markdown(shown) + "\n".join(
        annotations(shown, locations(shown, hw4, leaky)))
    found["batch export: plain lines"] = plain_report(shown)
    found["batch export: gradescope"] = json.dumps(gradescope_results(ta_result), ensure_ascii=False)
    return found


def test_the_leaky_submission_really_exposes_hidden_inputs_to_the_ta(ta_result: SubmissionResult,
                                                                     forbidden: dict[str, set[str]]) -> None:
    """The control: the values searched for are really in the TA's result, so their absence means something."""
    ta_text = json.dumps(ta_result.to_json(), ensure_ascii=False)
    assert "LEAK-INPUT [" in ta_text and "LEAK-ERROR [" in ta_text  # what it printed and raised
    assert sum(f in ta_text for f in forbidden["hidden input"]) >= 5
    assert any(f in ta_text for f in forbidden["hidden expected value"])
    assert all(name in ta_text for name in forbidden["hidden check name"])
    assert ta_result.task("T11").status is Status.ERROR and ta_result.task("T6").status is Status.FAIL
    assert all(len(values) >= 3 for name, values in forbidden.items()), {k: len(v) for k, v in forbidden.items()}


def test_no_student_facing_artifact_leaks(artifacts: dict[str, str], forbidden: dict[str, set[str]]) -> None:
    assert len(artifacts) == 13
    leaks = [(artifact, kind, value) for artifact, text in artifacts.items()
             for kind, values in forbidden.items() for value in values if value in text]
    assert not leaks, leaks[:10]
    for artifact, text in artifacts.items():  # what it printed and raised (its own source lines may show)
        assert "LEAK-INPUT [" not in text and "LEAK-ERROR [" not in text, artifact


def test_students_still_learn_which_tasks_failed_after_submission(artifacts: dict[str, str]) -> None:
    results = json.loads(artifacts["gradescope: results.json"])
    tests = {t["number"]: t for t in results["tests"]}
    assert tests["T6"]["status"] == "failed" and "hidden check 4: failed" in tests["T6"]["output"]
    assert tests["T11"]["status"] == "failed" and "ValueError in your code" in tests["T11"]["output"]
    assert tests["T5"]["status"] == "passed"


def test_a_grader_failure_shows_students_no_traceback(ta_result: SubmissionResult) -> None:
    """A grader traceback runs through checks and reference code; the student sees only that it broke."""
    reference_line = sorted(reference_lines())[0]
    detail = ('File "rubrics/hw4/checks.py", line 1, in forward', f"    {reference_line}", SECRET.hex())
    broken = TaskResult("T5", "Forward pass", Status.ERROR, None, 1.0, f"GRADER FAILURE: boom {SECRET.hex()}",
                        error=StudentError("GraderError", reference_line, detail), cause=Cause.GRADER)
    result = SubmissionResult(ta_result.submission, "hw4", "1", (broken,))
    texts = [render_report(student_view(result)), junit_xml([result], student_view=True),
             json.dumps(gradescope_results(result)), plain_report(student_view(result))]
    for text in texts:
        assert reference_line not in text and SECRET.hex() not in text
        assert "GRADER FAILURE" in text


def test_similarity_results_reach_no_student_view(leaky: Path, ta_result: SubmissionResult,
                                                  tmp_path: Path) -> None:
    """A renamed copy of the leaky submission: the TA's pages name the pair, nothing a student reads does."""
    from grader.execution.workspace import content_hash

    copy = tmp_path / "copy"
    shutil.copytree(leaky, copy)
    module = copy / "cattern/neural_net.py"
    module.write_text(module.read_text().replace("history", "losses").replace("per_epoch", "epoch_len"))
    original_id, copier_id = "orig-7f3a9c", "copier-2b9d4e"
    out = tmp_path / "out"
    with Gradebook(out / GRADEBOOK_FILE) as book:
        book.record(replace(ta_result, submission=original_id), str(leaky))
        book.record(replace(ta_result, submission=copier_id, content_hash=content_hash(copy)), str(copy))
    run = CliRunner().invoke(main, ["similarity", str(out)])
    assert run.exit_code == 0, run.output
    # the control: the TA side does show the pair and its score
    csv_rows = (out / "similarity.csv").read_text().splitlines()
    assert csv_rows[1].startswith((f"{copier_id},{original_id},", f"{original_id},{copier_id},"))
    score = csv_rows[1].rsplit(",", 1)[1]
    assert float(score) > 0.9
    index = (out / "index.html").read_text()
    assert copier_id in index and original_id in index and "Similarity" in index
    assert list((out / "similarity").glob("pair-*.html"))
    # the student side: every student-facing form of each result, read back from the same gradebook
    with Gradebook(out / GRADEBOOK_FILE) as book:
        for sub, other in ((original_id, copier_id), (copier_id, original_id)):
            stored = book.latest_result(sub, "hw4")
            assert stored is not None
            shown = student_view(stored)
            texts = {
                "report.html": render_report(shown, for_student=True),
                "result.json": json.dumps(shown.to_json(), ensure_ascii=False),
                "JUnit": junit_xml([stored], student_view=True),
                "gradescope": json.dumps(gradescope_results(stored), ensure_ascii=False),
                "plain lines": plain_report(shown),
            }
            for name, text in texts.items():
                assert other not in text, (sub, name)
                assert "similar" not in text.lower(), (sub, name)  # (a score like 0.97 could be any number)
