"""HW4 checks (T5–T11): judged in the grader, from raw values the student process returned.

Public checks replay the notebook's toy problem and published values. Hidden checks draw
inputs from the grading secret (other shapes, other regularisation, large magnitudes) and
compare with the reference solution run on the same inputs. Each task is observed on its
own where a check can isolate it (see ../../shared/hw4/TASKS.md):
- T6 is judged against the loss of the submission's *own* scores, so a broken T5 costs T5;
- T7 compares the gradients with the numeric gradient of the submission's *own* loss (so the
  regulariser convention is T6's alone) and, at reg = 0, with the reference's data gradient;
- T8–T10 run `train` with `loss`/`predict` replaced by recorders returning fixed gradients;
- T11 is judged against the argmax of the submission's *own* `loss(X)` scores.
Every check states its rule in words (`rule`), shown in the report; docs/hw4.md lists the
variants a fair TA accepts, task by task.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.api import (
    CheckResult,
    Limits,
    Status,
    TaskContext,
    TaskEnded,
    Visibility,
    compare_arrays,
    rel_error,
    summarize,
    verdict,
)

PUBLIC, HIDDEN = Visibility.PUBLIC, Visibility.HIDDEN
PARAMS = ("W1", "b1", "W2", "b2")

# The notebook's published values (seed 000, Appendix 1).
PUBLISHED_SCORES = np.array([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949],
])
PUBLISHED_LOSS = 1.30378789133
# The toy training run needs a working loss and predict, and all three of T8–T10.
NUMERIC_H = 1e-5  # the notebook's eval_numerical_gradient step
TRAINING_DEPENDS = ("T5", "T6", "T7", "T8", "T9", "T10", "T11")


@dataclass(frozen=True)
class Case:
    """A net's parameters plus a labelled batch: the inputs of every probe."""

    params: dict[str, np.ndarray]
    X: np.ndarray
    y: np.ndarray

    @property
    def shape_label(self) -> str:
        (n, d), h, c = self.X.shape, self.params["W1"].shape[1], self.params["W2"].shape[1]
        return f"N={n} D={d} H={h} C={c}"


def toy_case() -> Case:
    """The notebook's toy net and data: np.random.seed(0) then TwoLayerNet(4, 10, 3, std=1e-1); seed(1) data.

    A fresh copy each time (a check may change its case); drawn once per process, since seeding two
    RandomStates is most of a replayed task's work."""
    params, X, y = _toy_arrays()
    return Case({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())


@functools.cache
def _toy_arrays() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    init = np.random.RandomState(0)
    params = {"W1": 1e-1 * init.randn(4, 10), "b1": np.zeros(10), "W2": 1e-1 * init.randn(10, 3), "b2": np.zeros(3)}
    data = np.random.RandomState(1)
    return params, 10 * data.randn(5, 4), np.array([0, 1, 2, 2, 1])


def random_case(rng: np.random.Generator, *, n: tuple[int, int] = (3, 40), d: tuple[int, int] = (2, 30),
                h: tuple[int, int] = (2, 30), c: tuple[int, int] = (2, 12), scale: float = 1.0) -> Case:
    """Other shapes, non-zero biases (the toy net's are zero) and varied magnitudes."""
    N, D, H, C = (int(rng.integers(lo, hi + 1)) for lo, hi in (n, d, h, c))
    std = float(rng.uniform(0.05, 0.5))
    params = {"W1": std * rng.standard_normal((D, H)), "b1": 0.5 * rng.standard_normal(H),
              "W2": std * rng.standard_normal((H, C)), "b2": 0.5 * rng.standard_normal(C)}
    X = scale * float(rng.uniform(1, 10)) * rng.standard_normal((N, D))
    return Case(params, X, rng.integers(0, C, size=N))


def away_from_kinks(case: Case, margin: float = 1e-3) -> bool:
    """True when no hidden pre-activation is within `margin` of 0, so ±h never crosses a ReLU kink."""
    pre = case.X @ case.params["W1"] + case.params["b1"]
    return bool(np.min(np.abs(pre)) > margin)


def reference_net(ctx: TaskContext, case: Case) -> Any:
    params = case.params
    net = ctx.reference.TwoLayerNet(params["W1"].shape[0], params["W1"].shape[1], params["W2"].shape[1])
    net.params = {k: v.copy() for k, v in params.items()}
    return net


def softmax_loss(scores: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray], reg: float) -> float:
    """The T6 definition on given scores: mean cross-entropy + 0.5·reg·(ΣW1² + ΣW2²), computed stably."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data_loss = -log_probs[np.arange(len(y)), y].mean()
    return float(data_loss + 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)))


def own_scores(ctx: TaskContext, case: Case) -> np.ndarray | None:
    """The submission's own scores for a case, or None when its forward pass gave none usable."""
    outcome = ctx.outcome("scores", **case.params, X=case.X)
    if not outcome.ok:
        return None
    scores = np.asarray(outcome.data.get("scores"), dtype=np.float64)
    expected_shape = (case.X.shape[0], case.params["W2"].shape[1])
    if scores.shape != expected_shape or not np.all(np.isfinite(scores)):
        return None
    return scores


# --- T5 -----------------------------------------------------------------------------------------


def _scores_call(case: Case) -> tuple[str, dict[str, Any]]:
    return "scores", {**case.params, "X": case.X}


RULE_T5_PUBLIC = ("loss(X) without labels returns the class scores, shape (N, C): ReLU(X·W1 + b1)·W2 + b2; on the "
                  "notebook's toy net they match its published scores (sum of |differences| < 1e-7)")
RULE_T5_HIDDEN = ("the same forward pass on other shapes with non-zero biases equals the reference's scores "
                  "(hard-coding the published matrix cannot pass)")


def forward(ctx: TaskContext) -> Iterator[CheckResult]:
    toy = toy_case()
    rng = ctx.rng("forward")
    cases = [random_case(rng) for _ in range(int(ctx.params["hidden_cases"]))] if ctx.hidden else []
    ctx.prefetch([_scores_call(c) for c in (toy, *cases)])
    got = ctx.call("scores", **toy.params, X=toy.X)["scores"]
    yield compare_arrays("toy scores equal the published 5×3 matrix", PUBLIC, PUBLISHED_SCORES, got,
                         metric="sum_abs", tol=ctx.params["public_tol"], rule=RULE_T5_PUBLIC)
    for i, case in enumerate(cases):
        expected = reference_net(ctx, case).loss(case.X)
        got = ctx.call("scores", **case.params, X=case.X)["scores"]
        yield compare_arrays(f"hidden case {i + 1} ({case.shape_label}) vs the reference", HIDDEN, expected, got,
                             rtol=ctx.params["hidden_rtol"], atol=ctx.params["hidden_atol"], rule=RULE_T5_HIDDEN)
    if not ctx.hidden:
        yield ctx.after_submission(f"{ctx.params['hidden_cases']} hidden cases (other shapes, non-zero biases) "
                                   "vs the reference")


# --- T6 -----------------------------------------------------------------------------------------


RULE_T6 = ("the loss is the mean softmax cross-entropy of your own scores plus 0.5·reg·(ΣW1² + ΣW2²): the "
           "notebook's convention and its published loss, so a loss with reg·ΣW² (gradient 2·reg·W) fails here, and "
           "only here; it must stay finite for scores in the hundreds (shift each row by its max)")


