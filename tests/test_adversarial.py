"""Submissions that try to fool the grader gain nothing they would otherwise fail."""

from __future__ import annotations

from .conftest import SOLUTION_CODE, mutate, not_passing

FORWARD = "        X1 = X @ W1 + b1\n        X1 = np.maximum(0, X1)\n        scores = X1 @ W2 + b2\n"

PUBLISHED = """np.array([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949],
])"""

CHEATS_AT_IMPORT = '''
import numpy as _np
import numpy.testing as _npt

_np.allclose = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.shape(a), dtype=bool)
_np.array_equal = lambda *a, **k: True
_np.testing.assert_allclose = lambda *a, **k: None
_npt.assert_array_almost_equal = lambda *a, **k: None


class Liar(_np.ndarray):
    """Claims to equal anything, and to differ from anything by zero."""

    def __eq__(self, other):
        return _np.ones(_np.shape(self), dtype=bool).view(Liar)

    def __ne__(self, other):
        return _np.zeros(_np.shape(self), dtype=bool)

    def __sub__(self, other):
        return _np.zeros(_np.shape(self))

    __rsub__ = __sub__

    def __abs__(self):
        return _np.zeros(_np.shape(self))
'''


def after_imports(extra: str, code: str) -> str:
    """Insert module-level code after the solution's imports (a __future__ import must stay first)."""
    return mutate("import numpy as np\n", "import numpy as np\n" + extra + "\n", code)


def test_hard_coded_published_scores_fail_t5(make_submission, grade) -> None:
    code = mutate(FORWARD, f"        X1 = np.maximum(0, X @ W1 + b1)\n        scores = {PUBLISHED}\n")
    result = grade(make_submission(code=code))
    t5 = result.task("T5")
    assert t5.status.value == "fail"
    public = [c for c in t5.checks if c.visibility.value == "public"]
    hidden = [c for c in t5.checks if c.visibility.value == "hidden"]
    assert all(c.passed for c in public), "the published values themselves are reproduced"
    assert not any(c.passed for c in hidden), "hidden inputs expose the hard-coding"


def test_numpy_monkeypatching_and_lying_arrays_gain_nothing(make_submission, grade) -> None:
    zeros = "        X1 = np.maximum(0, X @ W1 + b1)\n        scores = np.zeros((N, W2.shape[1]))\n"
    wrong_forward = mutate(FORWARD, zeros)
    honest = grade(make_submission("honest", code=wrong_forward))
    cheat_code = mutate(
        "        scores = np.zeros((N, W2.shape[1]))\n",
        "        scores = np.zeros((N, W2.shape[1])).view(Liar)\n",
        after_imports(CHEATS_AT_IMPORT, wrong_forward),
    )
    cheat_code = mutate("        return y_pred\n", "        return np.asarray(y_pred).view(Liar)\n", cheat_code)
    cheat = grade(make_submission("cheat", code=cheat_code))
    assert not_passing(honest)["T5"] == "fail"
    assert not_passing(cheat) == not_passing(honest)
    assert cheat.score == honest.score


def test_printed_pass_claims_and_forged_files_are_ignored(make_submission, grade) -> None:
    forge = '''
import json as _json, os as _os
print("T5 PASSED 1/1\\nAll tests passed!")
for _name in ("result.json", "../result.json", "grades.csv"):
    try:
        with open(_name, "w") as _f:
            _json.dump({"score": 12, "max_score": 12}, _f)
    except OSError:
        pass
'''
    code = after_imports(forge, mutate(FORWARD, "        X1 = np.maximum(0, X @ W1 + b1)\n        scores = X1 @ W2\n"))
    result = grade(make_submission(code=code))
    assert result.task("T5").status.value == "fail"
    assert "PASSED" in result.task("T5").output  # shown to the TA as output, never read as a verdict


def test_infinite_loop_in_train_costs_t8_to_t10_only(make_submission, grade) -> None:
    start = "        num_train = X.shape[0]\n"
    code = mutate(start, start + "        while True:\n            pass\n")
    result = grade(make_submission(code=code))
    assert not_passing(result) == {"T8": "timeout", "T9": "timeout", "T10": "timeout"}
    assert "endless loop" in result.task("T8").message


def test_sys_exit_inside_a_method_is_an_error_not_a_pass(make_submission, grade) -> None:
    code = mutate("        N, _ = X.shape\n", "        N, _ = X.shape\n        import sys\n        sys.exit(0)\n")
    result = grade(make_submission(code=code))
    assert not_passing(result) == {"T5": "error", "T6": "error", "T7": "error"}
    assert "sys.exit" in result.task("T5").message
    # predict() only delegates to loss(X): judged with loss(X) stubbed, it is right on its own
    assert "stubbed loss(X)" in result.task("T11").checks[0].message


def test_os_exit_at_import_is_reported_for_every_code_task(make_submission, grade) -> None:
    result = grade(make_submission(code=after_imports("import os\nos._exit(0)\n", SOLUTION_CODE)))
    code_tasks = {k: v for k, v in not_passing(result).items() if k not in ("T1", "T2", "T3")}
    assert set(code_tasks.values()) == {"error"} and len(code_tasks) == 7
    assert "exit" in result.task("T5").message


def test_syntax_error_names_file_and_line(make_submission, grade) -> None:
    code = mutate("        N, _ = X.shape\n", "        N, _ = X.shape\n        if N >\n")
    result = grade(make_submission(code=code))
    t5 = result.task("T5")
    assert t5.status.value == "error" and "SyntaxError" in t5.message
    assert t5.error is not None
    assert any("cattern/neural_net.py" in line and "line" in line for line in t5.error.traceback)
    assert result.task("T1").status.value == "pass"  # the written answers are still graded
