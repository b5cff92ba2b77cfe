"""The reference solution of PA6: what goes in each blank of cells.py (kept apart from the starter).

Bodies are written at column 0; build_notebooks.py indents them to their blank.
"""

BLANKS = {
    "affine_forward": """\
out = x.reshape(x.shape[0], -1).dot(w) + b""",
    "affine_backward": """\
dx = dout.dot(w.T).reshape(x.shape)
dw = x.reshape(x.shape[0], -1).T.dot(dout)
db = np.sum(dout, axis=0)""",
    "relu_forward": """\
out = np.maximum(0, x)""",
    "relu_backward": """\
dx = dout * (x > 0)""",
    "sigmoid_forward": """\
out = 1.0 / (1.0 + np.exp(-x))""",
    "sigmoid_backward": """\
s = 1.0 / (1.0 + np.exp(-x))
dx = dout * s * (1.0 - s)""",
    "affine_relu_forward": """\
a, fc_cache = affine_forward(x, w, b)
out, relu_cache = relu_forward(a)
cache = (fc_cache, relu_cache)""",
    "affine_relu_backward": """\
fc_cache, relu_cache = cache
da = relu_backward(dout, relu_cache)
dx, dw, db = affine_backward(da, fc_cache)""",
    "batchnorm_forward_train": """\
sample_mean = x.mean(axis=0)
sample_var = x.var(axis=0)
std = np.sqrt(sample_var + eps)
x_hat = (x - sample_mean) / std
out = gamma * x_hat + beta
cache = (x_hat, gamma, std)
running_mean = momentum * running_mean + (1 - momentum) * sample_mean
running_var = momentum * running_var + (1 - momentum) * sample_var""",
    "batchnorm_forward_test": """\
out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta""",
    "batchnorm_backward": """\
x_hat, gamma, std = cache
N = dout.shape[0]
dbeta = np.sum(dout, axis=0)
dgamma = np.sum(dout * x_hat, axis=0)
dx_hat = dout * gamma
dx = (N * dx_hat - np.sum(dx_hat, axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)) / (N * std)""",
    "softmax_loss": """\
shifted = x - np.max(x, axis=1, keepdims=True)
log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
N = x.shape[0]
labels = np.asarray(y, dtype=int)
loss = -np.sum(log_probs[np.arange(N), labels]) / N
dx = np.exp(log_probs)
dx[np.arange(N), labels] -= 1
dx /= N""",
    "mse_loss": """\
N = x.shape[0]
diff = x - y
loss = np.sum(diff ** 2) / N
dx = 2.0 * diff / N""",
    "fcn_init": """\
dims = [input_dim] + list(hidden_dims) + [output_dim]
for i in range(self.num_layers):
    self.params["W%d" % (i + 1)] = weight_scale * np.random.randn(dims[i], dims[i + 1])
    self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])
    if i < self.num_layers - 1 and self.normalization[i]:
        self.params["gamma%d" % (i + 1)] = np.ones(dims[i + 1])
        self.params["beta%d" % (i + 1)] = np.zeros(dims[i + 1])""",
    "fcn_forward": """\
self.layer_caches = []
h = X.reshape(X.shape[0], -1)
for i in range(1, self.num_layers):
    a, fc_cache = affine_forward(h, self.params["W%d" % i], self.params["b%d" % i])
    bn_cache = None
    if self.normalization[i - 1]:
        a, bn_cache = batchnorm_forward(a, self.params["gamma%d" % i], self.params["beta%d" % i],
                                        self.bn_params[i - 1])
    h, relu_cache = relu_forward(a)
    self.layer_caches.append((fc_cache, bn_cache, relu_cache))
L = self.num_layers
scores, self.last_cache = affine_forward(h, self.params["W%d" % L], self.params["b%d" % L])
out = scores.reshape(-1) if self.category == "regression" and scores.shape[1] == 1 else scores""",
    "fcn_backward": """\
if self.category == "regression":
    loss, dout = mse_loss(out, y)
    dscores = dout.reshape(-1, 1) if dout.ndim == 1 else dout
else:
    loss, dscores = softmax_loss(out, y)
L = self.num_layers
dh, grads["W%d" % L], grads["b%d" % L] = affine_backward(dscores, self.last_cache)
for i in range(L - 1, 0, -1):
    fc_cache, bn_cache, relu_cache = self.layer_caches[i - 1]
    da = relu_backward(dh, relu_cache)
    if bn_cache is not None:
        da, grads["gamma%d" % i], grads["beta%d" % i] = batchnorm_backward(da, bn_cache)
    dh, grads["W%d" % i], grads["b%d" % i] = affine_backward(da, fc_cache)
for i in range(1, L + 1):
    W = self.params["W%d" % i]
    loss += 0.5 * self.reg * np.sum(W * W)
    grads["W%d" % i] = grads["W%d" % i] + self.reg * W""",
    "sgd_momentum": """\
v = config["momentum"] * v - config["learning_rate"] * dw
next_w = w + v""",
    "train_mnist": """\
# short on purpose (about 15 s): one hidden layer of 100 with batch norm, 3 epochs
np.random.seed(0)
data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val,
        "X_test": X_test, "y_test": y_test}
model = FullyConnectedNet("classification", [100], [True], reg=1e-4, weight_scale=1e-2)
MNIST_solver = Solver(model, data, update_rule=sgd_momentum, optim_config={"learning_rate": 1e-2},
                      num_epochs=3, batch_size=100, print_every=100)
MNIST_solver.train()
MNIST_best_model = model""",
    "train_diabetes": """\
np.random.seed(0)
data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val,
        "X_test": X_test, "y_test": y_test}
model = FullyConnectedNet("regression", [32], [False], input_dim=X_train.shape[1], output_dim=1,
                          reg=1e-2, weight_scale=1e-1, dtype=np.float64)
diabetes_solver = Solver(model, data, update_rule=sgd_momentum, optim_config={"learning_rate": 1e-3},
                         num_epochs=60, batch_size=32, print_every=200)
diabetes_solver.train()
diabetes_best_model = model""",
}
