"""PA6 checks (grader side): every task calls functions the student defined in the notebook.

Public checks replay the notebook's own test cells (their inputs are rebuilt here with the same
RandomState(231) sequences) against the published values or the reference; hidden checks draw
other inputs from `ctx.rng` and compare with the reference solution, run here on the same
inputs. Probes (notebook_probes.py) run in a fork of the student's kernel.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader.api import CheckResult, TaskContext, Visibility, compare_arrays, rel_error, verdict

PUBLIC, HIDDEN = Visibility.PUBLIC, Visibility.HIDDEN
HELPERS = Path(__file__).resolve().parents[2] / "reference/pa6/starter/Helper_codes"

# the tasks whose functions FullyConnectedNet builds on: its loss checks count only when they pass
FCN_LAYERS = ("T1", "T2", "T3", "T4", "T7", "T10")
FCN_BN_LAYERS = (*FCN_LAYERS, "T8", "T9")


def _rel_check(name: str, visibility: Visibility, expected: Any, got: Any, tol: float,
               depends_on: tuple[str, ...] = ()) -> CheckResult:
    return compare_arrays(name, visibility, expected, got, metric="rel_error", tol=tol, depends_on=depends_on)


def _grads_check(name: str, visibility: Visibility, expected: dict[str, np.ndarray], got: dict[str, Any],
                 tol: float, depends_on: tuple[str, ...] = ()) -> CheckResult:
    """Several arrays judged together by the notebook's rel_error: the worst one decides."""
    errors = {}
    for key, exp in expected.items():
        value = got.get(key)
        if value is None:
            return verdict(name, visibility, False, expected=sorted(expected), got=sorted(got),
                           message=f"no {key} was returned", depends_on=depends_on)
        value = np.asarray(value, dtype=float)
        if value.shape != np.shape(exp):
            return verdict(name, visibility, False, expected=f"{key} of shape {np.shape(exp)}",
                           got=f"shape {value.shape}", message=f"{key}: expected shape {np.shape(exp)}, got "
                           f"{value.shape}", depends_on=depends_on)
        if not np.all(np.isfinite(value)):
            return verdict(name, visibility, False, message=f"{key} has NaN or infinite values",
                           depends_on=depends_on)
        errors[key] = rel_error(value, np.asarray(exp, dtype=float))
    worst = max(errors, key=errors.get)
    listed = ", ".join(f"{k} {v:.2e}" for k, v in errors.items())
    passed = errors[worst] < tol
    return verdict(name, visibility, passed, expected=f"rel_error < {tol:g}", got=listed,
                   message=f"max relative error {errors[worst]:.3g} ({worst}); must be < {tol:g}",
                   depends_on=depends_on)


def _hidden(ctx: TaskContext) -> int:
    return int(ctx.params.get("hidden_cases", 2))


# --- affine, ReLU, sigmoid ----------------------------------------------------------------------


def affine_forward(ctx: TaskContext) -> Iterator[CheckResult]:
    input_shape = (4, 5, 6)
    x = np.linspace(-0.1, 0.5, num=2 * 120).reshape(2, *input_shape)
    w = np.linspace(-0.2, 0.3, num=3 * 120).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    correct_out = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    got = ctx.call("affine_forward", x=x, w=w, b=b)["out"]
    yield _rel_check("the notebook's test: out vs the published correct_out", PUBLIC, correct_out, got,
                     ctx.params["public_tol"])
    rng = ctx.rng("affine_forward")
    for i in range(_hidden(ctx)):
        n = int(rng.integers(1, 7))
        shape = tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        m = int(rng.integers(1, 8))
        x, w = rng.standard_normal((n, *shape)), rng.standard_normal((int(np.prod(shape)), m))
        b = rng.standard_normal(m)
        expected, _ = ctx.reference.affine_forward(x, w, b)
        got = ctx.call("affine_forward", x=x, w=w, b=b)["out"]
        yield _rel_check(f"hidden case {i + 1}: x of shape {x.shape}, {m} outputs, vs the reference", HIDDEN,
                         expected, got, 1e-9)


def _backward_case(ctx: TaskContext, visibility: Visibility, name: str, x, w, b, dout, tol: float) -> CheckResult:
    _, cache = ctx.reference.affine_forward(x, w, b)
    dx, dw, db = ctx.reference.affine_backward(dout, cache)
    got = ctx.call("affine_backward", x=x, w=w, b=b, dout=dout)
    return _grads_check(name, visibility, {"dx": dx, "dw": dw, "db": db}, got, tol)


