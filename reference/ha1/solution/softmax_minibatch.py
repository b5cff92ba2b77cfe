"""Hand-in 1, part 2: softmax regression with mini-batch SGD and a linearly decaying learning rate.

Reference solution."""

import time

import numpy as np

MODEL_FILE = "softmax_minibatch.npz"


def learning_rate(it, lr0, lr_tau, tau):
    """Eq. 31: from lr0 at iteration 0 down to lr_tau at iteration tau, then constant."""
    if it >= tau:
        return lr_tau
    return (1 - it / tau) * lr0 + (it / tau) * lr_tau


def train(X, Y, X_test, Y_test, epochs=6, batch_size=100, lr0=0.5, lr_tau=0.02, tau_epochs=5, seed=0):
    from model_io import save_model
    from softmax_regression import accuracy, cost, gradients

    rng = np.random.default_rng(seed)
    n, p = X.shape
    M = Y.shape[1]
    W = rng.normal(scale=0.01, size=(M, p)).astype(np.float32)
    b = np.zeros(M, dtype=np.float32)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    per_epoch = n // batch_size
    tau = tau_epochs * per_epoch
    history = {"train cost": [], "test cost": [], "train accuracy": [], "test accuracy": []}
    it = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, per_epoch * batch_size, batch_size):
            batch = order[start:start + batch_size]
            dW, db = gradients(X32[batch], Y32[batch], W, b)
            lr = learning_rate(it, lr0, lr_tau, tau)
            W -= lr * dW
            b -= lr * db
            it += 1
        history["train cost"].append(cost(X32 @ W.T + b, Y32))
        history["test cost"].append(cost(X_test @ W.T + b, Y_test))
        history["train accuracy"].append(accuracy(X32, Y32, W, b))
        history["test accuracy"].append(accuracy(X_test, Y_test, W, b))
        save_model(MODEL_FILE, [W], [b])
        print(f"epoch {epoch + 1}: learning rate {lr:.4f}, train cost {history['train cost'][-1]:.4f}, "
              f"test accuracy {100 * history['test accuracy'][-1]:.2f}%")
    return W, b, history


def plots(W, history):
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history["train cost"]) + 1)
    ax1.plot(epochs, history["train cost"], "r", label="train")
    ax1.plot(epochs, history["test cost"], "b", label="test")
    ax1.set(xlabel="epoch", ylabel="cost J", title="Cost")
    ax1.legend()
    ax2.plot(epochs, [100 * a for a in history["train accuracy"]], "r", label="train")
    ax2.plot(epochs, [100 * a for a in history["test accuracy"]], "b", label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax2.legend()
    fig.tight_layout()
    fig, axes = plt.subplots(2, 5, figsize=(10, 4.5))
    for digit, ax in enumerate(axes.ravel()):
        ax.imshow(W[digit].reshape(28, 28), cmap="gray")
        ax.set_title(str(digit))
        ax.axis("off")
    fig.suptitle("Weights of each class (mini-batch SGD)")
    plt.show()


if __name__ == "__main__":
    from load_mnist import load_mnist  # provided with the hand-in; imported here so the functions load without it

    started = time.process_time()
    X_train, Y_train, X_test, Y_test = load_mnist()
    W, b, history = train(X_train, Y_train, X_test, Y_test)
    print(f"Final test accuracy: {100 * history['test accuracy'][-1]:.2f}%")
    print(f"Training took {time.process_time() - started:.1f} CPU-s")
    plots(W, history)