def _loss_check(ctx: TaskContext, name: str, visibility: Visibility, case: Case, reg: float) -> CheckResult:
    """T6 on its own: the loss of the submission's own scores, or of the reference scores, is right.

    Own scores keep a forward-pass bug (T5) from costing T6; the reference scores cover a
    `loss(X)` whose return differs from what `loss(X, y)` uses internally.
    """
    got = ctx.call("loss", **case.params, X=case.X, y=case.y, reg=reg)["loss"]
    reference = softmax_loss(reference_net(ctx, case).loss(case.X), case.y, case.params, reg)
    tolerances = {"rtol": ctx.params["rtol"], "atol": ctx.params["atol"]}
    scores = own_scores(ctx, case)
    if scores is not None:
        result = compare_arrays(name, visibility, softmax_loss(scores, case.y, case.params, reg), got, **tolerances)
        if result.passed:
            return replace(result, message=f"judged against the loss of your own scores; {result.message}",
                           rule=RULE_T6)
    fallback = compare_arrays(name, visibility, reference, got, **tolerances)
    if fallback.passed or scores is None:
        basis = "the loss of the reference scores"
        if scores is None:
            basis += " (your loss(X) gave no usable scores)"
        return replace(fallback, message=f"judged against {basis}; {fallback.message}", rule=RULE_T6)
    return replace(result, message=f"judged against the loss of your own scores (or of the reference scores); "
                                   f"{result.message}", rule=RULE_T6)


def _loss_call(case: Case, reg: float) -> tuple[str, dict[str, Any]]:
    return "loss", {**case.params, "X": case.X, "y": case.y, "reg": reg}


def loss(ctx: TaskContext) -> Iterator[CheckResult]:
    toy = toy_case()
    rng = ctx.rng("loss")
    if not ctx.hidden:
        ctx.prefetch([_scores_call(toy), _loss_call(toy, 0.1)])
        yield _loss_check(ctx, f"toy loss at reg=0.1 (published {PUBLISHED_LOSS})", PUBLIC, toy, 0.1)
        yield ctx.after_submission("3 hidden cases (reg 0, small, large) vs the reference")
        yield ctx.after_submission("hidden: large scores (hundreds); the loss must stay finite")
        return
    regs = (0.0, float(rng.uniform(0.01, 0.5)), float(rng.uniform(1.0, 5.0)))
    cases = [random_case(rng) for _ in regs]
    big = large_magnitude_case(rng)
    plan = [(toy, 0.1), *zip(cases, regs, strict=True), (big, 0.01)]
    ctx.prefetch([call for case, reg in plan for call in (_scores_call(case), _loss_call(case, reg))])
    yield _loss_check(ctx, f"toy loss at reg=0.1 (published {PUBLISHED_LOSS})", PUBLIC, toy, 0.1)
    for case, reg in zip(cases, regs, strict=True):
        yield _loss_check(ctx, f"hidden: reg={reg:.4g}, {case.shape_label}", HIDDEN, case, reg)
    yield _loss_check(ctx, "hidden: large scores (hundreds); the loss must stay finite", HIDDEN, big, 0.01)


def large_magnitude_case(rng: np.random.Generator) -> Case:
    """Scores around 1000 with gaps of a few hundred: exp(scores) overflows, a max-shifted softmax does not."""
    case = random_case(rng, n=(6, 20), c=(3, 8))
    scores = np.maximum(0, case.X @ case.params["W1"] + case.params["b1"]) @ case.params["W2"]
    spread = float(np.max(scores.max(axis=1) - scores.min(axis=1)))
    params = dict(case.params)
    factor = 300.0 / max(spread, 1e-6)
    params["W2"] = case.params["W2"] * factor
    params["b2"] = 1000.0 + case.params["b2"]
    return Case(params, case.X, case.y)


# --- T7 -----------------------------------------------------------------------------------------

RULE_T7_NUMERIC = ("your gradients equal the numeric gradient (centred differences, h = 1e-5) of the loss your own "
                   "loss() returns: backprop is judged against the loss you wrote, whatever regularisation "
                   "convention it uses (the convention is judged in T6 only); counted whenever that loss is finite")
RULE_T7_REFERENCE = ("at reg = 0 your gradients equal the reference's: the data gradient of the softmax loss, which "
                     "no regularisation convention touches")


