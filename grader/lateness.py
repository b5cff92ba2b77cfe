"""Deadlines and the late policy: how late a submission was, and what that costs.

The rubric holds the due date and the policy in its `[deadline]` table; a roster line holds a
student's extension and the time the course system recorded for the submission. The penalty is
worked out here, when grades are exported or pages drawn, and never written into task results:
so changing a deadline or an extension changes grades without regrading anything (the rubric's
fingerprint leaves `[deadline]` out; see grader/judgement/rubric.py).

Counting days: a submission is on time up to `due + extension + grace`. Past that, every
started 24 hours after `due + extension` counts as a whole late day (1 minute past the grace
period is 1 day late; 24 h 1 min late is 2 days). Past `cutoff_days` (or the `zero_after`
instant) the grade is zero. All instants are timezone-aware and compared in UTC.

This module holds types and arithmetic only (like grader/results.py): every layer may use it.
"""

from __future__ import annotations

import enum
import math
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEADLINE_TABLE = "deadline"
_KEYS = {"due", "timezone", "grace_minutes", "penalty_per_day", "max_penalty", "cutoff_days", "zero_after", "basis"}
BASES = ("score", "max")


class DeadlineError(ValueError):
    """A `[deadline]` table or an extension that cannot be read: says what was expected and where."""


class LateStatus(enum.StrEnum):
    ON_TIME = "on time"
    LATE = "late"
    ZERO = "past cutoff"  # submitted after the cutoff: the grade is zero
    UNKNOWN = "time unknown"  # the course system's download carried no submission time
    NO_DEADLINE = "no deadline"


