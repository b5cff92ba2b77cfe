"""Check that the HW4 reference solution reproduces the notebook's published values.

Run from anywhere:  python reference/hw4/verify_solution.py
Exits non-zero (AssertionError) on the first mismatch.
"""
import hashlib
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STARTER = os.path.join(HERE, "starter")
SOLUTION = os.path.join(HERE, "solution")


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rel_error(x, y):
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


solution = load("hw4_solution_neural_net", os.path.join(SOLUTION, "cattern", "neural_net.py"))
starter = load("hw4_starter_neural_net", os.path.join(STARTER, "cattern", "neural_net.py"))
gradient_check = load("hw4_starter_gradient_check",
                      os.path.join(STARTER, "cattern", "gradient_check.py"))
TwoLayerNet = solution.TwoLayerNet

CORRECT_SCORES = np.asarray([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949],
])
CORRECT_LOSS = 1.3037878913298202
CORRECT_TOY_FINAL_LOSS = 0.01714364353292381


def init_toy_model():
    np.random.seed(0)
    return TwoLayerNet(4, 10, 3, std=1e-1)


def init_toy_data():
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return X, y


def main():
    # Notebook order: model first, then data.
    net = init_toy_model()
    X, y = init_toy_data()

    # T5: scores.
    scores = net.loss(X)
    assert scores.shape == (5, 3), scores.shape
    diff = np.sum(np.abs(scores - CORRECT_SCORES))
    assert diff < 1e-7, diff
    print("T5 toy scores: sum |diff| = %.3e" % diff)

    # T6: loss, exact float equality with the published value.
    loss, _ = net.loss(X, y, reg=0.1)
    assert float(loss) == CORRECT_LOSS, repr(loss)
    print("T6 toy loss (reg=0.1): %r" % float(loss))

    # T7: numeric gradient check with the starter's eval_numerical_gradient.
    loss, grads = net.loss(X, y, reg=0.05)
    assert set(grads) == set(net.params), sorted(grads)
    for name in grads:
        assert grads[name].shape == net.params[name].shape, name
        f = lambda W: net.loss(X, y, reg=0.05)[0]
        num = gradient_check.eval_numerical_gradient(f, net.params[name], verbose=False)
        err = rel_error(num, grads[name])
        assert err < 1e-8, (name, err)
        print("T7 %s max relative error: %e" % (name, err))

    # T8-T11: toy training, exact float equality with the published final loss.
    net = init_toy_model()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100,
                      verbose=False)
    final = stats["loss_history"][-1]
    assert float(final) == CORRECT_TOY_FINAL_LOSS, repr(final)
    print("T8-T10 toy training final loss: %r" % float(final))
    pred = net.predict(X)
    assert pred.shape == (5,) and np.issubdtype(pred.dtype, np.integer), (pred.shape, pred.dtype)
    assert np.array_equal(pred, np.argmax(net.loss(X), axis=1))
    print("T11 predict on toy data:", pred)

    # Other shapes: gradients keep the parameter shapes and pass a gradient check.
    rng = np.random.RandomState(123)
    for (N, D, H, C) in [(1, 3, 2, 2), (7, 6, 5, 4), (20, 9, 13, 11)]:
        np.random.seed(rng.randint(1 << 30))
        other = TwoLayerNet(D, H, C, std=1e-1)
        Xo = rng.randn(N, D)
        yo = rng.randint(C, size=N)
        assert other.loss(Xo).shape == (N, C)
        _, g = other.loss(Xo, yo, reg=0.3)
        for name in g:
            assert g[name].shape == other.params[name].shape, (name, g[name].shape)
            f = lambda W: other.loss(Xo, yo, reg=0.3)[0]
            num = gradient_check.eval_numerical_gradient(f, other.params[name], verbose=False)
            err = rel_error(num, g[name])
            assert err < 1e-6, (N, D, H, C, name, err)
    print("other shapes: gradient shapes and numeric checks OK")

    # Large-magnitude inputs: the reference loss stays finite.
    net = init_toy_model()
    for scale in (1e2, 1e3, 1e5):
        big_loss, big_grads = net.loss(X * scale, y, reg=0.1)
        assert np.isfinite(big_loss), (scale, big_loss)
        assert all(np.all(np.isfinite(v)) for v in big_grads.values()), scale
    print("large-magnitude inputs: loss and grads finite")

    # The starter imports, constructs, and its blanks are still blank.
    np.random.seed(0)
    snet = starter.TwoLayerNet(4, 10, 3)
    assert sorted(snet.params) == ["W1", "W2", "b1", "b2"]
    assert snet.params["W1"].shape == (4, 10) and snet.params["b2"].shape == (3,)
    assert snet.loss(X) is None, "starter T5 is not blank"
    assert not hasattr(starter, "plt") and "matplotlib" not in open(starter.__file__).read()
    print("starter: imports, TwoLayerNet(4, 10, 3) constructs, T5 blank")

    # The starter's MNIST files are byte-identical to the shared copy's recorded sums.
    sums_path = os.path.join(HERE, "..", "..", "..", "shared", "mnist_data", "SHA256SUMS")
    if os.path.exists(sums_path):
        for line in open(sums_path):
            digest, fname = line.split()
            with open(os.path.join(STARTER, "mnist_data", fname), "rb") as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == digest, fname
        print("starter/mnist_data: sha256 OK")

    print("ALL CHECKS PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
