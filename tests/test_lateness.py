"""The late policy's arithmetic, the `[deadline]` table's checks, and the fingerprint that ignores it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.lateness import DeadlineError, LateStatus, assess, extension_delta, parse_policy, policy_from_rubric

from .lms_fixtures import RUBRIC_DEADLINE, rubric_with_deadline

DUE = datetime(2025, 3, 14, 22, 59, tzinfo=UTC)
POLICY = parse_policy({"due": datetime(2025, 3, 14, 23, 59, tzinfo=UTC) - timedelta(hours=1), "grace_minutes": 15,
                       "penalty_per_day": 0.1, "max_penalty": 0.3, "cutoff_days": 7}, "test")


def at(**delta: float) -> datetime:
    return DUE + timedelta(**delta)


@pytest.mark.parametrize(("submitted", "status", "days", "penalty"), [
    (at(hours=-3), LateStatus.ON_TIME, 0, 0.0),
    (at(minutes=15), LateStatus.ON_TIME, 0, 0.0),  # within the grace period
    (at(minutes=16), LateStatus.LATE, 1, 0.1),  # a started day counts whole
    (at(hours=24), LateStatus.LATE, 1, 0.1),
    (at(hours=24, minutes=1), LateStatus.LATE, 2, 0.2),
    (at(days=5), LateStatus.LATE, 5, 0.3),  # capped
    (at(days=7, minutes=1), LateStatus.ZERO, 8, 1.0),  # past the cutoff
])
def test_days_late_and_penalty(submitted: datetime, status: LateStatus, days: int, penalty: float) -> None:
    late = assess(POLICY, submitted)
    assert (late.status, late.days_late, late.penalty) == (status, days, penalty)


def test_the_penalty_is_taken_from_the_score_or_the_maximum() -> None:
    late = assess(POLICY, at(hours=30))
    assert late.apply(8, 10) == 6.4  # 20% of the score
    by_max = parse_policy({"due": DUE, "penalty_per_day": 0.1, "basis": "max"}, "t")
    assert assess(by_max, at(hours=30)).apply(8, 10) == 6.0  # 20% of the 10 points possible
    assert assess(by_max, at(days=20)).apply(1, 10) == 0.0  # never below zero
    assert assess(POLICY, at(days=9)).apply(10, 10) == 0.0


def test_extensions_move_the_due_date_and_the_cutoff() -> None:
    assert assess(POLICY, at(hours=40), "2d").status is LateStatus.ON_TIME
    assert assess(POLICY, at(hours=40), "36h").days_late == 1
    assert assess(POLICY, at(days=8), "2d").status is LateStatus.LATE  # the cutoff moved with the due date
    assert assess(POLICY, at(hours=40), "2025-03-17T00:00:00+01:00").status is LateStatus.ON_TIME
    assert extension_delta("", DUE) == timedelta(0)
    with pytest.raises(DeadlineError, match="no offset"):
        extension_delta("2025-03-17 00:00", DUE)


def test_unknown_time_and_no_deadline() -> None:
    assert assess(POLICY, None, unknown_note="x").status is LateStatus.UNKNOWN
    assert assess(None, at(days=3)).status is LateStatus.NO_DEADLINE
    assert assess(None, at(days=3)).apply(5, 10) == 5


@pytest.mark.parametrize(("table", "message"), [
    ({"due": "2025-03-14 23:59"}, "no offset or zone"),
    ({"due": "2025-03-14 23:59", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"due": DUE, "penalty_per_day": 10}, "fraction between 0 and 1"),
    ({"due": DUE, "late_fee": 1}, "unknown key"),
    ({"penalty_per_day": 0.1}, "needs due"),
    ({"due": DUE, "basis": "grade"}, "basis must be"),
])
def test_a_wrong_deadline_table_says_what_is_wrong(table: dict, message: str) -> None:
    with pytest.raises(DeadlineError, match=message):
        parse_policy(table, "rubric.toml")


def test_a_local_due_date_with_a_zone_follows_summer_time() -> None:
    policy = parse_policy({"due": "2025-03-31 23:59", "timezone": "Europe/Stockholm"}, "t")
    assert policy.due == datetime(2025, 3, 31, 21, 59, tzinfo=UTC)  # CEST, +02:00


def test_the_fingerprint_leaves_out_the_deadline_only(tmp_path: Path) -> None:
    plain = rubric_mod.load("hw4")
    with_deadline = rubric_mod.load(str(rubric_with_deadline(tmp_path)))
    moved = rubric_mod.load(str(rubric_with_deadline(tmp_path, RUBRIC_DEADLINE.replace("2025-03-14", "2025-04-01"))))
    assert with_deadline.version_tag == moved.version_tag
    assert policy_from_rubric(with_deadline.path).due != policy_from_rubric(moved.path).due
    assert policy_from_rubric(plain.path) is None
    graded_change = rubric_with_deadline(tmp_path / "x")
    graded_change.write_text(graded_change.read_text().replace("hidden_cases = 2 }", "hidden_cases = 3 }", 1))
    assert rubric_mod.load(str(graded_change)).version_tag != with_deadline.version_tag
