"""The README's main command on submissions/: every sample gets exactly the verdicts recorded here."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch

from . import golden
from .conftest import PROJECT, SECRET

SAMPLES = PROJECT / "submissions"
MANUAL = {"T4": "manual"}
NO_MODEL = {"T12": "missing"}  # module-only samples hand in no notebook and no model
CODE = ("T5", "T6", "T7", "T8", "T9", "T10", "T11")

# submission -> statuses of every task that does not pass (T4 manual and T12 pending are listed
# separately because every readable submission has them).
EXPECTED: dict[str, dict[str, str]] = {
    # its notebook runs within the budget; T12 is measured on the model the run saves
    "reference-solution": {},
    "zipped-with-wrapper": NO_MODEL,
    # seed 001: dz/dw0 = 0.9 (1 of 4 T1 values wrong) and T3 = 559059; the code is right; its
    # 36-config sweep is stopped at the notebook budget and T12 comes from the best_net.pkl it handed in
    "seed001-student": {"T1": "fail", "T3": "fail"},
    "mistake-naive-softmax": {"T6": "fail", **NO_MODEL},
    "mistake-w1-grad-no-reg": {"T7": "fail", **NO_MODEL},
    "mistake-misaligned-labels": {"T8": "fail", **NO_MODEL},
    "mistake-sgd-skips-biases": {"T9": "fail", **NO_MODEL},
    "mistake-decay-every-iteration": {"T10": "fail", **NO_MODEL},
    "mistake-predict-wrong-axis": {"T11": "fail", **NO_MODEL},
    # A forward pass without biases also makes the student's backward disagree with the
    # numeric gradient of the student's own loss: no check can isolate T7 from that bug.
    "mistake-forward-no-bias": {"T5": "fail", "T7": "fail", **NO_MODEL},
    "hang-in-train": {"T8": "timeout", "T9": "timeout", "T10": "timeout", **NO_MODEL},
    "python2-code": {**dict.fromkeys(CODE, "error"), **NO_MODEL},
    "missing-class": {**dict.fromkeys(CODE, "error"), **NO_MODEL},
    "misplaced-module": {**dict.fromkeys(CODE, "missing"), **NO_MODEL},
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
    (out.parent / "secret").write_bytes(SECRET)  # fixed: the golden results hold hidden checks' values
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
    assert got == {**EXPECTED[name], **MANUAL}
    assert not result.grader_failures


def test_samples_match_the_golden_results(graded: tuple[Path, dict]) -> None:
    _, results = graded
    golden.compare("hw4", results)


def test_unreadable_archive_gets_a_clear_error(graded: tuple[Path, dict]) -> None:
    _, results = graded
    result = results["broken-archive"]
    assert {t.status.value for t in result.tasks} == {"error"}
    assert all("not a readable zip archive" in t.message for t in result.tasks)
    assert not result.grader_failures  # the student's archive is broken, not the grader


def test_reference_earns_every_auto_graded_point(graded: tuple[Path, dict]) -> None:
    _, results = graded
    result = results["reference-solution"]
    auto = [t for t in result.tasks if t.id not in MANUAL]
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
    assert ref["T5"] == "1" and ref["T4"] == "" and ref["T12"] == "1"


def test_rerun_skips_unchanged_submissions(graded: tuple[Path, dict], tmp_path: Path) -> None:
    out, results = graded
    rubric = rubric_mod.load("hw4")
    again = grade_batch(SAMPLES, out, rubric, workers=2, secret_file=out.parent / "secret")
    assert again.graded == [] and len(again.skipped) == len(results)


def test_seed001_t12_comes_from_its_pickle_after_the_sweep_is_stopped(graded: tuple[Path, dict]) -> None:
    out, results = graded
    result = results["seed001-student"]
    assert result.notebook is not None and result.notebook.status == "timeout"
    assert "budget" in result.notebook.message
    t12 = result.task("T12")
    assert t12.status.value == "pass"
    assert all("best_net.pkl (handed in)" in c.message for c in t12.checks if c.passed is not None)
    assert (out / "seed001-student" / "executed.ipynb").is_file()


def test_reference_notebook_runs_and_t12_is_measured_on_the_model_it_saved(graded: tuple[Path, dict]) -> None:
    _, results = graded
    result = results["reference-solution"]
    assert result.notebook is not None and result.notebook.status == "ok", result.notebook.message
    t12 = result.task("T12")
    counted = [c for c in t12.checks if c.passed is not None]
    assert len(counted) == 2 and all(c.passed for c in counted)
    assert "saved by the notebook" in counted[0].message
    claims = [c for c in t12.checks if c.passed is None]
    assert claims and not any("MISMATCH" in c.message for c in claims)
    assert {p.kind for p in t12.plots} == {"images", "line", "matrix"}


# --- the samples' grades back into the course system (grader export) ------------------------

SAMPLE_ROSTER = """\
student,submission,name,email,sis_user_id,sis_login_id,section,submitted_at,late_mark,extension,source,notes
2001,reference-solution,"Ref, Erence",ref@example.edu,S2001,rref,A,2025-03-14T21:00:00+00:00,,,canvas,
2002,seed001-student,"Seed, Student",seed@example.edu,S2002,sseed,A,2025-03-17T12:00:00+00:00,LATE,,canvas,
2003,mistake-naive-softmax,"Soft, Max",soft@example.edu,S2003,msoft,B,2025-03-15T20:00:00+00:00,LATE,2d,canvas,
2004,mistake-w1-grad-no-reg,"Reg, Nora",nora@example.edu,S2004,nreg,B,,,,canvas,
2005,,"Absent, Al",al@example.edu,S2005,aabs,B,,,,canvas,
"""


@pytest.fixture(scope="module")
def exported(graded: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    """Canvas and Moodle files for the samples, joined through a roster, with the HW4 rubric plus a deadline
    (a copy of the graded output, so the other tests see the pages as grading left them)."""
    from grader.course.exports import export_grades

    from .lms_fixtures import RUBRIC_DEADLINE, rubric_with_deadline

    out, results = graded
    base = tmp_path_factory.mktemp("export")
    shutil.copytree(out, base / "reports")
    (base / "roster.csv").write_text(SAMPLE_ROSTER)
    rubric = rubric_mod.load(str(rubric_with_deadline(base, RUBRIC_DEADLINE)))
    canvas = export_grades("canvas", base / "reports", rubric, roster=base / "roster.csv", assignment_id="777")
    moodle = export_grades("moodle", base / "reports", rubric, roster=base / "roster.csv")
    return results, {"canvas": canvas, "moodle": moodle}, {
        "canvas": list(csv.reader(canvas.path.open())), "moodle": list(csv.reader(moodle.path.open()))}


def test_canvas_export_of_the_samples(exported) -> None:
    results, exports, tables = exported
    table = tables["canvas"]
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW4 Neural Networks (777)"]
    assert table[1] == ["Points Possible", "", "", "", "", "12"]
    grade = {row[1]: row[5] for row in table[2:]}
    assert float(grade["2001"]) == results["reference-solution"].score  # on time
    # due 2025-03-14 23:59 +01:00; 2025-03-17 12:00 UTC is 2 d 13 h late: 3 started days, −30% of the score
    assert float(grade["2002"]) == pytest.approx(results["seed001-student"].score * 0.7)
    assert float(grade["2003"]) == results["mistake-naive-softmax"].score  # late, within its 2-day extension
    assert float(grade["2004"]) == results["mistake-w1-grad-no-reg"].score  # no time, no late mark: no penalty
    assert grade["2005"] == ""  # nothing submitted: blank, not 0
    problems = "\n".join(exports["canvas"].problems)
    assert "Absent, Al (2005): nothing submitted" in problems
    assert "'python2-code' has no roster line" in problems  # graded samples the roster does not name


def test_moodle_export_of_the_samples(exported) -> None:
    results, _, tables = exported
    table = tables["moodle"]
    assert table[0] == ["Email address", "HW4 Neural Networks", "Feedback"]
    row = {r[0]: r for r in table[1:]}
    assert float(row["seed@example.edu"][1]) == pytest.approx(results["seed001-student"].score * 0.7)
    assert "3 days late" in row["seed@example.edu"][2] and "not passing: T1, T3" in row["seed@example.edu"][2]
    assert "awaiting a TA: T4" in row["ref@example.edu"][2]
    assert row["soft@example.edu"][1] == f"{results['mistake-naive-softmax'].score:g}"
    assert row["al@example.edu"][1] == ""
