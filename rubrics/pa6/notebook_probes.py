"""PA6 probes: run in a fork of the student's kernel after its notebook ran, against its globals.

Each probe calls the functions the student defined in the notebook and hands back raw
numbers. Nothing here knows an expected value. Caches the docstrings define (affine: (x, w, b);
ReLU and sigmoid: x) are built here, so a backward pass is judged without the student's
forward; other caches (affine_relu, batch norm) are the student's own forward's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.execution.probe_api import (
    ContractError,
    Student,
    as_numbers,
    expect_tuple,
    notebook_function,
    notebook_value,
)

_MAX_PARAMS = 64


def _call(student: Student, name: str, *args: Any, returns: int, **kwargs: Any) -> tuple:
    result = notebook_function(student, name)(*args, **kwargs)
    if returns == 1:
        return (result,)
    return expect_tuple(result, returns, f"{name}(...)")


def probe_affine_forward(student: Student, x, w, b) -> dict[str, Any]:
    out, _ = _call(student, "affine_forward", x, w, b, returns=2)
    return {"out": as_numbers(out, "affine_forward's out")}


def probe_affine_backward(student: Student, x, w, b, dout) -> dict[str, Any]:
    dx, dw, db = _call(student, "affine_backward", dout, (x, w, b), returns=3)
    return {"dx": as_numbers(dx, "dx"), "dw": as_numbers(dw, "dw"), "db": as_numbers(db, "db")}


def probe_relu_forward(student: Student, x) -> dict[str, Any]:
    out, _ = _call(student, "relu_forward", x, returns=2)
    return {"out": as_numbers(out, "relu_forward's out")}


def probe_relu_backward(student: Student, x, dout) -> dict[str, Any]:
    (dx,) = _call(student, "relu_backward", dout, x, returns=1)
    return {"dx": as_numbers(dx, "relu_backward's dx")}


def probe_sigmoid_forward(student: Student, x) -> dict[str, Any]:
    out, _ = _call(student, "sigmoid_forward", x, returns=2)
    return {"out": as_numbers(out, "sigmoid_forward's out")}


def probe_sigmoid_backward(student: Student, x, dout) -> dict[str, Any]:
    (dx,) = _call(student, "sigmoid_backward", dout, x, returns=1)
    return {"dx": as_numbers(dx, "sigmoid_backward's dx")}


def _stand_in_layers(student: Student) -> None:
    """Replace the layers the sandwich is built from by textbook ones, in this forked child only,
    so the sandwich is judged on its own wiring even when the student's affine or ReLU is wrong."""

    def affine_forward(x, w, b):
        return x.reshape(x.shape[0], -1).dot(w) + b, (x, w, b)

    def affine_backward(dout, cache):
        x, w, _ = cache
        return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout), dout.sum(axis=0)

    def relu_forward(x):
        return np.maximum(0, x), x

    def relu_backward(dout, cache):
        return dout * (cache > 0)

    for name in ("affine_relu_forward", "affine_relu_backward"):
        namespace = notebook_function(student, name).__globals__
        namespace.update(affine_forward=affine_forward, affine_backward=affine_backward, relu_forward=relu_forward,
                         relu_backward=relu_backward)


def probe_affine_relu(student: Student, x, w, b, dout, stand_ins=False) -> dict[str, Any]:
    if stand_ins:
        _stand_in_layers(student)
    out, cache = _call(student, "affine_relu_forward", x, w, b, returns=2)
    dx, dw, db = _call(student, "affine_relu_backward", dout, cache, returns=3)
    return {"out": as_numbers(out, "affine_relu_forward's out"), "dx": as_numbers(dx, "dx"), "dw": as_numbers(dw, "dw"),
            "db": as_numbers(db, "db")}


def _bn_param(mode: str, momentum: float | None, running_mean, running_var) -> dict[str, Any]:
    param: dict[str, Any] = {"mode": mode}
    if momentum is not None:
        param["momentum"] = momentum
    if running_mean is not None:
        param["running_mean"] = np.array(running_mean)
        param["running_var"] = np.array(running_var)
    return param


def probe_batchnorm_train(student: Student, x, gamma, beta, momentum=None, running_mean=None,
                          running_var=None) -> dict[str, Any]:
    param = _bn_param("train", momentum, running_mean, running_var)
    out, _ = _call(student, "batchnorm_forward", x, gamma, beta, param, returns=2)
    return {"out": as_numbers(out, "batchnorm_forward's out"),
            "running_mean": as_numbers(param.get("running_mean"), "bn_param['running_mean']"),
            "running_var": as_numbers(param.get("running_var"), "bn_param['running_var']")}


def probe_batchnorm_warmup(student: Student, batches, gamma, beta, x_test) -> dict[str, Any]:
    """The notebook's test-mode check: train-mode passes to warm up the averages, then one test pass."""
    forward = notebook_function(student, "batchnorm_forward")
    param: dict[str, Any] = {"mode": "train"}
    for batch in batches:
        forward(batch, gamma, beta, param)
    param["mode"] = "test"
    out, _ = expect_tuple(forward(x_test, gamma, beta, param), 2, "batchnorm_forward(...)")
    return {"out": as_numbers(out, "batchnorm_forward's test-mode out"),
            "running_mean": as_numbers(param.get("running_mean"), "bn_param['running_mean']"),
            "running_var": as_numbers(param.get("running_var"), "bn_param['running_var']")}


