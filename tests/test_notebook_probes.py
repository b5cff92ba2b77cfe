"""Generic: checks that call functions defined in a notebook, inside its sandboxed kernel.

The toy assignment in tests/fixtures/toy_notebook/ defines dot, normalize and a variable in
notebook cells ([notebook] probes in its rubric.toml). One graded batch of four notebooks
(correct, a cell that fails before a def, a hanging function, no notebook) is shared by the
tests, so the kernels start once per notebook.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.judgement import rubric as rubric_mod
from grader.judgement.submission import grade_submission
from grader.results import Status, SubmissionResult, Visibility

TOY = Path(__file__).resolve().parent / "fixtures" / "toy_notebook"
SECRET = b"toy-notebook-secret-0123456789abcdef"

CELLS = {
    "imports": "import numpy as np",
    "dot": "def dot(a, b):\n    return float(np.dot(a, b))",
    "normalize": "def normalize(v):\n    return np.asarray(v) / np.linalg.norm(v)",
    "answer": "answer = 42\nprint('all tests PASSED')",
}


def _notebook(folder: Path, **replace: str) -> Path:
    cells = {**CELLS, **replace}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells.values()])
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "vec.ipynb")
    return folder


@pytest.fixture(scope="module")
def toy() -> rubric_mod.Rubric:
    rubric = rubric_mod.load(str(TOY))
    rubric.load_judges()
    return rubric


@pytest.fixture(scope="module")
def results(toy: rubric_mod.Rubric, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    base = tmp_path_factory.mktemp("nbsubs")
    subs = {
        "good": _notebook(base / "good"),
        # the cell raises before its def runs: normalize never exists
        "broken-cell": _notebook(base / "broken-cell", normalize="undefined_helper()\n" + CELLS["normalize"]),
        "hangs": _notebook(base / "hangs", dot="def dot(a, b):\n    while True:\n        pass"),
        # hard-codes the published example: the public check passes, the hidden ones do not
        "hard-coded": _notebook(base / "hard-coded", dot="def dot(a, b):\n    return 32.0"),
    }
    (base / "empty").mkdir()
    subs["empty"] = base / "empty"
    return {name: grade_submission(path, toy, SECRET) for name, path in subs.items()}


def _task(result: SubmissionResult, task_id: str):
    return next(t for t in result.tasks if t.id == task_id)


def test_functions_defined_in_the_notebook_are_graded_in_its_kernel(results: dict[str, SubmissionResult]) -> None:
    good = results["good"]
    assert [t.status for t in good.tasks] == [Status.PASS] * 3
    assert good.score == 3.0
    assert good.notebook is not None and good.notebook.status == "ok"
    hidden = [c for c in _task(good, "T1").checks if c.visibility is Visibility.HIDDEN]
    assert len(hidden) == 2 and all(c.passed for c in hidden)
    # the injected serving cell is not shown as one of the student's cells
    assert len(good.notebook.cells) == len(CELLS)


def test_a_failed_cell_costs_only_the_function_it_defines(results: dict[str, SubmissionResult]) -> None:
    broken = results["broken-cell"]
    t2 = _task(broken, "T2")
    assert t2.status is Status.FAIL and t2.points == 0
    assert "the notebook defines no function normalize" in t2.message
    assert "did the cell that defines it run" in t2.message
    assert _task(broken, "T1").status is Status.PASS and _task(broken, "T3").status is Status.PASS
    assert broken.notebook is not None and broken.notebook.status == "error"


def test_a_hanging_notebook_function_times_out_that_task_only(results: dict[str, SubmissionResult]) -> None:
    hangs = results["hangs"]
    assert _task(hangs, "T1").status is Status.TIMEOUT
    assert _task(hangs, "T2").status is Status.PASS and _task(hangs, "T3").status is Status.PASS


def test_hard_coded_published_values_fail_the_hidden_checks(results: dict[str, SubmissionResult]) -> None:
    t1 = _task(results["hard-coded"], "T1")
    assert t1.status is Status.FAIL
    assert [c.passed for c in t1.checks if c.visibility is Visibility.PUBLIC] == [True]
    assert not any(c.passed for c in t1.checks if c.visibility is Visibility.HIDDEN)


def test_no_notebook_gives_every_task_a_clear_missing_status(results: dict[str, SubmissionResult]) -> None:
    empty = results["empty"]
    for task in empty.tasks:
        assert task.status is Status.MISSING
        assert "vec.ipynb was not found" in task.message
        assert task.cause is None
