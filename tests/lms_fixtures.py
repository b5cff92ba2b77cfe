"""Small downloads in each course system's documented layout, built from the HW4 reference files.

Each one holds, besides clean hand-ins: a late submission, a resubmission, a student who handed
in nothing, and a stray file; the layouts follow the sources quoted in grader/course/importers/.
Built by code rather than committed, so each stays a few kilobytes and every student's file is
the reference solution or one visible edit of it.
"""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path

from .conftest import SOLUTION_ANSWERS, SOLUTION_CODE, STARTER, mutate

BUGGY_CODE = mutate("scores = ", "scores = 0 * ")  # an early, wrong version a student replaced
TINY_NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
INIT = (STARTER / "cattern/__init__.py").read_text()
DUE = "2025-03-14T23:59:00+01:00"  # the deadline the fixtures are late or on time against
RUBRIC_DEADLINE = f"""
[deadline]
due = {DUE}
grace_minutes = 15
penalty_per_day = 0.1
max_penalty = 0.5
cutoff_days = 7
"""


def _zip(path: Path, files: dict[str, str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _inner_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def canvas_download(tmp: Path) -> tuple[Path, Path]:
    """Canvas's submissions zip and its gradebook export (the course roster)."""
    download = _zip(tmp / "canvas" / "submissions.zip", {
        # on time, clean
        "smithbob_1001_5001_neural_net.py": SOLUTION_CODE,
        "smithbob_1001_5002_answers.md": SOLUTION_ANSWERS,
        # late, and a resubmission: neural_net.py uploaded again became neural_net-1.py
        "joneseve_LATE_1002_5010_neural_net.py": BUGGY_CODE,
        "joneseve_LATE_1002_5011_neural_net-1.py": SOLUTION_CODE,
        "joneseve_LATE_1002_5012_answers.md": SOLUTION_ANSWERS,
        # a zip of the whole folder
        "leeann_1003_5020_hw4.zip": _inner_zip({"hw4/cattern/__init__.py": INIT,
                                                "hw4/cattern/neural_net.py": SOLUTION_CODE,
                                                "hw4/answers.md": SOLUTION_ANSWERS}),
        # two candidate notebooks and a text entry: nothing the grader can place by itself
        "kimjo_1004_5030_lab_v1.ipynb": TINY_NOTEBOOK,
        "kimjo_1004_5031_lab_final.ipynb": TINY_NOTEBOOK,
        "kimjo_1004_text.html": "<p>see my notebook</p>",
        # stray files: not in Canvas's naming, or in a folder
        "README.txt": "downloaded by the TA",
        "extra/notes.txt": "belongs to nobody",
    })
    roster = tmp / "canvas" / "gradebook.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,HW4 Neural Networks (777)\n"
        "    Points Possible,,,,,12\n"
        '"Smith, Bob",1001,S1001,bsmith,Section A,\n'
        '"Jones, Eve",1002,S1002,ejones,Section A,\n'
        '"Lee, Ann",1003,S1003,alee,Section B,\n'
        '"Kim, Jo",1004,S1004,jkim,Section B,\n'
        '"Park, Sam",1005,S1005,spark,Section B,\n'  # handed in nothing
        '"Student, Test",9999,,,,\n')
    return download, roster


def moodle_download(tmp: Path) -> tuple[Path, Path]:
    """Moodle's download-all zip (folders, Moodle 4 and 3 spellings) and the grading worksheet."""
    download = _zip(tmp / "moodle" / "HW4-42.zip", {
        "Bob Smith_201_assignsubmission_file/cattern/neural_net.py": SOLUTION_CODE,
        "Bob Smith_201_assignsubmission_file/answers.md": SOLUTION_ANSWERS,
        # Moodle 3.x folder name (trailing _); a file uploaded again under its name: "neural_net (1).py"
        "Eve Jones_202_assignsubmission_file_/neural_net.py": BUGGY_CODE,
        "Eve Jones_202_assignsubmission_file_/neural_net (1).py": SOLUTION_CODE,
        "Eve Jones_202_assignsubmission_file_/answers.md": SOLUTION_ANSWERS,
        "Eve Jones_202_assignsubmission_onlinetext_/onlinetext.html": "<p>late, sorry</p>",
        "Ann Lee_203_assignsubmission_file/hw4/cattern/neural_net.py": SOLUTION_CODE,
        "Ann Lee_203_assignsubmission_file/hw4/answers.md": SOLUTION_ANSWERS,
        "marking-notes.txt": "a stray file at the top",
    })
    worksheet = tmp / "moodle" / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
        "Last modified (submission),Last modified (grade),Feedback comments\n"
        "Participant 201,Bob Smith,bob@example.edu,Submitted for grading,,12.00,Yes,"
        '"Friday, 14 March 2025, 10:00 PM",-,\n'
        "Participant 202,Eve Jones,eve@example.edu,Submitted for grading,,12.00,Yes,"
        '"Sunday, 16 March 2025, 9:30 AM",-,\n'
        "Participant 203,Ann Lee,ann@example.edu,Submitted for grading,,12.00,Yes,"
        '"Friday, 14 March 2025, 11:50 PM",-,\n'
        "Participant 204,Sam Park,sam@example.edu,No submission,,12.00,Yes,-,-,\n")
    return download, worksheet


