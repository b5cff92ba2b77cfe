"""Real-world patterns of HW4's neural_net.py, each as a sample of our own with its fair verdict.

HW4's code part is CS231n's two-layer net, and thousands of students' versions of it are public.
Each pattern below was read in such public code (`seen` says where: repository and path, or, for
a code-search hit whose index names no repository, what it was). The samples are our own small
edits of the reference solution that reproduce the pattern, never third-party code. `verdict`
lists the code tasks (T5–T11) that a fair TA does not pass, and why; every other code task
passes. docs/hw4.md gives the rules these verdicts follow.

`test_hw4_corpus.py` grades all of them in one batch and asserts every task's status.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .conftest import SOLUTION_CODE, mutate

CODE_TASKS = ("T5", "T6", "T7", "T8", "T9", "T10", "T11")
Edit = tuple[str, str]


def span(start: str, end: str) -> str:
    """The reference's exact text from the line holding `start` through the line holding `end`."""
    a = SOLUTION_CODE.index(start)
    a = SOLUTION_CODE.rindex("\n", 0, a) + 1
    b = SOLUTION_CODE.index(end, a)
    b = SOLUTION_CODE.index("\n", b) + 1
    return SOLUTION_CODE[a:b]


# --- exact pieces of the reference solution (reference/hw4/solution/cattern/neural_net.py) ----------
FORWARD = span("X1 = X @ W1 + b1", "scores = X1 @ W2 + b2")
SOFTMAX_AND_LOSS = span("scores_shifted = scores - np.max", "loss += 1/2 * reg")
REG_LOSS = "loss += 1/2 * reg * ((W1 * W1).sum() + (W2 * W2).sum())"
GRAD_W1 = 'grads["W1"] = X.T @ dX1 + reg * W1'
GRAD_W2 = 'grads["W2"] = X1.T @ dscores + reg * W2'
GRAD_B1 = 'grads["b1"] = np.sum(dX1, axis=0)'
GRAD_B2 = 'grads["b2"] = np.sum(dscores, axis=0)'
RELU_MASK = "        dX1[X1 <= 0] = 0\n"
INIT_B1 = 'self.params["b1"] = np.zeros(hidden_size)'
INIT_B2 = 'self.params["b2"] = np.zeros(output_size)'
INIT_W1 = 'self.params["W1"] = std * np.random.randn(input_size, hidden_size)'
INIT_W2 = 'self.params["W2"] = std * np.random.randn(hidden_size, output_size)'
SAMPLE = "            random_mask = np.random.choice(num_train, batch_size, replace=True)\n"
MINIBATCH = span("random_mask = np.random.choice", "y_batch = y[random_mask]")
UPDATE = span('self.params["W1"] -= learning_rate', 'self.params["b2"] -= learning_rate')
EPOCH = "iterations_per_epoch = max(num_train / batch_size, 1)"
LOOP = "        for it in range(num_iters):\n"
LOSS_CALL = "            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)\n"
PREDICT = span("scores = np.array(self.loss(X))", "y_pred = np.argmax(scores, axis=1)")
T10_DECAY = "                learning_rate *= learning_rate_decay\n"
LOSS_DEF = "    def loss(self, X, y=None, reg=0.0):\n"
INIT_DEF = "    def __init__(self, input_size, hidden_size, output_size, std=1e-4):\n"
AFTER_SCORES_RETURN = "        if y is None:\n            return scores\n"
ALL_ERROR = dict.fromkeys(CODE_TASKS, "error")


@dataclass(frozen=True)
class Pattern:
    name: str
    seen: str  # where the pattern was read in public code
    verdict: dict[str, str]  # code tasks that do not pass -> status; the others pass
    why: str  # the fair TA's reason (see docs/hw4.md)
    edits: tuple[Edit, ...] = ()
    transform: Callable[[str], str] | None = field(default=None, compare=False)

    def code(self) -> str:
        code = SOLUTION_CODE
        for old, new in self.edits:
            code = mutate(old, new, code)
        return self.transform(code) if self.transform else code

    def statuses(self) -> dict[str, str]:
        """The expected status of every code task."""
        return {tid: self.verdict.get(tid, "pass") for tid in CODE_TASKS}