def affine_backward(ctx: TaskContext) -> Iterator[CheckResult]:
    rs = np.random.RandomState(231)
    x, w, b, dout = rs.randn(10, 2, 3), rs.randn(6, 5), rs.randn(5), rs.randn(10, 5)
    yield _backward_case(ctx, PUBLIC, "the notebook's test (seed 231): dx, dw, db vs the exact gradients", x, w, b,
                         dout, ctx.params["tol"])
    rng = ctx.rng("affine_backward")
    for i in range(_hidden(ctx)):
        n, d, m = (int(v) for v in rng.integers(1, 9, size=3))
        x = rng.standard_normal((n, d, 2))
        w, b, dout = rng.standard_normal((2 * d, m)), rng.standard_normal(m), rng.standard_normal((n, m))
        yield _backward_case(ctx, HIDDEN, f"hidden case {i + 1}: x {x.shape}, w {w.shape}, vs the reference", x, w,
                             b, dout, ctx.params["tol"])


def relu_forward(ctx: TaskContext) -> Iterator[CheckResult]:
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    correct_out = np.array([[0., 0., 0., 0.], [0., 0., 0.04545455, 0.13636364],
                            [0.22727273, 0.31818182, 0.40909091, 0.5]])
    yield _rel_check("the notebook's test: out vs the published correct_out", PUBLIC, correct_out,
                     ctx.call("relu_forward", x=x)["out"], ctx.params["public_tol"])
    rng = ctx.rng("relu_forward")
    for i in range(_hidden(ctx)):
        x = rng.standard_normal(tuple(int(d) for d in rng.integers(1, 8, size=int(rng.integers(1, 4)))))
        yield _rel_check(f"hidden case {i + 1}: x of shape {x.shape} vs the reference", HIDDEN,
                         ctx.reference.relu_forward(x)[0], ctx.call("relu_forward", x=x)["out"], 1e-12)


def relu_backward(ctx: TaskContext) -> Iterator[CheckResult]:
    rs = np.random.RandomState(231)
    x = rs.randn(10, 10)
    dout = rs.randn(*x.shape)
    yield _rel_check("the notebook's test (seed 231): dx vs the exact gradient", PUBLIC,
                     ctx.reference.relu_backward(dout, x), ctx.call("relu_backward", x=x, dout=dout)["dx"],
                     ctx.params["tol"])
    rng = ctx.rng("relu_backward")
    for i in range(_hidden(ctx)):
        x = rng.standard_normal((int(rng.integers(1, 9)), int(rng.integers(1, 9))))
        dout = rng.standard_normal(x.shape)
        yield _rel_check(f"hidden case {i + 1}: x of shape {x.shape} vs the reference", HIDDEN,
                         ctx.reference.relu_backward(dout, x), ctx.call("relu_backward", x=x, dout=dout)["dx"],
                         ctx.params["tol"])


def sigmoid_forward(ctx: TaskContext) -> Iterator[CheckResult]:
    x = np.linspace(-6, 6, num=12).reshape(3, 4)
    correct_out = np.array([[0.00247262, 0.00732514, 0.0214955, 0.06138311],
                            [0.16296047, 0.36691963, 0.63308037, 0.83703953],
                            [0.93861689, 0.9785045, 0.99267486, 0.99752738]])
    yield _rel_check("the notebook's test: out vs the published correct_out", PUBLIC, correct_out,
                     ctx.call("sigmoid_forward", x=x)["out"], ctx.params["public_tol"])
    rng = ctx.rng("sigmoid_forward")
    for i in range(_hidden(ctx)):
        x = rng.standard_normal((int(rng.integers(1, 9)), int(rng.integers(1, 9)))) * float(rng.uniform(1, 8))
        yield _rel_check(f"hidden case {i + 1}: x of shape {x.shape} vs the reference", HIDDEN,
                         ctx.reference.sigmoid_forward(x)[0], ctx.call("sigmoid_forward", x=x)["out"], 1e-9)


