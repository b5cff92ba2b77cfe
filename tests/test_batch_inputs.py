"""Wrong inputs at the batch level, and the sandbox level a batch is graded at.

Each wrong input must stop the batch before anything is graded, with a message that says what
was expected and where, and a non-zero exit; each has a right input next to it that passes the
same check. Most never grade anything, so they cost a fraction of a second; the ones that grade
use the example assignment (examples/vec).

A machine without bubblewrap is simulated two ways: in-process, by hiding `bwrap` from the
sandbox's detection (the cache cleared); end to end, by running `grader grade` with a PATH that
holds no bwrap, as on a fresh machine that followed README without `apt-get install bubblewrap`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, main
from grader.execution import sandbox as sandbox_mod
from grader.judgement import rubric as rubric_mod
from grader.pipeline import RESERVED_IDS, grade_batch
from grader.store import GRADEBOOK_FILE
from grader.workflows import batch_inputs
from grader.workflows.batch_inputs import BatchInputError, assign_ids, plan_batch
from grader.workflows.sandbox_policy import assess

from .test_batch import GOOD, TOY, WRONG_DOT, make_corpus, toy_rubric

PROJECT = Path(__file__).resolve().parents[1]


def grade(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["grade", *args], env=env)


def hw4_like(root: Path, names: tuple[str, ...] = ("alice", "bob")) -> Path:
    """Folders in HW4's layout; their content does not matter to the checks before grading."""
    for name in names:
        (root / name / "cattern").mkdir(parents=True)
        (root / name / "cattern/neural_net.py").write_text("class TwoLayerNet: pass\n")
        (root / name / "answers.md").write_text("## T1\n")
    return root


# --- the wrong rubric ----------------------------------------------------------------------------

def test_a_folder_graded_with_the_wrong_rubric_is_refused_and_the_right_one_named(tmp_path: Path) -> None:
    subs = hw4_like(tmp_path / "subs")
    out = tmp_path / "out"
    wrong = grade(str(subs), "--out", str(out), "--rubric", "pa6", "--secret-file", str(tmp_path / "s"))
    assert wrong.exit_code == ExitCode.USAGE_ERROR, wrong.output
    assert "none of the 2 submission(s) holds any file rubric 'pa6' expects (Neural_Networks.ipynb)" in wrong.output
    assert "--rubric hw4" in wrong.output  # the rubric whose files they do hold
    assert not (out / GRADEBOOK_FILE).exists()  # nothing graded, nothing written
    with pytest.raises(BatchInputError, match="every one would grade to zero"):  # a script's grade_batch too
        grade_batch(subs, out, rubric_mod.load("pa6"), secret_file=tmp_path / "s")
    plan = plan_batch(subs, out, rubric_mod.load("hw4"), RESERVED_IDS)  # the right rubric passes
    assert sorted(plan.ids) == ["alice", "bob"] and plan.notes == []


def test_one_submission_holding_the_rubrics_files_is_enough(tmp_path: Path) -> None:
    subs = hw4_like(tmp_path / "subs", ("alice",))
    (subs / "empty-handed").mkdir()
    (subs / "garbage.zip").write_bytes(b"not a zip")
    assert len(plan_batch(subs, tmp_path / "out", rubric_mod.load("hw4"), RESERVED_IDS).ids) == 3


