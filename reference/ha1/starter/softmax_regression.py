"""Hand-in 1, part 1: softmax regression trained with gradient descent.

Fill in the three functions (their names and signatures are fixed: the grader calls them) and
the training run below. Run it as `python softmax_regression.py`.
"""

import numpy as np

from load_mnist import load_mnist
from model_io import save_model

MODEL_FILE = "softmax_regression.npz"


def softmax(Z):
    """Row-wise softmax of the logits Z (n, M): probabilities p_im (eq. 8). Must not overflow for large Z."""
    raise NotImplementedError("part 1: softmax")


def cost(Z, Y):
    """The cost J (eq. 10): mean cross-entropy of the logits Z (n, M) against the one-hot labels Y (n, M),
    a float. Must stay finite for large |Z|."""
    raise NotImplementedError("part 1: cost")


def gradients(X, Y, W, b):
    """dJ/dW (M, p) and dJ/db (M,) of the cost J for the logits Z = X W^T + b (X (n, p), W (M, p), b (M,))."""
    raise NotImplementedError("part 1: gradients")


if __name__ == "__main__":
    X_train, Y_train, X_test, Y_test = load_mnist()
    # TODO: initialise W (10, 784) and b (10,), run gradient descent, record the training and test cost
    # and accuracy, save the model with save_model(MODEL_FILE, [W], [b]) as you go (every 100 iterations,
    # say) and at the end, print "Final test accuracy: ..%" and plot the curves and the weights.