def sigmoid_backward(ctx: TaskContext) -> Iterator[CheckResult]:
    rs = np.random.RandomState(231)
    x = rs.randn(10, 10)
    dout = rs.randn(*x.shape)
    yield _rel_check("the notebook's test (seed 231): dx vs the exact gradient", PUBLIC,
                     ctx.reference.sigmoid_backward(dout, x), ctx.call("sigmoid_backward", x=x, dout=dout)["dx"],
                     ctx.params["tol"])
    rng = ctx.rng("sigmoid_backward")
    for i in range(_hidden(ctx)):
        x = rng.standard_normal((int(rng.integers(1, 9)), int(rng.integers(1, 9)))) * 3
        dout = rng.standard_normal(x.shape)
        yield _rel_check(f"hidden case {i + 1}: x of shape {x.shape} vs the reference", HIDDEN,
                         ctx.reference.sigmoid_backward(dout, x),
                         ctx.call("sigmoid_backward", x=x, dout=dout)["dx"], ctx.params["tol"])


def _affine_relu_case(ctx: TaskContext, visibility: Visibility, name: str, x, w, b, dout,
                      stand_ins: bool) -> CheckResult:
    out, cache = ctx.reference.affine_relu_forward(x, w, b)
    dx, dw, db = ctx.reference.affine_relu_backward(dout, cache)
    got = ctx.call("affine_relu", x=x, w=w, b=b, dout=dout, stand_ins=stand_ins)
    return _grads_check(name, visibility, {"out": out, "dx": dx, "dw": dw, "db": db}, got, ctx.params["tol"],
                        () if stand_ins else ("T1", "T2", "T3", "T4"))


def affine_relu(ctx: TaskContext) -> Iterator[CheckResult]:
    """The sandwich is judged with textbook affine/ReLU layers standing in for the student's (so a
    bug there does not cost this task), and once as it is, counted when T1-T4 pass."""
    rs = np.random.RandomState(231)
    x, w, b, dout = rs.randn(2, 3, 4), rs.randn(12, 10), rs.randn(10), rs.randn(2, 10)
    yield _affine_relu_case(ctx, PUBLIC, "the notebook's test (seed 231), on textbook affine/ReLU layers: out, dx, "
                            "dw, db vs the reference", x, w, b, dout, stand_ins=True)
    yield _affine_relu_case(ctx, PUBLIC, "the notebook's test (seed 231), on your own affine/ReLU layers", x, w, b,
                            dout, stand_ins=False)
    rng = ctx.rng("affine_relu")
    for i in range(_hidden(ctx)):
        n, d, m = (int(v) for v in rng.integers(2, 9, size=3))
        x, w = rng.standard_normal((n, d)), rng.standard_normal((d, m))
        b, dout = rng.standard_normal(m), rng.standard_normal((n, m))
        yield _affine_relu_case(ctx, HIDDEN, f"hidden case {i + 1}: x {x.shape}, w {w.shape}, on textbook "
                                "affine/ReLU layers, vs the reference", x, w, b, dout, stand_ins=True)


# --- batch normalisation -----------------------------------------------------------------------


def _two_layer_activations(rs: np.random.RandomState, W1: np.ndarray, W2: np.ndarray, n: int = 200) -> np.ndarray:
    X = rs.randn(n, W1.shape[0])
    return np.maximum(0, X.dot(W1)).dot(W2)


