"""Hand-in 1 probes: call the student's script functions inside the student process, return raw numbers.

Each probe imports the script it needs by name (the hand-in's folder is on sys.path), so a
broken script costs the tasks of its own functions only. Importing a script must not train:
its run is under `if __name__ == "__main__":`, as the handout asks. No expected values here.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from grader.execution.probe_api import ContractError, Student, expect_tuple


def _function(script: str, name: str) -> Any:
    module = importlib.import_module(script)
    found = getattr(module, name, None)
    if not callable(found):
        raise ContractError(f"{script}.py defines no function {name}")
    return found


def _array(value: Any, what: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - anything unconvertible is the student's answer
        raise ContractError(f"{what} returned {type(value).__name__}, not an array of numbers ({exc})") from None
    return arr


def _list(value: Any, length: int, what: str) -> list[np.ndarray]:
    if not isinstance(value, (list, tuple)) or len(value) != length:
        got = f"a {type(value).__name__} of {len(value)}" if isinstance(value, (list, tuple)) else type(value).__name__
        raise ContractError(f"{what} should be a list of {length} arrays (one per layer), got {got}")
    return [_array(v, f"{what}[{i}]") for i, v in enumerate(value)]


def probe_softmax(student: Student, script: str, Z) -> dict[str, Any]:
    return {"P": _array(_function(script, "softmax")(Z.copy()), f"{script}.softmax(Z)")}


def probe_cost(student: Student, Z, Y) -> dict[str, Any]:
    value = _array(_function("softmax_regression", "cost")(Z.copy(), Y.copy()), "cost(Z, Y)")
    if value.size != 1:
        raise ContractError(f"cost(Z, Y) should return one number, got an array of shape {value.shape}")
    return {"J": value.reshape(())}


def probe_gradients(student: Student, X, Y, W, b) -> dict[str, Any]:
    out = _function("softmax_regression", "gradients")(X.copy(), Y.copy(), W.copy(), b.copy())
    dW, db = expect_tuple(out, 2, "gradients(X, Y, W, b)")
    return {"dW": _array(dW, "gradients: dJ/dW"), "db": _array(db, "gradients: dJ/db")}


def probe_cost_numeric(student: Student, X, Y, W, b, h: float, entries) -> dict[str, Any]:
    """J at W ± h and b ± h for the given entries (row, column; column -1 for b): the grader differentiates."""
    cost = _function("softmax_regression", "cost")
    plus, minus = [], []
    for row, col in np.asarray(entries, dtype=np.int64):
        for sign, store in ((1, plus), (-1, minus)):
            W2, b2 = W.copy(), b.copy()
            if col < 0:
                b2[row] += sign * h
            else:
                W2[row, col] += sign * h
            store.append(float(_array(cost(X @ W2.T + b2, Y.copy()), "cost(Z, Y)").reshape(-1)[0]))
    return {"plus": np.array(plus), "minus": np.array(minus)}


def probe_learning_rate(student: Student, its, lr0: float, lr_tau: float, tau: int) -> dict[str, Any]:
    learning_rate = _function("softmax_minibatch", "learning_rate")
    values = [_array(learning_rate(int(it), lr0, lr_tau, tau), f"learning_rate({int(it)}, ...)") for it in its]
    if any(v.size != 1 for v in values):
        raise ContractError("learning_rate(...) should return one number")
    return {"lr": np.array([float(v.reshape(-1)[0]) for v in values])}


def probe_activations(student: Student, Z) -> dict[str, Any]:
    out = {}
    for name in ("relu", "relu_derivative", "sigmoid", "sigmoid_derivative"):
        out[name] = _array(_function("neural_network", name)(Z.copy()), f"{name}(Z)")
    return out


def _params(layers: int, arrays: dict[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return ([arrays[f"W{i + 1}"].copy() for i in range(layers)], [arrays[f"b{i + 1}"].copy() for i in range(layers)])


def probe_forward(student: Student, X, layers: int, **params) -> dict[str, Any]:
    weights, biases = _params(layers, params)
    return {"P": _array(_function("neural_network", "forward")(X.copy(), weights, biases, "relu"), "forward(...)")}


def probe_backward(student: Student, X, Y, layers: int, **params) -> dict[str, Any]:
    weights, biases = _params(layers, params)
    out = _function("neural_network", "backward")(X.copy(), Y.copy(), weights, biases, "relu")
    dWs, dbs = expect_tuple(out, 2, "backward(X, Y, weights, biases)")
    result = {f"dW{i + 1}": g for i, g in enumerate(_list(dWs, layers, "backward: dweights"))}
    result.update({f"db{i + 1}": g for i, g in enumerate(_list(dbs, layers, "backward: dbiases"))})
    return result


def probe_forward_numeric(student: Student, X, Y, layers: int, h: float, entries, **params) -> dict[str, Any]:
    """The cross-entropy of the student's own forward() at parameters ± h (entries: layer, kind 0=W 1=b, index)."""
    forward = _function("neural_network", "forward")
    weights, biases = _params(layers, params)
    plus, minus = [], []
    for layer, kind, index in np.asarray(entries, dtype=np.int64):
        for sign, store in ((1, plus), (-1, minus)):
            ws, bs = [w.copy() for w in weights], [b.copy() for b in biases]
            target = ws[layer] if kind == 0 else bs[layer]
            target.reshape(-1)[index] += sign * h
            P = _array(forward(X.copy(), ws, bs, "relu"), "forward(...)")
            store.append(float(-np.sum(Y * np.log(np.clip(P, 1e-300, None))) / X.shape[0]))
    return {"plus": np.array(plus), "minus": np.array(minus)}