def _python2(code: str) -> str:
    """The whole file in Python 2 style: print statements, xrange, no __future__ import."""
    code = code.replace("from __future__ import print_function\n", "")
    code = re.sub(r"print\((.*)\)$", r"print \1", code, flags=re.MULTILINE)
    return code.replace("for it in range(num_iters):", "for it in xrange(num_iters):")


PATTERNS: tuple[Pattern, ...] = (
    # --- T6/T7: regularisation conventions -----------------------------------------------------------
    Pattern(
        "reg_other_convention",
        "Yorko/stanford_cs231n_2019 cs231n/classifiers/neural_net.py; 7forz/CS231n_assignments, "
        "6217Steve99/CS231n-2020 assignment1/cs231n/classifiers/neural_net.py; Ecalzo/cs231n2017-python3, "
        "Henrywcj/Stanford_CS231n_Assignment1, Tarek98/Two_Layer_Neural_Net_Design cs231n/classifiers/neural_net.py",
        {"T6": "fail"},
        "loss reg·ΣW² with gradient 2·reg·W: not the published loss (T6), but backprop is right for that loss (T7)",
        ((REG_LOSS, "loss += reg * np.sum(W1 * W1) + reg * np.sum(W2 * W2)"),
         (GRAD_W1, 'grads["W1"] = X.T @ dX1 + 2 * reg * W1'), (GRAD_W2, 'grads["W2"] = X1.T @ dscores + 2 * reg * W2')),
    ),
    Pattern(
        "reg_loss_and_gradient_disagree",
        "a public CS231n assignment-1 solutions write-up (README, code-search hit; the index names no repository): "
        "loss reg·ΣW², gradient reg·W; also reported by issue 12's survey",
        {"T6": "fail", "T7": "fail"},
        "the gradient reg·W is not the gradient of the loss reg·ΣW² this submission computes: T7 fails on its own loss",
        ((REG_LOSS, "loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2))"),),
    ),
    Pattern(
        "reg_also_on_biases",
        "alehner/two-layer-net cs231n/classifiers/neural_net.py",
        {"T6": "fail"},
        "biases regularised too (0.5·reg·Σb² in the loss, reg·b in the gradient): the loss is not the published one, "
        "its gradients are right for it",
        ((REG_LOSS, "loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1) + np.sum(b2 * b2))"),
         (GRAD_B1, 'grads["b1"] = np.sum(dX1, axis=0) + reg * b1'),
         (GRAD_B2, 'grads["b2"] = np.sum(dscores, axis=0) + reg * b2')),
    ),
    # --- T6: how the softmax is computed -------------------------------------------------------------
    Pattern(
        "softmax_without_max_shift",
        "Henrywcj/Stanford_CS231n_Assignment1, Carsten134/two_layer_net, Tarek98/Two_Layer_Neural_Net_Design, "
        "chenyuntc/cs231n cs231n/classifiers/neural_net.py",
        {"T6": "fail"},
        "exp of raw scores overflows for scores in the hundreds: the hidden large-magnitude loss is inf/NaN (T6 only)",
        ((SOFTMAX_AND_LOSS,
          "        exp_scores = np.exp(scores)\n"
          "        scores_softmax = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)\n"
          "        loss = -np.mean(np.log(scores_softmax[np.arange(N), y]))\n"
          "        loss += 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))\n"),),
    ),
    Pattern(
        "softmax_global_max_shift",
        "OneRaynyDay/CS231n, LUKELIEM/CS231N-Assignment-1 cs231n/classifiers/neural_net.py; AKSoo/CS231n-2017 "
        "assignment1/cs231n/classifiers/neural_net.py",
        {},
        "one shift by the largest score of the whole batch is as exact as a shift per row and keeps exp from "
        "overflowing",
        ((SOFTMAX_AND_LOSS,
          "        scores_shifted = scores - np.max(scores)\n"
          "        exp_scores = np.exp(scores_shifted)\n"
          "        sums = np.sum(exp_scores, axis=1)\n"
          "        loss = np.sum(np.log(sums) - scores_shifted[np.arange(N), y]) / N\n"
          "        scores_softmax = exp_scores / sums[:, None]\n"
          "        loss += reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2)) / 2\n"),),
    ),
    Pattern(
        "loss_by_log_sum_exp",
        "Yorko/stanford_cs231n_2019 cs231n/classifiers/neural_net.py",
        {},
        "the loss written as max + log Σ exp(score − max) − correct score: the same number",
        ((SOFTMAX_AND_LOSS,
          "        top = scores.max(axis=1, keepdims=True)\n"
          "        log_norm = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))\n"
          "        loss = (log_norm - scores[np.arange(N), y]).sum() / N\n"
          "        scores_softmax = np.exp(scores - log_norm[:, None])\n"
          "        loss += 0.5 * reg * ((W1 ** 2).sum() + (W2 ** 2).sum())\n"),),
    ),
    Pattern(
        "loss_np_choose_one_element_array",
        "RahulBaboota/CS231n-Homeworks, Ecalzo/cs231n2017-python3 cs231n/classifiers/neural_net.py",
        {},
        "np.choose to pick the correct-class probabilities and a keepdims sum unwrapped with [0]: a scalar loss",
        (("        with np.errstate(divide=\"ignore\"):\n"
          "            loss = -np.sum(np.log(scores_softmax[np.arange(N), y]))\n",
          "        picked = np.choose(y, scores_softmax.T)\n"
          "        loss = -np.sum(np.log(picked), axis=0, keepdims=True)[0]\n"),),
    ),
    # --- T7: how backprop is written -----------------------------------------------------------------
    Pattern(
        "relu_mask_multiplied",
        "0Kelvins/cs231n-assignment, 7forz/CS231n_assignments assignment1/cs231n/classifiers/neural_net.py",
        {},
        "the ReLU gradient as a 0/1 mask multiplied in rather than assigned: the same gradient",
        ((RELU_MASK, "        dX1 = (X1 > 0) * dX1\n"),),
    ),
    Pattern(
        "relu_in_place_on_preactivation",
        "chenyuntc/cs231n cs231n/classifiers/neural_net.py",
        {},
        "ReLU applied in place to the pre-activation, the mask kept beforehand: the same forward and backward",
        ((FORWARD,
          "        X1 = X @ W1 + b1\n"
          "        off = X1 < 0\n"
          "        X1[off] = 0\n"
          "        scores = X1 @ W2 + b2\n"),
         (RELU_MASK, "        dX1[off] = 0\n")),
    ),
    Pattern(
        "bias_folded_into_weights",
        "AdvaitKoparkar/CS231n-Assignment1 cs231n/classifiers/neural_net.py",
        {},
        "a column of ones appended to the inputs and the bias stacked under the weights: the same affine layers",
        ((FORWARD,
          "        ones = np.ones((N, 1))\n"
          "        X1 = np.maximum(0, np.hstack([X, ones]) @ np.vstack([W1, b1[None, :]]))\n"
          "        scores = np.hstack([X1, ones]) @ np.vstack([W2, b2[None, :]])\n"),),
    ),
    Pattern(
        "bias_gradient_as_row_reshaped_in_train",
        "a CS231n fork's cs231n/classifiers/neural_net.py (code-search hit; the index names no repository): "
        "np.sum(..., keepdims=True) bias gradients, reshaped to (H,) in train() before the update",
        {},
        "a bias gradient of shape (1, H) holds the same numbers as (H,); the notebook's own gradient check passes",
        ((GRAD_B1, 'grads["b1"] = np.sum(dX1, axis=0, keepdims=True)'),
         (GRAD_B2, 'grads["b2"] = np.sum(dscores, axis=0, keepdims=True)'),
         (UPDATE, '            grads["b1"] = grads["b1"].reshape(-1)\n'
                  '            grads["b2"] = grads["b2"].reshape(-1)\n' + UPDATE)),
    ),
    Pattern(
        "bias_kept_as_row_vector",
        "the layout of the CS231n course notes' neural-networks case study (b = np.zeros((1, K)), db with "
        "keepdims=True), copied into many forks (code search)",
        {},
        "biases stored and updated as (1, H) rows throughout: consistent, and the same numbers",
        ((INIT_B1, 'self.params["b1"] = np.zeros((1, hidden_size))'),
         (INIT_B2, 'self.params["b2"] = np.zeros((1, output_size))'),
         (GRAD_B1, 'grads["b1"] = np.sum(dX1, axis=0, keepdims=True)'),
         (GRAD_B2, 'grads["b2"] = np.sum(dscores, axis=0, keepdims=True)')),
    ),
    Pattern(
        "weights_stored_transposed",
        "a CS231n fork's neural_net.py with W1 = std * np.random.randn(hidden_size, input_size) and W2 of shape "
        "(C, H) (code-search hit; the index names no repository)",
        {"T5": "error", "T6": "error", "T7": "error"},
        "the starter fixes W1 as (D, H) and W2 as (H, C); loss() written for (H, D) cannot take the net's parameters "
        "(the notebook's seeded toy net would not match its published scores either). predict() goes through "
        "loss(X), so T11 is judged with the scores given to it; T8–T10 stub loss()",
        ((INIT_W1, 'self.params["W1"] = std * np.random.randn(hidden_size, input_size)'),
         (INIT_W2, 'self.params["W2"] = std * np.random.randn(output_size, hidden_size)'),
         (FORWARD, "        X1 = np.maximum(0, X @ W1.T + b1)\n        scores = X1 @ W2.T + b2\n"),
         (GRAD_W2, 'grads["W2"] = dscores.T @ X1 + reg * W2'),
         ("        dX1 = dscores @ W2.T\n", "        dX1 = dscores @ W2\n"),
         (GRAD_W1, 'grads["W1"] = dX1.T @ X + reg * W1')),
    ),
    Pattern(
        "parameters_in_float32",
        "numpy two-layer nets derived from the course that initialise with .astype(np.float32) (code search; "
        "the index names no repository)",
        {},
        "float32 storage from __init__: the grader hands loss() its own float64 parameters, and training works",
        (("        " + INIT_B2 + "\n",
          "        " + INIT_B2 + "\n"
          "        self.params = {k: v.astype(np.float32) for k, v in self.params.items()}\n"),),
    ),
    # --- T8: how the minibatch is drawn --------------------------------------------------------------
    Pattern(
        "minibatch_without_replacement_clamped",
        "LUKELIEM/CS231N-Assignment-1 cs231n/classifiers/neural_net.py",
        {},
        "sampling without replacement, batch clamped to N when batch_size > N (the toy run: N = 5, batch 200)",
        ((SAMPLE, "            random_mask = np.random.choice(num_train, min(batch_size, num_train),"
                  " replace=False)\n"),),
    ),
    Pattern(
        "minibatch_without_replacement_unclamped",
        "Yorko/stanford_cs231n_2019 cs231n/classifiers/neural_net.py",
        {"T8": "error"},
        "replace=False with batch_size > N raises in the notebook's own toy run: T8's code crashes (T10's batch_size > "
        "N check is then not counted, not failed)",
        ((SAMPLE, "            random_mask = np.random.choice(num_train, batch_size, replace=False)\n"),),
    ),
    Pattern(
        "minibatch_permutation_prefix",
        "CS231n forks' cs231n/classifiers/neural_net.py with np.random.permutation(num_train)[:batch_size] "
        "(code-search hits; the index names no repository)",
        {},
        "the first batch_size entries of a random permutation: without replacement, and all N rows once when "
        "batch_size > N",
        ((SAMPLE, "            random_mask = np.random.permutation(num_train)[:batch_size]\n"),),
    ),
    Pattern(
        "minibatch_randint",
        "CS231n forks' neural_net.py with np.random.randint(num_train, size=batch_size) (code-search hits)",
        {},
        "random indices with replacement, drawn with randint: the same sampling",
        ((SAMPLE, "            random_mask = np.random.randint(num_train, size=batch_size)\n"),),
    ),
    Pattern(
        "minibatch_own_generator",
        "CS231n-derived train() loops that draw batches from their own np.random.RandomState(seed) (code search)",
        {},
        "a local random generator instead of the global one: still a random minibatch every iteration",
        (("        num_train = X.shape[0]\n",
          "        num_train = X.shape[0]\n        rng = np.random.default_rng()\n"),
         (SAMPLE, "            random_mask = rng.choice(num_train, batch_size)\n")),
    ),
    Pattern(
        "minibatch_size_typo",
        "Jingogo/Solution_CS231n_CNNs_for_Visual_Recognition cs231n/classifiers/neural_net.py",
        {"T8": "fail"},
        "np.random.choice(num_train, num_iters): batches of num_iters rows, not batch_size",
        ((SAMPLE, "            random_mask = np.random.choice(num_train, num_iters)\n"),),
    ),
    # --- T9: how the update is written ---------------------------------------------------------------
    Pattern(
        "sgd_loop_over_params",
        "Yorko/stanford_cs231n_2019, Carsten134/two_layer_net cs231n/classifiers/neural_net.py; "
        "1602077/stanford-cs231n assignment1/cs231n/classifiers/neural_net.py",
        {},
        "one loop over the parameter names: every parameter moves by −learning_rate·grad",
        ((UPDATE, "            for name in self.params:\n"
                  "                self.params[name] -= learning_rate * grads[name]\n"),),
    ),
    Pattern(
        "sgd_in_place_through_items",
        "AKSoo/CS231n-2017 assignment1/cs231n/classifiers/neural_net.py",
        {},
        "in-place updates through the arrays self.params.items() yields: the dictionary's arrays move",
        ((UPDATE, "            for name, value in self.params.items():\n"
                  "                value -= learning_rate * grads[name]\n"),),
    ),
    Pattern(
        "sgd_through_local_aliases",
        "Genoc/cs231n-assignment1 cs231n/classifiers/neural_net.py",
        {},
        "in-place updates on local names bound to the dictionary's arrays: the same arrays move",
        ((UPDATE, '            W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))\n'
                  '            W1 -= learning_rate * grads["W1"]\n'
                  '            b1 -= learning_rate * grads["b1"]\n'
                  '            W2 -= learning_rate * grads["W2"]\n'
                  '            b2 -= learning_rate * grads["b2"]\n'),),
    ),
    Pattern(
        "sgd_rebinding_new_arrays",
        "Ecalzo/cs231n2017-python3 cs231n/classifiers/neural_net.py; 0Kelvins/cs231n-assignment (+= -lr·grad)",
        {},
        "self.params[k] = self.params[k] − learning_rate·grad: new arrays, stored back",
        ((UPDATE, "            for k in list(self.params):\n"
                  "                self.params[k] = self.params[k] + -learning_rate * grads[k]\n"),),
    ),
    # --- T10: the epoch length ----------------------------------------------------------------------
    Pattern("epoch_rounded", "Yorko/stanford_cs231n_2019 cs231n/classifiers/neural_net.py", {},
            "round(N / batch_size): the rate still decays once per epoch",
            ((EPOCH, "iterations_per_epoch = max(round(num_train / batch_size), 1)"),)),
    Pattern("epoch_floor_division",
            "CS231n forks' neural_net.py with max(num_train // batch_size, 1) (code-search hits, e.g. the later "
            "starter with '# pylint: disable=too-many-arguments')", {},
            "N // batch_size: the rate still decays once per epoch",
            ((EPOCH, "iterations_per_epoch = max(num_train // batch_size, 1)"),)),
    Pattern("epoch_int", "issue 12's survey of public solutions", {},
            "int(N / batch_size): the rate still decays once per epoch",
            ((EPOCH, "iterations_per_epoch = max(int(num_train / batch_size), 1)"),)),
    Pattern("epoch_ceil", "issue 12's survey of public solutions", {},
            "ceil(N / batch_size): the rate still decays once per epoch",
            ((EPOCH, "iterations_per_epoch = max(int(np.ceil(num_train / batch_size)), 1)"),)),
    Pattern(
        "epoch_floor_division_without_max",
        "a CS231n fork's neural_net.py with iterations_per_epoch = num_train // batch_size (code-search hit)",
        {"T10": "fail"},
        "an epoch of 0 iterations when batch_size > N: train() divides by zero at the epoch check; the batch it drew "
        "first is right (T8 passes), the epoch length is T10's",
        ((EPOCH, "iterations_per_epoch = num_train // batch_size"),),
    ),
    # --- signatures and extra code -------------------------------------------------------------------
    Pattern(
        "parameters_named_in_lower_case",
        "Yorko/stanford_cs231n_2019 cs231n/classifiers/neural_net.py (loss(self, x, ...), train(self, x, y, "
        "x_val, y_val, ...), predict(self, x))",
        {},
        "x and x_val for X and X_val: the grader passes them by position, as the starter's order allows",
        ((LOSS_DEF, "    def loss(self, x, y=None, reg=0.0):\n        X = x\n"),
         ("        X, y, X_val, y_val,\n", "        x, y, x_val, y_val,\n"),
         ("        num_train = X.shape[0]\n", "        X, X_val = x, x_val\n        num_train = X.shape[0]\n"),
         ("    def predict(self, X):\n", "    def predict(self, x):\n        X = x\n")),
    ),
    Pattern(
        "constructor_in_camel_case",
        "RahulBaboota/CS231n-Homeworks cs231n/classifiers/neural_net.py (inputSize, hiddenSize, outputSize)",
        {},
        "renamed __init__ parameters: the grader builds the net by position",
        ((INIT_DEF, "    def __init__(self, inputSize, hiddenSize, outputSize, std=1e-4):\n"
                    "        input_size, hidden_size, output_size = inputSize, hiddenSize, outputSize\n"),),
    ),
    Pattern(
        "extra_verbose_parameters",
        "LUKELIEM/CS231N-Assignment-1 cs231n/classifiers/neural_net.py (verbose=False on __init__ and loss)",
        {},
        "optional parameters added after the starter's: calls the starter's way still work",
        ((INIT_DEF, "    def __init__(self, input_size, hidden_size, output_size, std=1e-4, verbose=False):\n"),
         (LOSS_DEF, "    def loss(self, X, y=None, reg=0.0, verbose=False):\n"),
         (AFTER_SCORES_RETURN, AFTER_SCORES_RETURN + "        if verbose:\n            print(scores.shape)\n")),
    ),
    Pattern(
        "train_calls_loss_positionally",
        "CS231n forks' train() with self.loss(X_batch, y_batch, reg) (code-search hits)",
        {},
        "train() passes the batch to loss() by position: the grader's recorder takes it either way",
        ((LOSS_CALL, "            loss, grads = self.loss(X_batch, y_batch, reg)\n"),),
    ),
    Pattern(
        "helper_methods",
        "Ecalzo/cs231n2017-python3 (relu as a lambda); CS231n forks with extra sampling methods on the class "
        "(code search)",
        {},
        "the forward pass and the sampling moved into helper methods of the class: the same behaviour",
        ((FORWARD, "        X1, scores = self._forward(X)\n"),
         (LOSS_DEF, "    def _forward(self, X):\n"
                    "        hidden = np.maximum(0, X @ self.params[\"W1\"] + self.params[\"b1\"])\n"
                    "        return hidden, hidden @ self.params[\"W2\"] + self.params[\"b2\"]\n\n"
                    "    def _sample(self, num_train, batch_size):\n"
                    "        return np.random.choice(num_train, batch_size)\n\n" + LOSS_DEF),
         (SAMPLE, "            random_mask = self._sample(num_train, batch_size)\n")),
    ),
    Pattern(
        "init_ignores_std",
        "chenyuntc/cs231n cs231n/classifiers/neural_net.py (He initialisation, std unused)",
        {},
        "its own initialisation: the grader sets the parameters for T5–T11, and the toy training still converges",
        ((INIT_W1, 'self.params["W1"] = np.sqrt(2.0 / input_size) * np.random.randn(input_size, hidden_size)'),
         (INIT_W2, 'self.params["W2"] = np.sqrt(2.0 / hidden_size) * np.random.randn(hidden_size, output_size)')),
    ),
    # --- T11 -----------------------------------------------------------------------------------------
    Pattern(
        "predict_with_its_own_forward_pass",
        "0Kelvins/cs231n-assignment, 7forz/CS231n_assignments assignment1/...; AKSoo/CS231n-2017; "
        "OneRaynyDay/CS231n cs231n/classifiers/neural_net.py",
        {},
        "predict() recomputes the scores instead of calling loss(X): the same labels",
        ((PREDICT, "        hidden = np.maximum(0, X.dot(self.params[\"W1\"]) + self.params[\"b1\"])\n"
                   "        y_pred = np.argmax(hidden.dot(self.params[\"W2\"]) + self.params[\"b2\"], axis=1)\n"),),
    ),
    Pattern(
        "predict_by_argsort",
        "0809zheng/CS231n-assignment2019 assignment1/cs231n/classifiers/neural_net.py",
        {},
        "the last column of argsort is the argmax",
        ((PREDICT, "        y_pred = np.argsort(self.loss(X), axis=1)[:, -1]\n"),),
    ),
    Pattern(
        "predict_relu_on_the_scores",
        "AdvaitKoparkar/CS231n-Assignment1 cs231n/classifiers/neural_net.py",
        {"T11": "fail"},
        "a ReLU on the output scores: rows whose scores are all negative predict class 0 (the toy net's are)",
        ((PREDICT, "        scores = np.maximum(0, self.loss(X))\n        y_pred = np.argmax(scores, axis=1)\n"),),
    ),
    # --- Python 2, imports, partial and unfinished files -----------------------------------------------
    Pattern(
        "python2_file",
        "OneRaynyDay/CS231n, chenyuntc/cs231n, LUKELIEM/CS231N-Assignment-1, RahulBaboota/CS231n-Homeworks "
        "cs231n/classifiers/neural_net.py (print statements, xrange)",
        ALL_ERROR,
        "a SyntaxError under Python 3, which the course uses (the notebook has f-strings and @): the module does not "
        "import, every code task is an error with a Python 2 hint",
        transform=_python2,
    ),
    Pattern(
        "xrange_under_python3",
        "OneRaynyDay/CS231n cs231n/classifiers/neural_net.py (for it in xrange(num_iters))",
        {"T8": "error", "T9": "error", "T10": "error"},
        "train() raises NameError before its first batch: nothing of T8–T10 can be observed",
        ((LOOP, "        for it in xrange(num_iters):\n"),),
    ),
    Pattern(
        "past_builtins_import",
        "AKSoo/CS231n-2017, 1602077/stanford-cs231n, Jingogo/Solution_CS231n_CNNs_for_Visual_Recognition, "
        "Genoc/cs231n-assignment1 (from past.builtins import xrange)",
        ALL_ERROR,
        "the module imports `past` (the `future` package), which the course environment does not have",
        (("import numpy as np\n", "import numpy as np\nfrom past.builtins import xrange\n"),),
    ),
    Pattern(
        "train_and_predict_left_as_pass",
        "Tarek98/Two_Layer_Neural_Net_Design, RahulBaboota/CS231n-Homeworks, bavaria95/cs231n "
        "cs231n/classifiers/neural_net.py (T8, T9 and predict left as `pass`)",
        {"T8": "fail", "T9": "fail", "T11": "fail"},
        "unfinished tasks fail; the decay the file does have (T10) is read from train()'s learning_rate",
        ((MINIBATCH, "            pass\n"), (UPDATE, "            pass\n"), (PREDICT, "        pass\n")),
    ),
    Pattern(
        "only_the_forward_pass_done",
        "bavaria95/cs231n cs231n/classifiers/neural_net.py (T5 written, the rest left as `pass`)",
        {"T6": "fail", "T7": "fail", "T8": "fail", "T9": "fail", "T11": "fail"},
        "loss() returns (None, {}): T6 and T7 fail with what was expected; T5 and the decay (T10) pass",
        ((SOFTMAX_AND_LOSS, "        scores_softmax = None\n        loss = None\n"),
         (span("dscores = scores_softmax", GRAD_B1), "        pass\n"),
         (MINIBATCH, "            pass\n"), (UPDATE, "            pass\n"), (PREDICT, "        pass\n")),
    ),
    Pattern(
        "unfinished_line_raises",
        "DaveFerBear/cs231n-cnn-visual-recognition cs231n/classifiers/neural_net.py (L_exp.sum(axis=1).re)",
        {"T6": "error", "T7": "error"},
        "a half-written line after the scores return raises in loss(X, y): T6 and T7 error; T5, T8–T11 stand",
        ((AFTER_SCORES_RETURN, AFTER_SCORES_RETURN + "        sums = np.exp(scores).sum(axis=1).re\n"),),
    ),
    Pattern(
        "script_code_at_import",
        "a CS231n fork's neural_net.py ending in script code that loads 'G:/Pima-training-set.txt' (code-search hit)",
        ALL_ERROR,
        "module-level code reads a file that exists only on the student's machine: the module does not import",
        transform=lambda code: code + "\n\nX_train = np.loadtxt(\"G:/Pima-training-set.txt\")\n",
    ),
)

