"""Provided: loads MNIST for Hand-in 1. Do not change this file.

The course's original loader read folders of PNG images; this one reads the four standard
MNIST files in the folder `mnist_data/` next to your scripts (the same files, in the same
order as the files, not grouped digit by digit as the PNG folders were). Images are flattened to 784
values in [0, 1]; labels are one-hot, as the original did.
"""

import gzip
import os

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_data")
NUM_LABELS = 10


def _read(name, offset):
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def _one_hot(labels):
    Y = np.zeros((labels.size, NUM_LABELS))
    Y[np.arange(labels.size), labels] = 1
    return Y


def load_mnist():
    """X_train (60000, 784), Y_train (60000, 10), X_test (10000, 784), Y_test (10000, 10).

    Pixels are float64 in [0, 1]; the labels are one-hot (row i has a 1 in the column of its digit).
    """
    X_train = _read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    Y_train = _one_hot(_read("train-labels-idx1-ubyte.gz", 8))
    X_test = _read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    Y_test = _one_hot(_read("t10k-labels-idx1-ubyte.gz", 8))
    return X_train, Y_train, X_test, Y_test
