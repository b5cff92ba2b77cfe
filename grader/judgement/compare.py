"""Comparators that decide a check and explain the decision.

They run only in the grader, on plain float64/int64 copies of what the student process sent:
no student object, method or numpy patch can take part in a comparison.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.results import CheckResult, Visibility

_MAX_LISTED = 30


def _num(x: float) -> float | str:
    if not math.isfinite(x):
        return str(x)
    return float(f"{x:.10g}")


def summarize(value: Any) -> Any:
    """A small JSON-safe picture of a value for reports: never the whole of a large array."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _num(float(value))
    if isinstance(value, dict):
        return {str(k): summarize(v) for k, v in value.items()}
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nesting
        return _summarize_items(value)
    if arr.dtype.kind not in "biuf":
        return _summarize_items(value) if isinstance(value, (list, tuple)) else str(value)[:200]
    if arr.ndim == 0:
        return summarize(arr.item())
    if arr.size <= _MAX_LISTED:
        if arr.dtype.kind in "iub":
            return arr.tolist()
        return np.vectorize(_num, otypes=[object])(arr.astype(np.float64)).tolist()
    flat = arr.ravel()[:6]
    head = ", ".join(f"{v:.6g}" for v in flat.astype(np.float64))
    return f"array of shape {tuple(arr.shape)}: [{head}, ...]"


def _summarize_items(items: Any) -> list[Any]:
    items = list(items)
    head = [summarize(v) for v in items[:_MAX_LISTED]]
    return head + ([f"... ({len(items) - _MAX_LISTED} more)"] if len(items) > _MAX_LISTED else [])


def as_float_array(value: Any) -> np.ndarray:
    """A float64 copy of `value` (raises TypeError or ValueError when it is not numeric)."""
    return np.array(value, dtype=np.float64, copy=True)


def shape_problem(expected_shape: tuple[int, ...], got: np.ndarray) -> str | None:
    """Why `got` does not have the expected shape, in words, or None when it has."""
    if tuple(got.shape) != tuple(expected_shape):
        return f"expected shape {tuple(expected_shape)}, got {tuple(got.shape)}"
    return None


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """The notebook's relative error: max |x-y| / max(1e-8, |x|+|y|)."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def compare_arrays(
    name: str,
    visibility: Visibility,
    expected: Any,
    got: Any,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    metric: str = "allclose",
    tol: float | None = None,
    depends_on: tuple[str, ...] = (),
) -> CheckResult:
    """Compare numerically. metric: allclose (rtol/atol), sum_abs (Σ|Δ| < tol), rel_error (< tol)."""
    exp = as_float_array(expected)
    try:
        arr = as_float_array(got)
    except (TypeError, ValueError):
        return CheckResult(name, visibility, False, summarize(exp), str(type(got).__name__),
                           "the value is not numeric", depends_on)
    problem = shape_problem(exp.shape, arr)
    if problem is None and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        problem = f"{bad} value(s) are NaN or infinite"
    if problem:
        return CheckResult(name, visibility, False, summarize(exp), summarize(arr), problem, depends_on)
    diff = np.abs(arr - exp)
    if metric not in ("allclose", "sum_abs", "rel_error"):
        raise ValueError(f"unknown metric {metric!r}")
    if tol is None:
        tol = 1e-7 if metric == "sum_abs" else 1e-8
    if metric == "sum_abs":
        value = float(diff.sum())
        passed = value < tol
        message = f"sum of absolute differences {value:.3g} (must be < {tol:g})"
    elif metric == "rel_error":
        value = rel_error(arr, exp)
        passed = value < tol
        message = f"max relative error {value:.3g} (must be < {tol:g})"
    else:
        passed = bool(np.allclose(arr, exp, rtol=rtol, atol=atol))
        message = "values match" if passed else ""
        if not passed:
            worst = np.unravel_index(int(np.argmax(diff - rtol * np.abs(exp))), diff.shape) if diff.ndim else ()
            where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
            message = (f"max |difference| {float(diff.max()):.3g}{where}: expected {float(exp[worst]):.10g}, "
                       f"got {float(arr[worst]):.10g} (tolerance rtol={rtol:g}, atol={atol:g})")
    return CheckResult(name, visibility, bool(passed), summarize(exp), summarize(arr), message, depends_on)


def verdict(
    name: str,
    visibility: Visibility,
    passed: bool,
    *,
    expected: Any = None,
    got: Any = None,
    message: str = "",
    depends_on: tuple[str, ...] = (),
) -> CheckResult:
    """A check decided by the checks module's own logic (a property rather than a value)."""
    return CheckResult(name, visibility, bool(passed), summarize(expected), summarize(got), message, depends_on)
