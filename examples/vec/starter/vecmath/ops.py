"""vec: vector maths by hand."""

import numpy as np


def dot(a, b):
    """The dot product of two vectors of the same length, as a float."""
    # T2: your code here
    raise NotImplementedError


def normalize(v):
    """v scaled to length 1 (v must not be the zero vector)."""
    # T3: your code here
    raise NotImplementedError
