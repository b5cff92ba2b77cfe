"""How a submission's lateness reads on its report and on the class overview.

The lateness is computed by the course layer from the roster and the rubric's deadline, and
laid over the autograder's result when a page is drawn: it is never part of the result, so a
changed deadline only redraws pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.lateness import Lateness, LateStatus, format_instant

_TONES = {LateStatus.ON_TIME: "ok", LateStatus.LATE: "late", LateStatus.ZERO: "zero", LateStatus.UNKNOWN: "unknown"}


@dataclass(frozen=True)
class LateView:
    submitted: str
    due: str
    summary: str
    tone: str  # ok | late | zero | unknown
    final: float | None  # the score after the penalty, when there is one


def late_view(lateness: Lateness | None, score: float, max_score: float) -> LateView | None:
    if lateness is None or lateness.status is LateStatus.NO_DEADLINE:
        return None
    penalised = lateness.status in (LateStatus.LATE, LateStatus.ZERO)
    return LateView(
        submitted=format_instant(lateness.submitted_at) if lateness.submitted_at else "not recorded",
        due=format_instant(lateness.due) if lateness.due else "—",
        summary=lateness.summary,
        tone=_TONES[lateness.status],
        final=lateness.apply(score, max_score) if penalised else None,
    )
