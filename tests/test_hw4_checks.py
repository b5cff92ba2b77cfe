"""HW4 checks T5–T11: each task fails on its own bug and only there.

Every test grades the reference solution with one exact edit (a "mutant") and asserts which
auto-graded tasks stop passing. A mutant is graded once per module (see `graded`), and its
name is the submission id, so its hidden inputs are fixed by the name and the tests' secret.

Three groups:
- ISOLATED: one bug, one task (the rule of ../shared/hw4/TASKS.md).
- UNAVOIDABLE: one bug, two tasks, where no check can tell them apart (explained per case).
- REGRESSIONS: cases where an earlier version let one bug cost two tasks (or failed a correct
  backward on unlucky hidden inputs); each pins the fair outcome and the mechanism behind it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import numpy as np
import pytest

from grader.judgement import rubric as rubric_mod
from grader.judgement.hidden import HiddenInputs
from grader.judgement.submission import grade_submission
from grader.results import CheckResult, SubmissionResult, TaskResult

from .conftest import SECRET, SOLUTION_ANSWERS, SOLUTION_CODE, STARTER, mutate, not_passing, statuses

Edit = tuple[str, str]

# --- exact lines of the reference solution ---------------------------------------------------------
SCORES = "        scores = X1 @ W2 + b2\n"
RETURN_SCORES = "        if y is None:\n            return scores\n"
RELU = "X1 = np.maximum(0, X1)"
SHIFT = "scores_shifted = scores - np.max(scores, axis=1, keepdims=True)"
AVERAGE = "        loss /= N\n"
REG_LOSS = "loss += 1/2 * reg * ((W1 * W1).sum() + (W2 * W2).sum())"
GRAD_W1 = 'grads["W1"] = X.T @ dX1 + reg * W1'
GRAD_B1 = 'grads["b1"] = np.sum(dX1, axis=0)'
MASK = "dX1[X1 <= 0] = 0"
SAMPLE = "random_mask = np.random.choice(num_train, batch_size, replace=True)"
LABELS = "y_batch = y[random_mask]"
STEP = "-= learning_rate * grads"  # all four update lines
UPDATE_W1 = '            self.params["W1"] -= learning_rate * grads["W1"]\n'
UPDATE_B1 = '            self.params["b1"] -= learning_rate * grads["b1"]\n'
UPDATE_B2 = '            self.params["b2"] -= learning_rate * grads["b2"]\n'
DECAY = "                learning_rate *= learning_rate_decay\n"
EPOCH = "iterations_per_epoch = max(num_train / batch_size, 1)"
ARGMAX = "y_pred = np.argmax(scores, axis=1)"
RETURN_LOSS = "        return loss, grads\n"
RETURN_STATS = "        return {\n"

MUTANTS: dict[str, tuple[Edit, ...]] = {
    "reference": (),
    # T5
    "t5_row_max_subtracted": ((SCORES, SCORES + "        scores = scores - np.max(scores, axis=1, keepdims=True)\n"),),
    "t5_abs_activation": ((RELU, "X1 = np.abs(X1)"),),
    "t5_double_b2": ((SCORES, "        scores = X1 @ W2 + 2 * b2\n"),),
    "t5_returns_probabilities": ((RETURN_SCORES, "        if y is None:\n            return np.exp(scores) / "
                                                 "np.sum(np.exp(scores), axis=1, keepdims=True)\n"),),
    "t5_returns_transposed": ((RETURN_SCORES, "        if y is None:\n            return scores.T\n"),),
    # T6
    "t6_no_max_shift": ((SHIFT, "scores_shifted = scores"),),
    "t6_reg_without_half": ((REG_LOSS, "loss += reg * ((W1 * W1).sum() + (W2 * W2).sum())"),),
    "t6_summed_over_n": ((AVERAGE, ""),),
    "t6_returns_loss_only": ((RETURN_LOSS, "        return loss\n"),),
    # T7
    "t7_w1_grad_without_reg": ((GRAD_W1, 'grads["W1"] = X.T @ dX1'),),
    "t7_b1_grad_mean": ((GRAD_B1, 'grads["b1"] = np.mean(dX1, axis=0)'),),
    "t7_relu_mask_inverted": ((MASK, "dX1[X1 > 0] = 0"),),
    # T8
    "t8_labels_sampled_separately": ((LABELS, "y_batch = y[np.random.choice(num_train, batch_size, replace=True)]"),),
    "t8_first_rows_always": ((SAMPLE, "random_mask = np.arange(batch_size) % num_train"),),
    "t8_without_replacement": ((SAMPLE, SAMPLE.replace("replace=True", "replace=False")),),
    # T9
    "t9_plus_equals": ((STEP, "+= learning_rate * grads"),),
    "t9_biases_not_updated": ((UPDATE_B1, ""), (UPDATE_B2, "")),
    "t9_double_step": ((STEP, "-= 2 * learning_rate * grads"),),
    "t9_squared_learning_rate": ((STEP, "-= learning_rate ** 2 * grads"),),
    # T10
    "t10_decay_every_iteration": ((DECAY, ""),
                                  (UPDATE_B2, UPDATE_B2 + "            learning_rate *= learning_rate_decay\n")),
    "t10_never_decay": ((DECAY, "                pass\n"),),
    "t10_floor_division_epoch": ((EPOCH, "iterations_per_epoch = max(num_train // batch_size, 1)"),),
    "t10_decay_before_first_update": ((DECAY, ""), (UPDATE_W1, "            if it % iterations_per_epoch == 0:\n"
                                                               "                learning_rate *= learning_rate_decay\n"
                                                               + UPDATE_W1)),
    # T11
    "t11_argmax_axis0": ((ARGMAX, "y_pred = np.argmax(scores, axis=0)"),),
    "t11_returns_scores": ((ARGMAX, "y_pred = scores"),),
    "t11_float_labels": ((ARGMAX, "y_pred = np.argmax(scores, axis=1).astype(float)"),),
    # outside T5–T11: the starter's `return {...}` of train()
    "train_returns_no_dict": ((RETURN_STATS, "        return None and {\n"),),
    # The reference itself, under submission ids whose hidden T7 gradient check draws a tiny gradient
    # element (see test_t7_hidden_gradient_check_fails_a_correct_backward_on_some_inputs).
    "student0232": (),  # b1 element -5.3e-6: relative error 1.6e-6
    "student0745": (),  # b1 element -5.3e-11: relative error 3.6e-3
}


def mutant_code(name: str) -> str:
    code = SOLUTION_CODE
    for old, new in MUTANTS[name]:
        code = mutate(old, new, code)
    return code


@pytest.fixture(scope="module")
def graded(hw4: rubric_mod.Rubric, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SubmissionResult]:
    """Grade a mutant once for the whole module (each grade costs about a second)."""
    base = tmp_path_factory.mktemp("hw4_mutants")
    cache: dict[str, SubmissionResult] = {}

    def get(name: str) -> SubmissionResult:
        if name not in cache:
            root = base / name
            (root / "cattern").mkdir(parents=True)
            (root / "cattern/neural_net.py").write_text(mutant_code(name))
            shutil.copy(STARTER / "cattern/__init__.py", root / "cattern/__init__.py")
            (root / "answers.md").write_text(SOLUTION_ANSWERS)
            cache[name] = grade_submission(root, hw4, SECRET)
        return cache[name]

    return get


def failed_checks(task: TaskResult) -> list[CheckResult]:
    return [c for c in task.checks if c.passed is False]


def toy_training_check(task: TaskResult) -> CheckResult:
    (check,) = [c for c in task.checks if c.name.startswith("toy training")]
    return check


def test_mutations_apply_and_change_the_code() -> None:
    for name, edits in MUTANTS.items():
        if edits:
            assert mutant_code(name) != SOLUTION_CODE, name
            compile(mutant_code(name), name, "exec")


# --- the reference -----------------------------------------------------------------------------------


def test_the_reference_solution_passes_every_auto_graded_task(graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("reference")
    want = {f"T{i}": "pass" for i in range(1, 12)} | {"T4": "manual", "T12": "missing"}  # no notebook, no model file
    assert statuses(result) == want
    assert result.grading_status == "complete"
    for tid in ("T5", "T6", "T7", "T8", "T9", "T10", "T11"):
        task = result.task(tid)
        assert task.points == task.max_points == 1
        assert task.checks and all(c.passed is True for c in task.checks), tid
        assert {c.visibility.value for c in task.checks} == {"public", "hidden"}, tid


# --- one bug, one task -----------------------------------------------------------------------------

ISOLATED = [
    # (mutant, the only task that must stop passing, a phrase its message or a failing check's must hold)
    ("t5_row_max_subtracted", "T5", "sum of absolute differences"),  # softmax is shift-invariant: T6/T7 fine
    ("t6_no_max_shift", "T6", "NaN or infinite"),
    ("t7_w1_grad_without_reg", "T7", "regularisation gradient"),
    ("t7_b1_grad_mean", "T7", "b1: max |difference|"),
    ("t7_relu_mask_inverted", "T7", "W1: max relative error"),
    ("t8_labels_sampled_separately", "T8", "y_batch does not hold the labels"),
    ("t8_first_rows_always", "T8", "every iteration used the same rows"),
    ("t9_plus_equals", "T9", "moved by something other than -learning_rate·grad"),
    ("t9_biases_not_updated", "T9", "b1 did not move"),
    ("t9_double_step", "T9", "first step: W1 moved"),
    ("t10_decay_every_iteration", "T10", "learning rate of each step relative to the first"),
    ("t10_never_decay", "T10", "expected 0.03125, got 1"),
    ("t10_floor_division_epoch", "T10", "N=45"),  # 45 / 10 is not an integer number of iterations per epoch
    ("t11_argmax_axis0", "T11", "expected shape (5,), got (3,)"),
    ("t11_returns_scores", "T11", "expected shape (5,), got (5, 3)"),
    ("t11_float_labels", "T11", "expected integer labels"),
]


@pytest.mark.parametrize(("name", "task_id", "phrase"), ISOLATED, ids=[m for m, _, _ in ISOLATED])
def test_a_bug_in_one_task_fails_that_task_only(graded: Callable[[str], SubmissionResult], name: str, task_id: str,
                                                phrase: str) -> None:
    result = graded(name)
    assert not_passing(result) == {task_id: "fail"}
    task = result.task(task_id)
    assert task.points == 0.0
    assert failed_checks(task), "a fail must name the check that failed"
    assert task.message.startswith(f"{len(failed_checks(task))} of ")
    texts = [task.message] + [f"{c.name}: {c.message}" for c in failed_checks(task)]
    assert any(phrase in text for text in texts), texts


def test_hidden_checks_catch_what_the_notebook_checks_miss(graded: Callable[[str], SubmissionResult]) -> None:
    """Bugs invisible on the toy problem (N=5 < batch 200: one iteration per epoch) fail on hidden inputs."""
    for name, tid in (("t8_first_rows_always", "T8"), ("t10_decay_every_iteration", "T10"),
                      ("t10_floor_division_epoch", "T10")):
        checks = graded(name).task(tid).checks
        assert all(c.passed is not False for c in checks if c.visibility.value == "public"), name
        assert any(c.passed is False for c in checks if c.visibility.value == "hidden"), name


# --- one bug, two tasks: no check can isolate these ---------------------------------------------------------

UNAVOIDABLE = [
    # abs instead of ReLU: backprop runs on the submission's own hidden activations, so its gradients
    # are wrong against the reference (reg=0) and are not the gradient of its own loss either; there
    # is no way to judge a backward pass apart from the forward values it propagates.
    ("t5_abs_activation", {"T5": "fail", "T7": "fail"}),
    # 2 * b2 in the forward pass: the submission's loss depends on b2 twice as fast as its b2
    # gradient says (numeric check), and its dscores differ from the reference's (reg=0 check).
    # Same reason as above. T6 and T11 stay isolated (see the own-scores tests below).
    ("t5_double_b2", {"T5": "fail", "T7": "fail"}),
    # learning_rate ** 2: T10 can only read the learning rate through the size of T9's step, and
    # (lr·d^k)^2 = lr^2·(d^2)^k is exactly what a correct update with a decay of d^2 per epoch does.
    ("t9_squared_learning_rate", {"T9": "fail", "T10": "fail"}),
    # train() returns None: the one public check T8–T10 share (the notebook's toy training) cannot
    # finish, and it cannot say which of the three tasks broke (none did: the return is starter code).
    ("train_returns_no_dict", {"T8": "fail", "T9": "fail", "T10": "fail"}),
]


@pytest.mark.parametrize(("name", "expected"), UNAVOIDABLE, ids=[m for m, _ in UNAVOIDABLE])
def test_bugs_that_no_check_can_isolate(graded: Callable[[str], SubmissionResult], name: str,
                                        expected: dict[str, str]) -> None:
    assert not_passing(graded(name)) == expected


def test_squared_learning_rate_shows_as_a_squared_decay(graded: Callable[[str], SubmissionResult]) -> None:
    (toy,) = [c for c in graded("t9_squared_learning_rate").task("T10").checks if c.name.startswith("toy data")]
    assert "expected 0.5, got 0.25" in toy.message


def test_train_without_a_dict_fails_only_the_shared_toy_training(graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("train_returns_no_dict")
    for tid in ("T8", "T9", "T10"):
        task = result.task(tid)
        assert failed_checks(task) == [toy_training_check(task)], tid
        assert "train() should return a dict with 'loss_history'" in toy_training_check(task).message


# --- judged against the submission's own scores ----------------------------------------------------------


def _hidden_cases(hw4: rubric_mod.Rubric, sub: str, task: str, label: str, count: int, **shape: tuple[int, int]):
    checks = hw4.checks()
    rng = HiddenInputs(SECRET, hw4.id, sub).rng(task, label)
    return rng, [checks.random_case(rng, **shape) for _ in range(count)]


def _scores(params: dict[str, np.ndarray], X: np.ndarray, b2_factor: float = 1.0) -> np.ndarray:
    return np.maximum(0, X @ params["W1"] + params["b1"]) @ params["W2"] + b2_factor * params["b2"]


def test_t6_is_judged_against_the_submissions_own_scores(hw4: rubric_mod.Rubric,
                                                         graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("t5_double_b2")
    assert result.task("T5").status.value == "fail"
    t6 = result.task("T6")
    assert t6.status.value == "pass"
    assert all("judged against the loss of your own scores" in c.message for c in t6.checks)
    # Not vacuous: on T6's hidden inputs the 2·b2 scores give another loss than the reference's,
    # so a T6 judged against the reference scores would have failed this submission.
    checks = hw4.checks()
    rng = HiddenInputs(SECRET, hw4.id, "t5_double_b2").rng("T6", "loss")
    regs = (0.0, float(rng.uniform(0.01, 0.5)), float(rng.uniform(1.0, 5.0)))
    for reg, check in zip(regs, t6.checks[1:4], strict=True):
        case = checks.random_case(rng)
        assert case.shape_label in check.name
        own = checks.softmax_loss(_scores(case.params, case.X, 2.0), case.y, case.params, reg)
        reference = checks.softmax_loss(_scores(case.params, case.X), case.y, case.params, reg)
        assert check.expected == pytest.approx(own, rel=1e-9)
        assert abs(own - reference) > 1e-6


def test_t11_is_judged_against_the_submissions_own_scores(hw4: rubric_mod.Rubric,
                                                          graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("t5_double_b2")
    t11 = result.task("T11")
    assert t11.status.value == "pass"
    assert all("own loss(X) scores" in c.message for c in t11.checks)
    _, cases = _hidden_cases(hw4, "t5_double_b2", "T11", "predict", 2, n=(10, 60))
    differ = [int(np.sum(np.argmax(_scores(c.params, c.X, 2.0), 1) != np.argmax(_scores(c.params, c.X), 1)))
              for c in cases]
    assert sum(differ) > 0, "the mutant must predict other labels than the reference for the test to mean anything"


# --- the shared toy-training check ----------------------------------------------------------------------


def test_toy_training_counts_when_everything_passes(graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("reference")
    for tid in ("T8", "T9", "T10"):
        check = toy_training_check(result.task(tid))
        assert check.passed is True
        assert check.visibility.value == "public"
        assert set(check.depends_on) == {"T5", "T6", "T7", "T8", "T9", "T10", "T11"}


def test_toy_training_is_not_counted_when_t7_fails(graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("t7_b1_grad_mean")
    for tid in ("T8", "T9", "T10"):
        task = result.task(tid)
        check = toy_training_check(task)
        assert check.passed is None
        assert check.message.startswith("not counted: it relies on T7, which did not pass")
        assert task.status.value == "pass" and task.points == 1
        assert task.message == f"all {len(task.checks) - 1} checks passed"


# --- regressions: one bug, one task, where an earlier version charged two ----------------------------------


def test_loss_returning_one_value_fails_t6_and_t7_with_a_clear_message(
        graded: Callable[[str], SubmissionResult]) -> None:
    result = graded("t6_returns_loss_only")
    for tid in ("T6", "T7"):
        task = result.task(tid)
        assert task.status.value == "fail", tid  # a wrong return type is a wrong answer, not an error
        assert task.error is None
        assert "loss(X, y, reg) should return a tuple of 2 values, got float64" in task.message
    assert result.task("T5").status.value == "pass"
    assert result.task("T11").status.value == "pass"


def test_loss_returning_one_value_costs_only_t6_and_t7(graded: Callable[[str], SubmissionResult]) -> None:
    assert not_passing(graded("t6_returns_loss_only")) == {"T6": "fail", "T7": "fail"}


@pytest.mark.parametrize("name", ["student0232", "student0745"])
def test_t7_hidden_gradient_check_passes_a_correct_backward_near_zero_gradients(
        graded: Callable[[str], SubmissionResult], name: str) -> None:
    assert mutant_code(name) == SOLUTION_CODE
    assert not_passing(graded(name)) == {}


@pytest.mark.parametrize("name", ["t6_reg_without_half", "t6_summed_over_n"])
def test_a_t6_bug_fails_t7_only_through_the_numeric_gradient_checks(graded: Callable[[str], SubmissionResult],
                                                                    name: str) -> None:
    """T7's gradients are right (they follow the spec); T7's numeric checks differentiate the wrong T6 loss."""
    result = graded(name)
    assert result.task("T6").status.value == "fail"
    assert failed_checks(result.task("T6"))
    t7 = result.task("T7")
    numeric = [c for c in t7.checks if "gradient check" in c.name]
    others = [c for c in t7.checks if c not in numeric]
    assert len(others) == 3 and all(c.passed is True for c in others)  # reg=0 vs reference ×2, reg·W
    assert {c.name for c in failed_checks(t7)} <= {c.name for c in numeric}


@pytest.mark.parametrize("name", ["t6_reg_without_half", "t6_summed_over_n"])
def test_a_t6_bug_costs_only_t6(graded: Callable[[str], SubmissionResult], name: str) -> None:
    assert not_passing(graded(name)) == {"T6": "fail"}


def test_scores_path_returning_probabilities_keeps_a_correct_loss(graded: Callable[[str], SubmissionResult]) -> None:
    """loss(X) returns softmax probabilities; loss(X, y) is the reference's, so T6 is judged by the reference scores."""
    result = graded("t5_returns_probabilities")
    assert result.task("T5").status.value == "fail"
    (toy,) = [c for c in result.task("T6").checks if c.visibility.value == "public"]
    assert toy.got == pytest.approx(1.30378789133, abs=1e-9)  # the published loss: T6's code is right
    assert result.task("T11").status.value == "pass"  # argmax of probabilities = argmax of scores


