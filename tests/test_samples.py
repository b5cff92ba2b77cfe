"""The README's main command on submissions/: every sample gets exactly the verdicts recorded here."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch

from .conftest import PROJECT

SAMPLES = PROJECT / "submissions"
MANUAL_PENDING = {"T4": "manual", "T12": "pending"}
CODE = ("T5", "T6", "T7", "T8", "T9", "T10", "T11")

# submission -> statuses of every task that does not pass (T4 manual and T12 pending are listed
# separately because every readable submission has them).
EXPECTED: dict[str, dict[str, str]] = {
    "reference-solution": {},
    "zipped-with-wrapper": {},
    # seed 001: dz/dw0 = 0.9 (1 of 4 T1 values wrong) and T3 = 559059; the code is right.
    "seed001-student": {"T1": "fail", "T3": "fail"},
    "mistake-naive-softmax": {"T6": "fail"},
    "mistake-w1-grad-no-reg": {"T7": "fail"},
    "mistake-misaligned-labels": {"T8": "fail"},
    "mistake-sgd-skips-biases": {"T9": "fail"},
    "mistake-decay-every-iteration": {"T10": "fail"},
    "mistake-predict-wrong-axis": {"T11": "fail"},
    # A forward pass without biases also makes the student's backward disagree with the
    # numeric gradient of the student's own loss: no check can isolate T7 from that bug.
    "mistake-forward-no-bias": {"T5": "fail", "T7": "fail"},
    "hang-in-train": {"T8": "timeout", "T9": "timeout", "T10": "timeout"},
    "python2-code": dict.fromkeys(CODE, "error"),
    "missing-class": dict.fromkeys(CODE, "error"),
    "misplaced-module": dict.fromkeys(CODE, "missing"),
}
UNREADABLE = {"broken-archive"}


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("reports")
    before = _tree_digest(SAMPLES)
    rubric = rubric_mod.load("hw4")
    summary = grade_batch(SAMPLES, out, rubric, workers=2, secret_file=out.parent / "secret")
    assert _tree_digest(SAMPLES) == before, "grading modified the original submissions"
    return out, {r.submission: r for r in summary.results}


def test_every_sample_is_recorded(graded: tuple[Path, dict]) -> None:
    _, results = graded
    assert set(results) == set(EXPECTED) | UNREADABLE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_verdicts(graded: tuple[Path, dict], name: str) -> None:
    _, results = graded
    result = results[name]
    got = {t.id: t.status.value for t in result.tasks if t.status.value != "pass"}
    assert got == {**EXPECTED[name], **MANUAL_PENDING}
    assert not result.grader_failures


def test_unreadable_archive_gets_a_clear_error(graded: tuple[Path, dict]) -> None:
    _, results = graded
    result = results["broken-archive"]
    assert {t.status.value for t in result.tasks} == {"error"}
    assert all("not a readable zip archive" in t.message for t in result.tasks)
    assert not result.grader_failures  # the student's archive is broken, not the grader


def test_reference_earns_every_auto_graded_point(graded: tuple[Path, dict]) -> None:
    _, results = graded
    result = results["reference-solution"]
    auto = [t for t in result.tasks if t.id not in MANUAL_PENDING]
    assert sum(t.points for t in auto) == sum(t.max_points for t in auto)


def test_seed001_partial_credit_on_t1(graded: tuple[Path, dict]) -> None:
    _, results = graded
    t1 = results["seed001-student"].task("T1")
    assert t1.points == pytest.approx(0.75)
    assert [c.passed for c in t1.checks] == [False, True, True, True]


def test_every_output_file_is_written(graded: tuple[Path, dict]) -> None:
    out, results = graded
    for name in results:
        data = json.loads((out / name / "result.json").read_text())
        assert {"submission", "rubric", "tasks", "score", "max_score"} <= set(data)
        for task in data["tasks"]:
            assert {"id", "title", "status", "points", "max_points", "message", "checks"} <= set(task)
            for check in task["checks"]:
                assert {"name", "visibility", "passed", "expected", "got"} <= set(check)
        assert name in (out / name / "report.html").read_text()
    index = (out / "index.html").read_text()
    assert all(f"{name}/report.html" in index for name in results)
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert {r["submission"] for r in rows} == set(results)
    assert all(r["grading_status"] == "complete" for r in rows)
    ref = next(r for r in rows if r["submission"] == "reference-solution")
    assert ref["T5"] == "1" and ref["T4"] == "" and ref["T12"] == ""


def test_rerun_skips_unchanged_submissions(graded: tuple[Path, dict], tmp_path: Path) -> None:
    out, results = graded
    rubric = rubric_mod.load("hw4")
    again = grade_batch(SAMPLES, out, rubric, workers=2, secret_file=out.parent / "secret")
    assert again.graded == [] and len(again.skipped) == len(results)
