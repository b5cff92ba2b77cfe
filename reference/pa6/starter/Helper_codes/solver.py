"""A Solver trains a model with minibatch gradient descent (provided code, after cs231n's Solver).

    solver = Solver(model, data, update_rule=sgd_momentum,
                    optim_config={"learning_rate": 1e-2}, lr_decay=0.95,
                    num_epochs=10, batch_size=100, print_every=100)
    solver.train()

`data` holds X_train, y_train, X_val, y_val. The model needs `params` (name -> array) and
`loss(X, y=None)`: scores / predicted values when y is None, else (loss, grads). For a model
whose `category` is "regression", the "accuracy" histories hold RMS errors instead (lower is
better), and the best parameters are those with the lowest validation RMS error.
`update_rule(w, dw, config) -> (next_w, config)` updates one parameter array.
"""

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


class Solver(object):
    def __init__(self, model, data, **kwargs):
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        self.update_rule = kwargs.pop("update_rule", sgd)
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        if len(kwargs) > 0:
            extra = ", ".join('"%s"' % k for k in list(kwargs.keys()))
            raise ValueError("Unrecognized arguments %s" % extra)
        if not callable(self.update_rule):
            raise ValueError("update_rule must be a function such as sgd_momentum")
        self.regression = getattr(model, "category", "classification") == "regression"
        self._reset()

    def _reset(self):
        self.epoch = 0
        self.best_val_acc = np.inf if self.regression else 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {}
        for p in self.model.params:
            self.optim_configs[p] = {k: v for k, v in self.optim_config.items()}

    def _step(self):
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]
        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(loss)
        for p, w in self.model.params.items():
            dw = grads[p]
            config = self.optim_configs[p]
            next_w, next_config = self.update_rule(w, dw, config)
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Accuracy of the model on (X, y); for a regression model, its RMS error."""
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)
            N = num_samples
            X = X[mask]
            y = y[mask]
        num_batches = N // batch_size
        if N % batch_size != 0:
            num_batches += 1
        outputs = []
        for i in range(num_batches):
            start = i * batch_size
            end = (i + 1) * batch_size
            outputs.append(self.model.loss(X[start:end]))
        out = np.concatenate(outputs)
        if self.regression:
            return float(np.sqrt(np.mean((out.reshape(-1) - y) ** 2)))
        return float(np.mean(np.argmax(out, axis=1) == y))

    def _better(self, val):
        return val < self.best_val_acc if self.regression else val > self.best_val_acc

    def train(self):
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        label = "RMS error" if self.regression else "acc"
        for t in range(num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                print("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, self.loss_history[-1]))
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for k in self.optim_configs:
                    self.optim_configs[k]["learning_rate"] = (
                        self.optim_configs[k].get("learning_rate", 1e-2) * self.lr_decay)
            first_it = t == 0
            last_it = t == num_iterations - 1
            if first_it or last_it or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                if self.verbose:
                    print("(Epoch %d / %d) train %s: %f; val %s: %f"
                          % (self.epoch, self.num_epochs, label, train_acc, label, val_acc))
                if self._better(val_acc):
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        self.model.params = self.best_params