def batchnorm_forward(ctx: TaskContext) -> Iterator[CheckResult]:
    p = ctx.params
    rs = np.random.RandomState(231)
    X = rs.randn(200, 50)
    W1, W2 = rs.randn(50, 60), rs.randn(60, 3)
    a = np.maximum(0, X.dot(W1)).dot(W2)
    for gamma, beta in ((np.ones(3), np.zeros(3)), (np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0]))):
        out = np.asarray(ctx.call("batchnorm_train", x=a, gamma=gamma, beta=beta)["out"], dtype=float)
        label = f"gamma={gamma.tolist()}, beta={beta.tolist()}"
        if out.shape != a.shape:
            yield verdict(f"train mode ({label}): output shape", PUBLIC, False, expected=a.shape, got=out.shape,
                          message=f"expected shape {a.shape}, got {out.shape}")
            continue
        yield compare_arrays(f"train mode ({label}): feature means equal beta", PUBLIC, beta, out.mean(axis=0),
                             rtol=0, atol=p["mean_tol"] * max(1.0, float(np.abs(beta).max())))
        yield compare_arrays(f"train mode ({label}): feature stds equal gamma", PUBLIC, gamma, out.std(axis=0),
                             rtol=p["std_tol"], atol=0)
    # the notebook's test-time check: 50 train-mode passes warm up the running averages
    rs = np.random.RandomState(231)
    W1, W2 = rs.randn(50, 60), rs.randn(60, 3)
    batches = np.stack([_two_layer_activations(rs, W1, W2) for _ in range(50)])
    x_test = _two_layer_activations(rs, W1, W2)
    gamma, beta = np.ones(3), np.zeros(3)
    param: dict[str, Any] = {"mode": "train"}
    for batch in batches:
        ctx.reference.batchnorm_forward(batch, gamma, beta, param)
    param["mode"] = "test"
    expected, _ = ctx.reference.batchnorm_forward(x_test, gamma, beta, param)
    got = ctx.call("batchnorm_warmup", batches=batches, gamma=gamma, beta=beta, x_test=x_test)
    yield compare_arrays("test mode after the notebook's 50 warm-up batches: running mean", PUBLIC,
                         param["running_mean"], got["running_mean"], rtol=p["rtol"], atol=1e-9)
    yield compare_arrays("test mode after the notebook's 50 warm-up batches: running variance", PUBLIC,
                         param["running_var"], got["running_var"], rtol=p["rtol"], atol=1e-9)
    yield compare_arrays("test mode after the notebook's 50 warm-up batches: output (means ~0, stds ~1)", PUBLIC,
                         expected, got["out"], rtol=p["rtol"], atol=1e-9)
    rng = ctx.rng("batchnorm_forward")
    for i in range(_hidden(ctx)):
        n, d = int(rng.integers(3, 30)), int(rng.integers(1, 8))
        x = rng.standard_normal((n, d)) * rng.uniform(0.5, 5, size=d) + rng.uniform(-10, 10, size=d)
        gamma, beta = rng.uniform(0.2, 3, size=d), rng.standard_normal(d)
        momentum = float(rng.uniform(0.5, 0.99))
        start_mean, start_var = rng.standard_normal(d), rng.uniform(0.5, 2, size=d)
        param = {"mode": "train", "momentum": momentum, "running_mean": start_mean.copy(),
                 "running_var": start_var.copy()}
        expected, _ = ctx.reference.batchnorm_forward(x, gamma, beta, param)
        got = ctx.call("batchnorm_train", x=x, gamma=gamma, beta=beta, momentum=momentum, running_mean=start_mean,
                       running_var=start_var)
        yield _grads_check(f"hidden case {i + 1}: train mode, x {x.shape}, momentum {momentum:.3f}: out and "
                           "running averages vs the reference", HIDDEN,
                           {"out": expected, "running_mean": param["running_mean"],
                            "running_var": param["running_var"]}, got, p["rtol"])
        # test mode with a real gamma and beta (the notebook's own test-mode check uses 1 and 0)
        x_test = rng.standard_normal((int(rng.integers(2, 10)), d)) * 2.0 + 1.0
        warm: dict[str, Any] = {"mode": "train"}
        ctx.reference.batchnorm_forward(x, gamma, beta, warm)
        warm["mode"] = "test"
        expected_test, _ = ctx.reference.batchnorm_forward(x_test, gamma, beta, warm)
        got_test = ctx.call("batchnorm_warmup", batches=x[None], gamma=gamma, beta=beta, x_test=x_test)
        yield compare_arrays(f"hidden case {i + 1}: test mode after one train pass, gamma and beta applied: out "
                             "vs the reference", HIDDEN, expected_test, got_test["out"], rtol=p["rtol"], atol=1e-9)


def _bn_backward_case(ctx: TaskContext, visibility: Visibility, name: str, x, gamma, beta, dout) -> CheckResult:
    _, cache = ctx.reference.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = ctx.reference.batchnorm_backward(dout, cache)
    got = ctx.call("batchnorm_backward", x=x, gamma=gamma, beta=beta, dout=dout)
    return _grads_check(name, visibility, {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}, got, ctx.params["tol"])


def batchnorm_backward(ctx: TaskContext) -> Iterator[CheckResult]:
    rs = np.random.RandomState(231)
    x = 5 * rs.randn(4, 5) + 12
    gamma, beta, dout = rs.randn(5), rs.randn(5), rs.randn(4, 5)
    yield _bn_backward_case(ctx, PUBLIC, "the notebook's test (seed 231): dx, dgamma, dbeta vs the exact gradients",
                            x, gamma, beta, dout)
    rng = ctx.rng("batchnorm_backward")
    for i in range(_hidden(ctx)):
        n, d = int(rng.integers(2, 12)), int(rng.integers(1, 8))
        x = rng.standard_normal((n, d)) * rng.uniform(0.01, 3, size=d) + rng.uniform(-5, 5, size=d)
        gamma, beta, dout = rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal((n, d))
        yield _bn_backward_case(ctx, HIDDEN, f"hidden case {i + 1}: x of shape {x.shape} vs the reference", x, gamma,
                                beta, dout)


