"""Provided: saves a trained model in the format the grader reads. Do not change this file.

A model is a list of weight matrices W1..WL (W_l has shape (units in layer l, units in layer
l-1), as in the lectures: z = W x + b), a list of bias vectors b1..bL (b_l has shape
(units in layer l,)) and the names of the hidden layers' activations ("relu" or "sigmoid"; an
empty list for softmax regression, which has one layer). The file is a plain .npz of numbers
and strings, which anyone can read with np.load(path, allow_pickle=False): never a pickle.

Call save_model during training (every epoch, say) as well as at the end: if your script is
stopped at its time budget, the model it saved last is the one that is graded.
"""

import os

import numpy as np


def save_model(path, weights, biases, activations=()):
    weights = [np.asarray(W, dtype=np.float64) for W in weights]
    biases = [np.asarray(b, dtype=np.float64).reshape(-1) for b in biases]
    if len(weights) != len(biases) or len(activations) != len(weights) - 1:
        raise ValueError("save_model needs one bias per weight matrix and one activation per hidden layer")
    arrays = {f"W{i + 1}": W for i, W in enumerate(weights)}
    arrays.update({f"b{i + 1}": b for i, b in enumerate(biases)})
    arrays["activations"] = np.array(list(activations), dtype=str)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)  # never leave a half-written model behind if the script is stopped


def load_model(path):
    with np.load(path, allow_pickle=False) as data:
        n = sum(1 for k in data.files if k.startswith("W"))
        weights = [data[f"W{i + 1}"] for i in range(n)]
        biases = [data[f"b{i + 1}"] for i in range(n)]
        activations = [str(a) for a in data["activations"]]
    return weights, biases, activations
