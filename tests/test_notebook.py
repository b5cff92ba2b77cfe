"""Notebook execution and T12: the kernel runs in the sandbox, T12 is measured on the model itself."""

from __future__ import annotations

import dataclasses
import json
import pickle
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.judgement.rubric import Rubric
from grader.judgement.submission import grade_submission

from .conftest import SECRET, SOLUTION_CODE

NOTEBOOK = "Simple_Neural_Network_Lab.ipynb"
IMPORTS = "import numpy as np\nfrom cattern.neural_net import TwoLayerNet\n"


def notebook(*cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def short(hw4: Rubric) -> Rubric:
    """The HW4 rubric with a short notebook budget, so the hang tests stay quick."""
    return dataclasses.replace(hw4, notebook=dataclasses.replace(hw4.notebook, budget_s=12, cell_timeout_s=60))


def grade(path: Path, rubric: Rubric):
    return grade_submission(path, rubric, SECRET)


def test_a_fabricated_accuracy_fails_t12_and_is_flagged(make_submission, short: Rubric) -> None:
    nb = notebook(IMPORTS + "np.random.seed(0)\nbest_net = TwoLayerNet(784, 20, 10)  # never trained",
                  'print("Validation accuracy: ", 0.99)', 'print("Test accuracy: ", 0.99)')
    result = grade(make_submission(extra={NOTEBOOK: nb}), short)
    assert result.notebook.status == "ok"
    t12 = result.task("T12")
    assert t12.status.value == "fail"
    counted = [c for c in t12.checks if c.passed is not None]
    assert [c.passed for c in counted] == [False, False]
    assert counted[1].got < 0.5  # the grader's own measurement, not the printed 0.99
    claims = {c.name: c for c in t12.checks if c.passed is None}
    assert "MISMATCH" in claims["printed Test accuracy"].message
    assert claims["printed Test accuracy"].got == 0.99
    assert "best_net.params from the notebook's kernel" in counted[0].message


def test_a_cell_ignoring_sigint_does_not_hang_the_grader(make_submission, short: Rubric) -> None:
    nb = notebook("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    result = grade(make_submission(extra={NOTEBOOK: nb}), short)
    assert result.notebook.status == "timeout"
    assert result.notebook.cells[0].status == "timeout"
    assert result.task("T5").status.value == "pass"  # the module checks still stand
    t12 = result.task("T12")
    assert t12.status.value == "timeout" and "To make T12 gradable" in t12.message


def test_an_hour_long_sweep_is_stopped_at_the_budget_with_advice(make_submission, short: Rubric) -> None:
    sweep = IMPORTS + ("import time\nbest_net = None\nfor config in range(36):\n"
                       "    time.sleep(100)  # 36 configs x 6000 iterations, as seed 001 did\n")
    result = grade(make_submission(extra={NOTEBOOK: notebook(sweep)}), short)
    assert result.notebook.status == "timeout" and "budget of 12 s" in result.notebook.message
    t12 = result.task("T12")
    assert t12.status.value == "timeout"
    assert "np.savez('best_net.npz', **best_net.params)" in t12.message
    assert "budget" in t12.message


def test_a_handed_in_npz_is_measured_even_when_the_notebook_times_out(make_submission, short: Rubric,
                                                                   tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    params = {"W1": 1e-3 * rng.standard_normal((784, 16)), "b1": np.zeros(16),
              "W2": 1e-3 * rng.standard_normal((16, 10)), "b2": np.zeros(10)}
    sub = make_submission(extra={NOTEBOOK: notebook("import time\ntime.sleep(3600)")})
    np.savez(sub / "best_net.npz", **params)
    t12 = grade(sub, short).task("T12")
    assert t12.status.value == "fail"  # an untrained net: measured, and below the thresholds
    assert all("best_net.npz (handed in)" in c.message for c in t12.checks if c.passed is not None)


def test_a_pickle_free_npz_with_a_pickled_object_is_refused(make_submission, short: Rubric) -> None:
    sub = make_submission(extra={NOTEBOOK: notebook("x = 1")})
    np.savez(sub / "best_net.npz", W1=np.array([object()], dtype=object), allow_pickle=True)
    t12 = grade(sub, short).task("T12")
    assert t12.status.value == "missing"
    assert "best_net.npz (handed in): it is not a readable .npz" in t12.message


class PcaModel:
    """A model that preprocesses differently: only its own predict() can evaluate it."""

    def __init__(self, answer: int) -> None:
        self.answer = answer

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.answer, dtype=np.int64)


def test_a_model_with_its_own_preprocessing_is_evaluated_through_its_predict(make_submission,
                                                                             short: Rubric) -> None:
    model_code = SOLUTION_CODE + "\n\n" + (Path(__file__).read_text().split("class PcaModel:")[1]
                                          .split("\n\n\ndef ")[0].join(["class PcaModel:", ""]))
    sub = make_submission(code=model_code, extra={NOTEBOOK: notebook("x = 1")})
    sys.path.insert(0, str(sub))
    try:
        import importlib

        module = importlib.import_module("cattern.neural_net")
        (sub / "best_net.pkl").write_bytes(pickle.dumps(module.PcaModel(1)))
    finally:
        sys.path.remove(str(sub))
        for name in [m for m in sys.modules if m == "cattern" or m.startswith("cattern.")]:
            del sys.modules[name]
    t12 = grade(sub, short).task("T12")
    counted = [c for c in t12.checks if c.passed is not None]
    assert "evaluated through its own predict()" in counted[0].message
    assert counted[0].got == pytest.approx(0.1126, abs=0.02)  # the share of 1s: it always answers 1


@pytest.mark.parametrize(("content", "status", "phrase"), [
    ("{ this is not json", "invalid", "not valid JSON"),
    (json.dumps({"hello": "world"}), "invalid", "not a notebook"),
])
def test_an_unreadable_notebook_gets_a_clear_status_and_the_module_checks_stand(make_submission, short: Rubric,
                                                                                content: str, status: str,
                                                                                phrase: str) -> None:
    result = grade(make_submission(extra={NOTEBOOK: content}), short)
    assert result.notebook.status == status and phrase in result.notebook.message
    assert result.task("T5").status.value == "pass"


def test_a_notebook_in_nbformat_3_is_converted_and_run(make_submission, short: Rubric) -> None:
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "print(6 * 7)", "language": "python", "outputs": [], "metadata": {}}],
        "metadata": {}}]}
    result = grade(make_submission(extra={NOTEBOOK: json.dumps(v3)}), short)
    assert result.notebook.status == "ok"
    assert any("nbformat 3" in note for note in result.notebook.notes)
    assert result.notebook.cells[0].outputs[0].text.strip() == "42"


