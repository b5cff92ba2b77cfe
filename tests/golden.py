"""Golden results: what the sample batches were graded as, kept so a refactoring cannot change a verdict.

`tests/test_samples.py` (HW4, `submissions/`) and `tests/test_pa6.py` (PA6, `submissions-pa6/`
plus one planted-fault variant) already grade their batches once; each compares what it got with
`tests/fixtures/golden/<rubric>.json`. The golden files were captured before the core was split
into modules, so the comparison proves the split changed no result.

Only what a run cannot reproduce is normalised away: timestamps, durations, the sandbox
description, version tags, the private temporary paths, and the notebook's cell-by-cell record
and, for a notebook stopped at its budget, the uncounted claims read from its printed output (where
it stops depends on the machine's speed, so which claims exist does too). Plot data is kept as a
digest. Everything a student or a TA reads about a task stays: status, points,
message, every check's name, verdict, expected, got and message, the error and the cause.

To record new golden files after an intended change of verdicts or messages (a new check, a
reworded message), run the two files with `GRADER_UPDATE_GOLDEN=1` and review the diff:

    GRADER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_samples.py tests/test_pa6.py -k golden
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from grader.results import SubmissionResult

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden"
UPDATE = os.environ.get("GRADER_UPDATE_GOLDEN") == "1"

_UNSTABLE = ("graded_at", "duration_s", "sandbox", "grader_version", "rubric_version")
_CLAIM = "not counted (a claim)"
_TMP = re.compile(r"/tmp/[^\s'\"/]*grader[^\s'\"/]*(/[^\s'\"]*)?|/tmp/pytest-of-[^\s'\"]*")


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        return _TMP.sub("<tmp>", value)
    if isinstance(value, list):
        return [_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    return value


def normalise(result: SubmissionResult) -> dict[str, Any]:
    """The parts of a result that must not change when the grader's code is reorganised."""
    return normalise_json(result.to_json())


def _is_claim(check: dict[str, Any]) -> bool:
    return check["passed"] is None and str(check.get("message", "")).startswith(_CLAIM)


def normalise_json(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in data.items() if k not in _UNSTABLE}
    stopped = bool(data.get("notebook")) and data["notebook"]["status"] == "timeout"
    if data.get("notebook"):
        data["notebook"] = {"status": data["notebook"]["status"]}
    tasks = []
    for task in data["tasks"]:
        task = dict(task)
        if isinstance(task["plots"], list) and task["plots"] and isinstance(task["plots"][0], dict):
            task["plots"] = [hashlib.sha256(json.dumps(p, sort_keys=True).encode()).hexdigest()[:16]
                             for p in task["plots"]]
        if stopped:
            task["checks"] = [c for c in task["checks"] if not _is_claim(c)]
        tasks.append(task)
    data["tasks"] = tasks
    return _strings(data)


def _text(results: dict[str, SubmissionResult]) -> str:
    return json.dumps({name: normalise(results[name]) for name in sorted(results)}, indent=1, sort_keys=True,
                      default=str) + "\n"


def compare(name: str, results: dict[str, SubmissionResult]) -> None:
    """Assert that `results` match the golden file `name`; with GRADER_UPDATE_GOLDEN=1, rewrite it."""
    path = GOLDEN / f"{name}.json"
    got = _text(results)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
        return
    want = path.read_text()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), f"golden/{name}.json",
                                            "this run", n=2))
        raise AssertionError(f"the {name} samples were graded differently from the golden results "
                             f"(see tests/golden.py to update them after an intended change):\n{diff[:20000]}")
