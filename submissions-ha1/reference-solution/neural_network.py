"""Hand-in 1, part 3: a fully connected network with L layers (ReLU or sigmoid hidden layers, softmax
output), trained with mini-batch SGD. Reference solution.

Parameters follow the lectures' row-column notation: W_l has shape (units in layer l, units in
layer l-1) and z = q W^T + b for a batch of rows q.
"""

import time

import numpy as np

MODEL_FILE = "neural_network.npz"


def relu(Z):
    return np.maximum(Z, 0)


def relu_derivative(Z):
    """1 where Z > 0, else 0 (the derivative at 0 is taken as 0)."""
    return (Z > 0).astype(Z.dtype)


def sigmoid(Z):
    """1 / (1 + e^-Z), written so that neither branch overflows for large |Z|."""
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def sigmoid_derivative(Z):
    S = sigmoid(Z)
    return S * (1 - S)


def softmax(Z):
    E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    return E / np.sum(E, axis=1, keepdims=True)


ACTIVATIONS = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative)}


def _layers(X, weights, biases, activation):
    """Pre-activations Z_l and outputs Q_l of every layer (Q_0 = X); the last Q is the softmax."""
    g = ACTIVATIONS[activation][0]
    Qs, Zs = [X], []
    for layer, (W, b) in enumerate(zip(weights, biases)):
        Z = Qs[-1] @ W.T + np.reshape(b, -1)
        Zs.append(Z)
        Qs.append(softmax(Z) if layer == len(weights) - 1 else g(Z))
    return Zs, Qs


def forward(X, weights, biases, activation="relu"):
    """The softmax probabilities (n, M) of the network for the rows of X."""
    return _layers(X, weights, biases, activation)[1][-1]


def backward(X, Y, weights, biases, activation="relu"):
    """Gradients of the mean cross-entropy J: lists dW (shapes of weights) and db (shapes (n_l,))."""
    dg = ACTIVATIONS[activation][1]
    Zs, Qs = _layers(X, weights, biases, activation)
    dZ = (Qs[-1] - Y) / X.shape[0]
    dWs, dbs = [], []
    for layer in range(len(weights) - 1, -1, -1):
        dWs.append(dZ.T @ Qs[layer])
        dbs.append(dZ.sum(axis=0))
        if layer > 0:
            dZ = (dZ @ weights[layer]) * dg(Zs[layer - 1])
    return dWs[::-1], dbs[::-1]


def accuracy(X, Y, weights, biases, activation="relu"):
    return float(np.mean(np.argmax(forward(X, weights, biases, activation), axis=1) == np.argmax(Y, axis=1)))


def cross_entropy(P, Y):
    return float(-np.sum(Y * np.log(np.clip(P, 1e-12, None))) / Y.shape[0])


def train(X, Y, X_test, Y_test, hidden=(256, 128), activation="relu", epochs=12, batch_size=64, lr0=0.2, lr_end=0.001,
          seed=0):
    from model_io import save_model

    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], *hidden, Y.shape[1]]
    weights = [(rng.normal(size=(n_out, n_in)) * np.sqrt(2 / n_in)).astype(np.float32)
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(n_out, dtype=np.float32) for n_out in sizes[1:]]
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    n = X.shape[0]
    steps = epochs * (n // batch_size)
    history = {"train cost": [], "test cost": [], "test accuracy": []}
    it = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            batch = order[start:start + batch_size]
            dWs, dbs = backward(X32[batch], Y32[batch], weights, biases, activation)
            lr = lr0 + (lr_end - lr0) * it / steps  # linear decay over the whole run
            for W, b, dW, db in zip(weights, biases, dWs, dbs):
                W -= lr * dW
                b -= lr * db
            it += 1
        history["train cost"].append(cross_entropy(forward(X32[:10000], weights, biases, activation), Y32[:10000]))
        history["test cost"].append(cross_entropy(forward(X_test, weights, biases, activation), Y_test))
        history["test accuracy"].append(accuracy(X_test, Y_test, weights, biases, activation))
        save_model(MODEL_FILE, weights, biases, [activation] * len(hidden))
        print(f"epoch {epoch + 1}: train cost {history['train cost'][-1]:.4f}, "
              f"test accuracy {100 * history['test accuracy'][-1]:.2f}%")
    return weights, biases, history


def plots(history):
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history["train cost"]) + 1)
    ax1.plot(epochs, history["train cost"], "r", label="train (first 10,000 images)")
    ax1.plot(epochs, history["test cost"], "b", label="test")
    ax1.set(xlabel="epoch", ylabel="cost J", title="Cost")
    ax1.legend()
    ax2.plot(epochs, [100 * a for a in history["test accuracy"]], "b", label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="Test accuracy")
    ax2.legend()
    fig.tight_layout()
    plt.show()


if __name__ == "__main__":
    from load_mnist import load_mnist  # provided with the hand-in; imported here so the functions load without it

    started = time.process_time()
    X_train, Y_train, X_test, Y_test = load_mnist()
    weights, biases, history = train(X_train, Y_train, X_test, Y_test)
    print(f"Final test accuracy: {100 * history['test accuracy'][-1]:.2f}%")
    print(f"Training took {time.process_time() - started:.1f} CPU-s")
    plots(history)