def test_a_raising_cell_is_reported_and_later_cells_still_run(make_submission, short: Rubric) -> None:
    result = grade(make_submission(extra={NOTEBOOK: notebook("1 / 0", "print('after')")}), short)
    assert result.notebook.status == "error" and "cell 1 raised ZeroDivisionError" in result.notebook.message
    assert [c.status for c in result.notebook.cells] == ["error", "ok"]
    assert result.artifacts["executed.ipynb"]


def test_a_missing_notebook_is_reported(make_submission, short: Rubric) -> None:
    result = grade(make_submission(), short)
    assert result.notebook.status == "missing"
    assert "Simple_Neural_Network_Lab.ipynb was not found" in result.notebook.message
    assert result.task("T12").status.value == "missing"


def test_the_kernel_runs_in_the_sandbox(make_submission, short: Rubric) -> None:
    reference = str(Path(__file__).parents[1] / "reference")
    probe = (f"import os\nprint('uid', os.getuid())\nprint('ref', os.path.exists({reference!r}))\n"
             "print('secret', 'GRADER' in ' '.join(os.environ))")
    result = grade(make_submission(extra={NOTEBOOK: notebook(probe)}), short)
    text = result.notebook.cells[0].outputs[0].text
    assert "ref False" in text and "secret False" in text
    if result.sandbox.startswith("full"):
        assert "uid 0" not in text


def _split_print_notebook() -> nbformat.NotebookNode:
    """One cell whose `print("Final training loss: ", x)` the kernel sent in two chunks, as ipykernel does
    on a busy machine, with an image and more printing after it."""
    new = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print('Final training loss: ', loss)\nplt.plot(h)\nprint('done')")
    cell.outputs = [new("stream", name="stdout", text="Final training loss: "),
                    new("stream", name="stdout", text=" 0.0171\n"),
                    new("display_data", data={"image/png": "iVBORw0KGgo="}),
                    new("stream", name="stdout", text="done\n")]
    return nbformat.v4.new_notebook(cells=[cell])


def test_a_print_split_into_chunks_is_one_output_again_and_its_claim_is_read() -> None:
    from grader.execution.notebook import merge_adjacent_streams
    from grader.judgement.rubric import load_module_from

    checks = load_module_from(Path(__file__).resolve().parents[1] / "rubrics" / "hw4" / "checks.py", "hw4_checks_split")
    nb = _split_print_notebook()
    assert "Final training loss" not in checks.printed_claims(nb)  # the failure seen under load
    merge_adjacent_streams(nb)
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data", "stream"]  # order kept around the image
    assert outputs[0].text == "Final training loss:  0.0171\n" and outputs[2].text == "done\n"
    assert checks.printed_claims(nb) == {"Final training loss": 0.0171}