def probe_batchnorm_backward(student: Student, x, gamma, beta, dout) -> dict[str, Any]:
    _, cache = _call(student, "batchnorm_forward", x, gamma, beta, {"mode": "train"}, returns=2)
    dx, dgamma, dbeta = _call(student, "batchnorm_backward", dout, cache, returns=3)
    return {"dx": as_numbers(dx, "dx"), "dgamma": as_numbers(dgamma, "dgamma"), "dbeta": as_numbers(dbeta, "dbeta")}


def probe_softmax_loss(student: Student, x, y) -> dict[str, Any]:
    loss, dx = _call(student, "softmax_loss", x, y, returns=2)
    return {"loss": as_numbers(loss, "softmax_loss's loss"), "dx": as_numbers(dx, "softmax_loss's dx")}


def probe_mse_loss(student: Student, x, y) -> dict[str, Any]:
    loss, dx = _call(student, "mse_loss", x, y, returns=2)
    return {"loss": as_numbers(loss, "mse_loss's loss"), "dx": as_numbers(dx, "mse_loss's dx")}


def probe_sgd_momentum(student: Student, w, dw, v, learning_rate, momentum=None) -> dict[str, Any]:
    config: dict[str, Any] = {"learning_rate": learning_rate, "velocity": np.array(v)}
    if momentum is not None:
        config["momentum"] = momentum
    next_w, config_out = _call(student, "sgd_momentum", np.array(w), dw, config=config, returns=2)
    velocity = config_out.get("velocity") if isinstance(config_out, dict) else None
    return {"next_w": as_numbers(next_w, "next_w"), "velocity": as_numbers(velocity, "config['velocity']")}


def _numeric_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        plus = f()
        x[ix] = old - h
        minus = f()
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def _model(student: Student, category, hidden_dims, normalization, input_dim, output_dim, reg,
           weight_scale) -> Any:
    net_class = student.cls("FullyConnectedNet")
    model = net_class(category, list(hidden_dims), list(normalization), input_dim=int(input_dim),
                      output_dim=int(output_dim), reg=float(reg), weight_scale=float(weight_scale),
                      dtype=np.float64)
    if not isinstance(getattr(model, "params", None), dict):
        raise ContractError("FullyConnectedNet has no params dictionary")
    return model


def probe_fcn_init(student: Student, **spec) -> dict[str, Any]:
    """The student's own initial parameters (names, shapes and values)."""
    own = _model(student, **spec).params
    if len(own) > _MAX_PARAMS:
        raise ContractError(f"FullyConnectedNet has {len(own)} parameters; expected at most {_MAX_PARAMS}")
    return {f"init/{name}": as_numbers(value, f"params[{name!r}]") for name, value in own.items()}


def probe_fcn(student: Student, category, hidden_dims, normalization, input_dim, output_dim, reg, weight_scale,
              X, y, numeric=False, **params) -> dict[str, Any]:
    """Load the grader's parameters into the student's net (so its loss is comparable with the
    reference's) and report the loss, the gradients, a test-mode forward pass right after, and
    optionally the numeric gradients of its own loss."""
    model = _model(student, category, hidden_dims, normalization, input_dim, output_dim, reg, weight_scale)
    for name, value in params.items():
        model.params[name] = np.array(value, dtype=np.float64)
    loss, grads = expect_tuple(model.loss(X, y), 2, "model.loss(X, y)")
    result: dict[str, Any] = {"loss": as_numbers(loss, "the loss")}
    if not isinstance(grads, dict):
        raise ContractError(f"model.loss(X, y) should return (loss, grads dict), got grads of {type(grads).__name__}")
    for name in params:
        if name in grads:
            result[f"grad/{name}"] = as_numbers(grads[name], f"grads[{name!r}]")
    result["scores"] = as_numbers(model.loss(X), "model.loss(X) (test mode)")
    if numeric:
        for name in params:
            result[f"num/{name}"] = _numeric_gradient(lambda: float(model.loss(X, y)[0]), model.params[name])
    return result


def probe_model_outputs(student: Student, variable, X) -> dict[str, Any]:
    """The trained model's test-mode outputs (scores or predicted values), 1,000 rows at a time."""
    model = notebook_value(student, variable)
    loss = getattr(model, "loss", None)
    if not callable(loss):
        raise ContractError(f"{variable} is a {type(model).__name__}, not a FullyConnectedNet")
    outputs = [as_numbers(loss(X[i:i + 1000]), f"{variable}.loss(X)") for i in range(0, len(X), 1000)]
    regression = getattr(model, "category", None) == "regression"
    return {"out": np.concatenate(outputs), "regression": np.array(regression, dtype=np.int64)}
