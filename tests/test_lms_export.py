"""`grader export canvas|moodle`: grades joined through the roster, late penalty applied at export time.

A batch of the toy assignment (fast) with a roster.csv next to it: one student on time, one two
days late, one late but with an extension, one who handed in nothing, one graded folder that no
roster line names. Changing the deadline or an extension changes the exported grades and the
pages, and grades nothing again.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli
from grader.course.deadlines import sync_roster
from grader.course.exports import ExportError, export_grades
from grader.course.roster import ROSTER_FILE
from grader.judgement import rubric as rubric_mod
from grader.pipeline import grade_batch
from grader.store import GRADEBOOK_FILE, SCHEMA_VERSION, Gradebook

from .lms_fixtures import rubric_with_deadline
from .test_batch import ANSWERS, GOOD, TOY, WRONG_DOT

DEADLINE = """
[deadline]
due = 2025-03-14T23:59:00+01:00
grace_minutes = 15
penalty_per_day = 0.1
max_penalty = 0.5
cutoff_days = 7
"""
LATER_DEADLINE = DEADLINE.replace("2025-03-14T23:59:00+01:00", "2025-03-17T23:59:00+01:00")
ROSTER = """\
student,submission,name,email,sis_user_id,sis_login_id,section,submitted_at,late_mark,extension,source,notes
1001,bob,"Smith, Bob",bob@example.edu,S1001,bsmith,A,2025-03-14T20:00:00+00:00,,,canvas,
1002,eve,"Jones, Eve",eve@example.edu,S1002,ejones,A,2025-03-16T09:00:00+00:00,LATE,,canvas,
1003,ann,"Lee, Ann",ann@example.edu,S1003,alee,B,2025-03-16T09:00:00+00:00,LATE,3d,canvas,
1004,,"Park, Sam",sam@example.edu,S1004,spark,B,,,,canvas,
"""


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy class graded once, with a deadline and a roster."""
    base = tmp_path_factory.mktemp("class")
    subs = base / "subs"
    for name, code in {"bob": GOOD, "eve": GOOD, "ann": WRONG_DOT, "zed": GOOD}.items():
        (subs / name / "vecmath").mkdir(parents=True)
        (subs / name / "vecmath/ops.py").write_text(code)
        (subs / name / "answers.md").write_text(ANSWERS)
    (subs / ROSTER_FILE).write_text(ROSTER)
    toml = rubric_with_deadline(base, DEADLINE, base=TOY / "rubric.toml")
    shutil.move(toml.parent, base / "rubric")
    grade_batch(subs, base / "out", rubric_mod.load(str(base / "rubric/rubric.toml")), workers=2,
                secret_file=base / "secret")
    return base


