"""Shared fixtures: the HW4 rubric, a fixed secret, and builders for small submissions."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.judgement import rubric as rubric_mod
from grader.judgement.submission import grade_submission
from grader.results import SubmissionResult

PROJECT = Path(__file__).resolve().parents[1]
SOLUTION = PROJECT / "reference/hw4/solution"
STARTER = PROJECT / "reference/hw4/starter"
SOLUTION_CODE = (SOLUTION / "cattern/neural_net.py").read_text()
SOLUTION_ANSWERS = (SOLUTION / "answers.md").read_text()
SECRET = b"tests-fixed-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def hw4_full() -> rubric_mod.Rubric:
    rubric = rubric_mod.load("hw4")
    rubric.load_judges()
    return rubric


@pytest.fixture(scope="session")
def hw4(hw4_full: rubric_mod.Rubric) -> rubric_mod.Rubric:
    return hw4_full.without_param("mnist_training")  # other checks' tests stay quick


def mutate(old: str, new: str, code: str = SOLUTION_CODE) -> str:
    """The reference solution with one exact edit; fails loudly if the edit does not apply."""
    assert old in code, f"mutation target not found: {old!r}"
    return code.replace(old, new)


@pytest.fixture
def make_submission(tmp_path: Path) -> Callable[..., Path]:
    """Build a submission folder in the starter's layout; None leaves a file out."""

    def build(name: str = "student", code: str | None = SOLUTION_CODE, answers: str | None = SOLUTION_ANSWERS,
              extra: dict[str, str] | None = None) -> Path:
        root = tmp_path / "subs" / name
        (root / "cattern").mkdir(parents=True)
        if code is not None:
            (root / "cattern/neural_net.py").write_text(code)
            shutil.copy(STARTER / "cattern/__init__.py", root / "cattern/__init__.py")
        if answers is not None:
            (root / "answers.md").write_text(answers)
        for rel, text in (extra or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    return build


@pytest.fixture
def grade(hw4: rubric_mod.Rubric) -> Callable[[Path], SubmissionResult]:
    def run(path: Path) -> SubmissionResult:
        return grade_submission(path, hw4, SECRET)

    return run


def statuses(result: SubmissionResult) -> dict[str, str]:
    return {t.id: t.status.value for t in result.tasks}


def not_passing(result: SubmissionResult) -> dict[str, str]:
    """Task id -> status for every task that did not pass, leaving out T4 (manual) and T12 (pending)."""
    return {t.id: t.status.value for t in result.tasks if t.status.value != "pass" and t.id not in ("T4", "T12")}
