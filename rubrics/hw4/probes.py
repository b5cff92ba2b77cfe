"""HW4 probes: drive the student's TwoLayerNet inside the student process and return raw numbers.

This file runs next to student code, so it holds no expected values and judges nothing. Each
probe builds the net from parameters the grader sends (so a task never depends on the
student's initialisation) and returns plain arrays. Stubs replace `loss`/`predict` where a
task must be observed on its own (T8–T10).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.execution.probe_api import ContractError, Student, expect_tuple

PARAMS = ("W1", "b1", "W2", "b2")


def _array(value: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything unconvertible is the student's answer
        raise ContractError(f"{what} returned {type(value).__name__}, which is not an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ContractError(f"{what} returned {type(value).__name__} with dtype {arr.dtype}, expected numbers")
    return np.array(arr, copy=True)


def _net(student: Student, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> Any:
    cls = student.cls()
    net = cls(W1.shape[0], W1.shape[1], W2.shape[1])
    values = {"W1": W1.copy(), "b1": b1.copy(), "W2": W2.copy(), "b2": b2.copy()}
    if isinstance(getattr(net, "params", None), dict):
        net.params.update(values)
    else:
        net.params = values
    return net


def _loss_value(out: Any, what: str) -> float:
    loss, _ = expect_tuple(out, 2, what)
    arr = _array(loss, what + " (the loss)")
    if arr.size != 1:
        raise ContractError(f"{what} should return a scalar loss, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def probe_scores(student: Student, W1, b1, W2, b2, X) -> dict[str, Any]:
    """T5 (and the 'own scores' that T6 and T11 are judged against): loss(X) without labels."""
    net = _net(student, W1, b1, W2, b2)
    out = net.loss(X)
    if isinstance(out, tuple):
        raise ContractError("loss(X) without y should return the scores array, got a tuple")
    return {"scores": _array(out, "loss(X)")}


def probe_loss(student: Student, W1, b1, W2, b2, X, y, reg: float) -> dict[str, Any]:
    """T6/T7: loss(X, y, reg) -> (loss, grads). Gradients are returned when present, judged by T7."""
    net = _net(student, W1, b1, W2, b2)
    out = net.loss(X, y=y, reg=reg)
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
    result: dict[str, Any] = {}
    for name in PARAMS:
        param = net.params[name]
        plus = np.zeros(param.shape)
        minus = np.zeros(param.shape)
        for ix in np.ndindex(param.shape):
            old = param[ix]
            param[ix] = old + h
            plus[ix] = _loss_value(net.loss(X, y, reg=reg), "loss(X, y, reg)")
            param[ix] = old - h
            minus[ix] = _loss_value(net.loss(X, y, reg=reg), "loss(X, y, reg)")
            param[ix] = old
        result["plus_" + name] = plus
        result["minus_" + name] = minus
    return result


def probe_predict(student: Student, W1, b1, W2, b2, X) -> dict[str, Any]:
    """T11: predict(X), with the dtype the student chose."""
    net = _net(student, W1, b1, W2, b2)
    return {"pred": _array(net.predict(X), "predict(X)")}


def probe_predict_given_scores(student: Student, W1, b1, W2, b2, X, scores) -> dict[str, Any]:
    """T11 on its own when the student's loss(X) is broken: loss(X) is stubbed to return given scores."""
    net = _net(student, W1, b1, W2, b2)
    real_loss = net.loss

    def stub_loss(X_: Any, y: Any = None, reg: float = 0.0) -> Any:
        return scores.copy() if y is None else real_loss(X_, y, reg)

    net.loss = stub_loss
    return {"pred": _array(net.predict(X), "predict(X)")}


def probe_train_observed(student: Student, W1, b1, W2, b2, X, y, X_val, y_val, G_W1, G_b1, G_W2, G_b2,
                         learning_rate: float, learning_rate_decay: float, reg: float, num_iters: int,
                         batch_size: int) -> dict[str, Any]:
    """T8–T10: run train() with loss and predict replaced by recorders.

    The stub loss returns fixed gradients G, so every parameter step reveals the learning rate
    and the update rule, and every call reveals the minibatch, whatever the student's T5–T7
    and T11 do.
    """
    net = _net(student, W1, b1, W2, b2)
    grads = {"W1": G_W1, "b1": G_b1, "W2": G_W2, "b2": G_b2}
    num_classes = W2.shape[1]
    batches: list[tuple[np.ndarray, np.ndarray]] = []
    snapshots: list[dict[str, np.ndarray]] = []

    def stub_loss(X_batch: Any, y: Any = None, reg: float = 0.0) -> Any:
        if y is None:
            return np.zeros((np.asarray(X_batch).shape[0], num_classes))
        batches.append((np.array(X_batch, dtype=np.float64), np.array(y)))
        snapshots.append({k: np.array(net.params[k], dtype=np.float64) for k in PARAMS})
        return 1.0, {k: v.copy() for k, v in grads.items()}

    def stub_predict(X_batch: Any) -> np.ndarray:
        return np.zeros(np.asarray(X_batch).shape[0], dtype=np.int64)

    net.loss = stub_loss
    net.predict = stub_predict
    net.train(X, y, X_val, y_val, learning_rate=learning_rate, learning_rate_decay=learning_rate_decay,
              reg=reg, num_iters=num_iters, batch_size=batch_size, verbose=False)
    result: dict[str, Any] = {"calls": np.int64(len(batches))}
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
    net = cls(4, 10, 3, std=1e-1)
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
    if not isinstance(stats, dict) or "loss_history" not in stats:
        raise ContractError("train() should return a dict with 'loss_history'")
    return {"loss_history": _array(stats["loss_history"], "train()['loss_history']")}


def _idx(data_dir: str, name: str, offset: int) -> np.ndarray:
    """One raw MNIST file (images skip a 16-byte header, labels an 8-byte one)."""
    import gzip

    with gzip.open(f"{data_dir}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def _mnist_images(data_dir: str, name: str) -> np.ndarray:
    return _idx(data_dir, name, 16).reshape(-1, 784)


def _mnist_inputs(data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """Validation and test images preprocessed exactly as the notebook does (mean training image removed)."""
    train = _mnist_images(data_dir, "train-images-idx3-ubyte.gz")
    mean = train[5000:].mean(axis=0)
    return train[:5000] - mean, _mnist_images(data_dir, "t10k-images-idx3-ubyte.gz") - mean


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
    """T8–T10 on real data: the notebook's learning-rate-decay run with the student's own TwoLayerNet.

    Returns the validation predictions (the grader scores them) and the loss history."""
    images = _mnist_images(data_dir, "train-images-idx3-ubyte.gz")
    labels = _idx(data_dir, "train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    mean = images[5000:].mean(axis=0)
    X_train, y_train = images[5000:] - mean, labels[5000:]
    X_val, y_val = images[:5000] - mean, labels[:5000]
    np.random.seed(seed)
    net = student.cls()(784, hidden_size, 10)
    stats = net.train(X_train, y_train, X_val, y_val, num_iters=num_iters, batch_size=batch_size,
                      learning_rate=learning_rate, learning_rate_decay=learning_rate_decay, reg=0, verbose=False)
    history = stats.get("loss_history", []) if isinstance(stats, dict) else []
    return {"pred_val": _array(net.predict(X_val), "predict(X_val)"),
            "loss_history": _array(history, "train()['loss_history']")}
