"""Hand-in 1 checks (grader side): the script functions on public and hidden inputs, and the models the
scripts saved, measured on MNIST's test set by the grader itself.

The student's scripts are run by script mode (`[scripts]` in rubric.toml); their printed final
accuracies are claims, shown next to the grader's measurement. Functions are called through
probes.py with inputs drawn here; expected values come from the reference solution
(`reference/ha1/solution/`), run in the grader.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.api import (
    HIDDEN,
    PUBLIC,
    CheckResult,
    Status,
    TaskContext,
    TaskEnded,
    claim_check,
    compare_arrays,
    printed_numbers,
    read_npz,
    verdict,
)

SOLUTION = Path(__file__).resolve().parents[2] / "reference" / "ha1" / "solution"
ACTIVATIONS = ("relu", "sigmoid")
NUMERIC_H = 1e-6
CLAIMS = {"final test accuracy": r"Final test accuracy:\s*([-+]?[0-9]*\.?[0-9]+)\s*%"}


@cache
def reference(script: str) -> ModuleType:
    """The reference solution's script, loaded in the grader (its functions only: its run is under __main__)."""
    name = f"grader_rubric_ha1_reference_{script}"
    spec = importlib.util.spec_from_file_location(name, SOLUTION / f"{script}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    Y = np.zeros((labels.size, classes))
    Y[np.arange(labels.size), labels] = 1.0
    return Y


# --- T1, T2: softmax, cost and gradients (softmax_regression.py) -------------------------------


def _logits_case(rng: np.random.Generator, scale: float) -> tuple[np.ndarray, np.ndarray]:
    n, m = int(rng.integers(3, 30)), int(rng.integers(3, 12))
    Z = rng.standard_normal((n, m)) * scale
    return Z, _one_hot(rng.integers(0, m, n), m)


PUBLIC_Z = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0], [1000.0, 1001.0, 999.0]])
PUBLIC_Y = np.eye(3)[[2, 0, 1, 1]]


def softmax_cost(ctx: TaskContext) -> Iterator[CheckResult]:
    ref = reference("softmax_regression")
    tol = ctx.params
    hidden = []
    if ctx.hidden:
        rng = ctx.rng("softmax_cost")
        hidden = [_logits_case(rng, scale) for scale in (3.0, 500.0)]
    ctx.prefetch([("softmax", {"script": "softmax_regression", "Z": Z}) for Z, _ in [(PUBLIC_Z, PUBLIC_Y), *hidden]]
                 + [("cost", {"Z": Z, "Y": Y}) for Z, Y in [(PUBLIC_Z, PUBLIC_Y), *hidden]])
    got = ctx.call("softmax", script="softmax_regression", Z=PUBLIC_Z)["P"]
    yield compare_arrays("softmax of the handout's 4×3 logits (the last row is large)", PUBLIC, ref.softmax(PUBLIC_Z),
                         got, rtol=tol["rtol"], atol=tol["atol"])
    yield compare_arrays("cost of the handout's 4×3 logits", PUBLIC, ref.cost(PUBLIC_Z, PUBLIC_Y),
                         ctx.call("cost", Z=PUBLIC_Z, Y=PUBLIC_Y)["J"], rtol=tol["rtol"], atol=tol["atol"])
    if not ctx.hidden:
        yield ctx.after_submission("hidden softmax and cost checks")
        return
    for i, ((Z, Y), scale) in enumerate(zip(hidden, (3.0, 500.0), strict=True)):
        label = f"hidden case {i + 1} ({Z.shape[0]}×{Z.shape[1]} logits of size ~{scale:g})"
        yield compare_arrays(f"softmax: {label}", HIDDEN, ref.softmax(Z),
                             ctx.call("softmax", script="softmax_regression", Z=Z)["P"],
                             rtol=tol["rtol"], atol=tol["atol"])
        yield compare_arrays(f"cost: {label}", HIDDEN, ref.cost(Z, Y), ctx.call("cost", Z=Z, Y=Y)["J"],
                             rtol=tol["rtol"], atol=tol["atol"])