# --- losses ----------------------------------------------------------------------------------------


def _loss_case(ctx: TaskContext, probe: str, visibility: Visibility, name: str, x, y) -> Iterator[CheckResult]:
    loss, dx = getattr(ctx.reference, probe)(x, y)
    got = ctx.call(probe, x=x, y=y)
    yield compare_arrays(f"{name}: loss", visibility, loss, np.asarray(got["loss"]).reshape(()),
                         rtol=ctx.params["loss_rtol"], atol=1e-12)
    yield _rel_check(f"{name}: dx", visibility, dx, got["dx"], ctx.params["dx_tol"])


def softmax_loss(ctx: TaskContext) -> Iterator[CheckResult]:
    rs = np.random.RandomState(231)
    x = 0.001 * rs.randn(50, 10)
    y = rs.randint(10, size=50)
    yield from _loss_case(ctx, "softmax_loss", PUBLIC, "the notebook's test (seed 231; loss ~2.3)", x, y)
    rng = ctx.rng("softmax_loss")
    for i in range(_hidden(ctx)):
        n, c = int(rng.integers(1, 30)), int(rng.integers(2, 12))
        x = rng.standard_normal((n, c)) * float(rng.choice([0.01, 1.0, 50.0]))  # large scores: must stay finite
        y = rng.integers(0, c, size=n)
        yield from _loss_case(ctx, "softmax_loss", HIDDEN, f"hidden case {i + 1} ({n}x{c} scores)", x, y)


def mse_loss(ctx: TaskContext) -> Iterator[CheckResult]:
    rs = np.random.RandomState(231)
    x, y = rs.randn(50), rs.randn(50)
    yield from _loss_case(ctx, "mse_loss", PUBLIC, "the notebook's test (seed 231; loss ~1.9)", x, y)
    rng = ctx.rng("mse_loss")
    for i in range(_hidden(ctx)):
        n = int(rng.integers(1, 60))
        x, y = rng.standard_normal(n) * 3, rng.standard_normal(n) + 1
        yield from _loss_case(ctx, "mse_loss", HIDDEN, f"hidden case {i + 1} (N={n})", x, y)


# --- FullyConnectedNet ----------------------------------------------------------------------------


