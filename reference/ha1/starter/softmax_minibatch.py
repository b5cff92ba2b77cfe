"""Hand-in 1, part 2: softmax regression with mini-batch SGD and a decaying learning rate.

You may import softmax, cost and gradients from softmax_regression.py. Run it as
`python softmax_minibatch.py`.
"""

import numpy as np

from load_mnist import load_mnist
from model_io import save_model

MODEL_FILE = "softmax_minibatch.npz"


def learning_rate(it, lr0, lr_tau, tau):
    """The learning rate at iteration `it` (counted from 0 over the whole run, not per epoch): linear from
    lr0 at it = 0 to lr_tau at it = tau (eq. 31), and lr_tau from then on."""
    raise NotImplementedError("part 2: learning_rate")


if __name__ == "__main__":
    X_train, Y_train, X_test, Y_test = load_mnist()
    # TODO: shuffle each epoch, take mini-batches, update W and b with learning_rate(...), save the model
    # with save_model(MODEL_FILE, [W], [b]) after every epoch and at the end, print
    # "Final test accuracy: ..%" and plot the curves and the weights.
