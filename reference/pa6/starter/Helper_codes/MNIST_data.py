"""MNIST for PA6, read from the course's MNIST files (no download: the grader runs offline).

The original handout downloaded MNIST with torchvision. This version reads the same four
files from the `mnist_data/` folder next to the notebook (the grader links it there).
Split, as in the handout: the first 50,000 training images train, the last 10,000 validate,
and t10k tests.
"""

import gzip
import os

import numpy as np

NUM_TRAIN = 50000


def _read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def _load(folder, prefix):
    images = _read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), 16).reshape(-1, 784)
    labels = _read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), 8).astype(np.int64)
    return images.astype(np.float32), labels


def get_MNIST_data(folder="mnist_data"):
    """X_train, y_train, X_val, y_val, X_test, y_test: images as float32 rows of 784 pixels (0-255)."""
    X, y = _load(folder, "train")
    X_test, y_test = _load(folder, "t10k")
    return X[:NUM_TRAIN], y[:NUM_TRAIN], X[NUM_TRAIN:], y[NUM_TRAIN:], X_test, y_test


def get_normalized_MNIST_data(X_train, X_val, X_test):
    """Subtract the training mean image and divide by the training pixels' overall standard deviation."""
    mean = X_train.mean(axis=0)
    std = X_train.std()
    return [((X - mean) / std).astype(np.float32) for X in (X_train, X_val, X_test)]
