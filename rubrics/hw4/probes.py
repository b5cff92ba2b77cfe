"""HW4 probes: drive the student's TwoLayerNet inside the student process and return raw numbers.

This file runs next to student code, so it holds no expected values and judges nothing. Each
probe builds the net from parameters the grader sends (so a task never depends on the
student's initialisation) and returns plain arrays. Stubs replace `loss`/`predict` where a
task must be observed on its own (T8–T10).

Methods are called the way the starter's signatures allow: real code renames parameters
(`x` for `X`, `Y` for `y`, `inputSize` for `input_size`), so an argument whose name the
submission changed is passed by position, never by a keyword it would reject (`starter_call`).
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grader.execution.probe_api import ContractError, Student, expect_tuple

PARAMS = ("W1", "b1", "W2", "b2")
# the starter's parameter names, in its order (reference/hw4/starter/cattern/neural_net.py)
INIT_ARGS = ("input_size", "hidden_size", "output_size", "std")
LOSS_ARGS = ("X", "y", "reg")
TRAIN_ARGS = ("X", "y", "X_val", "y_val", "learning_rate", "learning_rate_decay", "reg", "num_iters", "batch_size",
              "verbose")


def starter_call(method: Callable[..., Any], names: Sequence[str], values: Sequence[Any]) -> Any:
    """Call `method` with the starter's arguments `names` = `values`, as the submission can take them.

    The longest tail of names the submission's signature still spells the starter's way goes by
    keyword (robust to reordered or inserted optional parameters); everything before it goes by
    position, which the starter's order allows whatever the submission called those parameters.
    """
    try:
        accepted = {name for name, p in inspect.signature(method).parameters.items()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    except (TypeError, ValueError):  # no signature to read: the starter's order
        return method(*values)
    first_keyword = len(names)
    while first_keyword > 0 and names[first_keyword - 1] in accepted:
        first_keyword -= 1
    return method(*values[:first_keyword], **dict(zip(names[first_keyword:], values[first_keyword:], strict=True)))


def _array(value: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything unconvertible is the student's answer
        raise ContractError(f"{what} returned {type(value).__name__}, which is not an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ContractError(f"{what} returned {type(value).__name__} with dtype {arr.dtype}, expected numbers")
    return np.array(arr, copy=True)


def _net(student: Student, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> Any:
    """The student's net holding the grader's parameters, in the shapes its own __init__ chose.

    A bias the submission keeps as a (1, H) row gets the grader's (H,) values as a (1, H) row, so
    code written for its own layout runs unchanged (the grader reads every array back by size).
    """
    cls = student.cls()
    net = cls(W1.shape[0], W1.shape[1], W2.shape[1])
    values = {"W1": W1.copy(), "b1": b1.copy(), "W2": W2.copy(), "b2": b2.copy()}
    own = getattr(net, "params", None)
    if isinstance(own, dict):
        for name, value in values.items():
            shape = getattr(own.get(name), "shape", None)
            if shape is not None and tuple(shape) != value.shape and math.prod(shape) == value.size \
                    and _squeezed(shape) == _squeezed(value.shape):
                values[name] = value.reshape(shape)
        own.update(values)
    else:
        net.params = values
    return net


def _squeezed(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


def _loss_value(out: Any, what: str) -> float:
    loss, _ = expect_tuple(out, 2, what)
    arr = _array(loss, what + " (the loss)")
    if arr.size != 1:
        raise ContractError(f"{what} should return a scalar loss, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def probe_scores(student: Student, W1, b1, W2, b2, X) -> dict[str, Any]:
    """T5 (and the 'own scores' that T6 and T11 are judged against): loss(X) without labels."""
    net = _net(student, W1, b1, W2, b2)
    out = net.loss(X)  # the starter's first parameter: positional whatever its name
    if isinstance(out, tuple):
        raise ContractError("loss(X) without y should return the scores array, got a tuple")
    return {"scores": _array(out, "loss(X)")}


def probe_loss(student: Student, W1, b1, W2, b2, X, y, reg: float) -> dict[str, Any]:
    """T6/T7: loss(X, y, reg) -> (loss, grads). Gradients are returned when present, judged by T7."""
    net = _net(student, W1, b1, W2, b2)
    out = starter_call(net.loss, LOSS_ARGS, (X, y, reg))
    what = "loss(X, y, reg)"
    result: dict[str, Any] = {"loss": np.float64(_loss_value(out, what))}
    grads = out[1]
    if isinstance(grads, dict):
        for name in PARAMS:
            if name in grads and grads[name] is not None:
                result["grad_" + name] = _array(grads[name], f"grads[{name!r}]")
    return result


def probe_loss_numeric(student: Student, W1, b1, W2, b2, X, y, reg: float, h: float) -> dict[str, Any]:
    """T7: the student's own loss at params ± h, one element at a time (the notebook's gradient check).

    The grader forms the centred differences itself from these values.
    """
    net = _net(student, W1, b1, W2, b2)
    result: dict[str, Any] = {"loss": np.float64(_loss_value(starter_call(net.loss, LOSS_ARGS, (X, y, reg)),
                                                             "loss(X, y, reg)"))}
    for name in PARAMS:
        param = net.params[name]
        plus = np.zeros(param.shape)
        minus = np.zeros(param.shape)
        for ix in np.ndindex(param.shape):
            old = param[ix]
            param[ix] = old + h
            plus[ix] = _loss_value(starter_call(net.loss, LOSS_ARGS, (X, y, reg)), "loss(X, y, reg)")
            param[ix] = old - h
            minus[ix] = _loss_value(starter_call(net.loss, LOSS_ARGS, (X, y, reg)), "loss(X, y, reg)")
            param[ix] = old
        result["plus_" + name] = plus
        result["minus_" + name] = minus
    return result


def probe_predict(student: Student, W1, b1, W2, b2, X) -> dict[str, Any]:
    """T11: predict(X), with the dtype the student chose."""
    net = _net(student, W1, b1, W2, b2)
    return {"pred": _array(net.predict(X), "predict(X)")}


def _loss_stub(real_loss: Callable[..., Any], handle: Callable[[Any, Any, bool], Any]) -> Callable[..., Any]:
    """A stand-in for the student's loss that accepts any way their own code calls it.

    `handle(X, labels, labelled)` answers; labels come from the second argument, by position or
    under the name the submission gave it (or the starter's `y`); `labelled` says whether the call
    passed labels at all (train() passes its y_batch even when T8 left it None).
    """
    try:
        names = [n for n in inspect.signature(real_loss).parameters][:2]
    except (TypeError, ValueError):
        names = []
    label_names = {"y", *names[1:]}

    def stub(*args: Any, **kwargs: Any) -> Any:
        X_ = args[0] if args else kwargs.pop(names[0] if names and names[0] in kwargs else "X", None)
        given = [kwargs[n] for n in label_names if n in kwargs]
        labelled = len(args) > 1 or bool(given)
        labels = args[1] if len(args) > 1 else (given[0] if given else None)
        return handle(X_, labels, labelled)

    return stub


def _rows(value: Any) -> int:
    """How many rows a student's batch has (0 for None or a scalar), never raising."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else 0
    try:
        return len(value)
    except TypeError:
        return 0


def _numbers(value: Any) -> np.ndarray:
    """A student's batch as float64, or a 0-d NaN when it is not numbers (None: T8 left undone)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array(np.nan)
    return arr if value is not None else np.array(np.nan)


def probe_predict_given_scores(student: Student, W1, b1, W2, b2, X, scores) -> dict[str, Any]:
    """T11 on its own when the student's loss(X) is broken: loss(X) is stubbed to return given scores."""
    net = _net(student, W1, b1, W2, b2)
    real_loss = net.loss

    def handle(X_: Any, labels: Any, labelled: bool) -> Any:
        if labels is None:
            return scores.copy()
        raise ContractError("predict() called loss() with labels; it should ask loss(X) for the scores")

    net.loss = _loss_stub(real_loss, handle)
    return {"pred": _array(net.predict(X), "predict(X)")}


def _train_frame(net: Any) -> Any:
    """The frame of the submission's own train() on the stack, or None (train() calls the stub)."""
    code = getattr(getattr(type(net), "train", None), "__code__", None)
    frame = sys._getframe(2)
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    return frame


def probe_train_observed(student: Student, W1, b1, W2, b2, X, y, X_val, y_val, G_W1, G_b1, G_W2, G_b2,
                         learning_rate: float, learning_rate_decay: float, reg: float, num_iters: int,
                         batch_size: int) -> dict[str, Any]:
    """T8–T10: run train() with loss and predict replaced by recorders.

    The stub loss returns fixed gradients G, so every parameter step reveals the learning rate
    and the update rule, and every call reveals the minibatch, whatever the student's T5–T7
    and T11 do. Each call also records train()'s own `learning_rate` variable (the starter's
    parameter): when the parameters never move (T9 left undone) the grader reads T10 from it.
    When train() raises after drawing a batch, what was observed until then is returned with the
    exception's text, so a crash in one part of train() does not hide the others.
    """
    net = _net(student, W1, b1, W2, b2)
    grads = {"W1": G_W1, "b1": G_b1, "W2": G_W2, "b2": G_b2}
    num_classes = W2.shape[1]
    batches: list[tuple[np.ndarray, np.ndarray]] = []
    snapshots: list[dict[str, np.ndarray]] = []
    rates: list[float] = []

    def handle(X_batch: Any, labels: Any, labelled: bool) -> Any:
        if not labelled:
            return np.zeros((_rows(X_batch), num_classes))
        batches.append((_numbers(X_batch), _numbers(labels)))
        snapshots.append({k: np.array(net.params[k], dtype=np.float64) for k in PARAMS})
        frame = _train_frame(net)
        rate = frame.f_locals.get("learning_rate") if frame is not None else None
        rates.append(float(rate) if isinstance(rate, (int, float, np.floating)) else float("nan"))
        # shaped like the parameter it updates (a (1, H) bias gets a (1, H) gradient)
        return 1.0, {k: (v.reshape(np.shape(net.params[k])) if np.size(net.params[k]) == v.size else v).copy()
                     for k, v in grads.items()}

    def stub_predict(*args: Any, **kwargs: Any) -> np.ndarray:
        return np.zeros(_rows(args[0] if args else next(iter(kwargs.values()), None)), dtype=np.int64)

    net.loss = _loss_stub(net.loss, handle)
    net.predict = stub_predict
    result: dict[str, Any] = {}
    try:
        starter_call(net.train, TRAIN_ARGS[:-1], (X, y, X_val, y_val, learning_rate, learning_rate_decay, reg,
                                                  num_iters, batch_size))
    except Exception as exc:  # noqa: BLE001 - after a batch was drawn, what came before still counts
        if not batches:
            raise
        # the exception as text (the wire carries numbers only): the grader names it in its message
        result["raised"] = np.frombuffer(f"{type(exc).__name__}: {exc}"[:300].encode(), dtype=np.uint8).copy()
    result.update({"calls": np.int64(len(batches)), "rates": np.array(rates, dtype=np.float64)})
    for i, (xb, yb) in enumerate(batches[:64]):
        result[f"xb{i}"] = xb
        result[f"yb{i}"] = yb
        for k in PARAMS:
            result[f"p{i}_{k}"] = snapshots[i][k]
    for k in PARAMS:
        result["final_" + k] = np.array(net.params[k], dtype=np.float64)
    return result


def probe_train_toy(student: Student, X, y) -> dict[str, Any]:
    """T8–T10, public: the notebook's own toy training run, with the notebook's RNG sequence."""
    cls = student.cls()
    np.random.seed(0)
    net = starter_call(cls, INIT_ARGS, (4, 10, 3, 1e-1))
    # the notebook's call; learning_rate_decay and batch_size at the starter's defaults (0.95, 200)
    stats = starter_call(net.train, TRAIN_ARGS[:-1], (X, y, X, y, 1e-1, 0.95, 5e-6, 100, 200))
    if not isinstance(stats, dict) or "loss_history" not in stats:
        raise ContractError("train() should return a dict with 'loss_history'")
    return {"loss_history": _array(stats["loss_history"], "train()['loss_history']")}


def _prepared(data_dir: str, name: str) -> np.ndarray:
    """One array of the grader's prepared MNIST (`[prepared.mnist]`, decoded once, read-only here)."""
    return np.load(f"{data_dir}/{name}.npy", allow_pickle=False)


def _mnist_inputs(data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """Validation and test images preprocessed exactly as the notebook does (mean training image removed),
    as prepare_mnist stored them."""
    return _prepared(data_dir, "X_val"), _prepared(data_dir, "X_test")


def probe_unpickled_model(student: Student, blob, data_dir: str) -> dict[str, Any]:
    """T12 from a pickled best_net: unpickled here, in the sandbox, never in the grader.

    A TwoLayerNet-like object hands back its four parameters (the grader evaluates them); any
    other model is evaluated through its own predict() on the notebook's preprocessing.
    """
    import pickle

    student.module()  # the pickle names the student's classes
    model = pickle.loads(np.asarray(blob, dtype=np.uint8).tobytes())
    params = getattr(model, "params", None)
    if isinstance(params, dict) and all(k in params for k in PARAMS):
        return {k: _array(params[k], f"best_net.params[{k!r}]") for k in PARAMS}
    if not callable(getattr(model, "predict", None)):
        raise ContractError(f"the pickled best_net is a {type(model).__name__} with neither params nor predict()")
    X_val, X_test = _mnist_inputs(data_dir)
    return {"pred_val": _array(model.predict(X_val), "best_net.predict(X_val)"),
            "pred_test": _array(model.predict(X_test), "best_net.predict(X_test)")}


def probe_mnist_training(student: Student, data_dir: str, hidden_size: int, num_iters: int, batch_size: int,
                         learning_rate: float, learning_rate_decay: float, seed: int) -> dict[str, Any]:
    """T8–T10 on real data: a learning-rate-decay run with the student's own TwoLayerNet, on the
    notebook's preprocessing. train() gets the first 1,000 validation images for its own per-epoch
    statistics; the grader scores the predictions on all 5,000.

    Returns the validation predictions (the grader scores them) and the loss history."""
    mean = _prepared(data_dir, "mean")
    X_train, y_train = _prepared(data_dir, "train_images") - mean, _prepared(data_dir, "train_labels").astype(np.int64)
    X_val, y_val = _prepared(data_dir, "X_val"), _prepared(data_dir, "val_labels").astype(np.int64)
    np.random.seed(seed)
    net = student.cls()(784, hidden_size, 10)
    stats = starter_call(net.train, TRAIN_ARGS[:-1], (X_train, y_train, X_val[:1000], y_val[:1000], learning_rate,
                                                      learning_rate_decay, 0, num_iters, batch_size))
    history = stats.get("loss_history", []) if isinstance(stats, dict) else []
    return {"pred_val": _array(net.predict(X_val), "predict(X_val)"),
            "loss_history": _array(history, "train()['loss_history']")}