def _normal(rs: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws from a legacy RandomState (the notebook's sequence) or a Generator (hidden inputs)."""
    return rs.randn(*shape) if isinstance(rs, np.random.RandomState) else rs.standard_normal(shape)


def _fcn_params(rs: Any, dims: list[int], normalization: list[bool], weight_scale: float,
                random_bn: bool = False) -> dict[str, np.ndarray]:
    """Parameters in the order the notebook's init draws them (only W is random there)."""
    params: dict[str, np.ndarray] = {}
    layers = len(dims) - 1
    for i in range(layers):
        params[f"W{i + 1}"] = weight_scale * _normal(rs, (dims[i], dims[i + 1]))
        params[f"b{i + 1}"] = 0.1 * _normal(rs, (dims[i + 1],)) if random_bn else np.zeros(dims[i + 1])
        if i < layers - 1 and normalization[i]:
            if random_bn:
                params[f"gamma{i + 1}"] = rs.uniform(0.5, 1.5, size=dims[i + 1])
                params[f"beta{i + 1}"] = 0.1 * _normal(rs, (dims[i + 1],))
            else:
                params[f"gamma{i + 1}"] = np.ones(dims[i + 1])
                params[f"beta{i + 1}"] = np.zeros(dims[i + 1])
    return params


def _reference_run(ctx: TaskContext, category: str, dims: list[int], normalization: list[bool], reg: float,
                   params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    model = ctx.reference.FullyConnectedNet(category, dims[1:-1], normalization, input_dim=dims[0],
                                            output_dim=dims[-1], reg=reg, weight_scale=1e-2, dtype=np.float64)
    model.params = {k: v.copy() for k, v in params.items()}
    loss, grads = model.loss(X, y)
    return {"loss": loss, "grads": grads, "scores": model.loss(X)}


def _spec(category: str, dims: list[int], normalization: list[bool], reg: float, weight_scale: float) -> dict:
    return {"category": category, "hidden_dims": dims[1:-1], "normalization": normalization, "input_dim": dims[0],
            "output_dim": dims[-1], "reg": reg, "weight_scale": weight_scale}


def _fcn_call(ctx: TaskContext, name: str, visibility: Visibility, depends_on: tuple[str, ...], spec: dict,
              params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
              numeric: bool) -> tuple[dict[str, Any] | None, CheckResult | None]:
    """The student's net on the grader's parameters; an exception it raises fails this check only."""
    inputs = {**spec, "X": X, "y": y, "numeric": numeric, **params}
    outcome = ctx.outcome("fcn", **inputs)
    if outcome.ok:
        return outcome.data, None
    if outcome.status != "error" or not outcome.error:
        ctx.call("fcn", **inputs)  # a hang or a crash ends the task (the outcome is cached)
    error = outcome.error or {}
    where = next((line for line in reversed(error.get("traceback", [])) if line.startswith("File")), "")
    return None, verdict(name, visibility, False, got=str(error.get("type")),
                         message=f"model.loss raised {error.get('type')}: {error.get('message')}"
                                 + (f" ({where})" if where else ""), depends_on=depends_on)


def _init_check(got: dict[str, Any], dims: list[int], normalization: list[bool], weight_scale: float) -> CheckResult:
    """The student's own initialisation: the parameters the architecture needs, shaped and drawn as asked."""
    name = (f"initial parameters for dims {dims}, batch norm {normalization}, weight_scale {weight_scale:g}: "
            "names, shapes, W ~ N(0, weight_scale), b = 0, gamma = 1, beta = 0")
    init = {k[len("init/"):]: np.asarray(v) for k, v in got.items() if k.startswith("init/")}
    expected = _fcn_params(np.random.RandomState(0), dims, normalization, weight_scale)
    problems = []
    missing = sorted(set(expected) - set(init))
    extra = sorted(set(init) - set(expected))
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected {', '.join(extra)}" + (" (batch norm parameters where normalization is False?)"
                                                           if any(e.startswith(("gamma", "beta")) for e in extra)
                                                           else ""))
    for key, exp in expected.items():
        if key not in init:
            continue
        value = init[key]
        if value.shape != exp.shape:
            problems.append(f"{key} has shape {value.shape}, expected {exp.shape}")
        elif key.startswith("W"):
            std, mean = float(value.std()), float(value.mean())
            if not (0.75 * weight_scale < std < 1.25 * weight_scale) or abs(mean) > 5 * weight_scale / np.sqrt(
                    value.size):
                problems.append(f"{key} has mean {mean:.3g} and std {std:.3g}; expected 0 and {weight_scale:g}")
        elif not np.allclose(value, exp):
            problems.append(f"{key} should start at {'ones' if key.startswith('gamma') else 'zeros'}")
    return verdict(name, PUBLIC, not problems, expected=sorted(expected), got=sorted(init),
                   message="; ".join(problems) or "as required")


def _fcn_compare(ctx: TaskContext, name: str, visibility: Visibility, reference: dict[str, Any],
                 got: dict[str, Any], depends_on: tuple[str, ...]) -> CheckResult:
    rtol, atol = ctx.params["rtol"], ctx.params["atol"]
    expected = {"loss": np.asarray(reference["loss"]), "scores": reference["scores"],
                **{f"grad/{k}": v for k, v in reference["grads"].items()}}
    for key, exp in expected.items():
        value = got.get(key)
        if value is None:
            return verdict(name, visibility, False, message=f"model.loss returned no {key.replace('grad/', 'grads')}"
                           f"{'[' + repr(key[5:]) + ']' if key.startswith('grad/') else ''}",
                           depends_on=depends_on)
        check = compare_arrays(f"{name}: {key}", visibility, exp, np.asarray(value).reshape(np.shape(exp))
                               if np.size(value) == np.size(exp) else value, rtol=rtol, atol=atol,
                               depends_on=depends_on)
        if not check.passed:
            return CheckResult(name, visibility, False, check.expected, check.got, f"{key}: {check.message}",
                               depends_on)
    return verdict(name, visibility, True, expected=f"loss {float(reference['loss']):.10g}",
                   got=f"loss {float(np.asarray(got['loss']).reshape(-1)[0]):.10g}",
                   message="loss, every gradient and the test-mode scores match", depends_on=depends_on)


def _numeric_check(ctx: TaskContext, name: str, got: dict[str, Any], depends_on: tuple[str, ...]) -> CheckResult:
    analytic = {k[len("grad/"):]: v for k, v in got.items() if k.startswith("grad/")}
    numeric = {k[len("num/"):]: v for k, v in got.items() if k.startswith("num/")}
    return _grads_check(name, PUBLIC, numeric, analytic, ctx.params["numeric_tol"], depends_on)


def _fcn(ctx: TaskContext, batchnorm: bool) -> Iterator[CheckResult]:
    deps = FCN_BN_LAYERS if batchnorm else FCN_LAYERS
    label = "with batch norm" if batchnorm else "without batch norm"
    # the notebook's gradient-check cell: seed 231, N=2, D=15, hidden [20, 30], C=10, weight_scale 5e-2
    rs = np.random.RandomState(231)
    X, y = rs.randn(2, 15), rs.randint(10, size=2)
    dims, normalization = [15, 20, 30, 10], [batchnorm, batchnorm]
    params = _fcn_params(rs, dims, normalization, 5e-2)
    yield _init_check(ctx.call("fcn_init", **_spec("classification", dims, normalization, 0.0, 5e-2)), dims,
                      normalization, 5e-2)
    for reg in (0.0, 3.14):
        name = (f"the notebook's check (seed 231, {label}), reg={reg:g}: initial loss, gradients and scores vs the "
                "reference on the same parameters")
        got, failed = _fcn_call(ctx, name, PUBLIC, deps, _spec("classification", dims, normalization, reg, 5e-2),
                                params, X, y, numeric=True)
        if got is None:
            yield failed
            continue
        reference = _reference_run(ctx, "classification", dims, normalization, reg, params, X, y)
        yield _fcn_compare(ctx, name, PUBLIC, reference, got, deps)
        yield _numeric_check(ctx, f"the notebook's gradient check, reg={reg:g}: your gradients vs numeric "
                             "gradients of your own loss", got, deps)
    rng = ctx.rng("fcn_batchnorm" if batchnorm else "fcn_plain")
    for i in range(_hidden(ctx)):
        hidden = [int(h) for h in rng.integers(3, 10, size=int(rng.integers(1, 4)))]
        regression = not batchnorm and i == 1
        dims = [int(rng.integers(3, 9)), *hidden, 1 if regression else int(rng.integers(3, 10))]
        normalization = [bool(v) for v in rng.integers(0, 2, size=len(hidden))] if batchnorm else \
            [False] * len(hidden)
        if batchnorm:
            normalization[0] = True
        n = int(rng.integers(3, 9))
        X = rng.standard_normal((n, dims[0]))
        y = rng.standard_normal(n) if regression else rng.integers(0, dims[-1], size=n)
        reg = float(rng.choice([0.0, rng.uniform(0.01, 2.0)]))
        params = _fcn_params(rng, dims, normalization, 0.5, random_bn=True)
        category = "regression" if regression else "classification"
        name = (f"hidden case {i + 1}: {category}, dims {dims}, batch norm {normalization}, reg {reg:.3g}, "
                "vs the reference")
        case_deps = (*deps, "T11") if regression else deps
        got, failed = _fcn_call(ctx, name, HIDDEN, case_deps, _spec(category, dims, normalization, reg, 0.5), params,
                                X, y, numeric=False)
        if got is None:
            yield failed
            continue
        reference = _reference_run(ctx, category, dims, normalization, reg, params, X, y)
        yield _fcn_compare(ctx, name, HIDDEN, reference, got, case_deps)


def fcn_plain(ctx: TaskContext) -> Iterator[CheckResult]:
    yield from _fcn(ctx, batchnorm=False)


def fcn_batchnorm(ctx: TaskContext) -> Iterator[CheckResult]:
    yield from _fcn(ctx, batchnorm=True)


# --- update rule ----------------------------------------------------------------------------------


def sgd_momentum(ctx: TaskContext) -> Iterator[CheckResult]:
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    got = ctx.call("sgd_momentum", w=w, dw=dw, v=v, learning_rate=1e-3)
    yield _grads_check("the notebook's test: next_w and velocity vs the published expected values", PUBLIC,
                       {"next_w": expected_next_w, "velocity": expected_velocity}, got, ctx.params["public_tol"])
    rng = ctx.rng("sgd_momentum")
    for i in range(_hidden(ctx)):
        shape = (int(rng.integers(1, 7)), int(rng.integers(1, 7)))
        w, dw, v = (rng.standard_normal(shape) for _ in range(3))
        lr, mu = float(rng.uniform(1e-4, 1e-1)), float(rng.uniform(0.5, 0.99))
        config = {"learning_rate": lr, "momentum": mu, "velocity": v.copy()}
        next_w, config = ctx.reference.sgd_momentum(w.copy(), dw, config)
        got = ctx.call("sgd_momentum", w=w, dw=dw, v=v, learning_rate=lr, momentum=mu)
        yield _grads_check(f"hidden case {i + 1}: shape {shape}, learning rate {lr:.3g}, momentum {mu:.3f}, vs the "
                           "reference", HIDDEN, {"next_w": next_w, "velocity": config["velocity"]}, got, 1e-9)


# --- trained models, measured by the grader -------------------------------------------------------

_helpers: dict[str, Any] = {}


def _helper(name: str) -> Any:
    """The handout's own data code (Helper_codes), loaded once in the grader: the same split and scaling."""
    if name not in _helpers:
        spec = importlib.util.spec_from_file_location(f"grader_pa6_{name}", HELPERS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _helpers[name] = module
    return _helpers[name]


_splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def mnist_validation(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The notebook's validation split, normalised as the notebook does (cached per process)."""
    if "mnist" not in _splits:
        data = _helper("MNIST_data")
        X_train, _, X_val, y_val, X_test, _ = data.get_MNIST_data(str(mnist_dir))
        _, X_val, _ = data.get_normalized_MNIST_data(X_train, X_val, X_test[:1])
        _splits["mnist"] = (X_val.astype(np.float32), y_val)
    return _splits["mnist"]


def diabetes_validation() -> tuple[np.ndarray, np.ndarray]:
    if "diabetes" not in _splits:
        data = _helper("diabetes")
        X_train, _, X_val, y_val, X_test, _ = data.get_diabetes_data()
        _, X_val, _ = data.get_diabetes_normalized_data(X_train, X_val, X_test)
        _splits["diabetes"] = (X_val, y_val)
    return _splits["diabetes"]


def mnist_model(ctx: TaskContext) -> Iterator[CheckResult]:
    X_val, y_val = mnist_validation(ctx.rubric.data["mnist_data"])
    variable = ctx.params["variable"]
    out = np.asarray(ctx.call("model_outputs", variable=variable, X=X_val)["out"])
    if out.shape != (len(y_val), 10):
        yield verdict(f"{variable}.loss(X_val) gives class scores", PUBLIC, False, expected=(len(y_val), 10),
                      got=out.shape, message=f"expected scores of shape {(len(y_val), 10)}, got {out.shape}")
        return
    accuracy = float(np.mean(np.argmax(out, axis=1) == y_val))
    minimum = float(ctx.params["val_min"])
    yield verdict(f"validation accuracy measured by the grader (10,000 images) >= {minimum:g}", PUBLIC,
                  accuracy >= minimum, expected=f">= {minimum:g}", got=round(accuracy, 4),
                  message=f"{accuracy:.4f} of the validation images classified correctly")


def regression_model(ctx: TaskContext) -> Iterator[CheckResult]:
    X_val, y_val = diabetes_validation()
    variable = ctx.params["variable"]
    got = ctx.call("model_outputs", variable=variable, X=X_val)
    out = np.asarray(got["out"])
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != y_val.shape:
        kind = "" if int(np.asarray(got["regression"]).reshape(-1)[0]) else \
            " (is the model built as 'classification' rather than 'regression'?)"
        yield verdict(f"{variable}.loss(X_val) gives one predicted value per row", PUBLIC, False,
                      expected=y_val.shape, got=out.shape,
                      message=f"expected predictions of shape {y_val.shape}, got {out.shape}{kind}")
        return
    rms = float(np.sqrt(np.mean((out - y_val) ** 2))) if np.all(np.isfinite(out)) else float("inf")
    maximum = float(ctx.params["val_rms_max"])
    yield verdict(f"validation RMS error measured by the grader (standardised targets) <= {maximum:g}", PUBLIC,
                  rms <= maximum, expected=f"<= {maximum:g}", got=round(rms, 4),
                  message=f"RMS error {rms:.4f} on the {len(y_val)} validation rows (predicting the mean gives ~1.0)")