def test_a_bug_only_in_the_scores_return_costs_only_t5(graded: Callable[[str], SubmissionResult]) -> None:
    assert not_passing(graded("t5_returns_probabilities")) == {"T5": "fail"}


def test_transposed_scores_fail_t5_with_the_expected_shape(graded: Callable[[str], SubmissionResult]) -> None:
    """loss(X) returns scores.T; T11 then sees predict() through a loss(X) stubbed with the reference scores."""
    result = graded("t5_returns_transposed")
    (toy,) = [c for c in result.task("T5").checks if c.visibility.value == "public"]
    assert toy.message == "expected shape (5, 3), got (3, 5)"
    assert result.task("T6").status.value == "pass"  # falls back to the reference scores
    assert "the reference scores (your loss(X) gave no usable scores)" in result.task("T6").checks[0].message


def test_transposed_scores_cost_only_t5(graded: Callable[[str], SubmissionResult]) -> None:
    assert not_passing(graded("t5_returns_transposed")) == {"T5": "fail"}


def test_decay_before_the_first_update_fails_t10_on_hidden_inputs(
        graded: Callable[[str], SubmissionResult]) -> None:
    """With one iteration per epoch (toy) the schedule looks right; with 4 or 4.5 (hidden) it does not.
    T9's runs keep the learning rate constant, so T9 is not affected."""
    t10 = graded("t10_decay_before_first_update").task("T10")
    assert t10.status.value == "fail"
    assert {c.visibility.value for c in failed_checks(t10)} == {"hidden"}


def test_decay_before_the_first_update_costs_only_t10(graded: Callable[[str], SubmissionResult]) -> None:
    assert not_passing(graded("t10_decay_before_first_update")) == {"T10": "fail"}


def test_sampling_without_replacement_errors_in_t8(graded: Callable[[str], SubmissionResult]) -> None:
    """The notebook's toy run uses batch_size=200 > N=5, so replace=False raises in the student's code."""
    result = graded("t8_without_replacement")
    t8 = result.task("T8")
    assert t8.status.value == "error"
    assert t8.cause is not None and t8.cause.value == "submission"
    assert "Cannot take a larger sample than population when 'replace=False'" in t8.message
    assert t8.error is not None and t8.error.type == "ValueError"


def test_sampling_without_replacement_costs_only_t8(graded: Callable[[str], SubmissionResult]) -> None:
    assert set(not_passing(graded("t8_without_replacement"))) == {"T8"}
