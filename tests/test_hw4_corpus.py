"""Real-world patterns of HW4 (tests/hw4_corpus.py): every sample gets the verdict a fair TA gives.

All samples are graded in one batch (two workers, the MNIST training check off), the way a TA
grades a class; each test then reads its sample's result. The verdict of every task is asserted,
not only of the task a pattern is about, so a check that starts charging a pattern to a second
task fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch
from grader.results import SubmissionResult

from .conftest import PROJECT, SECRET, SOLUTION_ANSWERS, SOLUTION_CODE, STARTER
from .hw4_corpus import CODE_TASKS, DECISIONS, PATTERNS, Pattern

SAMPLES = {p.name: p for p in (*PATTERNS, *DECISIONS)}
# every sample hands in the reference answers.md and no notebook or model
OTHER_TASKS = {"T1": "pass", "T2": "pass", "T3": "pass", "T4": "manual", "T12": "missing"}


@pytest.fixture(scope="module")
def graded(hw4: rubric_mod.Rubric, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    base = tmp_path_factory.mktemp("hw4_corpus")
    for name, pattern in SAMPLES.items():
        root = base / "subs" / name
        (root / "cattern").mkdir(parents=True)
        (root / "cattern/neural_net.py").write_text(pattern.code())
        shutil.copy(STARTER / "cattern/__init__.py", root / "cattern/__init__.py")
        (root / "answers.md").write_text(SOLUTION_ANSWERS)
    (base / "secret").write_bytes(SECRET)
    summary = grade_batch(base / "subs", base / "out", hw4, workers=2, secret_file=base / "secret")
    return {r.submission: r for r in summary.results}


def test_the_corpus_holds_at_least_25_real_world_patterns() -> None:
    assert len(PATTERNS) >= 25
    assert len(SAMPLES) == len(PATTERNS) + len(DECISIONS)  # names are unique
    for pattern in SAMPLES.values():
        assert pattern.seen and pattern.why, pattern.name
        assert set(pattern.verdict) <= set(CODE_TASKS), pattern.name
        assert set(pattern.verdict.values()) <= {"fail", "error"}, pattern.name


@pytest.mark.parametrize("pattern", list(SAMPLES.values()), ids=list(SAMPLES))
def test_each_sample_is_an_edit_of_the_reference(pattern: Pattern) -> None:
    code = pattern.code()
    assert code != SOLUTION_CODE
    if pattern.name == "python2_file":
        with pytest.raises(SyntaxError):
            compile(code, pattern.name, "exec")
    else:
        compile(code, pattern.name, "exec")
    # a small edit, not a copy of someone's file: most of the reference's lines are still there
    kept = set(code.splitlines()) & set(SOLUTION_CODE.splitlines())
    assert len(kept) > 0.8 * len(set(SOLUTION_CODE.splitlines())), pattern.name


@pytest.mark.parametrize("pattern", list(SAMPLES.values()), ids=list(SAMPLES))
def test_each_pattern_gets_its_fair_verdict_on_every_task(graded: dict[str, SubmissionResult],
                                                          pattern: Pattern) -> None:
    result = graded[pattern.name]
    assert {t.id: t.status.value for t in result.tasks} == {**OTHER_TASKS, **pattern.statuses()}
    assert not result.grader_failures
    for tid, status in pattern.verdict.items():
        task = result.task(tid)
        assert task.points == 0.0
        if status == "fail":  # a failed task names a failed check, or says what form its answer had
            assert [c for c in task.checks if c.passed is False] or "returned" in task.message, (tid, task.message)
        else:
            assert task.error is not None and task.cause is not None and task.cause.value == "submission", tid


def _check(result: SubmissionResult, task: str, start: str):
    (check,) = [c for c in result.task(task).checks if c.name.startswith(start)]
    return check


def test_why_the_convention_costs_t6_and_not_t7(graded: dict[str, SubmissionResult]) -> None:
    convention = graded["reg_other_convention"]
    assert all(c.passed for c in convention.task("T7").checks)
    inconsistent = graded["reg_loss_and_gradient_disagree"]
    failed = [c for c in inconsistent.task("T7").checks if c.passed is False]
    assert failed and all("numeric" in c.name for c in failed)
    assert all("whatever regularisation convention" in c.rule for c in failed)


def test_clamped_sampling_is_named_as_such(graded: dict[str, SubmissionResult]) -> None:
    toy = _check(graded["minibatch_without_replacement_clamped"], "T8", "toy data, batch_size=200 > N=5")
    assert toy.passed is True and "clamped" in toy.message


def test_a_rounded_epoch_is_named_as_such(graded: dict[str, SubmissionResult]) -> None:
    for name, label in (("epoch_ceil", "rounded up (ceil): 5 iterations"),
                        ("epoch_int", "rounded down (int, //): 4 iterations")):
        (hidden,) = [c for c in graded[name].task("T10").checks if "N=45" in c.name]
        assert label in hidden.message, name


def test_an_epoch_of_zero_iterations_costs_t10_not_t8(graded: dict[str, SubmissionResult]) -> None:
    result = graded["epoch_floor_division_without_max"]
    toy = _check(result, "T8", "toy data, batch_size=200 > N=5")
    assert toy.passed is True and "before train() raised ZeroDivisionError" in toy.message
    big = _check(result, "T10", "toy data, batch_size=200 > N=5")
    assert big.passed is False and "ZeroDivisionError" in big.message


def test_t10_is_read_from_the_learning_rate_when_t9_is_undone(graded: dict[str, SubmissionResult]) -> None:
    result = graded["train_and_predict_left_as_pass"]
    toy = _check(result, "T10", "toy data (1 iteration per epoch)")
    assert toy.passed is True and "read from train()'s learning_rate variable" in toy.message
    assert _check(result, "T9", "toy net").message == "first step: W1 did not move"
    assert "X_batch is not an array of rows" in _check(result, "T8", "toy data").message


def test_python2_and_missing_modules_get_a_hint(graded: dict[str, SubmissionResult]) -> None:
    assert "Python 2" in graded["python2_file"].task("T5").message
    past = graded["past_builtins_import"].task("T5")
    assert "No module named 'past'" in past.message and "remove other imports" in past.message


def test_a_predict_with_its_own_forward_pass_is_judged_by_the_correct_scores(
        graded: dict[str, SubmissionResult]) -> None:
    """With a broken loss(X) (weights transposed), predict() that goes through loss(X) is judged on
    the scores it is given; a ReLU on the scores is a T11 mistake whatever the forward pass."""
    t11 = graded["weights_stored_transposed"].task("T11")
    assert all("stubbed loss(X)" in c.message for c in t11.checks if c.passed is not None)
    relu = graded["predict_relu_on_the_scores"].task("T11")
    assert "labels differ" in _check(graded["predict_relu_on_the_scores"], "T11", "toy data").message
    assert relu.status.value == "fail"


def test_the_batch_leaves_no_sample_ungraded(graded: dict[str, SubmissionResult]) -> None:
    assert set(graded) == set(SAMPLES)


def test_probes_call_methods_whose_parameters_were_renamed() -> None:
    """starter_call: renamed leading parameters by position, the starter's names by keyword."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hw4_probes", PROJECT / "rubrics/hw4/probes.py")
    assert spec and spec.loader
    probes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probes)
    seen: list[tuple] = []

    def renamed(x, labels=None, reg=0.0):
        seen.append((x, labels, reg))

    def reordered(X, reg=0.0, y=None):
        seen.append((X, y, reg))

    def extra(X, y=None, verbose=False, reg=0.0):
        seen.append((X, y, reg))

    for method in (renamed, reordered, extra):
        probes.starter_call(method, probes.LOSS_ARGS, ("X", "y", 0.5))
    assert seen == [("X", "y", 0.5)] * 3
    with pytest.raises(TypeError):  # a required parameter the starter does not have is the submission's to fix
        probes.starter_call(lambda X, y, reg, extra: None, probes.LOSS_ARGS, ("X", "y", 0.5))


def test_corpus_samples_stay_out_of_the_repository_as_files() -> None:
    """Samples are edits applied by the fixture: no copy of a third-party file is kept."""
    assert not list(Path(__file__).parent.glob("**/neural_net*.py"))