def test_a_class_of_unreadable_zips_is_graded_not_refused(tmp_path: Path) -> None:
    """Broken zips are the students' problem: each gets a result saying so, the batch goes on."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.zip").write_bytes(b"not a zip")
    assert list(plan_batch(subs, tmp_path / "out", rubric_mod.load("pa6"), RESERVED_IDS).ids) == ["a"]


# --- the wrong folder ----------------------------------------------------------------------------

def test_the_repository_root_is_refused(tmp_path: Path) -> None:
    result = grade(str(PROJECT), "--out", str(tmp_path / "out"), "--secret-file", str(tmp_path / "s"))
    assert result.exit_code == ExitCode.USAGE_ERROR, result.output
    assert "looks like a project's root folder (it holds pyproject.toml)" in result.output
    assert "one folder or .zip per" in result.output


def test_one_students_folder_given_as_the_class_is_refused(tmp_path: Path) -> None:
    subs = hw4_like(tmp_path / "subs", ("alice",))
    result = grade(str(subs / "alice"), "--out", str(tmp_path / "out"), "--secret-file", str(tmp_path / "s"))
    assert result.exit_code == ExitCode.USAGE_ERROR, result.output
    assert "looks like one student's submission" in result.output and "grader check" in result.output


def test_an_empty_folder_is_refused_and_what_it_holds_is_listed(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    empty = grade(str(subs), "--out", str(tmp_path / "out"), "--secret-file", str(tmp_path / "s"))
    assert empty.exit_code == ExitCode.USAGE_ERROR
    assert "holds no submission: expected one folder or .zip per student" in empty.output
    (subs / "notes.txt").write_text("x")
    stray = grade(str(subs), "--out", str(tmp_path / "out"), "--secret-file", str(tmp_path / "s"))
    assert stray.exit_code == ExitCode.USAGE_ERROR and "it holds only: notes.txt" in stray.output


def test_a_file_where_a_folder_is_expected_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("answers.md", "## T1\n")
    result = grade(str(archive), "--out", str(tmp_path / "out"), "--secret-file", str(tmp_path / "s"))
    assert result.exit_code == ExitCode.USAGE_ERROR
    assert "is a file; expected a folder holding one folder or .zip per student" in result.output
    assert f"grader check {archive}" in result.output.replace("\n", "")
    subs = hw4_like(tmp_path / "subs")
    as_out = grade(str(subs), "--out", str(archive), "--secret-file", str(tmp_path / "s"))
    assert as_out.exit_code == ExitCode.USAGE_ERROR and "--out" in as_out.output and "is a file" in as_out.output
    missing = grade(str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert missing.exit_code == ExitCode.USAGE_ERROR and "no such folder" in missing.output


@pytest.mark.parametrize("where", ["inside", "same", "around"])
def test_an_output_folder_inside_the_submissions_or_around_them_is_refused(tmp_path: Path, where: str) -> None:
    subs = hw4_like(tmp_path / "class" / "subs")
    out = {"inside": subs / "reports", "same": subs, "around": tmp_path / "class"}[where]
    result = grade(str(subs), "--out", str(out), "--secret-file", str(tmp_path / "s"))
    assert result.exit_code == ExitCode.USAGE_ERROR, result.output
    assert ("is inside the submissions folder" if where != "around" else "is inside --out") in result.output
    assert sorted(p.name for p in subs.iterdir()) == ["alice", "bob"]  # the originals untouched
    batch_inputs.check_folders(subs, tmp_path / "reports")  # beside them is fine


# --- ids -----------------------------------------------------------------------------------------

def test_duplicate_and_unsafe_ids_are_graded_under_safe_unique_names_with_a_note(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    names = ["alice", "bad:name", "eve\nnewline", "-rf", "index.html"]
    for name in names:
        (subs / name).mkdir(parents=True)
    with zipfile.ZipFile(subs / "alice.zip", "w") as z:
        z.writestr("answers.md", "x")
    odd = os.fsdecode(os.fsencode(str(subs)) + b"/\xff\xfeodd")  # not UTF-8: the OS hands it over as surrogates
    os.mkdir(odd)
    plan = assign_ids(sorted(subs.iterdir()), RESERVED_IDS)
    assert set(plan.ids) >= {"alice", "alice.zip", "index.html-submission"}
    assert len(plan.ids) == len(names) + 2  # nobody lost
    assert all(batch_inputs.safe_id(i) == i for i in plan.ids)
    renamed = {p.name: i for i, p in plan.ids.items() if i != p.name and not i.endswith("-submission")}
    assert renamed["bad:name"].startswith("bad_name-") and renamed["eve\nnewline"].startswith("eve_newline-")
    assert renamed["-rf"].startswith("rf-") and renamed[Path(odd).name].startswith("odd-")
    text = "\n".join(plan.notes)
    assert "two submissions are named 'alice' (alice/, alice.zip)" in text
    assert "'bad:name' is not a safe file name: graded as 'bad_name-" in text
    assert assign_ids(sorted(subs.iterdir()), RESERVED_IDS).ids == plan.ids  # stable: a rerun resumes


def test_a_batch_with_unsafe_and_duplicate_names_grades_everyone_and_says_so(tmp_path: Path) -> None:
    subs = make_corpus(tmp_path / "subs")
    for old, new in (("s00", "alice"), ("s01", "bad:name")):
        (subs / old).rename(subs / new)
    shutil.make_archive(str(subs / "alice"), "zip", subs / "s02")
    odd = os.fsencode(str(subs)) + b"/\xff\xfeodd"
    os.rename(os.fsencode(str(subs / "s03")), odd)
    result = grade(str(subs), "--out", str(tmp_path / "out"), "--rubric", str(TOY),
                   "--secret-file", str(tmp_path / "s"), "--workers", "2")
    assert result.exit_code == ExitCode.OK, result.output
    assert "note: two submissions are named 'alice'" in result.output
    assert "note: 'bad:name' is not a safe file name" in result.output
    out = tmp_path / "out"
    graded = sorted(p.parent.name for p in out.glob("*/result.json"))
    assert len(graded) == 7 and "alice" in graded and "alice.zip" in graded
    assert len((out / "grades.csv").read_text().splitlines()) == 8  # a header and everyone


# --- the gradebook -------------------------------------------------------------------------------

def test_a_gradebook_written_for_another_rubric_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    toy = make_corpus(tmp_path / "toy")
    for extra in list(toy.iterdir())[2:]:
        shutil.rmtree(extra)
    grade_batch(toy, out, toy_rubric(), workers=1, secret_file=tmp_path / "s")
    before = (out / "grades.csv").read_bytes()
    subs = hw4_like(tmp_path / "subs")
    result = grade(str(subs), "--out", str(out), "--secret-file", str(tmp_path / "s"))
    assert result.exit_code == ExitCode.USAGE_ERROR, result.output
    assert f"{out / GRADEBOOK_FILE} holds grades for rubric vec, not 'hw4'" in result.output.replace("\n", " ")
    assert (out / "grades.csv").read_bytes() == before
    (out / "junk").mkdir()
    (out / "junk" / GRADEBOOK_FILE).write_bytes(b"not sqlite at all, " * 100)
    broken = grade(str(subs), "--out", str(out / "junk"), "--secret-file", str(tmp_path / "s"))
    assert broken.exit_code == ExitCode.USAGE_ERROR and "is not a readable gradebook" in broken.output


# --- the sandbox level ---------------------------------------------------------------------------

@pytest.fixture
def no_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's sandbox detection sees a machine without bubblewrap."""
    real = shutil.which
    monkeypatch.setattr(sandbox_mod.shutil, "which", lambda name, *a, **k: None if name == "bwrap" else real(name))
    monkeypatch.setattr(sandbox_mod, "_CACHE", {})
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)


