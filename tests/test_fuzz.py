"""Property-based fuzzing of every parser of untrusted input: the grader never crashes.

Each target (see `fuzz_targets.py`) runs a bounded, derandomized number of generated inputs
(profile `grader-ci`; `GRADER_FUZZ_EXAMPLES` raises the count), so CI is deterministic.
`benchmarks/bench_fuzz.py` runs thousands per target.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from .fuzz_targets import CI_PROFILE, TARGETS, Target


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_the_parser_never_crashes(target: Target) -> None:
    @settings(settings.get_profile(CI_PROFILE))
    @given(target.strategy)
    def run(value: object) -> None:
        target.check(value)

    run()