# Variants decided here that were not read in this assignment's public code (issue 12 asks for them).
DECISIONS: tuple[Pattern, ...] = (
    Pattern(
        "labels_parameter_renamed",
        "not seen as such; issue 12 names renamed parameters (x/y) as a variant a fair TA accepts",
        {},
        "loss(self, x, labels=None, reg=0.0) with train() passing labels=: the grader passes the labels by position",
        ((LOSS_DEF, "    def loss(self, x, labels=None, reg=0.0):\n        X, y = x, labels\n"),
         (LOSS_CALL, "            loss, grads = self.loss(X_batch, labels=y_batch, reg=reg)\n")),
    ),
    Pattern(
        "float32_arithmetic_in_loss",
        "not seen in this assignment's public code; issue 12 asks how float32 math is judged",
        {"T5": "fail", "T6": "fail", "T7": "fail"},
        "the notebook's own bars are float64 bars (scores < 1e-7, loss < 1e-12, gradient check < 1e-8) and a float32 "
        "loss() misses all three in the student's own notebook run: a precision mistake, not a tolerance question",
        (("        N, _ = X.shape\n",
          "        N, _ = X.shape\n"
          "        X, W1, b1, W2, b2 = (a.astype(np.float32) for a in (X, W1, b1, W2, b2))\n"),),
    ),
)
