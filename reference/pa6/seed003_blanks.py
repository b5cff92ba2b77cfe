"""The seed 003 student's code for each blank, copied from its PDF export (shared/seeds/003_*).

Kept as the student wrote it, mistakes included: the network applies batch norm to each
layer's *input* (gamma/beta sized like the input, always on, whatever `normalization` says),
`__init__` reads the global `num_classes` instead of `output_dim`, batchnorm_backward adds eps
twice, and the regression model is built as "classification" with the MNIST input size.
Where the PDF lost an operator at a line wrap (`... (cache[4]**2)) ↪ (np.sum(...`), the `*`
is restored: without it the cell could not have printed its results.
"""

PERSONAL = """# Set your student number
student_number = 99102401
Name = 'Ali'
Last_Name = 'Nazari'"""

BLANKS = {
    "affine_forward": """\
modified_x = x.reshape(x.shape[0], -1) # to make x into rows
out = modified_x.dot(w) + b

cache = (x, w, b)
return out, cache""",
    "affine_backward": """\
x, w, b = cache
dot_dx = dout.dot(w.T)
dx = dot_dx.reshape(x.shape)
reshape_dw = x.reshape(x.shape[0], -1)
transposed_dw = reshape_dw.T
dw = transposed_dw.dot(dout)
db = np.sum(dout, axis=0)
return dx, dw, db""",
    "relu_forward": """\
out = np.maximum(x, 0)
return out, x""",
    "relu_backward": """\
return dout * (cache > 0)""",
    "sigmoid_forward": """\
out = np.array(1.0 / (1.0 + np.exp(-x)))

return out, x""",
    "sigmoid_backward": """\
# we know that to calculate derivate dout/dnetout we have out(1-out) so we use this approach for calculating this part
gradian = (np.array(1.0 / (1.0 + np.exp(-cache))))*(1-(np.array(1.0 / (1.0 + np.exp(-cache)))))
return dout * gradian""",
    "affine_relu_forward": """\
# first we use our affine_forward function, because in explanation we have this
first_out, first_cache = affine_forward(x, w, b)
# then we use relu_forward to get main output
main_out, main_cache = relu_forward(first_out)
return main_out, (first_cache, main_cache)""",
    "affine_relu_backward": """\
relu_backward_parameter = cache[1]
affine_backward_parameter = cache[0]

# after using relu_forward in previous section, now we should use relu_backward to start propagation
first_part_output = relu_backward(dout ,relu_backward_parameter)
# after using affine_forward and relu_forward and relu_backward, we should use affine_backward to finish the process
second_part_output = affine_backward(first_part_output, affine_backward_parameter)
dx, dw, db = second_part_output
return dx, dw, db""",
    "batchnorm_forward_train": """\
normalized_pow = (x - np.mean(x, axis=0)) ** 2
standard_deviation = np.sqrt(np.var(x, axis=0) + eps)
final_normalized_data = (x - np.mean(x, axis=0)) * (1./standard_deviation)
out = (gamma * final_normalized_data) + beta
cache = (final_normalized_data, gamma, (x - np.mean(x, axis=0)), (1./standard_deviation), standard_deviation, standard_deviation * standard_deviation, eps)
running_mean = ((1 - momentum) * (np.mean(x, axis=0))) + running_mean * momentum
running_var = ((1 - momentum) * (np.var(x, axis=0))) + running_var * momentum""",
    "batchnorm_forward_test": """\
normalized_mean = x - running_mean
normalized_var = np.sqrt(running_var + eps)
out = gamma * (normalized_mean / normalized_var)
out += beta
cache = None""",
    "batchnorm_backward": """\
before_shape = 0.5 * 1. / np.sqrt(cache[5]+cache[6]) * (-1. / (cache[4]**2)) * (np.sum(dout * cache[1] * cache[2], axis=0))
after_shape = 2 * cache[2] * (1. / dout.shape[0] * np.ones((dout.shape[0], dout.shape[1])) * before_shape)
first_main_part = (dout * cache[1] * cache[3]) + after_shape
second_main_part = 1. / dout.shape[0] * np.ones((dout.shape[0], dout.shape[1])) * (-1 * np.sum(first_main_part, axis=0))

return first_main_part + second_main_part , np.sum(dout*cache[0], axis=0), np.sum(dout, axis=0)""",
    "softmax_loss": """\
section1 = (x-np.max(x,axis=1,keepdims=True))-np.log(np.sum(np.exp(x-np.max(x,axis=1,keepdims=True)),axis=1,keepdims=True))
x_derivative = np.exp(section1)
x_derivative[np.arange(x.shape[0]), y.astype(int)] -= 1
return (-np.sum(section1[np.arange(x.shape[0]), y.astype(int)], keepdims=True) / x.shape[0])[0], x_derivative / x.shape[0]""",
    "mse_loss": """\
return np.sum(np.power(y-x, 2))/x.shape[0], (2*x-2*y)/x.shape[0]""",
    "fcn_init": """\
for i in range(0, self.num_layers):
    main_dim = [input_dim] + hidden_dims + [num_classes]
    self.params['W' + str(i+1)] = np.random.normal(scale=weight_scale,size=(main_dim[i],main_dim[i+1]))
    self.params['b' + str(i+1)] = np.zeros(main_dim[i+1])
    if i != self.num_layers - 1:
        self.params['gamma' + str(i+1)] = np.ones(main_dim[i])
        self.params['beta' + str(i+1)] = np.zeros(main_dim[i])""",
    "fcn_forward": """\
self.cache = dict()
self.batchnorm_cache = dict()
scores = X
for i in range(1, self.num_layers+1):
    if i != self.num_layers:
        scores, self.batchnorm_cache['batchnorm' + str(i)] = batchnorm_forward(scores, self.params['gamma' + str(i)], self.params['beta' + str(i)], self.bn_params[i-1])
        scores, cache = affine_relu_forward(scores, self.params['W' + str(i)], self.params['b' + str(i)])
    else:
        scores, cache = affine_forward(scores, self.params['W' + str(i)], self.params['b' + str(i)])
    self.cache['c' + str(i)] = cache
    out = scores""",
    "fcn_backward": """\
main_parameter = {}
for i in range(self.num_layers, 0, -1):
    main_parameter['W' + str(i)] = i
loss, der = softmax_loss(scores, y)
if self.category != "classification":
    y = y.reshape(out.shape[0], 1)
    loss, der = mse_loss(out, y)
for i in range(self.num_layers, 0, -1):
    first_parameter = i
    second_parameter = i+1
    if i != self.num_layers:
        der, grads['W' + str(i)], grads['b' + str(i)] = affine_relu_backward(der, self.cache['c' + str(i)])
        first_parameter = 'gamma' + str(i)
        der, grads['gamma' + str(i)], grads['beta' + str(i)] = batchnorm_backward(der, self.batchnorm_cache['batchnorm' + str(i)])
    else:
        second_parameter = 'b' + str(i)
        der, grads['W' + str(i)], grads['b' + str(i)] = affine_backward(der, self.cache['c' + str(i)])
    grads['W' + str(i)] += self.reg*self.params['W' + str(i)]
    loss += 0.5*self.reg*np.sum(np.power(self.params['W' + str(i)], 2))""",
    "sgd_momentum": """\
v = config['momentum'] * v - config['learning_rate'] * dw
next_w = w + v""",
    "train_mnist": """\
parameters = [[20], [True], 0.0001]
model = FullyConnectedNet('classification', parameters[0], parameters[1], reg=parameters[2])
names = ['X_train', 'X_val', 'y_train', 'y_val', 'X_test', 'y_test']
values = [X_train, X_val, y_train, y_val, X_test, y_test]
data = {}
for i in range(6):
    data[names[i]] = values[i]
MNIST_solver = Solver(model, data, update_rule=sgd_momentum)
MNIST_solver.train()
MNIST_best_model = model""",
    "train_diabetes": """\
parameters = [[20], [True], 0.0001]
model = FullyConnectedNet('classification', parameters[0], parameters[1], reg=parameters[2])
names = ['X_train', 'X_val', 'y_train', 'y_val', 'X_test', 'y_test']
values = [X_train, X_val, y_train, y_val, X_test, y_test]
data = {}
for i in range(6):
    data[names[i]] = values[i]
MNIST_solver = Solver(model, data, update_rule=sgd_momentum)
MNIST_solver.train()
MNIST_best_model = model""",
}
