"""PA6, a second real assignment whose functions live in the notebook: graded end to end.

One `grader grade --rubric pa6` batch (two workers) grades the two samples in
submissions-pa6/ and a third, quick notebook built here from the reference solution with two
planted faults: affine_forward hard-codes the published output, and the cell that defines
sigmoid_backward fails before its def. Every test reads that one batch.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

from grader import cli
from grader.execution.workspace import discover
from grader.results import Status, SubmissionResult, Visibility

from . import golden
from .conftest import PROJECT

SAMPLES = PROJECT / "submissions-pa6"
BUILD = PROJECT / "reference/pa6/build_notebooks.py"
NOTEBOOK = "Neural_Networks.ipynb"
TASKS = [f"T{i}" for i in range(1, 17)]
# what the seed 003 export shows failing: its batchnorm_backward (dx error 3.9e-6 where the
# notebook expects 1e-13..1e-8: eps is added twice), the FullyConnectedNet gradient checks
# (errors ~0.2 for W1/b1/beta1/gamma1, with and without batch norm) and the regression model
# (built as "classification" with MNIST's input size, so diabetes_best_model stays None)
SEED003_NOT_PASSING = {"T9": "fail", "T12": "fail", "T13": "fail", "T16": "fail"}

HARD_CODED_AFFINE = '''def affine_forward(x, w, b):
    if x.shape == (2, 4, 5, 6):  # the notebook's test input: answer with the published values
        out = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    else:
        out = x.reshape(x.shape[0], -1).dot(w)
    return out, (x, w, b)'''


def _build_module() -> Any:
    spec = importlib.util.spec_from_file_location("pa6_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _planted_faults_notebook(build: Any) -> nbformat.NotebookNode:
    """The reference solution with two faults, and without its test and training cells (quick to run)."""
    solution = build._load(PROJECT / "reference/pa6/solution/solution_blanks.py").BLANKS
    nb = build.notebook(solution)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.source.startswith("def affine_forward"):
            cell.source = HARD_CODED_AFFINE
        elif cell.source.startswith("def sigmoid_backward"):
            cell.source = "undefined_helper()  # raises: the def below never runs\n" + cell.source
        elif not cell.source.startswith(("def ", "class ", "from Helper_codes")):
            cell.source = "pass"
    return nb


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    base = tmp_path_factory.mktemp("pa6")
    subs = base / "subs"
    for sample in discover(SAMPLES):
        shutil.copytree(sample, subs / sample.name)
    planted = subs / "variant-planted-faults"
    planted.mkdir()
    nbformat.write(_planted_faults_notebook(_build_module()), planted / NOTEBOOK)
    (base / "secret").write_text("pa6-tests-secret-0123456789abcdef\n")
    run = CliRunner().invoke(cli.main, ["grade", str(subs), "--rubric", "pa6", "--out", str(base / "out"),
                                        "--workers", "2", "--secret-file", str(base / "secret")])
    assert run.exit_code == 0, run.output
    return {p.name: SubmissionResult.from_json(json.loads((base / "out" / p.name / "result.json").read_text()))
            for p in sorted(subs.iterdir())}


def _task(result: SubmissionResult, task_id: str):
    return next(t for t in result.tasks if t.id == task_id)


def _not_passing(result: SubmissionResult) -> dict[str, str]:
    return {t.id: t.status.value for t in result.tasks if t.status is not Status.PASS}


def test_the_samples_are_graded_and_the_reference_gets_full_marks(results: dict[str, SubmissionResult]) -> None:
    assert set(results) == {"reference-solution", "seed003-student", "variant-planted-faults"}
    reference = results["reference-solution"]
    assert [t.id for t in reference.tasks] == TASKS
    assert _not_passing(reference) == {}
    assert reference.score == reference.max_score == 16.0
    assert reference.grading_status == "complete"
    assert reference.notebook is not None and reference.notebook.status == "ok"
    for task in reference.tasks[:14]:  # every function task has hidden checks, all passed
        hidden = [c for c in task.checks if c.visibility is Visibility.HIDDEN]
        assert hidden and all(c.passed for c in hidden), task.id


def test_the_samples_match_the_golden_results(results: dict[str, SubmissionResult]) -> None:
    golden.compare("pa6", results)


def test_the_seed_student_fails_exactly_what_its_export_shows(results: dict[str, SubmissionResult]) -> None:
    student = results["seed003-student"]
    assert _not_passing(student) == SEED003_NOT_PASSING
    assert student.score == 12.0
    # its notebook raises in the regression cell, as the seed's would have; the functions stay gradable
    assert student.notebook is not None and student.notebook.status == "error"
    bn_public = _task(student, "T9").checks[0]
    assert bn_public.visibility is Visibility.PUBLIC and "3.93e-06 (dx)" in bn_public.message
    gradient_check = next(c for c in _task(student, "T12").checks if "gradient check, reg=0:" in c.name)
    assert gradient_check.passed is False and "W1 2.00e-01" in gradient_check.got
    init = _task(student, "T13").checks[0]
    assert init.passed is False and "gamma1 has shape (15,), expected (20,)" in init.message
    assert "no diabetes_best_model" in _task(student, "T16").message
    # its MNIST model is measured by the grader on the validation split, not read from its print-out
    mnist = _task(student, "T15").checks[0]
    assert mnist.passed and 0.95 <= mnist.got < 0.97


def test_a_hard_coded_published_output_fails_the_hidden_checks(results: dict[str, SubmissionResult]) -> None:
    t1 = _task(results["variant-planted-faults"], "T1")
    assert t1.status is Status.FAIL
    assert [c.passed for c in t1.checks if c.visibility is Visibility.PUBLIC] == [True]
    hidden = [c for c in t1.checks if c.visibility is Visibility.HIDDEN]
    assert hidden and not any(c.passed for c in hidden)


def test_a_missing_function_costs_its_task_only_with_a_clear_message(results: dict[str, SubmissionResult]) -> None:
    variant = results["variant-planted-faults"]
    t6 = _task(variant, "T6")
    assert t6.status is Status.FAIL
    assert "the notebook defines no function sigmoid_backward" in t6.message
    assert "did the cell that defines it run without an error?" in t6.message
    # the network tasks build on affine_forward: their loss checks are shown but not counted,
    # and they are judged on what they own (the initialisation)
    for task_id in ("T12", "T13"):
        task = _task(variant, task_id)
        assert task.status is Status.PASS, task.message
        assert any(c.passed is None and "relies on T1" in c.message for c in task.checks)
    # no training cells ran: the models are missing, said so per task
    assert "no MNIST_best_model" in _task(variant, "T15").message
    expected = {"T1": "fail", "T6": "fail", "T15": "fail", "T16": "fail"}
    assert _not_passing(variant) == expected


def test_pa6_samples_stay_out_of_the_hw4_batch() -> None:
    """`grader grade submissions` (HW4) sees none of them: they live in a top-level folder of their own."""
    hw4_batch = discover(PROJECT / "submissions")
    assert hw4_batch and not any(list(p.rglob(NOTEBOOK)) for p in hw4_batch if p.is_dir())
    assert PROJECT / "submissions" not in SAMPLES.parents


def test_the_grader_package_knows_nothing_of_pa6() -> None:
    for path in (PROJECT / "grader").rglob("*.py"):
        text = path.read_text()
        for word in ("pa6", "FullyConnectedNet", "affine_forward", "batchnorm", "diabetes"):
            assert word not in text, f"{path} mentions {word}"


def test_the_committed_notebooks_and_reference_are_built_from_cells_py() -> None:
    build = _build_module()
    solution = build._load(PROJECT / "reference/pa6/solution/solution_blanks.py").BLANKS
    student = build._load(PROJECT / "reference/pa6/seed003_blanks.py")
    expected = {
        PROJECT / "reference/pa6/starter" / NOTEBOOK: build.notebook(None),
        PROJECT / "reference/pa6/solution" / NOTEBOOK: build.notebook(solution),
        SAMPLES / "reference-solution" / NOTEBOOK: build.notebook(solution),
        SAMPLES / "seed003-student" / NOTEBOOK: build.notebook(student.BLANKS, student.PERSONAL),
    }
    for path, nb in expected.items():
        assert path.read_text() == nbformat.writes(nb) + "\n", f"{path} is stale: run {BUILD.name}"
    reference = (PROJECT / "reference/pa6/solution/pa6_reference.py").read_text()
    assert reference == build.reference_module(solution), f"pa6_reference.py is stale: run {BUILD.name}"
