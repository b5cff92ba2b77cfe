"""Hand-in 1, part 3: a fully connected network with L layers, trained with mini-batch SGD.

weights = [W1, ..., WL] with W_l of shape (units in layer l, units in layer l-1); biases =
[b1, ..., bL] with b_l of shape (units in layer l,); z = q W^T + b for a batch of rows q. The
hidden layers use `activation` ("relu" or "sigmoid"), the output layer softmax. The names and
signatures are fixed: the grader calls them. Run it as `python neural_network.py`.
"""

import numpy as np

from load_mnist import load_mnist
from model_io import save_model

MODEL_FILE = "neural_network.npz"


def relu(Z):
    raise NotImplementedError("part 3: relu")


def relu_derivative(Z):
    """1 where Z > 0, else 0."""
    raise NotImplementedError("part 3: relu_derivative")


def sigmoid(Z):
    raise NotImplementedError("part 3: sigmoid")


def sigmoid_derivative(Z):
    raise NotImplementedError("part 3: sigmoid_derivative")


def softmax(Z):
    raise NotImplementedError("part 3: softmax")


def forward(X, weights, biases, activation="relu"):
    """The network's softmax probabilities (n, M) for the rows of X (n, p)."""
    raise NotImplementedError("part 3: forward")


def backward(X, Y, weights, biases, activation="relu"):
    """The gradients of the mean cross-entropy J over the rows of X with one-hot labels Y:
    (dweights, dbiases), two lists shaped like weights and biases."""
    raise NotImplementedError("part 3: backward")


if __name__ == "__main__":
    X_train, Y_train, X_test, Y_test = load_mnist()
    # TODO: initialise the parameters, train with mini-batches, save the model with
    # save_model(MODEL_FILE, weights, biases, [activation] * (len(weights) - 1)) after every epoch and at
    # the end, print "Final test accuracy: ..%" and plot the cost and accuracy curves.