def as_shape(value: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """`value` as a float64 array of `shape`, also when it differs only by singleton axes (a bias
    kept as a (1, H) row, the layout of the CS231n course notes); None when it is not an array."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.shape != shape and arr.size == int(np.prod(shape)) and \
            tuple(n for n in arr.shape if n != 1) == tuple(n for n in shape if n != 1):
        return arr.reshape(shape)
    return arr


def _grads(data: dict[str, np.ndarray], case: Case) -> dict[str, np.ndarray | None]:
    """The submission's gradients, each read in its parameter's shape (see `as_shape`)."""
    return {k: None if data.get("grad_" + k) is None else as_shape(data["grad_" + k], case.params[k].shape)
            for k in PARAMS}


def _numeric_grads(numeric: dict[str, np.ndarray], case: Case) -> dict[str, np.ndarray]:
    return {k: as_shape((numeric["plus_" + k] - numeric["minus_" + k]) / (2 * NUMERIC_H), case.params[k].shape)
            for k in PARAMS}


def _finite_loss(numeric: dict[str, np.ndarray]) -> bool:
    values = [numeric["loss"], *(numeric[f"{side}_{k}"] for side in ("plus", "minus") for k in PARAMS)]
    return all(np.all(np.isfinite(v)) for v in values)


def _not_finite(name: str, visibility: Visibility) -> CheckResult:
    return CheckResult(name, visibility, None, message="not counted: your loss is not finite on these inputs, so it "
                       "has no numeric gradient to compare with (see T6)", rule=RULE_T7_NUMERIC)


def _numeric_public(ctx: TaskContext, case: Case, reg: float) -> Iterator[CheckResult]:
    """The notebook's own gradient check: one line per parameter, max relative error < 1e-8."""
    label = f"toy gradient check at reg={reg:g} (numeric vs your grads)"
    analytic = _grads(ctx.call("loss", **case.params, X=case.X, y=case.y, reg=reg), case)
    numeric = ctx.call("loss_numeric", **case.params, X=case.X, y=case.y, reg=reg, h=NUMERIC_H)
    if not _finite_loss(numeric):
        yield _not_finite(label, PUBLIC)
        return
    num = _numeric_grads(numeric, case)
    for k in PARAMS:
        name = f"{label}: {k}"
        if analytic[k] is None:
            check = verdict(name, PUBLIC, False, message=f"loss() returned no gradient for {k}")
        else:
            check = compare_arrays(name, PUBLIC, num[k], analytic[k], metric="rel_error", tol=ctx.params["public_tol"])
        yield replace(check, rule=RULE_T7_NUMERIC)


def _numeric_combined(ctx: TaskContext, name: str, visibility: Visibility, case: Case, reg: float) -> CheckResult:
    """Numeric gradient of the submission's own loss vs its gradients, all four parameters in one check.

    rtol + atol rather than the notebook's element-wise relative error, which breaks down on
    gradient elements near 0 (see the student0232/student0745 regression tests)."""
    analytic = _grads(ctx.call("loss", **case.params, X=case.X, y=case.y, reg=reg), case)
    numeric = ctx.call("loss_numeric", **case.params, X=case.X, y=case.y, reg=reg, h=NUMERIC_H)
    if not _finite_loss(numeric):
        return _not_finite(name, visibility)
    check = _grads_check(name, visibility, _numeric_grads(numeric, case), analytic,
                         rtol=ctx.params["hidden_numeric_rtol"], atol=ctx.params["hidden_numeric_atol"])
    return replace(check, rule=RULE_T7_NUMERIC)


def _numeric_call(case: Case, reg: float) -> tuple[str, dict[str, Any]]:
    return "loss_numeric", {**case.params, "X": case.X, "y": case.y, "reg": reg, "h": NUMERIC_H}


def backward(ctx: TaskContext) -> Iterator[CheckResult]:
    toy = toy_case()
    public = [_loss_call(toy, 0.05), _numeric_call(toy, 0.05), _loss_call(toy, 0.0), _numeric_call(toy, 0.0)]
    toy_reg0 = "toy gradient check at reg=0: numeric gradient of your loss vs your grads"
    if not ctx.hidden:
        ctx.prefetch(public)
        yield from _numeric_public(ctx, toy, 0.05)
        yield _numeric_combined(ctx, toy_reg0, PUBLIC, toy, 0.0)
        yield ctx.after_submission(f"{ctx.params['hidden_cases']} hidden cases at reg=0: grads vs the reference")
        yield ctx.after_submission("hidden: numeric gradient check of your own loss at another shape, reg > 0")
        yield ctx.after_submission("hidden: numeric gradient check of your own loss at another shape, reg = 0")
        return
    rng = ctx.rng("backward")
    cases = [random_case(rng) for _ in range(int(ctx.params["hidden_cases"]))]
    random_case(rng)  # drawn and unused since T7 stopped checking T6's convention: every later input stays as it was
    reg = float(rng.uniform(0.1, 2.0))
    for _ in range(100):
        small = random_case(rng, n=(3, 8), d=(2, 5), h=(2, 6), c=(2, 4))
        if away_from_kinks(small):
            break
    ctx.prefetch([*public, *(_loss_call(c, 0.0) for c in cases), _loss_call(small, reg), _numeric_call(small, reg),
                  _loss_call(small, 0.0), _numeric_call(small, 0.0)])
    yield from _numeric_public(ctx, toy, 0.05)
    yield _numeric_combined(ctx, toy_reg0, PUBLIC, toy, 0.0)
    for i, case in enumerate(cases):
        expected = reference_net(ctx, case).loss(case.X, case.y, reg=0.0)[1]
        got = _grads(ctx.call("loss", **case.params, X=case.X, y=case.y, reg=0.0), case)
        name = f"hidden case {i + 1} ({case.shape_label}), reg=0: grads vs the reference"
        yield replace(_grads_check(name, HIDDEN, expected, got, rtol=ctx.params["hidden_rtol"],
                                   atol=ctx.params["hidden_atol"]), rule=RULE_T7_REFERENCE)
    for r in (reg, 0.0):
        yield _numeric_combined(ctx, f"hidden gradient check ({small.shape_label}, reg={r:.3g}): numeric gradient "
                                "of your loss vs your grads", HIDDEN, small, r)


def _grads_check(name: str, visibility: Visibility, expected: dict[str, np.ndarray],
                 got: dict[str, np.ndarray | None], *, rtol: float, atol: float) -> CheckResult:
    problems = []
    worst = 0.0
    for k in PARAMS:
        g = got.get(k)
        if g is None:
            problems.append(f"no gradient for {k}")
            continue
        result = compare_arrays(k, visibility, expected[k], g, rtol=rtol, atol=atol)
        if not result.passed:
            problems.append(f"{k}: {result.message}")
        elif np.asarray(g).shape == np.asarray(expected[k]).shape:
            worst = max(worst, float(np.max(np.abs(np.asarray(g, dtype=float) - expected[k]), initial=0.0)))
    return verdict(name, visibility, not problems,
                   expected={k: summarize(expected[k]) for k in PARAMS},
                   got={k: summarize(got.get(k)) for k in PARAMS},
                   message="; ".join(problems) if problems else f"max |difference| {worst:.3g}")


# --- T8–T10: train() observed with recorders ---------------------------------------------------------


@dataclass(frozen=True)
class TrainRun:
    case: Case
    grads: dict[str, np.ndarray]
    learning_rate: float
    decay: float
    num_iters: int
    batch_size: int


@dataclass(frozen=True)
class Observed:
    calls: int
    batches: list[tuple[np.ndarray, np.ndarray]]
    snapshots: list[dict[str, np.ndarray]]  # params at each loss call, then the final params
    rates: np.ndarray  # train()'s own learning_rate variable at each loss call (NaN where it has none)
    raised: str | None = None  # what train() raised after these calls, if it did


def _toy_run(decay: float, num_iters: int, batch_size: int = 200) -> TrainRun:
    """The toy net and data; T8 keeps the notebook's batch of 200 (> N), T9/T10 use N so they need no T8."""
    toy = toy_case()
    g = np.random.RandomState(2)
    grads = {k: g.randn(*v.shape) for k, v in toy.params.items()}
    return TrainRun(toy, grads, 0.1, decay, num_iters, batch_size)


def _hidden_run(rng: np.random.Generator, *, n: int, batch_size: int, decay: float, num_iters: int) -> TrainRun:
    case = random_case(rng, n=(n, n), d=(3, 6), h=(3, 8), c=(2, 5))
    X = case.X + np.arange(n)[:, None] * 1e-3  # every row distinct, so a batch row names its source row
    grads = {k: rng.standard_normal(v.shape) for k, v in case.params.items()}
    return TrainRun(Case(case.params, X, case.y), grads, float(rng.uniform(0.01, 0.5)), decay, num_iters, batch_size)


def _observe_call(run: TrainRun) -> tuple[str, dict[str, Any]]:
    case = run.case
    return "train_observed", {**case.params, "X": case.X, "y": case.y, "X_val": case.X[:3], "y_val": case.y[:3],
                              **{"G_" + k: v for k, v in run.grads.items()},
                              "learning_rate": run.learning_rate, "learning_rate_decay": run.decay, "reg": 0.0,
                              "num_iters": run.num_iters, "batch_size": run.batch_size}


def _toy_training_call() -> tuple[str, dict[str, Any]]:
    toy = toy_case()
    return "train_toy", {"X": toy.X, "y": toy.y}


def observe(ctx: TaskContext, run: TrainRun) -> Observed:
    probe, inputs = _observe_call(run)
    return _observed(ctx.call(probe, **inputs), run)


def _observed(data: Any, run: TrainRun) -> Observed:
    calls = int(data["calls"])
    kept = min(calls, 64)
    batches = [(data[f"xb{i}"], data[f"yb{i}"]) for i in range(kept)]
    shapes = {k: v.shape for k, v in run.case.params.items()}
    snaps = [{k: as_shape(data[f"p{i}_{k}"], shapes[k]) for k in PARAMS} for i in range(kept)]
    snaps.append({k: as_shape(data["final_" + k], shapes[k]) for k in PARAMS})
    rates = np.asarray(data.get("rates", np.full(calls, np.nan)), dtype=np.float64).ravel()
    raised = data.get("raised")
    text = bytes(np.asarray(raised, dtype=np.uint8)).decode("utf-8", "replace") if raised is not None else None
    return Observed(calls, batches, snaps, rates, text)


def reference_schedule(ctx: TaskContext, run: TrainRun) -> np.ndarray:
    """The learning rate of each step when the reference `train` runs with the same recorders."""
    net = reference_net(ctx, run.case)
    steps: list[float] = []
    state = {"prev": None}

    def stub_loss(X: Any, y: Any = None, reg: float = 0.0) -> Any:
        if y is None:
            return np.zeros((len(X), run.case.params["W2"].shape[1]))
        if state["prev"] is not None:
            steps.append(float((state["prev"] - net.params["W1"]).ravel()[0] / run.grads["W1"].ravel()[0]))
        state["prev"] = net.params["W1"].copy()
        return 1.0, {k: v.copy() for k, v in run.grads.items()}

    net.loss = stub_loss
    net.predict = lambda X: np.zeros(len(X), dtype=np.int64)
    net.train(run.case.X, run.case.y, run.case.X[:3], run.case.y[:3], learning_rate=run.learning_rate,
              learning_rate_decay=run.decay, reg=0.0, num_iters=run.num_iters, batch_size=run.batch_size)
    steps.append(float((state["prev"] - net.params["W1"]).ravel()[0] / run.grads["W1"].ravel()[0]))
    return np.array(steps)


def _calls_problem(obs: Observed, run: TrainRun) -> str | None:
    if obs.raised:
        return f"train() raised {obs.raised} after {obs.calls} call(s) of loss(); expected {run.num_iters} iterations"
    if obs.calls != run.num_iters:
        return f"train() called loss with labels {obs.calls} times; expected once per iteration ({run.num_iters})"
    return None


RULE_TOY_TRAINING = ("the notebook's toy training with your whole net ends with a loss below 0.05; it needs every "
                     "code task right, so it counts only when T5–T11 pass on their own checks")
# The real-data run, sized to what it must catch: benchmarks/size_mnist_check.py trains every sample
# (submissions/, the corpus of tests/hw4_corpus.py, the mutants of train()) both this way and the
# notebook's way (2,000 iterations of 200 on 55,000 images, eleven times the training) and compares
# verdicts. Batches of 100 halve the cost of the earlier batches of 200 and validate as well.
# The bar (val_min in rubric.toml, 0.85) sits 0.05 below the reference's lowest accuracy over ten
# seeds (0.906-0.909) and below the fair initialisation a TA accepts (He, ignoring std: 0.886).
MNIST_RUN = dict(hidden_size=50, num_iters=300, batch_size=100, learning_rate=1e-3, learning_rate_decay=0.95)
MNIST_RUN_NAME = ("MNIST: a short decay run (H=50, 300 iterations of 100 on 10,000 images, lr 1e-3, "
                  "decay 0.95 per epoch)")
RULE_MNIST_TRAINING = ("your train() on real MNIST (a short learning-rate-decay run; the reference validates at about "
                       "0.90 on every seed) validates at or above the bar, measured by the grader; counted only when "
                       "T5–T11 pass on their own checks")


def toy_training(ctx: TaskContext) -> CheckResult:
    """The notebook's own check: toy training ends below 0.05. It counts only when the tasks it relies on pass."""
    name = "toy training (lr 0.1, reg 5e-6, 100 iterations) ends with loss < 0.05"
    probe, inputs = _toy_training_call()
    outcome = ctx.outcome(probe, **inputs)
    if not outcome.ok:
        detail = outcome.error.get("message") if outcome.error else outcome.detail
        return verdict(name, PUBLIC, False, expected="< 0.05", got=outcome.status,
                       message=f"the toy training did not finish: {detail}", depends_on=TRAINING_DEPENDS,
                       rule=RULE_TOY_TRAINING)
    history = np.asarray(outcome.data.get("loss_history", []), dtype=np.float64).ravel()
    final = float(history[-1]) if history.size else float("nan")
    ok = history.size == 100 and np.isfinite(final) and final < ctx.params["toy_final_loss"]
    return verdict(name, PUBLIC, ok, expected=f"< {ctx.params['toy_final_loss']} (reference 0.01714364353292381)",
                   got=final, message=f"{history.size} losses recorded", depends_on=TRAINING_DEPENDS,
                   rule=RULE_TOY_TRAINING)


def mnist_training(ctx: TaskContext) -> CheckResult | None:
    """T8–T10 beyond the toy: a short learning-rate-decay run on real MNIST with the student's
    TwoLayerNet must validate at or above `val_min`. It needs the whole net right, so it counts only
    when T5–T11 pass; rubric authors turn it off with mnist_training = false."""
    config = ctx.params.get("mnist_training")
    if not config:
        return None
    name = f"{MNIST_RUN_NAME} validates at ≥ {config['val_min']}"
    if not ctx.full_run:
        return ctx.after_submission(name, PUBLIC, why="not run in a quick check (a training run on real data): "
                                                      "graded after submission; `grader check --notebook` runs it here")
    limits = Limits(time_s=float(config["time_s"]), memory_mb=int(config["memory_mb"]))
    outcome = ctx.long_outcome("mnist_training", limits, data_dir=ctx.data_dir("mnist"), seed=0, **MNIST_RUN)
    if not outcome.ok:
        detail = (outcome.error or {}).get("message") or outcome.detail
        return verdict(name, PUBLIC, False, expected=f"≥ {config['val_min']}", got=outcome.status,
                       message=f"the training run did not finish: {detail}", depends_on=TRAINING_DEPENDS,
                       rule=RULE_MNIST_TRAINING)
    data = mnist(ctx)
    accuracy = _accuracy(outcome.data.get("pred_val"), data.y_val)
    history = np.asarray(outcome.data.get("loss_history", []), dtype=np.float64).ravel()
    if ctx.task.id == "T10" and history.size and np.all(np.isfinite(history)):
        add_loss_plot(ctx, "Training loss on MNIST (your train(), a short decay run)", history)
    return verdict(name, PUBLIC, accuracy is not None and accuracy >= config["val_min"],
                   expected=f"≥ {config['val_min']} (reference 0.90–0.91 over seeds)", got=accuracy,
                   message="validation accuracy measured by the grader on the first 5,000 training images",
                   depends_on=TRAINING_DEPENDS, rule=RULE_MNIST_TRAINING)


def add_loss_plot(ctx: TaskContext, title: str, history: np.ndarray) -> None:
    """A loss curve for the report, thinned to about 1,000 points."""
    step = max(1, history.size // 1000)
    ctx.add_plot("line", title, {"series": {"loss": [float(x) for x in history[::step]]},
                                 "xlabel": f"iteration (every {step})", "ylabel": "loss"})


def training_runs(ctx: TaskContext) -> Iterator[CheckResult]:
    """The whole-training checks T8, T9 and T10 share: the notebook's toy run, and the MNIST run."""
    yield toy_training(ctx)
    on_mnist = mnist_training(ctx)
    if on_mnist is not None:
        yield on_mnist


RULE_T8 = ("each call of loss() in train() gets batch_size rows of X with their own labels, drawn at random "
           "(with or without replacement); when batch_size > N, a batch of all N rows, each once, is accepted too "
           "(sampling without replacement clamped to N)")


def _batch_problem(it: int, xb: np.ndarray, yb: np.ndarray, run: TrainRun, rows: dict[bytes, int]) -> \
        tuple[str | None, list[int]]:
    """What is wrong with one observed batch (None: nothing), and the rows of X it holds."""
    X, y, B = run.case.X, run.case.y, run.batch_size
    N, D = X.shape
    clamped = B > N and xb.shape == (N, D)
    if xb.ndim == 0:
        return f"iteration {it}: X_batch is not an array of rows (None: is T8 left undone?)", []
    if xb.shape != (B, D) and not clamped:
        also = f" (or ({N}, {D}): all N rows once, when batch_size > N)" if B > N else ""
        return f"iteration {it}: X_batch has shape {xb.shape}, expected ({B}, {D}){also}", []
    if yb.shape != (xb.shape[0],):
        return f"iteration {it}: y_batch has shape {yb.shape}, expected ({xb.shape[0]},)", []
    idx = [rows.get(np.asarray(row, dtype=np.float64).tobytes(), -1) for row in xb]
    if -1 in idx:
        return f"iteration {it}: X_batch holds rows that are not rows of X", idx
    if not np.array_equal(yb, y[idx]):
        return f"iteration {it}: y_batch does not hold the labels of the rows in X_batch", idx
    if clamped and len(set(idx)) != N:
        return (f"iteration {it}: X_batch has N={N} rows but not every row of X once; with batch_size > N, a "
                f"batch of N rows must be all of X (sampling without replacement)"), idx
    return None, idx


def _batch_checks(name: str, visibility: Visibility, run: TrainRun, obs: Observed) -> CheckResult:
    """T8 on the batches train() drew; when train() crashed later on (an epoch length of 0, an
    update that fails), on the batches drawn before the crash, which is not T8's to answer for."""
    X, B = run.case.X, run.batch_size
    problem = None if obs.raised else _calls_problem(obs, run)
    rows = {X[i].tobytes(): i for i in range(len(X))}
    picked: list[list[int]] = []
    for it, (xb, yb) in enumerate(obs.batches):
        if problem:
            break
        problem, idx = _batch_problem(it, xb, yb, run, rows)
        picked.append(idx)
    if not problem and len(X) > B:
        if len(picked) > 1 and all(p == picked[0] for p in picked):
            problem = "every iteration used the same rows; the minibatch must be sampled at random"
        elif picked and picked[0] == list(range(B)):
            problem = "the first minibatch is rows 0..batch_size-1 in order; it must be sampled at random"
        elif max(max(p) for p in picked) < B:
            problem = "all minibatches come from the first batch_size rows of X"
    clamped = len(X) < B and bool(picked) and all(len(p) == len(X) for p in picked)
    message = problem or ("every batch is all N rows of X once, with their labels (batch_size > N, clamped)"
                          if clamped else "every batch is rows of X with their own labels")
    if obs.raised and not problem:
        message += f"; judged on the {obs.calls} batch(es) drawn before train() raised {obs.raised} (see T9, T10)"
    return verdict(name, visibility, problem is None,
                   expected=f"{run.num_iters} random batches of {B} rows with their labels",
                   got=f"{obs.calls} calls", message=message, rule=RULE_T8)


def minibatch(ctx: TaskContext) -> Iterator[CheckResult]:
    toy_run = _toy_run(decay=0.95, num_iters=10)
    rng = ctx.rng("minibatch")
    sizes = ((int(rng.integers(60, 90)), int(rng.integers(7, 15))), (int(rng.integers(20, 30)), 20))
    sizes = sizes if ctx.hidden else ()
    runs = [_hidden_run(rng, n=n, batch_size=b, decay=1.0, num_iters=12) for n, b in sizes]
    ctx.prefetch([_observe_call(r) for r in (toy_run, *runs)] + [_toy_training_call()])
    yield _batch_checks("toy data, batch_size=200 > N=5: rows of X sampled with their labels", PUBLIC, toy_run,
                        observe(ctx, toy_run))
    for (n, b), run in zip(sizes, runs, strict=True):
        yield _batch_checks(f"hidden: N={n}, batch_size={b}, 12 iterations", HIDDEN, run, observe(ctx, run))
    if not ctx.hidden:
        yield ctx.after_submission("2 hidden runs: other N and batch sizes, random and not just the first rows")
    yield from training_runs(ctx)


def _steps(obs: Observed, run: TrainRun) -> list[dict[str, np.ndarray]]:
    snaps = obs.snapshots
    return [{k: snaps[i + 1][k] - snaps[i][k] for k in PARAMS} for i in range(len(snaps) - 1)]


RULE_T9 = ("each iteration moves every parameter by -learning_rate · grad (loss() stubbed to return fixed "
           "gradients, so your T5–T7 do not matter; the rate is held constant, so T10 does not either)")


def _sgd_check(name: str, visibility: Visibility, run: TrainRun, obs: Observed, rtol: float) -> CheckResult:
    problem = _calls_problem(obs, run)
    steps = _steps(obs, run) if not problem else []
    if not problem:
        first = steps[0]
        for k in PARAMS:
            expected = -run.learning_rate * run.grads[k]
            if first[k].shape != expected.shape:
                problem = f"{k} changed shape to {first[k].shape}"
            elif not np.allclose(first[k], expected, rtol=rtol, atol=1e-12):
                moved = ("did not move" if np.allclose(first[k], 0)
                         else "moved by something other than -learning_rate·grad")
                problem = f"first step: {k} {moved}"
            if problem:
                break
    if not problem:
        for it, step in enumerate(steps[1:], start=1):
            scale = -float(np.vdot(step["W1"], run.grads["W1"]) / np.vdot(run.grads["W1"], run.grads["W1"]))
            for k in PARAMS:
                if not np.allclose(step[k], -scale * run.grads[k], rtol=rtol, atol=1e-12):
                    problem = f"step {it}: {k} did not move by -learning_rate·grad with the same learning rate as W1"
                    break
            if problem:
                break
    return verdict(name, visibility, problem is None, expected="every param -= learning_rate * grad",
                   got=f"{len(steps)} steps observed", message=problem or "all four parameters follow the SGD rule",
                   rule=RULE_T9)


def sgd(ctx: TaskContext) -> Iterator[CheckResult]:
    toy_run = _toy_run(decay=1.0, num_iters=5, batch_size=5)
    rng = ctx.rng("sgd")
    # decay 1: the learning rate stays put, so a T10 bug cannot show up as a wrong step here
    if not ctx.hidden:
        ctx.prefetch([_observe_call(toy_run), _toy_training_call()])
        yield _sgd_check("toy net: each step moves every param by -learning_rate·grad", PUBLIC, toy_run,
                         observe(ctx, toy_run), ctx.params["rtol"])
        yield ctx.after_submission("hidden: another shape and learning rate, stubbed gradients, 8 steps")
        yield from training_runs(ctx)
        return
    run = _hidden_run(rng, n=int(rng.integers(30, 60)), batch_size=int(rng.integers(5, 12)), decay=1.0, num_iters=8)
    ctx.prefetch([_observe_call(toy_run), _observe_call(run), _toy_training_call()])
    yield _sgd_check("toy net: each step moves every param by -learning_rate·grad", PUBLIC, toy_run,
                     observe(ctx, toy_run), ctx.params["rtol"])
    name = f"hidden: lr={run.learning_rate:.4g}, {run.case.shape_label}, stubbed gradients, 8 steps"
    yield _sgd_check(name, HIDDEN, run, observe(ctx, run), ctx.params["rtol"])
    yield from training_runs(ctx)


RULE_T10 = ("the learning rate is multiplied by learning_rate_decay once per epoch, at the starter's epoch check "
            "(it % iterations_per_epoch == 0); an epoch of N / batch_size iterations may be rounded (round, int, //, "
            "ceil) or not. Read from the parameter steps (gradients stubbed); when the steps do not follow "
            "-rate·grad (T9 undone or not SGD), from train()'s own learning_rate variable")


def epoch_schedules(run: TrainRun, reference: np.ndarray) -> dict[str, np.ndarray]:
    """The rate of each step relative to the first, for every accepted epoch length.

    The starter's own length N / batch_size comes from running the reference `train`; the
    rounded lengths follow the same loop: decay after the update of every iteration it with
    it % length == 0."""
    exact = len(run.case.X) / run.batch_size
    schedules = {"N / batch_size, as in the starter": reference / reference[0]}
    for label, length in (("rounded down (int, //)", math.floor(exact)), ("rounded up (ceil)", math.ceil(exact)),
                          ("rounded (round)", round(exact))):
        length = max(length, 1)
        decays = np.cumsum([0] + [it % length == 0 for it in range(run.num_iters - 1)])
        schedules[f"N / batch_size {label}: {length} iterations"] = run.decay ** decays.astype(np.float64)
    return schedules


def _observed_rates(obs: Observed, run: TrainRun) -> tuple[np.ndarray | None, str]:
    """The learning rate of each step, and where it was read."""
    steps = _steps(obs, run)
    g = run.grads["W1"]
    rates = np.array([-float(np.vdot(s["W1"], g) / np.vdot(g, g)) for s in steps])
    sgd_like = rates.size and rates[0] != 0 and np.all(np.isfinite(rates)) and all(
        s["W1"].shape == g.shape and np.allclose(s["W1"], -r * g, rtol=1e-6, atol=1e-12) for s, r in zip(
            steps, rates, strict=True))
    if sgd_like:
        return rates, "read from the parameter steps"
    own = obs.rates[: run.num_iters]
    if own.size == run.num_iters and np.all(np.isfinite(own)) and own[0] != 0:
        return own, ("read from train()'s learning_rate variable, because W1 did not move by -rate·grad (see "
                     "T9)")
    return None, "W1 did not move by -rate·grad and train() has no learning_rate variable to read, so the " \
                 "learning rate cannot be observed (see T9)"


def _decay_check(ctx: TaskContext, name: str, visibility: Visibility, run: TrainRun) -> CheckResult:
    if run.batch_size > len(run.case.X):  # train() must first draw a batch, which is T8's to get right
        probe, inputs = _observe_call(run)
        outcome = ctx.outcome(probe, **inputs)
        if not outcome.ok:
            detail = (outcome.error or {}).get("message") or outcome.detail
            return CheckResult(name, visibility, None, rule=RULE_T10, message=f"not counted: train() failed before "
                               f"its first call of loss() ({detail}), so no step was taken to read (see T8)")
        obs = _observed(outcome.data, run)
    else:
        obs = observe(ctx, run)
    schedules = epoch_schedules(run, reference_schedule(ctx, run))
    starter = next(iter(schedules.values()))
    problem = _calls_problem(obs, run)
    if problem:
        return verdict(name, visibility, False, expected=summarize(starter), message=problem, rule=RULE_T10)
    rates, source = _observed_rates(obs, run)
    if rates is None:
        return verdict(name, visibility, False, expected=summarize(starter), message=source, rule=RULE_T10)
    ratios = rates / rates[0]
    for label, expected in schedules.items():
        if np.allclose(ratios, expected, rtol=ctx.params["rtol"], atol=1e-12):
            return verdict(name, visibility, True, expected=expected, got=ratios, rule=RULE_T10,
                           message=f"learning rate of each step relative to the first ({source}): decays once per "
                                   f"epoch of {label}")
    result = compare_arrays(name, visibility, starter, ratios, rtol=ctx.params["rtol"], atol=1e-12)
    return replace(result, rule=RULE_T10, message=f"learning rate of each step relative to the first ({source}); "
                   f"no accepted epoch length gives this schedule; against the starter's: {result.message}")


def lr_decay(ctx: TaskContext) -> Iterator[CheckResult]:
    toy_run = _toy_run(decay=0.5, num_iters=6, batch_size=5)
    big_batch = _toy_run(decay=0.5, num_iters=4, batch_size=200)
    rng = ctx.rng("lr_decay")
    runs = []
    for n, b in ((40, 10), (45, 10)) if ctx.hidden else ():
        decay = float(rng.uniform(0.3, 0.9))
        runs.append((n, b, decay, _hidden_run(rng, n=n, batch_size=b, decay=decay, num_iters=14)))
    ctx.prefetch([_observe_call(toy_run), _observe_call(big_batch), *(_observe_call(r[3]) for r in runs),
                  _toy_training_call()])
    yield _decay_check(ctx, "toy data (1 iteration per epoch), decay 0.5: rate of each step / first", PUBLIC,
                       toy_run)
    yield _decay_check(ctx, "toy data, batch_size=200 > N=5: an epoch is max(N / batch_size, 1) = 1 iteration", PUBLIC,
                       big_batch)
    for n, b, decay, run in runs:
        yield _decay_check(ctx, f"hidden: N={n}, batch_size={b}, decay={decay:.3g}, 14 iterations", HIDDEN, run)
    if not ctx.hidden:
        yield ctx.after_submission("2 hidden runs: 4 and 4.5 iterations per epoch, random decay")
    yield from training_runs(ctx)


# --- T11 ----------------------------------------------------------------------------------------


RULE_T11 = ("predict(X) returns integer labels of shape (N,): the argmax of your own loss(X) scores, so a broken T5 "
            "does not cost T11 (labels that are the argmax of the correct scores pass too: a predict() with its own "
            "right forward pass)")


def _predict_check(ctx: TaskContext, name: str, visibility: Visibility, case: Case) -> CheckResult:
    scores = own_scores(ctx, case)
    correct = np.argmax(reference_net(ctx, case).loss(case.X), axis=1)
    basis = "argmax of your own loss(X) scores"
    if scores is not None:
        pred = ctx.call("predict", **case.params, X=case.X)["pred"]
    else:  # T11 on its own: predict() with loss(X) stubbed to return the reference scores
        scores = reference_net(ctx, case).loss(case.X)
        pred = ctx.call("predict_given_scores", **case.params, X=case.X, scores=scores)["pred"]
        basis = "argmax of the reference scores, given to predict() through a stubbed loss(X)"
    expected = np.argmax(scores, axis=1)
    N = case.X.shape[0]
    if pred.shape != (N,):
        return verdict(name, visibility, False, expected=expected, got=pred,
                       message=f"expected shape ({N},), got {pred.shape}", rule=RULE_T11)
    if pred.dtype.kind not in "iu":
        return verdict(name, visibility, False, expected=expected, got=pred,
                       message=f"expected integer labels, got dtype {pred.dtype}", rule=RULE_T11)
    wrong = int(np.count_nonzero(pred != expected))
    if wrong and not np.any(pred != correct):
        return verdict(name, visibility, True, expected=correct, got=pred, rule=RULE_T11,
                       message=f"judged against the argmax of the correct scores: your predict() does not take its "
                               f"labels from your loss(X), whose argmax differs in {wrong} of {N}")
    return verdict(name, visibility, wrong == 0, expected=expected, got=pred, rule=RULE_T11,
                   message=f"judged against the {basis}; "
                   + (f"{wrong} of {N} labels differ" if wrong else "all labels match"))


def predict(ctx: TaskContext) -> Iterator[CheckResult]:
    toy = toy_case()
    rng = ctx.rng("predict")
    cases = [random_case(rng, n=(10, 60)) for _ in range(int(ctx.params["hidden_cases"]))] if ctx.hidden else []
    ctx.prefetch([call for c in (toy, *cases) for call in (("predict", {**c.params, "X": c.X}), _scores_call(c))])
    yield _predict_check(ctx, "toy data: predict(X) = argmax of the scores", PUBLIC, toy)
    for i, case in enumerate(cases):
        yield _predict_check(ctx, f"hidden case {i + 1} ({case.shape_label})", HIDDEN, case)
    if not ctx.hidden:
        yield ctx.after_submission(f"{ctx.params['hidden_cases']} hidden cases: random inputs, integer labels of "
                                   "shape (N,)")


# --- T12: the tuned model, measured by the grader ----------------------------------------------------------


class Mnist:
    """The notebook's split: the first 5,000 training images validate, t10k tests; the mean of the
    other 55,000 training images is subtracted.

    The float images are the prepared cache's, mapped read-only: most submissions need only the
    labels (the MNIST run's validation accuracy), and building both splits in every worker cost a
    quarter of a second."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._arrays = arrays
        self.y_val = arrays["val_labels"].astype(np.int64)
        self.y_test = arrays["test_labels"].astype(np.int64)

    @property
    def X_val(self) -> np.ndarray:
        return self._arrays["X_val"]

    @property
    def X_test(self) -> np.ndarray:
        return self._arrays["X_test"]


_MNIST_CACHE: dict[int, Mnist] = {}
MNIST_TRAIN_ROWS = 10_000  # the training run's images: the notebook's training rows 5,000–14,999


def _idx(path: Any, offset: int) -> np.ndarray:
    import gzip

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def prepare_mnist(folder: Path) -> dict[str, np.ndarray]:
    """[prepared.mnist]: the starter's gzipped MNIST decoded once into the grader's read-only cache.

    Images stay uint8 (a tenth of the size of floats); `mean` is the notebook's mean training image
    (of the 55,000 rows after the first 5,000), which probes and checks subtract as the notebook does."""
    train = _idx(folder / "train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    labels = _idx(folder / "train-labels-idx1-ubyte.gz", 8)
    test = _idx(folder / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    mean = train[5000:].mean(axis=0)
    return {"mean": mean,
            "val_images": train[:5000], "val_labels": labels[:5000],
            "train_images": train[5000:5000 + MNIST_TRAIN_ROWS], "train_labels": labels[5000:5000 + MNIST_TRAIN_ROWS],
            "test_images": test, "test_labels": _idx(folder / "t10k-labels-idx1-ubyte.gz", 8),
            # the validation and test inputs as floats, the notebook's preprocessing done once: T12's
            # evaluation reads them from the page cache all workers share, the probes from the mount
            "X_val": train[:5000] - mean, "X_test": test - mean}


def mnist(ctx: TaskContext) -> Mnist:
    """The notebook's split, built once per grading process from the prepared arrays."""
    arrays = ctx.prepared("mnist")
    key = id(arrays["mean"])
    if key not in _MNIST_CACHE:
        _MNIST_CACHE[key] = Mnist(arrays)
    return _MNIST_CACHE[key]


@dataclass(frozen=True)
class Model:
    source: str
    params: dict[str, np.ndarray] | None = None
    pred_val: np.ndarray | None = None
    pred_test: np.ndarray | None = None


def _standard_params(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray] | str:
    """Validated float64 parameters of a 784-H-10 net, or why they are not."""
    if not all(k in arrays for k in PARAMS):
        return f"it holds {sorted(arrays)}, not the four arrays {list(PARAMS)}"
    # only real numbers convert to float64 without losing meaning: text, dates, complex and
    # record arrays would raise (or silently drop the imaginary part)
    odd = {k: str(arrays[k].dtype) for k in PARAMS if np.asarray(arrays[k]).dtype.kind not in "biuf"}
    if odd:
        return "some arrays do not hold real numbers: " + ", ".join(f"{k} is {t}" for k, t in odd.items())
    params = {k: np.array(arrays[k], dtype=np.float64) for k in PARAMS}
    H = params["W1"].shape[1] if params["W1"].ndim == 2 else -1
    shapes = {"W1": (784, H), "b1": (H,), "W2": (H, 10), "b2": (10,)}
    if H >= 1:  # biases saved as (1, H) rows are read as (H,)
        params = {k: as_shape(v, shapes[k]) for k, v in params.items()}
    if H < 1 or any(params[k].shape != shapes[k] for k in PARAMS):
        return "the shapes are " + ", ".join(f"{k} {params[k].shape}" for k in PARAMS) + ", not 784-H-10"
    if not all(np.all(np.isfinite(v)) for v in params.values()):
        return "some parameters are NaN or infinite"
    return params


def _load_npz(data: bytes) -> dict[str, np.ndarray] | str:
    """An .npz the student made, read without unpickling and with declared sizes checked first."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > 200 * 2**20:
                return "it unpacks to more than 200 MB"
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: np.array(npz[k]) for k in npz.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the student's to fix
        return f"it is not a readable .npz ({type(exc).__name__}: {exc})"


def find_model(ctx: TaskContext) -> tuple[Model | None, list[str]]:
    """The tuned model: a file handed in, else a file the notebook run saved, else the kernel's best_net."""
    tried: list[str] = []
    candidates: list[tuple[str, bytes]] = []
    for name in ctx.params["model_files"]:
        path = ctx.submitted_file(name)
        if path is not None:
            candidates.append((f"{name} (handed in)", path.read_bytes()))
    run = ctx.notebook()
    if run is not None:
        for name in ctx.params["model_files"]:
            if f"notebook_{name}" in run.files:
                saved = run.files[f"notebook_{name}"]
                candidates.append((f"{name} (saved by the notebook when the grader ran it)", saved))
        if "kernel_best_net.npz" in run.files:
            candidates.append(("best_net.params from the notebook's kernel", run.files["kernel_best_net.npz"]))
    for source, data in candidates:
        if source.split()[0].endswith(".pkl"):
            outcome = ctx.long_outcome("unpickled_model", Limits(time_s=ctx.task.limits.time_s,
                                                                  memory_mb=ctx.task.limits.memory_mb),
                                       blob=np.frombuffer(data, dtype=np.uint8).copy(),
                                       data_dir=ctx.data_dir("mnist"))
            if not outcome.ok:
                detail = (outcome.error or {}).get("message") or outcome.detail
                tried.append(f"{source}: could not be loaded in the sandbox ({detail})")
                continue
            if "pred_val" in outcome.data:
                return Model(source + ", evaluated through its own predict()", pred_val=outcome.data["pred_val"],
                             pred_test=outcome.data["pred_test"]), tried
            arrays = outcome.data
        else:
            arrays = _load_npz(data)
            if isinstance(arrays, str):
                tried.append(f"{source}: {arrays}")
                continue
        params = _standard_params(arrays)
        if isinstance(params, str):
            tried.append(f"{source}: {params}")
            continue
        return Model(source, params=params), tried
    return None, tried


def _accuracy(pred: np.ndarray | None, labels: np.ndarray) -> float | None:
    if pred is None or np.asarray(pred).shape != labels.shape:
        return None
    return float(np.mean(np.asarray(pred) == labels))


_CLAIMS = {
    "Validation accuracy": re.compile(r"Validation accuracy:\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)"),
    "Test accuracy": re.compile(r"Test accuracy:\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)"),
    "Final training loss": re.compile(r"Final training loss:\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)"),
    "scores difference": re.compile(r"Difference between your scores and correct scores:\s*([-+0-9.eE]+)"),
    "loss difference": re.compile(r"Difference between your loss and correct loss:\s*([-+0-9.eE]+)"),
    "W1 gradient error": re.compile(r"W1 max relative error:\s*([-+0-9.eE]+)"),
    "W2 gradient error": re.compile(r"W2 max relative error:\s*([-+0-9.eE]+)"),
    "b1 gradient error": re.compile(r"b1 max relative error:\s*([-+0-9.eE]+)"),
    "b2 gradient error": re.compile(r"b2 max relative error:\s*([-+0-9.eE]+)"),
}


_BEST_NET = re.compile(r"^\s*best_net\s*=", re.MULTILINE)
_ABOUT_BEST_NET = ("Validation accuracy", "Test accuracy")


def printed_claims(executed: Any) -> dict[str, float]:
    """What the executed notebook printed; the last printing of each wins. Accuracies count only from
    the cell that makes best_net on: earlier ones belong to the notebook's other nets."""
    claims: dict[str, float] = {}
    seen_best_net = False
    for cell in getattr(executed, "cells", []):
        if cell.get("metadata", {}).get("grader") == "injected":
            continue
        seen_best_net = seen_best_net or bool(_BEST_NET.search(str(cell.get("source", ""))))
        for out in cell.get("outputs", []):
            text = out.get("text") if out.get("output_type") == "stream" else None
            if not isinstance(text, str):
                continue
            for name, pattern in _CLAIMS.items():
                if name in _ABOUT_BEST_NET and not seen_best_net:
                    continue
                for match in pattern.finditer(text):
                    try:
                        claims[name] = float(match.group(1))
                    except ValueError:
                        pass
    return claims


def measured_claims(ctx: TaskContext, val: float | None, test: float | None) -> dict[str, float]:
    """The grader's own figures for what the notebook prints (probes already run are cached)."""
    measured: dict[str, float] = {}
    if val is not None:
        measured["Validation accuracy"] = val
    if test is not None:
        measured["Test accuracy"] = test
    toy = toy_case()
    scores = ctx.outcome("scores", **toy.params, X=toy.X)
    if scores.ok and np.asarray(scores.data.get("scores")).shape == PUBLISHED_SCORES.shape:
        measured["scores difference"] = float(np.sum(np.abs(scores.data["scores"] - PUBLISHED_SCORES)))
    loss_out = ctx.outcome("loss", **toy.params, X=toy.X, y=toy.y, reg=0.1)
    if loss_out.ok:
        measured["loss difference"] = float(abs(float(loss_out.data["loss"]) - PUBLISHED_LOSS))
    probe, inputs = _toy_training_call()
    training = ctx.outcome(probe, **inputs)
    if training.ok and np.asarray(training.data.get("loss_history")).size:
        measured["Final training loss"] = float(np.asarray(training.data["loss_history"]).ravel()[-1])
    analytic = ctx.outcome("loss", **toy.params, X=toy.X, y=toy.y, reg=0.05)
    probe, inputs = _numeric_call(toy, 0.05)
    numeric = ctx.outcome(probe, **inputs)
    if analytic.ok and numeric.ok:
        for k in PARAMS:
            grad = analytic.data.get("grad_" + k)
            if grad is not None and grad.shape == toy.params[k].shape:
                num = (numeric.data["plus_" + k] - numeric.data["minus_" + k]) / (2 * NUMERIC_H)
                measured[f"{k} gradient error"] = rel_error(num, np.asarray(grad, dtype=np.float64))
    return measured


def _claim_check(name: str, claimed: float, measured: float | None, tolerance: float) -> CheckResult:
    if measured is None:
        return CheckResult(f"printed {name}", PUBLIC, None, None, claimed, "not counted: the grader has no figure of "
                           "its own for this")
    small = "difference" in name or "error" in name
    if small:  # tiny quantities: a mismatch is a claim on the right side of the notebook's bar, a measure not
        bar = 1e-7 if "scores" in name else 1e-12 if "loss difference" in name else 1e-8
        mismatch = (claimed < bar) != (measured < bar) and max(claimed, measured) > 10 * min(claimed, measured)
    else:
        mismatch = abs(claimed - measured) > (tolerance if "accuracy" in name else max(1e-6, 1e-3 * abs(measured)))
    message = (f"MISMATCH: the notebook printed {claimed:.6g}, the grader measures {measured:.6g}; "
               "fabricated or stale output?" if mismatch else "printed and measured agree")
    return CheckResult(f"printed {name}", PUBLIC, None, measured, claimed, f"not counted (a claim). {message}")


def _weights_plot(W1: np.ndarray) -> dict[str, Any]:
    """The first-layer weights as 28×28 images (the notebook's show_net_weights), at most 64 of them."""
    images = []
    for unit in range(min(W1.shape[1], 64)):
        w = W1[:, unit]
        low, high = float(w.min()), float(w.max())
        images.append(np.round(255 * (w - low) / (high - low if high > low else 1)).astype(int).tolist())
    return {"images": images, "shape": [28, 28]}


RULE_T12 = ("your tuned best_net (a handed-in best_net.npz/.pkl, else what the notebook run saved or left in its "
            "kernel) is measured by the grader on its own MNIST split; printed accuracies are claims, never counted")


def tuned_model(ctx: TaskContext) -> Iterator[CheckResult]:
    data = mnist(ctx)
    run = ctx.notebook()
    model, tried = find_model(ctx)
    pred_val = pred_test = None
    if model is not None and model.params is not None:
        p = model.params
        forward = lambda X: np.argmax(np.maximum(0, X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], axis=1)  # noqa: E731
        pred_val, pred_test = forward(data.X_val), forward(data.X_test)
        ctx.add_plot("images", "First-layer weights of best_net (as 28×28 images)", _weights_plot(p["W1"]))
    elif model is not None:
        pred_val, pred_test = model.pred_val, model.pred_test
    val, test = _accuracy(pred_val, data.y_val), _accuracy(pred_test, data.y_test)
    if run is not None and run.executed is not None:
        claimed = printed_claims(run.executed)
        measured = measured_claims(ctx, val, test)
        for name, value in claimed.items():
            yield _claim_check(name, value, measured.get(name), ctx.params["claim_tolerance"])
        if "loss_history.npy" in run.files:
            history = _load_npy(run.files["loss_history.npy"])
            if history is not None and history.size:
                add_loss_plot(ctx, "Training loss history (the notebook's last training run)", history)
    if model is None:
        notebook = f"the notebook {'did not run' if run is None else run.status}: {run.message if run else ''}"
        why = "; ".join(tried) if tried else "no best_net.npz or best_net.pkl was handed in or saved"
        status = Status.TIMEOUT if run is not None and run.status == "timeout" else Status.MISSING
        raise TaskEnded(status, f"no tuned model to measure ({why}; {notebook}). To make T12 gradable, save the "
                                "model with np.savez('best_net.npz', **best_net.params) and hand in best_net.npz, "
                                f"or keep the notebook within its budget of {ctx.rubric.notebook.budget_s:g} s")
    if pred_test is not None and np.asarray(pred_test).shape == data.y_test.shape:
        matrix = np.zeros((10, 10), dtype=int)
        np.add.at(matrix, (data.y_test, np.clip(np.asarray(pred_test, dtype=np.int64), 0, 9)), 1)
        ctx.add_plot("matrix", "Confusion matrix of best_net on the test set (rows: true digit)",
                     {"values": matrix.tolist(), "xlabel": "predicted", "ylabel": "true"})
    yield verdict(f"validation accuracy ≥ {ctx.params['val_min']} (the grader's 5,000 validation images)", PUBLIC,
                  val is not None and val >= ctx.params["val_min"], expected=f"≥ {ctx.params['val_min']}", got=val,
                  message=f"model: {model.source}" + ("" if val is not None else "; its predictions have the wrong "
                                                                     "shape"), rule=RULE_T12)
    yield verdict(f"test accuracy > {ctx.params['test_above']} (t10k, 10,000 images)", PUBLIC,
                  test is not None and test > ctx.params["test_above"], expected=f"> {ctx.params['test_above']}",
                  got=test, message=f"model: {model.source}", rule=RULE_T12)


def _load_npy(data: bytes) -> np.ndarray | None:
    import io

    try:
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False), dtype=np.float64).ravel()
    except Exception:  # noqa: BLE001
        return None