def test_without_bubblewrap_the_level_is_weak_and_the_fix_is_one_line(no_bubblewrap) -> None:
    report = assess()
    assert report.level == "process" and not report.full
    assert "bwrap is not installed" in report.why_not_full
    assert report.fix.startswith("apt-get install bubblewrap")


def test_sandbox_full_refuses_to_grade_below_full_isolation(no_bubblewrap, tmp_path: Path) -> None:
    subs = make_corpus(tmp_path / "subs")
    out = tmp_path / "out"
    for args, env in ((["--sandbox", "full"], None), ([], {"GRADER_REQUIRE_SANDBOX": "full"})):
        result = grade(str(subs), "--out", str(out), "--rubric", str(TOY), *args, env=env)
        assert result.exit_code == ExitCode.WEAK_SANDBOX, result.output
        assert "refusing to grade" in result.output and "'process'" in result.output
        assert "fix: apt-get install bubblewrap" in result.output
        assert not out.exists()  # nothing graded


def test_students_check_runs_at_any_level(no_bubblewrap, tmp_path: Path) -> None:
    subs = make_corpus(tmp_path / "subs")
    result = CliRunner().invoke(main, ["check", str(subs / "s01"), "--rubric", str(TOY)],
                                env={"GRADER_REQUIRE_SANDBOX": "full"})
    assert result.exit_code == ExitCode.OK, result.output  # s01 is right: every public check passes
    assert "refusing" not in result.output


def test_a_fresh_machine_without_bubblewrap_warns_at_the_start_and_the_end(tmp_path: Path) -> None:
    """README's first command on a machine without bwrap: PATH holds no bwrap at all."""
    subs = make_corpus(tmp_path / "subs")
    for extra in sorted(subs.iterdir())[2:]:
        shutil.rmtree(extra)
    (subs / "s01/vecmath/ops.py").write_text(WRONG_DOT)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SANDBOX"} | {"PATH": str(empty_bin)}
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(subs), "--out", str(tmp_path / "out"), "--rubric",
           str(TOY), "--secret-file", str(tmp_path / "s"), "--workers", "1"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    warnings = [i for i, line in enumerate(lines) if line.startswith("WARNING: weak sandbox level 'process'")]
    assert len(warnings) == 2 and warnings[0] == 0 and warnings[1] > 0, done.stderr
    assert lines[warnings[1] + 1].strip() == "fix: apt-get install bubblewrap   (then `grader doctor` to confirm)"
    summary = next(i for i, line in enumerate(lines) if line.startswith("2 graded, 0 unchanged"))
    assert warnings[0] < summary < warnings[1]  # before the batch, and after it
    refused = subprocess.run([*cmd, "--sandbox", "full"], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == ExitCode.WEAK_SANDBOX
    assert "fix: apt-get install bubblewrap" in refused.stderr


def test_a_full_level_prints_no_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)
    if not assess().full:
        pytest.skip("this machine gives no full level")  # CI installs bubblewrap and runs as root
    subs = make_corpus(tmp_path / "subs")
    for extra in sorted(subs.iterdir())[1:]:
        shutil.rmtree(extra)
    (subs / "s00/vecmath/ops.py").write_text(GOOD)
    result = grade(str(subs), "--out", str(tmp_path / "out"), "--rubric", str(TOY), "--sandbox", "full",
                   "--secret-file", str(tmp_path / "s"), "--workers", "1")
    assert result.exit_code == ExitCode.OK, result.output
    assert "WARNING" not in result.output


def test_a_class_folder_with_a_stray_copy_of_a_handout_file_is_still_a_class(tmp_path: Path) -> None:
    subs = hw4_like(tmp_path / "subs")
    (subs / "answers.md").write_text("the template, left here by a TA\n")
    assert sorted(plan_batch(subs, tmp_path / "out", rubric_mod.load("hw4"), RESERVED_IDS).ids) == ["alice", "bob"]
