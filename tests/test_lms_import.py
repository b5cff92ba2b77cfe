"""`grader import`: each course system's download becomes folders in the rubric's layout and a roster.

Each format's fixture (tests/lms_fixtures.py) holds a late hand-in, a resubmission, a student
who handed in nothing and a stray file; every one of them must be reported, the download must be
left byte for byte as it was, and the imported folders must grade exactly like a hand-made one.
"""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli
from grader.course.importers import ImportRefused, import_download
from grader.course.importers.gradescope import load_metadata
from grader.course.importers.layout import UNPLACED_DIR, place, without_copy_suffix
from grader.course.importers.model import IssueKind, Upload
from grader.course.roster import ROSTER_FILE, RosterError, read_roster
from grader.judgement import rubric as rubric_mod
from grader.judgement.grading import grade_submission

from . import lms_fixtures as fx
from .conftest import SECRET, SOLUTION_ANSWERS, SOLUTION_CODE

HW4_FILES = {"module": "cattern/neural_net.py", "answers": "answers.md",
             "notebook": "Simple_Neural_Network_Lab.ipynb", "model": "best_net.npz"}


def digest(path: Path) -> str:
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for p in files:
        h.update(str(p.relative_to(path.parent)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def rubric(tmp_path_factory: pytest.TempPathFactory) -> rubric_mod.Rubric:
    """HW4 with a deadline, without the slow MNIST check (the judges are the real ones)."""
    loaded = rubric_mod.load(str(fx.rubric_with_deadline(tmp_path_factory.mktemp("rubric"))))
    loaded = loaded.without_param("mnist_training")
    loaded.load_judges()
    return loaded


def run_import(fmt: str, download: Path, tmp: Path, rubric: rubric_mod.Rubric, roster: Path | None = None,
               **kw: str):
    before = digest(download)
    result = import_download(fmt, download, tmp / f"out-{fmt}", rubric, course_roster=roster, **kw)
    assert digest(download) == before, "the import modified the download"
    kinds = {}
    for issue in result.issues:
        kinds.setdefault(issue.kind, []).append(issue)
    report = result.report_path.read_text()
    for issue in result.issues:  # every issue is written down, not only returned
        assert str(issue) in report
    return result, kinds, {e.student: e for e in read_roster(result.out / ROSTER_FILE)}


def files_of(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_canvas_download(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    download, gradebook = fx.canvas_download(tmp_path)
    result, kinds, roster = run_import("canvas", download, tmp_path, rubric, gradebook)
    out = result.out
    assert sorted(result.written) == ["joneseve_1002", "kimjo_1004", "leeann_1003", "smithbob_1001"]
    assert files_of(out / "smithbob_1001") == {"cattern/neural_net.py", "answers.md"}
    # resubmission: neural_net-1.py (the later attachment) is the module; the first upload is kept aside
    assert (out / "joneseve_1002/cattern/neural_net.py").read_text() == SOLUTION_CODE
    assert (out / f"joneseve_1002/{UNPLACED_DIR}/joneseve_LATE_1002_5010_neural_net.py").read_text() == fx.BUGGY_CODE
    assert any("neural_net-1.py" in i.message for i in kinds[IssueKind.RESUBMISSION])
    # late: Canvas's LATE mark is kept in the roster, and the missing time is said
    assert roster["1002"].late_mark == "LATE" and roster["1002"].submitted_at is None
    assert [i.student for i in kinds[IssueKind.LATE]] == ["1002"] and kinds[IssueKind.TIME_UNKNOWN]
    # the zip a student handed in is unpacked, its wrapping folder dropped
    assert files_of(out / "leeann_1003") == {"cattern/__init__.py", "cattern/neural_net.py", "answers.md"}
    # two candidate notebooks: neither is guessed
    assert not (out / "kimjo_1004/Simple_Neural_Network_Lab.ipynb").exists()
    assert any(i.student == "1004" and "lab_v1.ipynb" in i.message for i in kinds[IssueKind.AMBIGUOUS])
    # nothing submitted: a roster line without a folder; Canvas's test student is not a student
    assert roster["1005"].submission == "" and [i.student for i in kinds[IssueKind.NOTHING]] == ["1005"]
    assert "9999" not in roster
    # identities come from the gradebook export, as the Canvas import needs them
    assert (roster["1001"].name, roster["1001"].sis_user_id, roster["1001"].sis_login_id, roster["1001"].section) \
        == ("Smith, Bob", "S1001", "bsmith", "Section A")
    # stray files belong to nobody and are reported, not copied
    assert {i.message.split(":")[0] for i in kinds[IssueKind.STRAY]} == {"README.txt", "extra/notes.txt"}


def test_moodle_download(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    download, worksheet = fx.moodle_download(tmp_path)
    result, kinds, roster = run_import("moodle", download, tmp_path, rubric, worksheet, timezone="Europe/Stockholm")
    out = result.out
    assert sorted(result.written) == ["Ann-Lee_203", "Bob-Smith_201", "Eve-Jones_202"]
    assert files_of(out / "Bob-Smith_201") == {"cattern/neural_net.py", "answers.md"}
    assert files_of(out / "Ann-Lee_203") == {"cattern/neural_net.py", "answers.md"}  # hw4/ wrapper dropped
    # resubmission: "neural_net (1).py" is the later upload of the same name
    assert (out / "Eve-Jones_202/cattern/neural_net.py").read_text() == SOLUTION_CODE
    assert (out / f"Eve-Jones_202/{UNPLACED_DIR}/neural_net.py").read_text() == fx.BUGGY_CODE
    assert [i.student for i in kinds[IssueKind.RESUBMISSION]] == ["202"]
    assert any("onlinetext.html" in i.message for i in kinds[IssueKind.UNPLACED])
    # late: the worksheet's time (Stockholm, no offset written) read as an instant
    assert roster["202"].submitted_at == datetime(2025, 3, 16, 8, 30, tzinfo=UTC)
    assert roster["201"].email == "bob@example.edu"
    assert roster["204"].submission == "" and [i.student for i in kinds[IssueKind.NOTHING]] == ["204"]
    assert [i.message.split(":")[0] for i in kinds[IssueKind.STRAY]] == ["marking-notes.txt"]


def test_moodle_worksheet_times_need_a_time_zone(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    download, worksheet = fx.moodle_download(tmp_path)
    result, kinds, roster = run_import("moodle", download, tmp_path, rubric, worksheet)
    assert roster["202"].submitted_at is None
    assert any("no offset or zone" in i.message for i in kinds[IssueKind.TIME_UNKNOWN])


def test_github_classroom_clones(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    clones, classroom_roster = fx.github_download(tmp_path)
    heads = {p.name: (p / ".git/HEAD").read_text() for p in clones.iterdir() if p.is_dir()}
    result, kinds, roster = run_import("github", clones, tmp_path, rubric, classroom_roster)
    out = result.out
    assert sorted(result.written) == ["annlee", "bobsmith", "evejones"]
    assert {p.name: (p / ".git/HEAD").read_text() for p in clones.iterdir() if p.is_dir()} == heads
    # the commit at the deadline: the fix before it, not the early try nor the commit after it
    assert (out / "evejones/cattern/neural_net.py").read_text() == SOLUTION_CODE
    assert roster["evejones"].submitted_at == datetime(2025, 3, 14, 22, 30, tzinfo=UTC)
    assert any("after the deadline" in i.message for i in kinds[IssueKind.RESUBMISSION])
    # late: no commit by the deadline, so the newest counts, with its time
    assert roster["annlee"].submitted_at == datetime(2025, 3, 16, 9, 0, tzinfo=UTC)
    assert [i.student for i in kinds[IssueKind.LATE]] == ["annlee"]
    # nothing: a repository without a commit, and a roster student without a repository
    assert {i.student for i in kinds[IssueKind.NOTHING]} == {"samkim", "pat@example.edu"}
    assert roster["samkim"].submission == "" and roster["bobsmith"].email == "bob@example.edu"
    assert [i.message.split(":")[0] for i in kinds[IssueKind.STRAY]] == ["notes.txt"]
    # files of the chosen commit only, the package's __init__.py included
    assert files_of(out / "bobsmith") == {"cattern/__init__.py", "cattern/neural_net.py", "answers.md"}


def test_github_extension_moves_the_commit_taken(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    clones, classroom_roster = fx.github_download(tmp_path)
    run_import("github", clones, tmp_path, rubric, classroom_roster)
    roster_file = tmp_path / "out-github" / ROSTER_FILE
    roster_file.write_text(roster_file.read_text().replace("evejones,evejones,Eve Jones,eve@example.edu,"
                                                           "eve@example.edu,,,2025-03-14T22:30:00+00:00,,,",
                                                           "evejones,evejones,Eve Jones,eve@example.edu,"
                                                           "eve@example.edu,,,2025-03-14T22:30:00+00:00,,3d,"))
    result, _, roster = run_import("github", clones, tmp_path, rubric, classroom_roster)
    assert roster["evejones"].extension == "3d"  # the TA's edit survives the re-import
    assert (result.out / "evejones/cattern/neural_net.py").read_text() == fx.BUGGY_CODE  # the later commit
    assert roster["evejones"].submitted_at == datetime(2025, 3, 16, 8, 0, tzinfo=UTC)


def test_gradescope_export(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    download = fx.gradescope_download(tmp_path)
    result, kinds, roster = run_import("gradescope", download, tmp_path, rubric)
    out = result.out
    assert sorted(result.written) == ["Ann-Lee_1003", "Bob-Smith_1001", "Eve-Jones_1002"]
    assert files_of(out / "Bob-Smith_1001") == {"cattern/neural_net.py", "answers.md"}
    # late: the submission time is Gradescope's :created_at:
    assert roster["1002"].submitted_at == datetime(2025, 3, 16, 8, 30, tzinfo=UTC)
    assert [i.student for i in kinds[IssueKind.RESUBMISSION]] == ["1002"]
    # a group: both members share the folder
    assert roster["1003"].submission == roster["1004"].submission == "Ann-Lee_1003"
    assert roster["1005"].submission == "" and [i.student for i in kinds[IssueKind.NOTHING]] == ["1005"]
    assert sorted(i.message.split(":")[0] for i in kinds[IssueKind.STRAY]) == [
        "assignment_999_export/export-notes.txt", "assignment_999_export/submission_388/neural_net.py"]


def test_gradescope_metadata_is_read_safely() -> None:
    hostile = "submission_1:\n  :submitters: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(RosterError, match="not readable YAML"):
        load_metadata(hostile, "metadata")
    # a bare `...` between two submissions, as Gradescope has been seen writing
    merged = load_metadata("submission_1:\n  :submitters: []\n...\nsubmission_2:\n  :submitters: []\n", "m")
    assert sorted(merged) == ["submission_1", "submission_2"]


def test_imported_folders_grade_exactly_like_a_hand_made_one(tmp_path: Path, rubric: rubric_mod.Rubric,
                                                             make_submission) -> None:
    """The same student work, imported from each system, and laid out by hand."""
    imported = {
        "canvas-resubmitted": ("canvas", fx.canvas_download(tmp_path), "joneseve_1002"),
        "canvas-zip": ("canvas", fx.canvas_download(tmp_path), "leeann_1003"),
        "moodle-resubmitted": ("moodle", fx.moodle_download(tmp_path), "Eve-Jones_202"),
        "github-at-deadline": ("github", fx.github_download(tmp_path), "evejones"),
        "gradescope-moved": ("gradescope", (fx.gradescope_download(tmp_path), None), "Ann-Lee_1003"),
    }
    hand_made = grade_submission(make_submission("student"), rubric, SECRET, sub_id="student")
    expected = [t.to_json() for t in hand_made.tasks]
    assert {t.id for t in hand_made.tasks if t.status.value == "pass"} >= {"T1", "T5", "T11"}
    for label, (fmt, (download, roster), folder) in imported.items():
        out = tmp_path / f"imported-{label}"
        import_download(fmt, download, out, rubric, course_roster=roster, timezone="Europe/Stockholm")
        result = grade_submission(out / folder, rubric, SECRET, sub_id="student")
        assert [t.to_json() for t in result.tasks] == expected, label


def test_layout_rules() -> None:
    assert without_copy_suffix("neural_net-1.py") == ("neural_net.py", 1)
    assert without_copy_suffix("neural_net (2).py") == ("neural_net.py", 2)
    assert without_copy_suffix("best-net.npz") == ("best-net.npz", 0)
    # the only .ipynb is taken as the notebook, and said to be a guess
    placed = place([Upload("lab_v2.ipynb", b"{}", "lab_v2.ipynb"), Upload("answers.md", b"a", "answers.md")],
                   HW4_FILES, "s")
    assert set(placed.files) == {"Simple_Neural_Network_Lab.ipynb", "answers.md"}
    assert any(i.kind is IssueKind.MOVED and "guess" in i.message for i in placed.issues)
    # same name twice with nothing to say which came later: ambiguous, neither placed, both kept
    placed = place([Upload("a/answers.md", b"1", "a/answers.md"), Upload("b/answers.md", b"2", "b/answers.md")],
                   HW4_FILES, "s")
    assert "answers.md" not in placed.files and {"a/answers.md", "b/answers.md"} <= set(placed.files)
    assert [i.kind for i in placed.issues if i.kind is IssueKind.AMBIGUOUS] == [IssueKind.AMBIGUOUS]
    # a file that maps nowhere keeps its name (best_net.pkl is where the grader's T12 looks for it)
    placed = place([Upload("best_net.pkl", b"x", "best_net.pkl")], HW4_FILES, "s")
    assert set(placed.files) == {"best_net.pkl"}
    assert any(i.kind is IssueKind.UNPLACED for i in placed.issues)


def test_an_unsafe_zip_entry_in_a_students_zip_is_refused(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("../../escape.py", "x = 1\n")
        zf.writestr("answers.md", SOLUTION_ANSWERS)
    download = tmp_path / "canvas.zip"
    with zipfile.ZipFile(download, "w") as zf:
        zf.writestr("smithbob_1001_5001_hw4.zip", inner.read_bytes())
    result = import_download("canvas", download, tmp_path / "out", rubric)
    assert not (tmp_path / "escape.py").exists() and not list(tmp_path.rglob("escape.py"))
    assert any(i.kind is IssueKind.REFUSED and "outside" in i.message for i in result.issues)
    assert (tmp_path / "out/smithbob_1001/answers.md").read_text() == SOLUTION_ANSWERS


def test_import_refuses_a_folder_it_did_not_write(tmp_path: Path, rubric: rubric_mod.Rubric) -> None:
    download, _ = fx.canvas_download(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy/keep.txt").write_text("a TA's file")
    with pytest.raises(ImportRefused, match="not empty"):
        import_download("canvas", download, tmp_path / "busy", rubric)


def test_cli_import_prints_the_issues(tmp_path: Path) -> None:
    download, gradebook = fx.canvas_download(tmp_path)
    result = CliRunner().invoke(cli.main, ["import", "canvas", str(download), "--out", str(tmp_path / "hw4"),
                                           "--roster", str(gradebook)])
    assert result.exit_code == 0, result.output
    assert "[nothing submitted] 1005" in result.output and "[stray] README.txt" in result.output
    assert "4 submission folder(s)" in result.output
    bad = CliRunner().invoke(cli.main, ["import", "gradescope", str(download), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "submission_metadata.yml" in bad.output