def _regression_case(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, p, m = int(rng.integers(4, 40)), int(rng.integers(3, 30)), int(rng.integers(3, 11))
    return {"X": rng.random((n, p)), "Y": _one_hot(rng.integers(0, m, n), m),
            "W": rng.standard_normal((m, p)) * 0.5, "b": rng.standard_normal(m) * 0.5}


PUBLIC_REGRESSION = {"X": np.array([[0.0, 0.5, 1.0, 0.2, 0.9], [1.0, 0.1, 0.0, 0.7, 0.3], [0.3, 0.3, 0.8, 0.0, 0.5],
                                    [0.6, 0.9, 0.2, 0.4, 0.1]]),
                     "Y": np.eye(3)[[0, 2, 1, 2]],
                     "W": np.array([[0.1, -0.2, 0.3, 0.0, 0.5], [-0.4, 0.2, 0.1, 0.3, -0.1],
                                    [0.2, 0.2, -0.3, 0.1, 0.0]]),
                     "b": np.array([0.1, -0.1, 0.05])}


def _gradient_checks(ctx: TaskContext, name: str, visibility: Any, case: dict[str, np.ndarray]) -> CheckResult:
    ref = reference("softmax_regression")
    dW, db = ref.gradients(case["X"], case["Y"], case["W"], case["b"])
    got = ctx.call("gradients", **case)
    expected = np.concatenate([np.ravel(dW), np.ravel(db)])
    received = got["dW"], got["db"]
    if received[0].shape != dW.shape or received[1].size != db.size:
        return verdict(name, visibility, False, expected=f"dW {dW.shape}, db ({db.size},)",
                       got=f"dW {received[0].shape}, db {received[1].shape}",
                       message="the gradients have the wrong shapes")
    return compare_arrays(name, visibility, expected, np.concatenate([np.ravel(received[0]), np.ravel(received[1])]),
                          rtol=ctx.params["rtol"], atol=ctx.params["atol"])


def gradients(ctx: TaskContext) -> Iterator[CheckResult]:
    if not ctx.hidden:
        yield _gradient_checks(ctx, "dJ/dW and dJ/db on the handout's 4×5 example", PUBLIC, PUBLIC_REGRESSION)
        yield ctx.after_submission("hidden gradient checks")
        return
    rng = ctx.rng("gradients")
    cases = [_regression_case(rng) for _ in range(int(ctx.params["hidden_cases"]))]
    case = _regression_case(rng)
    m, p = case["W"].shape
    entries = np.array([(int(rng.integers(m)), int(rng.integers(-1, p))) for _ in range(12)])
    ctx.prefetch([("gradients", c) for c in (PUBLIC_REGRESSION, *cases, case)]
                 + [("cost_numeric", {**case, "h": NUMERIC_H, "entries": entries})])
    yield _gradient_checks(ctx, "dJ/dW and dJ/db on the handout's 4×5 example", PUBLIC, PUBLIC_REGRESSION)
    for i, hidden_case in enumerate(cases):
        yield _gradient_checks(ctx, f"hidden case {i + 1} (n={hidden_case['X'].shape[0]}, "
                                    f"p={hidden_case['X'].shape[1]}, M={hidden_case['W'].shape[0]}) vs the reference",
                               HIDDEN, hidden_case)
    # the student's gradients against finite differences of the student's own cost (counted when T1 passes)
    numeric = ctx.outcome("cost_numeric", **case, h=NUMERIC_H, entries=entries)
    analytic = ctx.outcome("gradients", **case)
    if numeric.ok and analytic.ok and analytic.data["dW"].shape == case["W"].shape:
        num = (numeric.data["plus"] - numeric.data["minus"]) / (2 * NUMERIC_H)
        db = np.ravel(analytic.data["db"])
        ana = np.array([db[r] if c < 0 else analytic.data["dW"][r, c] for r, c in entries])
        yield compare_arrays("gradients match finite differences of your own cost (12 entries)", HIDDEN, num, ana,
                             rtol=ctx.params["numeric_rtol"], atol=ctx.params["numeric_atol"], depends_on=("T1",))


# --- T4: the learning-rate schedule (softmax_minibatch.py) -------------------------------------


def learning_rate(ctx: TaskContext) -> Iterator[CheckResult]:
    ref = reference("softmax_minibatch")
    cases = [("the seed's schedule: lr0 0.01 down to 0.0001 at tau = 35", 0.01, 0.0001, 35,
              [0, 1, 17, 34, 35, 36, 39, 40, 1000], PUBLIC)]
    if ctx.hidden:
        rng = ctx.rng("learning_rate")
        for i in range(int(ctx.params["hidden_cases"])):
            tau = int(rng.integers(5, 5000))
            lr0 = float(rng.uniform(0.01, 1.0))
            its = sorted({0, tau, *(int(x) for x in rng.integers(1, 3 * tau, 8))})
            cases.append((f"hidden case {i + 1} (tau = {tau})", lr0, lr0 * float(rng.uniform(0.001, 0.1)), tau, its,
                          HIDDEN))
    ctx.prefetch([("learning_rate", {"its": np.array(its), "lr0": lr0, "lr_tau": lr_tau, "tau": tau})
                  for _, lr0, lr_tau, tau, its, _ in cases])
    for name, lr0, lr_tau, tau, its, visibility in cases:
        expected = np.array([ref.learning_rate(it, lr0, lr_tau, tau) for it in its])
        got = ctx.call("learning_rate", its=np.array(its), lr0=lr0, lr_tau=lr_tau, tau=tau)["lr"]
        yield compare_arrays(f"{name}, at iterations {', '.join(map(str, its))}", visibility, expected, got,
                             rtol=1e-9, atol=1e-12)
    if not ctx.hidden:
        yield ctx.after_submission("hidden schedule checks")


# --- T6, T7: activations, forward and backward (neural_network.py) -----------------------------


def activations(ctx: TaskContext) -> Iterator[CheckResult]:
    ref = reference("neural_network")
    cases = [("Z = -3, -2, ..., 3 (0 included)", PUBLIC, np.arange(-3.0, 4.0).reshape(1, -1))]
    logits = None
    if ctx.hidden:
        rng = ctx.rng("activations")
        cases.append(("hidden: 20×15 values within ±30", HIDDEN, rng.uniform(-30, 30, (20, 15))))
        logits, _ = _logits_case(rng, 500.0)
    ctx.prefetch([("activations", {"Z": Z}) for _, _, Z in cases]
                 + [("softmax", {"script": "neural_network", "Z": Z}) for Z in (PUBLIC_Z, logits) if Z is not None])
    for label, visibility, Z in cases:
        got = ctx.call("activations", Z=Z)
        for name in ("relu", "relu_derivative", "sigmoid", "sigmoid_derivative"):
            yield compare_arrays(f"{name}: {label}", visibility, getattr(ref, name)(Z), got[name],
                                 rtol=1e-9, atol=1e-12)
    Z = PUBLIC_Z
    yield compare_arrays("neural_network.softmax of the handout's 4×3 logits", PUBLIC, ref.softmax(Z),
                         ctx.call("softmax", script="neural_network", Z=Z)["P"], rtol=1e-9, atol=1e-12)
    if logits is not None:  # logits that spread over hundreds: only subtracting the row's maximum stays finite
        yield compare_arrays(f"neural_network.softmax: hidden {logits.shape[0]}×{logits.shape[1]} logits of size ~500",
                             HIDDEN, ref.softmax(logits),
                             ctx.call("softmax", script="neural_network", Z=logits)["P"], rtol=1e-9, atol=1e-12)
    if not ctx.hidden:
        yield ctx.after_submission("hidden activation checks")


def _network(rng: np.random.Generator, sizes: list[int], n: int) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        params[f"W{i + 1}"] = rng.standard_normal((n_out, n_in)) * np.sqrt(2 / n_in)
        params[f"b{i + 1}"] = rng.standard_normal(n_out) * 0.1
    X = rng.random((n, sizes[0]))
    Y = _one_hot(rng.integers(0, sizes[-1], n), sizes[-1])
    return {"X": X, "Y": Y, "layers": len(sizes) - 1, **params}


def _lists(case: dict[str, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    layers = case["layers"]
    return [case[f"W{i + 1}"] for i in range(layers)], [case[f"b{i + 1}"] for i in range(layers)]


def _forward_backward(ctx: TaskContext, label: str, visibility: Any, case: dict[str, Any]) -> Iterator[CheckResult]:
    ref = reference("neural_network")
    weights, biases = _lists(case)
    inputs = {k: v for k, v in case.items() if k != "Y"}
    yield compare_arrays(f"forward: {label}", visibility, ref.forward(case["X"], weights, biases, "relu"),
                         ctx.call("forward", **inputs)["P"], rtol=1e-8, atol=1e-12)
    dWs, dbs = ref.backward(case["X"], case["Y"], weights, biases, "relu")
    got = ctx.call("backward", **case)
    for i, (dW, db) in enumerate(zip(dWs, dbs, strict=True)):
        gW, gb = got[f"dW{i + 1}"], got[f"db{i + 1}"]
        if gW.shape != dW.shape or gb.size != db.size:
            yield verdict(f"backward, layer {i + 1}: {label}", visibility, False,
                          expected=f"dW {dW.shape}, db ({db.size},)", got=f"dW {gW.shape}, db {gb.shape}",
                          message="the gradients have the wrong shapes")
            continue
        yield compare_arrays(f"backward, layer {i + 1} (dW and db): {label}", visibility,
                             np.concatenate([dW.ravel(), db.ravel()]), np.concatenate([gW.ravel(), gb.ravel()]),
                             rtol=1e-7, atol=1e-10)


def _calls(case: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("forward", {k: v for k, v in case.items() if k != "Y"}), ("backward", case)]


def forward_backward(ctx: TaskContext) -> Iterator[CheckResult]:
    public = _network(np.random.default_rng(2021), [6, 5, 3], 4)
    if not ctx.hidden:
        yield from _forward_backward(ctx, "the handout's 6-5-3 network, 4 samples", PUBLIC, public)
        yield ctx.after_submission("hidden forward and backward checks")
        return
    rng = ctx.rng("forward_backward")
    hidden = []
    for depth in (2, 4):
        sizes = [int(rng.integers(5, 40))] + [int(rng.integers(3, 25)) for _ in range(depth - 1)] + [
            int(rng.integers(3, 11))]
        hidden.append((sizes, _network(rng, sizes, int(rng.integers(3, 30)))))
    case = _network(rng, [8, 6, 5, 4, 3], 6)
    weights, biases = _lists(case)
    entries = []
    for _ in range(16):
        layer = int(rng.integers(case["layers"]))
        kind = int(rng.integers(2))
        size = (weights if kind == 0 else biases)[layer].size
        entries.append((layer, kind, int(rng.integers(size))))
    ctx.prefetch([call for c in (public, *(h for _, h in hidden), case) for call in _calls(c)]
                 + [("forward_numeric", {**case, "h": NUMERIC_H, "entries": np.array(entries)})])
    yield from _forward_backward(ctx, "the handout's 6-5-3 network, 4 samples", PUBLIC, public)
    for i, (sizes, hidden_case) in enumerate(hidden):
        yield from _forward_backward(ctx, f"hidden case {i + 1} ({'-'.join(map(str, sizes))})", HIDDEN, hidden_case)
    # backward against finite differences of the student's own forward
    numeric = ctx.outcome("forward_numeric", **case, h=NUMERIC_H, entries=np.array(entries))
    analytic = ctx.outcome("backward", **case)
    if numeric.ok and analytic.ok:
        try:
            ana = np.array([np.ravel(analytic.data[f"{'dW' if kind == 0 else 'db'}{layer + 1}"])[index]
                            for layer, kind, index in entries])
        except (KeyError, IndexError):
            return
        num = (numeric.data["plus"] - numeric.data["minus"]) / (2 * NUMERIC_H)
        # an absolute floor: a dead ReLU unit's gradient is 0, its finite difference ~1e-10
        yield compare_arrays("backward matches finite differences of your own forward (4 layers, 16 entries)", HIDDEN,
                             num, ana, rtol=ctx.params["numeric_rtol"], atol=ctx.params["numeric_atol"])


# --- T3, T5, T8: the saved models, measured on MNIST's test set --------------------------------


@cache
def mnist_test(folder: str) -> tuple[np.ndarray, np.ndarray]:
    def read(name: str, offset: int) -> np.ndarray:
        with gzip.open(Path(folder) / name, "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

    X = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    return X, read("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)


def read_model(arrays: dict[str, np.ndarray], layers: int | None) -> tuple[list, list, list[str]] | str:
    """The model's layers, checked against the handout's format, or what is wrong with it."""
    count = sum(1 for k in arrays if k.startswith("W") and k[1:].isdigit())
    if count == 0 or any(f"W{i + 1}" not in arrays or f"b{i + 1}" not in arrays for i in range(count)):
        return f"it holds {sorted(arrays)}, not W1..WL and b1..bL (use save_model from model_io.py)"
    if layers is not None and count != layers:
        return f"it has {count} layers; this part's model has {layers}"
    weights = [np.asarray(arrays[f"W{i + 1}"], dtype=np.float64) for i in range(count)]
    biases = [np.asarray(arrays[f"b{i + 1}"], dtype=np.float64).reshape(-1) for i in range(count)]
    size = 784
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        if W.ndim != 2 or W.shape[1] != size or b.size != W.shape[0]:
            return (f"layer {i + 1} has W{i + 1} {W.shape} and b{i + 1} ({b.size},); expected W{i + 1} "
                    f"(units, {size}) as in the handout (z = q W^T + b)")
        size = W.shape[0]
    if size != 10:
        return f"the last layer has {size} units, not 10"
    if not all(np.all(np.isfinite(a)) for a in (*weights, *biases)):
        return "some parameters are NaN or infinite"
    acts = [str(a) for a in np.ravel(arrays.get("activations", np.array([], dtype=str)))]
    if len(acts) != count - 1 or any(a not in ACTIVATIONS for a in acts):
        return f"its activations are {acts}; expected {count - 1} of {list(ACTIVATIONS)}"
    return weights, biases, acts


def predict(X: np.ndarray, weights: list, biases: list, acts: list[str]) -> np.ndarray:
    A = X
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        Z = A @ W.T + b
        A = Z if i == len(acts) else np.maximum(Z, 0) if acts[i] == "relu" else 0.5 * (1 + np.tanh(Z / 2))
    return np.argmax(A, axis=1)


def trained_model(ctx: TaskContext) -> Iterator[CheckResult]:
    script, model_file = ctx.params["script"], ctx.params["model"]
    run = ctx.script(script)
    if run is None:  # a quick student check runs no script
        return
    data = run.files.get(model_file)
    if data is None:
        status = Status.TIMEOUT if run.stopped_at_budget else Status.MISSING
        raise TaskEnded(status, f"{run.spec.path} {run.message}: no {model_file} to measure. Save the model with "
                                f"save_model({model_file!r}, ...) during training and at the end")
    arrays = read_npz(data)
    model = read_model(arrays, ctx.params.get("layers")) if not isinstance(arrays, str) else arrays
    if isinstance(model, str):
        yield verdict(f"{model_file} can be read", PUBLIC, False, message=f"{model_file}: {model}")
        return
    weights, biases, acts = model
    X, y = mnist_test(str(ctx.rubric.data["mnist_data"]))
    pred = predict(X, weights, biases, acts)
    accuracy = float(np.mean(pred == y))
    for name, value in printed_numbers(run.output, CLAIMS).items():
        yield claim_check(name, value / 100, accuracy, ctx.params["claim_tolerance"], source=run.spec.path)
    if len(weights) == 1:
        W = weights[0]
        images = [np.round(255 * (w - w.min()) / max(float(np.ptp(w)), 1e-12)).astype(int).tolist() for w in W]
        ctx.add_plot("images", f"Weights of each class in {model_file} (digits 0–9, as 28×28 images)",
                     {"images": images, "shape": [28, 28]})
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (y, pred), 1)
    ctx.add_plot("matrix", f"Confusion matrix of {model_file} on the test set (rows: true digit)",
                 {"values": matrix.tolist(), "xlabel": "predicted", "ylabel": "true"})
    how = "" if run.status.value == "ok" else f"{run.spec.path} {run.message}"
    target = ctx.params["min_accuracy"]
    yield verdict(f"test accuracy ≥ {target:.0%} (MNIST t10k, 10,000 images, measured by the grader)", PUBLIC,
                  accuracy >= target, expected=f"≥ {target}", got=round(accuracy, 4),
                  message=(f"{model_file}: {'-'.join(str(W.shape[1]) for W in weights)}-10"
                           + (f", {', '.join(acts)}" if acts else "") + (f"; {how}" if how else "")))
