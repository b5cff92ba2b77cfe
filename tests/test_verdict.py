"""Verdict logic (grader/judgement/verdict.py): from check results to task results, without a sandbox."""

from __future__ import annotations

import pytest

from grader.execution.session import ProbeOutcome
from grader.judgement.rubric import TaskSpec
from grader.judgement.verdict import (
    GRADER_FAILURE,
    apply_dependencies,
    base_status,
    failure_result,
    from_checks,
    grader_failure,
)
from grader.results import AFTER_SUBMISSION, Cause, CheckResult, Status, TaskResult, Visibility

PUBLIC = Visibility.PUBLIC


def _check(name: str, passed: bool | None, depends_on: tuple[str, ...] = ()) -> CheckResult:
    return CheckResult(name, PUBLIC, passed, depends_on=depends_on)


def _spec(task_id: str, partial: bool = False, points: float = 1.0) -> TaskSpec:
    return TaskSpec(task_id, f"task {task_id}", points, "checks", check="x", partial_credit=partial)


def test_all_checks_pass_gives_full_points() -> None:
    result = from_checks(_spec("T1"), (_check("a", True), _check("b", True)))
    assert (result.status, result.points, result.message) == (Status.PASS, 1.0, "all 2 checks passed")


def test_one_failing_check_costs_everything_without_partial_credit() -> None:
    result = from_checks(_spec("T1"), (_check("a", True), _check("b", False)))
    assert (result.status, result.points) == (Status.FAIL, 0.0)
    assert result.message == "1 of 2 checks failed: b"


def test_partial_credit_gives_the_share_of_passing_checks() -> None:
    result = from_checks(_spec("T1", partial=True, points=2.0), tuple(_check(str(i), i != 0) for i in range(4)))
    assert (result.status, result.points) == (Status.FAIL, 1.5)


def test_uncounted_checks_do_not_count() -> None:
    result = from_checks(_spec("T1"), (_check("claim", None), _check("a", True)))
    assert result.status is Status.PASS and result.message == "all 1 checks passed"


def test_no_counted_check_is_a_grader_failure_never_a_zero() -> None:
    result = from_checks(_spec("T1"), (_check("claim", None),))
    assert result.status is Status.ERROR and result.points is None and result.cause is Cause.GRADER


def test_hidden_checks_only_in_a_student_check_is_pending() -> None:
    listed = CheckResult("hidden", Visibility.HIDDEN, None, message=AFTER_SUBMISSION)
    result = from_checks(_spec("T1"), (listed,))
    assert result.status is Status.PENDING and result.points is None and result.cause is None


def _task(task_id: str, *checks: CheckResult, partial: bool = False) -> TaskResult:
    return from_checks(_spec(task_id, partial), checks)


def test_a_dependent_check_counts_only_when_its_task_passed_on_its_own() -> None:
    t1 = _task("T1", _check("own", False))
    t2 = _task("T2", _check("own", True), _check("uses T1", False, depends_on=("T1",)))
    final = {t.id: t for t in apply_dependencies([t1, t2], {})}
    assert final["T1"].status is Status.FAIL
    assert final["T2"].status is Status.PASS  # the failure belongs to T1
    assert final["T2"].checks[1].passed is None and "relies on T1" in final["T2"].checks[1].message


def test_a_dependent_check_counts_when_its_task_passed() -> None:
    t1 = _task("T1", _check("own", True))
    t2 = _task("T2", _check("own", True), _check("uses T1", False, depends_on=("T1",)))
    final = {t.id: t for t in apply_dependencies([t1, t2], {})}
    assert final["T2"].status is Status.FAIL and final["T2"].checks[1].passed is False


def test_tasks_that_lean_on_each_other_are_judged_on_their_own_checks() -> None:
    # T8-T10 share the toy training run: a bug in T9 must not cost T8
    shared = _check("toy training run", False, depends_on=("T8", "T9"))
    t8 = _task("T8", _check("own", True), shared)
    t9 = _task("T9", _check("own", False), shared)
    assert base_status(t8) is Status.PASS and base_status(t9) is Status.FAIL
    final = {t.id: t for t in apply_dependencies([t8, t9], {})}
    assert final["T8"].status is Status.PASS and final["T9"].status is Status.FAIL


def test_partial_credit_survives_rescoring_for_dependencies() -> None:
    """A partial-credit task with a dependent check keeps its partial credit when it is rescored.

    (It was rescored all-or-nothing: the rescoring rebuilt the task's spec without partial_credit.)
    """
    specs = {"T1": _spec("T1"), "T2": _spec("T2", partial=True, points=4.0)}
    t1 = _task("T1", _check("own", False))
    t2 = from_checks(specs["T2"], (_check("a", True), _check("b", True), _check("c", False),
                                   _check("uses T1", True, depends_on=("T1",))))
    final = {t.id: t for t in apply_dependencies([t1, t2], specs)}
    # the dependent check is not counted; 2 of the 3 own checks pass: 2/3 of 4 points
    assert final["T2"].status is Status.FAIL
    assert final["T2"].points == pytest.approx(round(4.0 * 2 / 3, 4))


def test_a_contract_error_is_a_wrong_answer_and_a_crash_is_the_students_error() -> None:
    contract = ProbeOutcome("error", error={"type": "ContractError", "message": "should return a tuple",
                                            "traceback": [], "kind": "contract"})
    wrong = failure_result(_spec("T1"), contract)
    assert (wrong.status, wrong.points, wrong.cause, wrong.message) == (Status.FAIL, 0.0, None, "should return a tuple")
    crash = failure_result(_spec("T1"), ProbeOutcome("crashed", detail="killed by SIGKILL"))
    assert crash.status is Status.ERROR and crash.cause is Cause.SUBMISSION
    hang = failure_result(_spec("T1"), ProbeOutcome("timeout", detail="10 s"))
    assert hang.status is Status.TIMEOUT and hang.cause is Cause.SUBMISSION


def test_a_grader_failure_carries_its_cause_and_no_points() -> None:
    try:
        raise KeyError("boom")
    except KeyError as exc:
        result = grader_failure(_spec("T1"), "KeyError: 'boom'", exc)
    assert result.cause is Cause.GRADER and result.grader_failed and result.points is None
    assert result.message.startswith(GRADER_FAILURE) and result.error is not None
