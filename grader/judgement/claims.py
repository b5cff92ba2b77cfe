"""Numbers a student's code printed, shown next to the grader's own figures as claims.

Printed output is never a verdict: a script or notebook can print anything. But a printed
accuracy that the grader's own measurement contradicts is worth a TA's look (fabricated or
stale output?), so each claim becomes a check that is shown and never counted, marked MISMATCH
when the two disagree. Any rubric can use this for a notebook's or a script's output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from grader.results import CheckResult, Visibility

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def printed_numbers(text: str, patterns: Mapping[str, str | re.Pattern[str]]) -> dict[str, float]:
    """For each name, the number its pattern's first group matched in `text`; the last printing wins.

    A pattern without a group is followed by a number: `"Final test accuracy:"` reads the number
    printed after it."""
    found: dict[str, float] = {}
    for name, pattern in patterns.items():
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        if regex.groups == 0:
            regex = re.compile(regex.pattern + r"\s*(" + _NUMBER + ")", regex.flags)
        for match in regex.finditer(text):
            try:
                found[name] = float(match.group(1))
            except (TypeError, ValueError):
                continue
    return found


def claim_check(name: str, claimed: float, measured: float | None, tolerance: float, *, source: str = "the code",
                visibility: Visibility = Visibility.PUBLIC) -> CheckResult:
    """A not-counted check: what was printed (got) against what the grader measures (expected)."""
    if measured is None:
        return CheckResult(f"printed {name}", visibility, None, None, claimed,
                           "not counted: the grader has no figure of its own for this")
    if abs(claimed - measured) > tolerance:
        message = (f"not counted (a claim). MISMATCH: {source} printed {claimed:.6g}, the grader measures "
                   f"{measured:.6g}; fabricated or stale output?")
    else:
        message = "not counted (a claim). printed and measured agree"
    return CheckResult(f"printed {name}", visibility, None, measured, claimed, message)
