"""How loud a weak sandbox level is: a TA must not grade a class at the `process` level by accident.

`grader grade` warns at the start and the end of a batch graded below full isolation, with the
one command that would fix it, and `--sandbox full` (or GRADER_REQUIRE_SANDBOX=full) refuses to
grade at all there. `grader check` is a student's own work on their own machine: it may run at
any level and is not affected.

The level is the one this machine gives the grader's own interpreter (what the local workers
inherit); Dask workers on other machines detect their own, which their reports show.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass

from grader.execution import sandbox as sandbox_mod

REQUIRE_ENV = "GRADER_REQUIRE_SANDBOX"


class SandboxRequirement(enum.Enum):
    FULL = "full"  # refuse to grade below full isolation
    ANY = "any"  # grade at whatever level the machine gives, loudly when it is weak


@dataclass(frozen=True)
class LevelReport:
    level: str
    full: bool
    description: str
    why_not_full: str  # the strongest full level's problem on this machine ("" at a full level)
    fix: str  # one line a TA can run or follow ("" at a full level)


def fix_for(problem: str) -> str:
    """The one-line fix for why a full level is unavailable, as `sandbox.detect` words it."""
    if "bwrap is not installed" in problem:
        return "apt-get install bubblewrap   (then `grader doctor` to confirm)"
    if "root grader" in problem:
        return "run `grader grade` as root (e.g. in the course's grading container); `grader doctor` says why"
    if "setpriv" in problem:
        return "apt-get install util-linux   (then `grader doctor` to confirm)"
    if "libseccomp" in problem or "seccomp" in problem:
        return "apt-get install libseccomp2   (then `grader doctor` to confirm)"
    return "run `grader doctor` to see what this machine lacks"


def assess(python: str | None = None) -> LevelReport:
    """The level student code will get here, and if it is weak, why and how to fix it."""
    chosen, tried = sandbox_mod.detect(python or sys.executable)
    if chosen.level.full:
        return LevelReport(chosen.level.name, True, chosen.description, "", "")
    full_problems = [problem for name, problem in tried if problem and sandbox_mod.LEVELS[name].full]
    if not full_problems:  # nothing was tried: GRADER_SANDBOX forced this level
        forced = os.environ.get("GRADER_SANDBOX", "").strip()
        return LevelReport(chosen.level.name, False, chosen.description, f"forced by GRADER_SANDBOX={forced}",
                           "unset GRADER_SANDBOX, so that the strongest level this machine gives is used")
    why = full_problems[-1]  # the weakest full level's problem: the last step to full isolation
    return LevelReport(chosen.level.name, False, chosen.description, why, fix_for(why))


def warning(report: LevelReport) -> str:
    """What the terminal says at the start and at the end of a batch graded at a weak level."""
    return (f"WARNING: weak sandbox level '{report.level}': student code is not fully isolated "
            f"({report.why_not_full}).\n"
            f"  fix: {report.fix}\n"
            f"  to refuse grading at a weak level: --sandbox full (or {REQUIRE_ENV}=full)")


def refusal(report: LevelReport) -> str:
    return (f"refusing to grade: --sandbox full asks for full isolation, and this machine gives "
            f"'{report.level}' ({report.why_not_full}).\n"
            f"  fix: {report.fix}\n"
            f"  or grade at this level anyway with --sandbox any")