@pytest.fixture
def graded(graded_once: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(submissions, out, rubric.toml): a copy of the graded class each test may change."""
    shutil.copytree(graded_once, tmp_path, dirs_exist_ok=True)
    with Gradebook(tmp_path / "out" / GRADEBOOK_FILE) as book:  # the copy's gradebook reads the copy's roster
        sync_roster(book, tmp_path / "subs" / ROSTER_FILE)
    return tmp_path / "subs", tmp_path / "out", tmp_path / "rubric/rubric.toml"


def grades(out: Path, toml: Path, fmt: str = "canvas", **kw: object) -> dict[str, str]:
    result = export_grades(fmt, out, rubric_mod.load(str(toml)), **kw)
    table = rows(result.path.read_text())
    key, col = (1, 5) if fmt == "canvas" else (0, 1)
    return {r[key]: r[col] for r in table[2 if fmt == "canvas" else 1:]}


def test_canvas_export_has_the_documented_columns_and_applies_the_penalty(graded) -> None:
    _, out, toml = graded
    result = export_grades("canvas", out, rubric_mod.load(str(toml)), assignment="HW Toy", assignment_id="55")
    table = rows(result.path.read_text())
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW Toy (55)"]
    assert table[1] == ["Points Possible", "", "", "", "", "7"]  # the toy rubric's points
    by_id = {r[1]: r for r in table[2:]}
    assert by_id["1001"] == ["Smith, Bob", "1001", "S1001", "bsmith", "A", "5"]  # on time: T1+T2+T3 = 5 (T4 manual)
    assert by_id["1002"][5] == "4"  # 2 started days late (−20% of the score): 5 → 4
    assert by_id["1003"][5] == "1"  # a wrong dot (T2, and T3 built on it): 1, late but within its 3-day extension
    assert by_id["1004"][5] == ""  # nothing submitted: blank, never 0
    assert any("Park, Sam" in p and "nothing submitted" in p for p in result.problems)
    assert any("'zed' has no roster line" in p for p in result.problems)  # graded, matches no roster line
    assert (out / "canvas-export-report.txt").read_text().splitlines() == result.problems
    no_row = export_grades("canvas", out, rubric_mod.load(str(toml)), points_possible=False)
    assert rows(no_row.path.read_text())[1][0] == "Jones, Eve"  # students sorted by name, no Points Possible


def test_moodle_export_has_identity_grade_and_feedback(graded) -> None:
    _, out, toml = graded
    result = export_grades("moodle", out, rubric_mod.load(str(toml)))
    table = rows(result.path.read_text())
    assert table[0] == ["Email address", "Toy assignment: vector maths", "Feedback"]
    by_email = {r[0]: r for r in table[1:]}
    assert by_email["eve@example.edu"][1] == "4"
    assert "2 days late" in by_email["eve@example.edu"][2] and "Autograder: 5/7" in by_email["eve@example.edu"][2]
    assert by_email["ann@example.edu"][1] == "1" and "not passing: T2" in by_email["ann@example.edu"][2]
    assert by_email["sam@example.edu"][1] == ""
    by_username = rows(export_grades("moodle", out, rubric_mod.load(str(toml)), identity="username").path.read_text())
    assert by_username[0][0] == "Username" and {r[0] for r in by_username[1:]} == {"bsmith", "ejones", "alee", "spark"}


def test_changing_the_deadline_changes_grades_and_regrades_nothing(graded, monkeypatch) -> None:
    subs, out, toml = graded
    before = grades(out, toml)
    assert before["1002"] == "4"
    old_version = rubric_mod.load(str(toml)).version_tag
    toml.write_text(toml.read_text().replace(DEADLINE, LATER_DEADLINE))
    assert rubric_mod.load(str(toml)).version_tag == old_version  # [deadline] is not in the fingerprint

    def no_grading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a submission was graded again")

    monkeypatch.setattr("grader.executors.grade_submission", no_grading)
    monkeypatch.setattr("grader.execution.session.ModuleSession.__init__", no_grading)
    with Gradebook(out / GRADEBOOK_FILE) as book:
        runs = {sub: book.run_count(sub, "vec") for sub in book.submissions("vec")}
    again = grade_batch(subs, out, rubric_mod.load(str(toml)), workers=2, secret_file=out.parent / "secret")
    assert again.graded == [] and sorted(again.skipped) == ["ann", "bob", "eve", "zed"]
    after = grades(out, toml)
    assert after["1002"] == "5" and after["1001"] == before["1001"]  # no longer late
    with Gradebook(out / GRADEBOOK_FILE) as book:
        assert {sub: book.run_count(sub, "vec") for sub in book.submissions("vec")} == runs


def test_an_extension_typed_into_the_roster_counts_at_the_next_export(graded) -> None:
    subs, out, toml = graded
    assert grades(out, toml)["1002"] == "4"
    roster = subs / ROSTER_FILE
    roster.write_text(roster.read_text().replace("LATE,,canvas", "LATE,2025-03-17T12:00:00+01:00,canvas", 1))
    assert grades(out, toml)["1002"] == "5"  # the export re-read the roster grade_batch recorded
    roster.write_text(roster.read_text().replace("LATE,2025-03-17T12:00:00+01:00,canvas", "LATE,12h,canvas", 1))
    assert grades(out, toml)["1002"] == "4.5"  # 12 h later it is 22 h late: one started day


def test_a_late_mark_without_a_time_leaves_the_grade_blank(graded) -> None:
    subs, out, toml = graded
    roster = subs / ROSTER_FILE
    roster.write_text(roster.read_text().replace("2025-03-16T09:00:00+00:00,LATE,,", ",LATE,,", 1))
    result = export_grades("canvas", out, rubric_mod.load(str(toml)))
    assert {r[1]: r[5] for r in rows(result.path.read_text())[2:]}["1002"] == ""
    assert any("Jones, Eve" in p and "no submitted_at" in p for p in result.problems)


def test_pages_show_the_lateness_and_follow_the_export(graded) -> None:
    _, out, toml = graded
    index = (out / "index.html").read_text()
    assert "2 days late" in index and "Lateness" in index  # drawn at grading time already
    report = (out / "eve/report.html").read_text()
    assert "after the late penalty" in report and "2025-03-16 09:00 UTC" in report
    assert "after the late penalty" not in (out / "bob/report.html").read_text()
    toml.write_text(toml.read_text().replace(DEADLINE, LATER_DEADLINE))
    export_grades("canvas", out, rubric_mod.load(str(toml)))
    assert "after the late penalty" not in (out / "eve/report.html").read_text()
    assert "2 days late" not in (out / "index.html").read_text()


def test_a_late_mark_without_a_deadline_is_reported(graded) -> None:
    _, out, toml = graded
    toml.write_text(toml.read_text().replace(DEADLINE, ""))
    result = export_grades("canvas", out, rubric_mod.load(str(toml)))
    assert {r[1]: r[5] for r in rows(result.path.read_text())[2:]}["1002"] == "5"
    assert any("Jones, Eve" in p and "no [deadline]" in p for p in result.problems)


def test_export_needs_a_gradebook_and_a_roster(tmp_path: Path, graded) -> None:
    _, out, toml = graded
    with pytest.raises(ExportError, match="no gradebook.sqlite"):
        export_grades("canvas", tmp_path / "empty", rubric_mod.load(str(toml)))
    (tmp_path / "plain").mkdir()
    with Gradebook(tmp_path / "plain" / GRADEBOOK_FILE):
        pass
    with pytest.raises(ExportError, match="holds no roster"):
        export_grades("canvas", tmp_path / "plain", rubric_mod.load(str(toml)))


def test_cli_export(graded) -> None:
    _, out, toml = graded
    result = CliRunner().invoke(cli.main, ["export", "moodle", str(out), "--rubric", str(toml)])
    assert result.exit_code == 0, result.output
    assert "3 grade(s), 1 blank" in result.output and "Park, Sam" in result.output
    assert (out / "moodle-grades.csv").is_file()


def test_a_version_1_gradebook_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / GRADEBOOK_FILE
    with Gradebook(path):
        pass
    db = sqlite3.connect(path)
    db.execute("DROP TABLE roster")
    db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    db.execute("INSERT INTO manual_scores (submission, task, points, comment, graded_by, graded_at) "
               "VALUES ('s', 'T4', 1, '', 'ta', 'now')")
    db.commit()
    db.close()
    with Gradebook(path) as book:
        assert book.roster() == [] and len(book.manual_scores("s")) == 1
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == SCHEMA_VERSION == "2"
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    from grader.store import GradebookError

    with pytest.raises(GradebookError, match="schema version 99"):
        Gradebook(path)
