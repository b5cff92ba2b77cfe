"""The rubric check on real data: the student's train() on MNIST, a short decay run on the grader's prepared MNIST."""

from __future__ import annotations

import dataclasses

from grader.judgement.rubric import Rubric
from grader.judgement.submission import grade_submission

from .conftest import SECRET, mutate, not_passing

NAME = "MNIST: a short decay run"


def mnist_check(result, task_id: str):
    (check,) = [c for c in result.task(task_id).checks if c.name.startswith(NAME)]
    return check


def test_the_reference_trains_on_mnist_and_validates_above_the_bar(make_submission, hw4_full: Rubric) -> None:
    result = grade_submission(make_submission(), hw4_full, SECRET)
    assert not_passing(result) == {}
    check = mnist_check(result, "T10")
    assert check.passed is True and 0.89 <= check.got <= 0.92  # the reference reaches about 0.90
    assert [p.title for p in result.task("T10").plots] == [
        "Training loss on MNIST (your train(), a short decay run)"]


def test_a_train_that_only_works_on_the_toy_fails_on_real_data(make_submission, hw4_full: Rubric) -> None:
    # stops after 100 iterations: the toy run (100) and the recorder runs (at most 14) never notice
    code = mutate("        for it in range(num_iters):\n", "        for it in range(min(num_iters, 100)):\n")
    result = grade_submission(make_submission(code=code), hw4_full, SECRET)
    check = mnist_check(result, "T8")
    assert check.passed is False and check.got < 0.8
    assert not_passing(result) == {"T8": "fail", "T9": "fail", "T10": "fail"}


def test_the_check_can_be_switched_off(make_submission, hw4_full: Rubric) -> None:
    off = dataclasses.replace(hw4_full, tasks=tuple(
        dataclasses.replace(t, params={**t.params, "mnist_training": False}) if "mnist_training" in t.params else t
        for t in hw4_full.tasks))
    result = grade_submission(make_submission(), off, SECRET)
    for task_id in ("T8", "T9", "T10"):
        assert not [c for c in result.task(task_id).checks if c.name.startswith(NAME)]
        assert result.task(task_id).status.value == "pass"
