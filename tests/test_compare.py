"""Comparators: each metric passes what it should, fails what it should, and explains itself."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from grader.judgement.compare import compare_arrays, rel_error, shape_problem, summarize, verdict
from grader.results import Visibility

PUBLIC = Visibility.PUBLIC
EXPECTED = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1e-3]])


def test_allclose_passes_within_tolerance() -> None:
    got = EXPECTED * (1 + 1e-9)
    result = compare_arrays("scores", PUBLIC, EXPECTED, got, rtol=1e-7, atol=1e-9)
    assert result.passed is True
    assert result.message == "values match"
    assert result.name == "scores" and result.visibility is PUBLIC


def test_allclose_fails_outside_tolerance_and_points_at_the_worst_entry() -> None:
    got = EXPECTED.copy()
    got[1, 2] += 1e-4
    result = compare_arrays("scores", PUBLIC, EXPECTED, got, rtol=1e-7, atol=1e-9)
    assert result.passed is False
    assert "at index (1, 2)" in result.message
    assert "expected -0.001" in result.message
    assert "rtol=1e-07" in result.message and "atol=1e-09" in result.message


def test_allclose_on_scalars() -> None:
    assert compare_arrays("loss", PUBLIC, 1.5, 1.5 + 1e-12).passed is True
    failed = compare_arrays("loss", PUBLIC, 1.5, 1.6)
    assert failed.passed is False
    assert "expected 1.5, got 1.6" in failed.message


def test_allclose_respects_rtol_and_atol() -> None:
    assert compare_arrays("x", PUBLIC, [100.0], [100.5], rtol=1e-2, atol=0).passed is True
    assert compare_arrays("x", PUBLIC, [100.0], [100.5], rtol=1e-3, atol=0).passed is False
    assert compare_arrays("x", PUBLIC, [0.0], [0.05], rtol=0, atol=0.1).passed is True
    assert compare_arrays("x", PUBLIC, [0.0], [0.05], rtol=0, atol=0.01).passed is False


def test_sum_abs_passes_and_fails_on_the_total_difference() -> None:
    got = EXPECTED + 1e-9  # six entries: total 6e-9
    ok = compare_arrays("scores", PUBLIC, EXPECTED, got, metric="sum_abs", tol=1e-8)
    assert ok.passed is True
    assert "sum of absolute differences" in ok.message and "1e-08" in ok.message
    bad = compare_arrays("scores", PUBLIC, EXPECTED, got, metric="sum_abs", tol=5e-9)
    assert bad.passed is False
    assert "must be < 5e-09" in bad.message


def test_rel_error_passes_and_fails_on_the_notebooks_relative_error() -> None:
    got = EXPECTED * (1 + 1e-6)
    assert compare_arrays("dW1", PUBLIC, EXPECTED, got, metric="rel_error", tol=1e-5).passed is True
    bad = compare_arrays("dW1", PUBLIC, EXPECTED, got, metric="rel_error", tol=1e-7)
    assert bad.passed is False
    assert "max relative error" in bad.message and "must be < 1e-07" in bad.message


def test_rel_error_is_the_notebooks_formula() -> None:
    x, y = np.array([1.0, 0.0]), np.array([1.1, 0.0])
    assert rel_error(x, y) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


@pytest.mark.parametrize("metric", ["sum_abs", "rel_error"])
def test_metrics_work_with_their_default_tolerance(metric: str) -> None:
    assert compare_arrays("x", PUBLIC, [1.0, 2.0], [1.0, 2.0], metric=metric).passed is True
    assert compare_arrays("x", PUBLIC, [1.0, 2.0], [1.0, 2.5], metric=metric).passed is False


@pytest.mark.parametrize("metric", ["allclose", "sum_abs", "rel_error"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_never_pass(metric: str, bad: float) -> None:
    got = EXPECTED.copy()
    got[0, 1] = bad
    result = compare_arrays("x", PUBLIC, EXPECTED, got, metric=metric, tol=1e300, rtol=1e300, atol=1e300)
    assert result.passed is False
    assert "1 value(s) are NaN or infinite" in result.message


@pytest.mark.parametrize("metric", ["allclose", "sum_abs", "rel_error"])
def test_nan_matching_a_nan_expectation_does_not_pass(metric: str) -> None:
    result = compare_arrays("x", PUBLIC, [np.nan, 1.0], [np.nan, 1.0], metric=metric, tol=1.0)
    assert result.passed is False


@pytest.mark.parametrize("metric", ["allclose", "sum_abs", "rel_error"])
def test_wrong_shape_fails_naming_both_shapes(metric: str) -> None:
    result = compare_arrays("x", PUBLIC, EXPECTED, EXPECTED.T, metric=metric, tol=1e300)
    assert result.passed is False
    assert result.message == "expected shape (2, 3), got (3, 2)"


@pytest.mark.parametrize(("got", "shape"), [(EXPECTED.ravel(), "(6,)"), (EXPECTED[None], "(1, 2, 3)"),
                                            (EXPECTED[:1], "(1, 3)"), (np.float64(1.0), "()")])
def test_broadcastable_shapes_are_still_wrong_shapes(got: np.ndarray, shape: str) -> None:
    result = compare_arrays("x", PUBLIC, EXPECTED, got)
    assert result.passed is False
    assert "expected shape (2, 3)" in result.message and f"got {shape}" in result.message


def test_shape_problem() -> None:
    assert shape_problem((2, 3), np.zeros((2, 3))) is None
    assert shape_problem((2, 3), np.zeros(6)) == "expected shape (2, 3), got (6,)"


@pytest.mark.parametrize("got", ["abc", {"a": 1}, [1.0, "x"], object()])
def test_non_numeric_values_fail(got: object) -> None:
    result = compare_arrays("x", PUBLIC, [1.0], got)
    assert result.passed is False
    assert result.message == "the value is not numeric"


def test_integer_results_compare_as_numbers() -> None:
    assert compare_arrays("labels", PUBLIC, [0, 2, 1], np.array([0, 2, 1], dtype=np.int64)).passed is True
    assert compare_arrays("labels", PUBLIC, [0, 2, 1], np.array([0, 1, 1], dtype=np.int64)).passed is False


def test_results_carry_json_safe_summaries_and_dependencies() -> None:
    result = compare_arrays("x", PUBLIC, [1.0, np.inf], [1.0, np.nan], depends_on=("T5",))
    assert result.depends_on == ("T5",)
    json.dumps(result.to_json())
    assert result.expected == [1.0, "inf"] and result.got == [1.0, "nan"]


def test_verdict_records_a_decision() -> None:
    ok = verdict("shuffled", PUBLIC, True, expected=3, got=np.int64(3), message="fine")
    assert ok.passed is True and ok.got == 3 and type(ok.got) is int
    assert verdict("shuffled", PUBLIC, 0).passed is False


# --- summarize -----------------------------------------------------------------------------


def test_summarize_keeps_small_arrays_whole() -> None:
    assert summarize(np.array([[1.0, 2.5], [3.0, 4.0]])) == [[1.0, 2.5], [3.0, 4.0]]
    assert summarize(np.array([1, 2, 3], dtype=np.int64)) == [1, 2, 3]
    assert summarize(np.array([True, False])) == [True, False]
    assert summarize([1.0, 2.0]) == [1.0, 2.0]
    assert summarize(np.arange(30)) == list(range(30))  # the largest array still listed


@pytest.mark.parametrize("value", [np.arange(10_000.0), np.ones((200, 300)), np.arange(31), list(range(5000))])
def test_summarize_never_returns_the_whole_of_a_large_array(value: object) -> None:
    out = summarize(value)
    assert isinstance(out, str)
    assert out.startswith(f"array of shape {np.shape(value)}")
    assert len(out) < 200


@pytest.mark.parametrize("value", [[[1.0, 2.0], [3.0]] * 1000, ["label"] * 1000],
                         ids=["ragged", "strings"])
def test_summarize_never_returns_the_whole_of_a_large_list(value: list) -> None:
    assert len(json.dumps(summarize(value))) < 2000


def test_summarize_handles_scalars_zero_d_and_non_finite() -> None:
    assert summarize(3) == 3 and type(summarize(np.int64(3))) is int
    assert summarize(2.5) == 2.5
    assert summarize(np.float32(0.5)) == 0.5
    assert summarize(np.array(1.25)) == 1.25
    assert summarize(np.array(7, dtype=np.int64)) == 7
    assert summarize(math.nan) == "nan"
    assert summarize(math.inf) == "inf" and summarize(-math.inf) == "-inf"
    assert summarize(np.array(np.nan)) == "nan"
    assert summarize(np.array([1.0, np.nan, -np.inf])) == [1.0, "nan", "-inf"]
    assert summarize(None) is None and summarize(True) is True and summarize("s") == "s"
    assert summarize(1 / 3) == 0.3333333333  # ten significant digits


def test_summarize_handles_dicts_recursively() -> None:
    out = summarize({"W1": np.zeros((100, 100)), "loss": np.float64(np.inf), 3: np.array(2), "ok": [1, 2]})
    assert out["W1"].startswith("array of shape (100, 100)")
    assert out["loss"] == "inf"
    assert out["3"] == 2
    assert out["ok"] == [1, 2]
    json.dumps(out)


def test_summarize_describes_non_numeric_values_briefly() -> None:
    assert summarize(object())[:8] == "<object "
    assert len(summarize(np.array(["a" * 1000]))) <= 200