def _git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "student", "GIT_AUTHOR_EMAIL": "s@example.edu",
           "GIT_COMMITTER_NAME": "student", "GIT_COMMITTER_EMAIL": "s@example.edu",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def _commit(repo: Path, files: dict[str, str], when: str, message: str) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message, when=when)


def github_download(tmp: Path) -> tuple[Path, Path]:
    """A folder of cloned student repositories and GitHub Classroom's roster export."""
    root = tmp / "github" / "clones"
    starter = {"cattern/__init__.py": INIT}
    repos = {}
    for user in ("bobsmith", "evejones", "annlee", "samkim"):
        repo = repos[user] = root / f"hw4-{user}"
        repo.mkdir(parents=True)
        _git(repo, "init", "-q", "-b", "main")
    _commit(repos["bobsmith"], {**starter, "cattern/neural_net.py": SOLUTION_CODE, "answers.md": SOLUTION_ANSWERS},
            "2025-03-14T20:00:00+01:00", "done")
    # resubmission: an early wrong commit, the fix before the deadline, a commit after it (ignored)
    _commit(repos["evejones"], {**starter, "cattern/neural_net.py": BUGGY_CODE, "answers.md": SOLUTION_ANSWERS},
            "2025-03-10T12:00:00+01:00", "first try")
    _commit(repos["evejones"], {"cattern/neural_net.py": SOLUTION_CODE}, "2025-03-14T23:30:00+01:00", "fix")
    _commit(repos["evejones"], {"cattern/neural_net.py": BUGGY_CODE}, "2025-03-16T09:00:00+01:00", "oops")
    # late: the only commit is two days after the deadline
    _commit(repos["annlee"], {**starter, "cattern/neural_net.py": SOLUTION_CODE, "answers.md": SOLUTION_ANSWERS},
            "2025-03-16T10:00:00+01:00", "late")
    # samkim accepted the assignment and never committed: nothing
    (root / "notes.txt").write_text("a stray file next to the clones")
    roster = tmp / "github" / "classroom_roster.csv"
    roster.write_text('"identifier","github_username","github_id","name"\n'
                      '"bob@example.edu","bobsmith","11","Bob Smith"\n'
                      '"eve@example.edu","evejones","12","Eve Jones"\n'
                      '"ann@example.edu","annlee","13","Ann Lee"\n'
                      '"sam@example.edu","samkim","14","Sam Kim"\n'
                      '"pat@example.edu","","","Pat Doe"\n')  # never accepted the assignment
    return root, roster


GRADESCOPE_METADATA = """\
submission_301:
  :submitters:
  - :name: Bob Smith
    :sid: '1001'
    :email: bob@example.edu
  :created_at: 2025-03-14 21:00:00.123456000 Z
  :score: 0.0
  :history: []
submission_302:
  :submitters:
  - :name: Eve Jones
    :sid: '1002'
    :email: eve@example.edu
  :created_at: 2025-03-16 08:30:00.000000000 Z
  :score: 0.0
  :history:
  - :id: 299
    :created_at: 2025-03-13 10:00:00.000000000 Z
    :score: 0.0
...
submission_303:
  :submitters:
  - :name: Ann Lee
    :sid: '1003'
    :email: ann@example.edu
  - :name: Jo Kim
    :sid: '1004'
    :email: jo@example.edu
  :created_at: 2025-03-14 22:00:00.000000000 Z
  :score: 0.0
submission_304:
  :submitters:
  - :name: Sam Park
    :sid: '1005'
    :email: sam@example.edu
  :created_at: 2025-03-14 20:00:00.000000000 Z
  :score: 0.0
"""


def gradescope_download(tmp: Path) -> Path:
    """Gradescope's submissions export: submission_metadata.yml and a folder per active submission."""
    root = "assignment_999_export"
    return _zip(tmp / "gradescope" / "submissions.zip", {
        f"{root}/submission_metadata.yml": GRADESCOPE_METADATA,
        f"{root}/submission_301/neural_net.py": SOLUTION_CODE,
        f"{root}/submission_301/answers.md": SOLUTION_ANSWERS,
        f"{root}/submission_302/cattern/neural_net.py": SOLUTION_CODE,  # late; resubmitted (history)
        f"{root}/submission_302/answers.md": SOLUTION_ANSWERS,
        f"{root}/submission_303/neural_net.py": SOLUTION_CODE,  # a group of two
        f"{root}/submission_303/answers.md": SOLUTION_ANSWERS,
        # submission_304 (Sam Park) has no files: nothing
        f"{root}/submission_388/neural_net.py": SOLUTION_CODE,  # stray: not in the metadata
        f"{root}/export-notes.txt": "stray",
    })


def rubric_with_deadline(tmp: Path, deadline: str = RUBRIC_DEADLINE, base: Path | None = None) -> Path:
    """A copy of a rubric (HW4 by default) with a [deadline] table; its files still point at the originals."""
    base = base or Path(__file__).resolve().parents[1] / "rubrics/hw4/rubric.toml"
    text = base.read_text()
    for rel in sorted({part.split('"')[0] for part in text.split('= "')[1:]}, key=len, reverse=True):
        if (base.parent / rel).exists() and rel:
            text = text.replace(f'"{rel}"', f'"{(base.parent / rel).resolve()}"')
    folder = tmp / f"rubric-{abs(hash(deadline)) % 10**8}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rubric.toml").write_text(text + deadline)
    return folder / "rubric.toml"