@dataclass(frozen=True)
class LatePolicy:
    """The rubric's `[deadline]` table, typed. Fractions are of the score (basis "score") or of the
    maximum score (basis "max", as Canvas's late policy deducts a share of the points possible)."""

    due: datetime
    grace: timedelta = timedelta(0)
    penalty_per_day: float = 0.0
    max_penalty: float = 1.0
    cutoff: timedelta | None = None  # after due + extension + cutoff: zero
    zero_after: datetime | None = None  # an absolute cutoff, moved by an extension too
    basis: str = "score"

    def describe(self) -> str:
        parts = [f"due {format_instant(self.due)}"]
        if self.grace:
            parts.append(f"{self.grace.total_seconds() / 60:g} min grace")
        if self.penalty_per_day:
            parts.append(f"−{100 * self.penalty_per_day:g}% of the {self.basis} per started day late"
                         + (f", at most −{100 * self.max_penalty:g}%" if self.max_penalty < 1 else ""))
        if self.cutoff is not None:
            parts.append(f"zero after {self.cutoff.total_seconds() / 86400:g} days")
        if self.zero_after is not None:
            parts.append(f"zero after {format_instant(self.zero_after)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Lateness:
    """One submission's lateness, for the exports and the reports."""

    status: LateStatus
    submitted_at: datetime | None = None
    due: datetime | None = None  # the student's own due date: the rubric's, moved by the extension
    days_late: int = 0
    penalty: float = 0.0  # the fraction taken (of the score or of the maximum, per `basis`)
    basis: str = "score"
    extension: str = ""
    note: str = ""  # why the time is unknown, or which course-system mark was seen

    def apply(self, score: float, max_score: float) -> float:
        """The score after the penalty; never below zero."""
        if self.status is LateStatus.ZERO:
            return 0.0
        taken = self.penalty * (max_score if self.basis == "max" else score)
        return round(max(0.0, score - taken), 6)

    @property
    def summary(self) -> str:
        """One line a TA or a student reads: `2 days late (extension 1d): −20%`."""
        ext = f" (extension {self.extension})" if self.extension else ""
        if self.status is LateStatus.ON_TIME:
            return f"on time{ext}"
        if self.status is LateStatus.LATE:
            days = f"{self.days_late} day{'s' if self.days_late != 1 else ''}"
            return f"{days} late{ext}: −{100 * self.penalty:g}% of the {self.basis}"
        if self.status is LateStatus.ZERO:
            return f"after the cutoff{ext}: zero"
        if self.status is LateStatus.UNKNOWN:
            return "submission time unknown" + (f" ({self.note})" if self.note else "")
        return "no deadline"


def format_instant(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def parse_instant(value: Any, *, zone: str | None = None, where: str = "") -> datetime:
    """A timezone-aware instant from a TOML datetime or an ISO 8601 string.

    A value without an offset needs `zone` (an IANA name such as Europe/Stockholm); a naive
    time is never guessed to be local or UTC.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value.strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise DeadlineError(f"{where}: {value!r} is not a date and time (expected ISO 8601, "
                                "e.g. 2025-03-14T23:59:00+01:00)") from None
    else:
        raise DeadlineError(f"{where}: expected a date and time, got {value!r}")
    if when.tzinfo is None:
        if not zone:
            raise DeadlineError(f"{where}: {value!r} has no offset or zone; write e.g. 2025-03-14T23:59:00+01:00 "
                                "or give timezone = \"Europe/Stockholm\"")
        try:
            when = when.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise DeadlineError(f"{where}: unknown time zone {zone!r}") from None
    return when.astimezone(UTC)


def _fraction(data: dict[str, Any], key: str, default: float, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DeadlineError(f"{where}: {key} must be a fraction between 0 and 1 (0.1 = 10%), got {value!r}")
    return float(value)


def _non_negative(data: dict[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise DeadlineError(f"{where}: {key} must be a number ≥ 0, got {value!r}")
    return float(value)


def parse_policy(data: dict[str, Any], where: str) -> LatePolicy:
    """The `[deadline]` table as a LatePolicy; every mistake is named with its key."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise DeadlineError(f"{where}: unknown key(s) {', '.join(unknown)} in [deadline]; "
                            f"known: {', '.join(sorted(_KEYS))}")
    if "due" not in data:
        raise DeadlineError(f"{where}: [deadline] needs due = <date and time with offset>")
    zone = data.get("timezone")
    if zone is not None and not isinstance(zone, str):
        raise DeadlineError(f"{where}: timezone must be a name such as \"Europe/Stockholm\"")
    basis = data.get("basis", "score")
    if basis not in BASES:
        raise DeadlineError(f"{where}: basis must be one of {', '.join(BASES)}, got {basis!r}")
    grace = _non_negative(data, "grace_minutes", where) or 0.0
    cutoff = _non_negative(data, "cutoff_days", where)
    return LatePolicy(
        due=parse_instant(data["due"], zone=zone, where=f"{where}: [deadline] due"),
        grace=timedelta(minutes=grace),
        penalty_per_day=_fraction(data, "penalty_per_day", 0.0, where),
        max_penalty=_fraction(data, "max_penalty", 1.0, where),
        cutoff=timedelta(days=cutoff) if cutoff is not None else None,
        zero_after=(parse_instant(data["zero_after"], zone=zone, where=f"{where}: [deadline] zero_after")
                    if "zero_after" in data else None),
        basis=basis,
    )


def policy_from_rubric(rubric_toml: Path) -> LatePolicy | None:
    """Read the `[deadline]` table of a rubric.toml; None when the rubric sets no deadline.

    Read here, apart from the rubric loader, so that deadlines stay out of grading: this is
    the only place that knows the table's keys.
    """
    try:
        data = tomllib.loads(rubric_toml.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeadlineError(f"{rubric_toml}: {exc}") from None
    table = data.get(DEADLINE_TABLE)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise DeadlineError(f"{rubric_toml}: [deadline] must be a table")
    return parse_policy(table, str(rubric_toml))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|day|days|h|hour|hours)\s*$", re.IGNORECASE)


def extension_delta(extension: str, due: datetime, where: str = "extension") -> timedelta:
    """An extension as written in a roster: `2d`, `36h`, or the new due date itself (ISO 8601 with offset)."""
    text = extension.strip()
    if not text:
        return timedelta(0)
    match = _DURATION.match(text)
    if match:
        amount = float(match.group(1))
        return timedelta(days=amount) if match.group(2).lower().startswith("d") else timedelta(hours=amount)
    new_due = parse_instant(text, where=where)
    return max(timedelta(0), new_due - due)


def assess(policy: LatePolicy | None, submitted_at: datetime | None, extension: str = "",
           *, unknown_note: str = "") -> Lateness:
    """How late `submitted_at` is under `policy`, with the student's extension."""
    if policy is None:
        return Lateness(LateStatus.NO_DEADLINE, submitted_at, extension=extension)
    shift = extension_delta(extension, policy.due)
    due = policy.due + shift
    if submitted_at is None:
        return Lateness(LateStatus.UNKNOWN, None, due, extension=extension, note=unknown_note, basis=policy.basis)
    submitted_at = submitted_at.astimezone(UTC)
    past_cutoff = ((policy.cutoff is not None and submitted_at > due + policy.cutoff)
                   or (policy.zero_after is not None and submitted_at > policy.zero_after + shift))
    if past_cutoff:
        late_by = submitted_at - due
        return Lateness(LateStatus.ZERO, submitted_at, due, math.ceil(late_by / timedelta(days=1)), 1.0,
                        policy.basis, extension)
    if submitted_at <= due + policy.grace:
        return Lateness(LateStatus.ON_TIME, submitted_at, due, extension=extension, basis=policy.basis)
    days = math.ceil((submitted_at - due) / timedelta(days=1))
    penalty = round(min(policy.max_penalty, days * policy.penalty_per_day), 6)
    return Lateness(LateStatus.LATE, submitted_at, due, days, penalty, policy.basis, extension)
