"""Hand-in 1, part 1: softmax regression trained with (full-batch) gradient descent. Reference solution."""

import time

import numpy as np

MODEL_FILE = "softmax_regression.npz"


def softmax(Z):
    """Row-wise softmax of logits Z (n, M); subtracting each row's maximum keeps exp() finite."""
    E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    return E / np.sum(E, axis=1, keepdims=True)


def cost(Z, Y):
    """Mean cross-entropy J (eq. 10) of logits Z (n, M) against one-hot labels Y (n, M), via log-sum-exp."""
    Zs = Z - np.max(Z, axis=1, keepdims=True)
    log_p = Zs - np.log(np.sum(np.exp(Zs), axis=1, keepdims=True))
    return float(-np.sum(Y * log_p) / Z.shape[0])


def gradients(X, Y, W, b):
    """dJ/dW (M, p) and dJ/db (M,) for the logits Z = X W^T + b."""
    n = X.shape[0]
    dZ = (softmax(X @ W.T + b) - Y) / n  # dJ/dz_im = (p_im - y_im) / n
    return dZ.T @ X, dZ.sum(axis=0)


def accuracy(X, Y, W, b):
    return float(np.mean(np.argmax(X @ W.T + b, axis=1) == np.argmax(Y, axis=1)))


def train(X, Y, X_test, Y_test, lr=0.5, iterations=150, seed=0):
    from model_io import save_model

    rng = np.random.default_rng(seed)
    M, p = Y.shape[1], X.shape[1]
    W = rng.normal(scale=0.01, size=(M, p)).astype(np.float32)
    b = np.zeros(M, dtype=np.float32)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)  # float32 halves the cost of each step
    history = {"train cost": [], "test cost": [], "train accuracy": [], "test accuracy": []}
    for it in range(iterations):
        dW, db = gradients(X32, Y32, W, b)
        W -= lr * dW
        b -= lr * db
        if it % 10 == 9 or it == iterations - 1:
            history["train cost"].append(cost(X32 @ W.T + b, Y32))
            history["test cost"].append(cost(X_test @ W.T + b, Y_test))
            history["train accuracy"].append(accuracy(X32, Y32, W, b))
            history["test accuracy"].append(accuracy(X_test, Y_test, W, b))
            save_model(MODEL_FILE, [W], [b])
            print(f"iteration {it + 1}: train cost {history['train cost'][-1]:.4f}, "
                  f"test accuracy {100 * history['test accuracy'][-1]:.2f}%")
    return W, b, history


def plots(W, history, every):
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    steps = [every * (i + 1) for i in range(len(history["train cost"]))]
    ax1.plot(steps, history["train cost"], "r", label="train")
    ax1.plot(steps, history["test cost"], "b", label="test")
    ax1.set(xlabel="iteration", ylabel="cost J", title="Cost")
    ax1.legend()
    ax2.plot(steps, [100 * a for a in history["train accuracy"]], "r", label="train")
    ax2.plot(steps, [100 * a for a in history["test accuracy"]], "b", label="test")
    ax2.set(xlabel="iteration", ylabel="accuracy (%)", title="Accuracy")
    ax2.legend()
    fig.tight_layout()
    fig.savefig("softmax_regression_curves.png")
    fig, axes = plt.subplots(2, 5, figsize=(10, 4.5))
    for digit, ax in enumerate(axes.ravel()):
        ax.imshow(W[digit].reshape(28, 28), cmap="gray")
        ax.set_title(str(digit))
        ax.axis("off")
    fig.suptitle("Weights of each class")
    plt.show()


if __name__ == "__main__":
    from load_mnist import load_mnist  # provided with the hand-in; imported here so the functions load without it

    started = time.process_time()
    X_train, Y_train, X_test, Y_test = load_mnist()
    W, b, history = train(X_train, Y_train, X_test, Y_test)
    print(f"Final test accuracy: {100 * history['test accuracy'][-1]:.2f}%")
    print(f"Training took {time.process_time() - started:.1f} CPU-s")
    plots(W, history, 10)
