"""Step 3, fast: an honest twin of the taught training loop, for sliders that retrain live.

``fast_train_model`` has the same arguments and returns the same ``TrainingHistory``
as ``helpers.training.train_model``, so the two can be swapped. It does the same
mathematics, step for step, without autograd:

- the same starting weights (copied from the ``nn.Module`` you pass in),
- the same batch order (``torch.Generator().manual_seed(seed)``, one
  ``torch.randperm`` per epoch, consecutive slices, the last partial batch kept),
- the same loss (mean squared error) and the same update rules as
  ``torch.optim.SGD`` and ``torch.optim.Adam`` with their default settings,

and at the end it loads the trained (or best) weights back into the module, so every
prediction and plot still comes from the ``nn.Module``. Tests check that its loss
agrees with the autograd loop's to 1e-5 at each of the first 100 steps, for every
activation and optimizer (``step_losses_side_by_side`` shows that check). On the notes'
settings it trains about 15 times faster than the autograd loop (0.3 s instead of 4.5 s
for 1000 epochs on a 2-core machine; ``benchmarks/training_speed.py``), because eager
PyTorch spends most of each step of this tiny network on per-call overhead, not arithmetic.

The mathematics (the backpropagation (反向传播) of notebook 04), for one batch of
``B`` rows. Each Linear layer keeps its weight ``W`` (out × in) and bias ``b`` folded
into one matrix ``Wb = [Wᵀ; b]`` of shape (in + 1) × out, and each layer input ``h``
gets a column of ones, ``ĥ = [h, 1]``, so that ``ĥ @ Wb = h @ Wᵀ + b``:

    forward:   z_l = ĥ_{l-1} @ Wb_l,   h_l = act(z_l)   (no activation after the last layer)
    loss:      L = mean((ŷ - y)²)                 dL/dŷ = 2 (ŷ - y) / (B · outputs)
    backward:  dWb_l = ĥ_{l-1}ᵀ @ dz_l            (weight and bias gradient in one product)
               dh_{l-1} = dz_l @ W_lᵀ             (W_l: Wb_l without its bias row)
               dz_{l-1} = dh_{l-1} * act'(z_{l-1})
    act':      ReLU: 1 where h > 0 else 0;  Tanh: 1 - h²;  Sigmoid: h (1 - h)

    SGD:       p ← p - lr · g
    Adam (t = 1, 2, ...; β1 = 0.9, β2 = 0.999, ε = 1e-8, as torch.optim.Adam):
               m ← m + (1 - β1)(g - m)            v ← β2 v + (1 - β2) g²
               p ← p - lr / (1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + ε)

The same formulas, in torch and unfolded, are in ``helpers/backprop.py`` (notebook 04).
Here everything is NumPy float32 on one flat parameter buffer (and one flat gradient
buffer with the same layout), with every intermediate array allocated once before
training and written in place with ``out=``. Adam and SGD work on the whole flat buffer
at once. (Training several models at once would add a leading "model" axis to these
buffers; ``np.matmul`` broadcasts over it, and the optimizers are element-wise already.)
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from helpers.model import ProductMLP
from helpers.training import TrainingDiverged, TrainingHistory, _validate, make_optimizer

__all__ = ["FlatMLP", "MiniBatchStepper", "fast_train_model", "step_losses_side_by_side"]

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


class FlatMLP:
    """A ``ProductMLP``'s parameters as one flat float32 buffer, with a NumPy forward and backward.

    ``layers[l]`` is a view of ``params`` of shape (in + 1, out): the weight transposed,
    with the bias as its last row. ``grads`` has the same layout. Buffers for the
    activations are made for batches of up to ``max_batch`` rows and reused.
    """

    def __init__(self, model: ProductMLP, max_batch: int) -> None:
        if not isinstance(model, ProductMLP):
            raise ValueError(f"model must be a helpers.model.ProductMLP, got {type(model).__name__}")
        self.activation = model.activation
        self.sizes = [model.in_features, *model.hidden_sizes, model.out_features]
        shapes = [(n_in + 1, n_out) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        total = sum(rows * cols for rows, cols in shapes)
        self.params = np.zeros(total, dtype=np.float32)
        self.grads = np.zeros(total, dtype=np.float32)
        self.layers: list[np.ndarray] = []
        self.layer_grads: list[np.ndarray] = []
        offset = 0
        for rows, cols in shapes:
            self.layers.append(self.params[offset : offset + rows * cols].reshape(rows, cols))
            self.layer_grads.append(self.grads[offset : offset + rows * cols].reshape(rows, cols))
            offset += rows * cols
        self.load_from(model)
        self._make_buffers(max_batch)

    # -- moving weights between the module and the flat buffer ---------------------------------
    def load_from(self, model: ProductMLP) -> None:
        """Copy the module's weights and biases into the flat buffer."""
        with torch.no_grad():
            for folded, linear in zip(self.layers, model.linears, strict=True):
                folded[:-1] = linear.weight.detach().numpy().T
                folded[-1] = linear.bias.detach().numpy()

    def store_into(self, model: ProductMLP, params: np.ndarray | None = None) -> None:
        """Copy the flat buffer (or a saved copy ``params`` of it) into the module's weights."""
        source = self.params if params is None else params
        offset = 0
        with torch.no_grad():
            for folded, linear in zip(self.layers, model.linears, strict=True):
                rows, cols = folded.shape
                block = source[offset : offset + rows * cols].reshape(rows, cols)
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(block[:-1].T)))
                linear.bias.copy_(torch.from_numpy(block[-1].copy()))
                offset += rows * cols

    # -- buffers ----------------------------------------------------------------------------------
    def _make_buffers(self, max_batch: int) -> None:
        self.max_batch = max_batch
        # hidden_inputs[l] holds [h, 1] for each hidden layer's output h (the network's input is given)
        self.hidden_inputs = [np.ones((max_batch, n + 1), dtype=np.float32) for n in self.sizes[1:-1]]
        self.pre_activations = [np.empty((max_batch, n), dtype=np.float32) for n in self.sizes[1:]]
        self.deltas = [np.empty((max_batch, n), dtype=np.float32) for n in self.sizes[1:-1]]
        self.derivatives = [np.empty((max_batch, n), dtype=np.float32) for n in self.sizes[1:-1]]
        self._views: dict[int, tuple[list[np.ndarray], ...]] = {}
        # Wᵀ of each layer (the folded matrix without its bias row), transposed back: W, for dh = dz @ W
        self.weights_t = [folded[:-1].T for folded in self.layers]

    def _views_for(self, rows: int) -> tuple[list[np.ndarray], ...]:
        """The first ``rows`` rows of every buffer, made once per batch size (slicing costs time too)."""
        views = self._views.get(rows)
        if views is None:
            if rows > self.max_batch:
                self._make_buffers(rows)
            z = [buffer[:rows] for buffer in self.pre_activations]
            h_aug = [buffer[:rows] for buffer in self.hidden_inputs]
            h = [buffer[:, :-1] for buffer in h_aug]
            deltas = [buffer[:rows] for buffer in self.deltas]
            derivatives = [buffer[:rows] for buffer in self.derivatives]
            views = self._views[rows] = (z, h_aug, h, deltas, derivatives, [z[-1].reshape(-1)])
        return views

    def _activate(self, z: np.ndarray, out: np.ndarray) -> None:
        """out = act(z), in place."""
        if self.activation == "relu":
            np.maximum(z, 0.0, out=out)
        elif self.activation == "tanh":
            np.tanh(z, out=out)
        else:  # sigmoid: 1 / (1 + exp(-z))
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=out)

    def _derivative(self, h: np.ndarray, out: np.ndarray) -> None:
        """out = act'(z), written from the activation's output h = act(z)."""
        if self.activation == "relu":
            np.greater(h, 0.0, out=out)
        elif self.activation == "tanh":
            np.multiply(h, h, out=out)
            np.subtract(1.0, out, out=out)
        else:
            np.subtract(1.0, h, out=out)
            out *= h

    # -- forward and backward ---------------------------------------------------------------------
    # np.dot rather than np.matmul: the same BLAS product with less per-call overhead on small arrays.
    def forward(self, x_aug: np.ndarray) -> np.ndarray:
        """Prediction for the rows of ``x_aug`` = [x, 1] (B, in + 1); returns a view of a buffer."""
        z, h_aug, h, _, _, _ = self._views_for(x_aug.shape[0])
        layer_input = x_aug
        last = len(self.layers) - 1
        for index, folded in enumerate(self.layers):
            np.dot(layer_input, folded, out=z[index])
            if index < last:
                self._activate(z[index], h[index])
                layer_input = h_aug[index]
        return z[last]

    def loss(self, x_aug: np.ndarray, y: np.ndarray) -> float:
        """Mean squared error of the prediction for ``x_aug`` against ``y`` (no gradient)."""
        diff = self.forward(x_aug)
        diff -= y
        flat = diff.reshape(-1)
        return float(np.dot(flat, flat)) / flat.size

    def loss_and_gradient(self, x_aug: np.ndarray, y: np.ndarray) -> float:
        """Forward, MSE loss and backward for one batch; the gradient lands in ``grads``."""
        _, h_aug, h, deltas, derivatives, (flat,) = self._views_for(x_aug.shape[0])
        delta = self.forward(x_aug)  # the output layer's pre-activation = the prediction
        delta -= y  # ŷ - y
        loss = float(np.dot(flat, flat)) / flat.size
        delta *= 2.0 / flat.size  # dL/dŷ
        for index in range(len(self.layers) - 1, 0, -1):
            np.dot(h_aug[index - 1].T, delta, out=self.layer_grads[index])  # dWb = ĥᵀ @ dz
            below = deltas[index - 1]
            np.dot(delta, self.weights_t[index], out=below)  # dh = dz @ W
            self._derivative(h[index - 1], derivatives[index - 1])
            below *= derivatives[index - 1]  # dz = dh * act'(z)
            delta = below
        np.dot(x_aug.T, delta, out=self.layer_grads[0])
        return loss


class _Adam:
    """``torch.optim.Adam`` with its defaults (betas 0.9/0.999, eps 1e-8), on one flat buffer."""

    def __init__(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        self.params, self.grads, self.lr = params, grads, lr
        self.exp_avg = np.zeros_like(params)
        self.exp_avg_sq = np.zeros_like(params)
        self.scratch = np.empty_like(params)
        self.step_count = 0

    def step(self) -> None:
        beta1, beta2 = ADAM_BETAS
        self.step_count += 1
        g, m, v, tmp = self.grads, self.exp_avg, self.exp_avg_sq, self.scratch
        np.subtract(g, m, out=tmp)  # m.lerp_(g, 1 - β1) = m + (1 - β1)(g - m)
        tmp *= 1.0 - beta1
        m += tmp
        v *= beta2  # v.mul_(β2).addcmul_(g, g, value=1 - β2)
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        bias_correction1 = 1.0 - beta1**self.step_count
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**self.step_count)
        np.sqrt(v, out=tmp)  # denom = √v / √(1 - β2ᵗ) + ε
        tmp /= bias_correction2_sqrt
        tmp += ADAM_EPS
        np.divide(m, tmp, out=tmp)  # p.addcdiv_(m, denom, value=-lr / (1 - β1ᵗ))
        tmp *= -self.lr / bias_correction1
        self.params += tmp


class _SGD:
    """``torch.optim.SGD`` with its defaults (no momentum, no weight decay), on one flat buffer."""

    def __init__(self, params: np.ndarray, grads: np.ndarray, lr: float) -> None:
        self.params, self.grads, self.lr = params, grads, lr
        self.scratch = np.empty_like(params)

    def step(self) -> None:
        np.multiply(self.grads, -self.lr, out=self.scratch)
        self.params += self.scratch


def _augment(x: Tensor) -> np.ndarray:
    """[x, 1] as a contiguous float32 array: the column of ones carries the bias."""
    array = x.detach().to(torch.float32).numpy()
    out = np.ones((array.shape[0], array.shape[1] + 1), dtype=np.float32)
    out[:, :-1] = array
    return out


def _as_numpy(y: Tensor) -> np.ndarray:
    return np.ascontiguousarray(y.detach().to(torch.float32).numpy())


class MiniBatchStepper:
    """The inner loop of ``fast_train_model``: one epoch of mini-batch steps per ``epoch()`` call.

    Follows the batch-order contract of ``helpers.training`` (a private
    ``torch.Generator`` seeded with ``seed``, one ``torch.randperm`` per epoch,
    consecutive slices, the last partial batch kept). ``epoch()`` yields
    ``(loss, rows)`` for each batch, after its optimizer step; a non-finite loss is
    yielded *without* a step (the weights stay usable) and ends the epoch.
    A diverging run overflows; wrap the loop in ``np.errstate(all="ignore")`` to
    silence NumPy's warnings (``fast_train_model`` does). Tests drive it step by
    step against autograd.
    """

    def __init__(
        self,
        model: ProductMLP,
        X_train: Tensor,
        Y_train: Tensor,
        *,
        batch_size: int,
        lr: float,
        optimizer: str,
        seed: int,
        eval_rows: int = 0,
    ) -> None:
        self.n = X_train.shape[0]
        self.net = FlatMLP(model, max_batch=max(min(batch_size, self.n), eval_rows))
        self.optimizer = (_Adam if optimizer == "adam" else _SGD)(self.net.params, self.net.grads, float(lr))
        self.x_all, self.y_all = _augment(X_train), _as_numpy(Y_train)
        self.x_shuffled, self.y_shuffled = np.empty_like(self.x_all), np.empty_like(self.y_all)
        slices = [(start, min(start + batch_size, self.n)) for start in range(0, self.n, batch_size)]
        # Views of the shuffled buffers, made once: each epoch refills the buffers in the new order.
        self.batches = [(self.x_shuffled[a:b], self.y_shuffled[a:b], b - a) for a, b in slices]
        self.generator = torch.Generator().manual_seed(seed)

    def epoch(self) -> Iterator[tuple[float, int]]:
        order = torch.randperm(self.n, generator=self.generator).numpy()
        np.take(self.x_all, order, axis=0, out=self.x_shuffled)  # rows in this epoch's order, so
        np.take(self.y_all, order, axis=0, out=self.y_shuffled)  # that each batch is a plain slice
        for x_batch, y_batch, rows in self.batches:
            loss = self.net.loss_and_gradient(x_batch, y_batch)
            if not math.isfinite(loss):
                yield loss, rows
                return
            self.optimizer.step()
            yield loss, rows


def fast_train_model(
    model: ProductMLP,
    X_train: Tensor,
    Y_train: Tensor,
    X_test: Tensor | None = None,
    Y_test: Tensor | None = None,
    *,
    epochs: int = 1000,
    batch_size: int = 100,
    lr: float = 1e-3,
    optimizer: str = "adam",
    seed: int = 0,
    callback: Callable[[int, TrainingHistory], bool | None] | None = None,
    callback_every: int = 10,
    progress: bool = False,
    keep_best: bool = True,
    on_diverge: str = "raise",
) -> TrainingHistory:
    """Train ``model`` in place like ``train_model`` (same arguments, same history), only faster.

    Everything ``train_model`` promises holds here too: the batch order of the seed,
    the true mean training loss per epoch, the held-out loss after each epoch,
    ``keep_best`` (the module ends with the best epoch's weights), divergence
    (``TrainingDiverged`` or ``diverged_at`` with ``on_diverge="stop"``), and
    ``callback(epoch, history)`` every ``callback_every`` epochs and after the last
    (return ``False`` to stop). Before each callback the module is given the
    current weights, so a callback can plot the model's predictions as it learns.
    ``model`` must be a ``helpers.model.ProductMLP`` (any hidden sizes, any activation).
    """
    _validate(model, X_train, Y_train, X_test, Y_test, epochs, batch_size, lr, optimizer, callback_every,
              on_diverge)
    if not isinstance(model, ProductMLP):
        raise ValueError(
            f"fast_train_model trains a helpers.model.ProductMLP (it knows its layers), got "
            f"{type(model).__name__}; use helpers.training.train_model for other modules"
        )
    from tqdm.auto import tqdm  # imported here, as in train_model: only needed when training

    n = X_train.shape[0]
    n_test = 0 if X_test is None else X_test.shape[0]
    stepper = MiniBatchStepper(model, X_train, Y_train, batch_size=batch_size, lr=lr, optimizer=optimizer,
                               seed=seed, eval_rows=n_test)
    net = stepper.net
    x_test = None if X_test is None else _augment(X_test)
    y_test = None if Y_test is None else _as_numpy(Y_test)

    history = TrainingHistory()
    best_params: np.ndarray | None = None
    callback_seconds = 0.0
    model.train()
    bar = tqdm(total=epochs, disable=not progress, unit="epoch")
    start_time = time.perf_counter()
    try:
        with np.errstate(all="ignore"):  # a diverging run overflows to inf/NaN: detected below
            for epoch in range(1, epochs + 1):
                loss_sum = 0.0
                for loss_value, rows in stepper.epoch():
                    if not math.isfinite(loss_value):
                        history.diverged_at = epoch  # the stepper took no step: the weights are kept
                        break
                    loss_sum += loss_value * rows  # weighted by batch size: the last batch may be smaller
                if history.diverged_at is None:
                    history.train_loss.append(loss_sum / n)
                    if x_test is not None and y_test is not None:
                        test_value = net.loss(x_test, y_test)
                        if not math.isfinite(test_value):
                            history.train_loss.pop()
                            history.diverged_at = epoch
                        else:
                            history.test_loss.append(test_value)
                            if history.best_test_loss is None or test_value < history.best_test_loss:
                                history.best_test_loss = test_value
                                history.best_epoch = epoch
                                if keep_best:
                                    if best_params is None:
                                        best_params = net.params.copy()
                                    else:
                                        np.copyto(best_params, net.params)
                if history.diverged_at is not None:
                    break
                history.epochs_run = epoch
                bar.update(1)
                if progress and (epoch % callback_every == 0 or epoch == epochs):
                    shown = {"train": f"{history.train_loss[-1]:.4g}"}
                    if history.test_loss:
                        shown["test"] = f"{history.test_loss[-1]:.4g}"
                    bar.set_postfix(shown, refresh=False)
                if callback is not None and (epoch % callback_every == 0 or epoch == epochs):
                    callback_start = time.perf_counter()
                    history.seconds = callback_start - start_time - callback_seconds
                    net.store_into(model)  # the callback sees (and may plot) the current weights
                    keep_going = callback(epoch, history)
                    callback_seconds += time.perf_counter() - callback_start
                    if keep_going is False:  # None (no return value) means "go on"
                        break
    finally:
        history.seconds = time.perf_counter() - start_time - callback_seconds
        bar.close()
        net.store_into(model)  # the module holds the latest weights, also if a callback raised

    if keep_best and best_params is not None:
        net.store_into(model, best_params)  # as train_model: the best held-out epoch's weights

    if history.diverged_at is not None and on_diverge == "raise":
        raise TrainingDiverged(history.diverged_at, history)
    return history


def step_losses_side_by_side(
    model: ProductMLP,
    X_train: Tensor,
    Y_train: Tensor,
    *,
    steps: int = 100,
    batch_size: int = 100,
    lr: float = 1e-3,
    optimizer: str = "adam",
    seed: int = 0,
) -> tuple[list[float], list[float]]:
    """The agreement check: the loss of each of the first ``steps`` steps, autograd loop vs fast twin.

    Both start from copies of ``model``'s weights (``model`` itself is not changed) and
    follow the same batch order. The autograd side is the taught loop: zero_grad →
    forward → ``nn.MSELoss`` → backward → ``torch.optim`` step. Returns
    ``(autograd_losses, fast_losses)``; they agree to about 1e-7 (float32 rounding).
    The fast list ends early at a non-finite loss (a diverging run), as its trainer stops there.
    """
    _validate(model, X_train, Y_train, None, None, 1, batch_size, lr, optimizer, 1, "raise")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    reference = copy.deepcopy(model)
    reference.train()
    opt = make_optimizer(optimizer, reference.parameters(), lr)
    loss_fn = torch.nn.MSELoss()
    generator = torch.Generator().manual_seed(seed)
    autograd_losses: list[float] = []
    n = X_train.shape[0]
    while len(autograd_losses) < steps:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(reference(X_train[idx]), Y_train[idx])
            loss.backward()
            opt.step()
            autograd_losses.append(loss.item())
            if len(autograd_losses) == steps:
                break

    stepper = MiniBatchStepper(copy.deepcopy(model), X_train, Y_train, batch_size=batch_size, lr=lr,
                               optimizer=optimizer, seed=seed)
    fast_losses: list[float] = []
    with np.errstate(all="ignore"):
        while len(fast_losses) < steps:
            for loss_value, _rows in stepper.epoch():
                fast_losses.append(loss_value)
                if len(fast_losses) == steps or not math.isfinite(loss_value):
                    break
            if not math.isfinite(fast_losses[-1]):
                break
    return autograd_losses, fast_losses


# ---- many models at once ----------------------------------------------------------------------
# K networks of the same shape, trained side by side: every buffer above gets a leading "model"
# axis, each layer is one np.matmul over that axis (a stacked product, K small matrices per call),
# and Adam/SGD stay element-wise, with one learning rate per model. Each model follows the batch
# order of its own seed, so model k takes exactly the steps that ``fast_train_model(models[k], ...,
# lr=lr[k], seed=seed[k])`` takes (tests: the same losses to float32 rounding).


class BatchedFlatMLP:
    """K ``ProductMLP``s of one shape as a (K, P) float32 buffer, with a batched forward and backward.

    ``layers[l]`` is a (K, in + 1, out) view of ``params`` (each model's weight transposed, its bias
    as the last row), ``layer_grads[l]`` the same view of ``grads``. Inputs are ``[x, 1]`` of shape
    (B, in + 1), shared by all models, or (K, B, in + 1), one batch per model.
    """

    def __init__(self, models: list[ProductMLP]) -> None:
        if not isinstance(models, (list, tuple)) or not models:
            raise ValueError("models must be a non-empty list of helpers.model.ProductMLP")
        for index, model in enumerate(models):
            if not isinstance(model, ProductMLP):
                raise ValueError(
                    f"models[{index}] must be a helpers.model.ProductMLP, got {type(model).__name__}"
                )
            if model.config != models[0].config:
                raise ValueError(
                    f"all models must have the same shape and activation (they share one batched matmul "
                    f"per layer): models[0] is {models[0].config}, models[{index}] is {model.config}"
                )
        self.activation = models[0].activation
        self.sizes = [models[0].in_features, *models[0].hidden_sizes, models[0].out_features]
        self.n_models = len(models)
        self.shapes = [(n_in + 1, n_out) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        total = sum(rows * cols for rows, cols in self.shapes)
        self.params = np.zeros((self.n_models, total), dtype=np.float32)
        self.grads = np.zeros((self.n_models, total), dtype=np.float32)
        self.layers: list[np.ndarray] = []
        self.layer_grads: list[np.ndarray] = []
        offset = 0
        for rows, cols in self.shapes:
            block = slice(offset, offset + rows * cols)
            self.layers.append(self.params[:, block].reshape(self.n_models, rows, cols))
            self.layer_grads.append(self.grads[:, block].reshape(self.n_models, rows, cols))
            offset += rows * cols
        singles = [FlatMLP(model, max_batch=1) for model in models]  # the single-model layout, reused
        for k, single in enumerate(singles):
            self.params[k] = single.params

    def store_into(self, models: list[ProductMLP], params: np.ndarray | None = None) -> None:
        """Copy row k of the buffer (or of a saved copy ``params``) into ``models[k]``."""
        source = self.params if params is None else params
        for k, model in enumerate(models):
            offset = 0
            with torch.no_grad():
                for (rows, cols), linear in zip(self.shapes, model.linears, strict=True):
                    block = source[k, offset : offset + rows * cols].reshape(rows, cols)
                    linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(block[:-1].T)))
                    linear.bias.copy_(torch.from_numpy(block[-1].copy()))
                    offset += rows * cols

    def _activate(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "relu":
            return np.maximum(z, 0.0)
        if self.activation == "tanh":
            return np.tanh(z)
        return 1.0 / (1.0 + np.exp(-z))

    def _derivative(self, h: np.ndarray) -> np.ndarray:
        """act'(z) from the activation's output h = act(z)."""
        if self.activation == "relu":
            return (h > 0.0).astype(np.float32)
        if self.activation == "tanh":
            return 1.0 - h * h
        return h * (1.0 - h)

    def _forward(self, x_aug: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Prediction (K, B, out) and the augmented inputs [h, 1] of every layer after the first."""
        hidden_inputs: list[np.ndarray] = []
        layer_input = x_aug
        last = len(self.layers) - 1
        for index, folded in enumerate(self.layers):
            z = np.matmul(layer_input, folded)  # (B, in+1) or (K, B, in+1) @ (K, in+1, out) -> (K, B, out)
            if index == last:
                return z, hidden_inputs
            augmented = np.ones(z.shape[:-1] + (z.shape[-1] + 1,), dtype=np.float32)
            augmented[..., :-1] = self._activate(z)
            hidden_inputs.append(augmented)
            layer_input = augmented
        raise AssertionError("unreachable: a network has at least one layer")

    def predict(self, x_aug: np.ndarray) -> np.ndarray:
        """Every model's prediction, shape (K, B, out)."""
        return self._forward(x_aug)[0]

    def losses(self, x_aug: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each model's mean squared error on ``x_aug``, ``y`` (no gradient), shape (K,)."""
        diff = self.predict(x_aug) - y
        return np.einsum("kbo,kbo->k", diff, diff) / (diff.shape[1] * diff.shape[2])

    def losses_and_gradients(self, x_aug: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Forward, every model's MSE and backward for one batch; the gradients land in ``grads``."""
        prediction, hidden_inputs = self._forward(x_aug)
        delta = prediction - y  # ŷ - y, (K, B, out)
        size = delta.shape[1] * delta.shape[2]
        losses = np.einsum("kbo,kbo->k", delta, delta) / size
        delta *= 2.0 / size  # dL/dŷ
        for index in range(len(self.layers) - 1, 0, -1):
            below_input = hidden_inputs[index - 1]
            np.matmul(below_input.transpose(0, 2, 1), delta, out=self.layer_grads[index])  # dWb = ĥᵀ @ dz
            weights = self.layers[index][:, :-1, :]  # (K, in, out): W without the bias row
            delta_below = np.matmul(delta, weights.transpose(0, 2, 1))  # dh = dz @ W
            delta_below *= self._derivative(below_input[..., :-1])  # dz = dh * act'(z)
            delta = delta_below
        x_t = x_aug.T if x_aug.ndim == 2 else x_aug.transpose(0, 2, 1)
        np.matmul(x_t, delta, out=self.layer_grads[0])
        return losses


def _per_model(name: str, value: object, n_models: int, check: Callable[[object], bool], what: str) -> list:
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * n_models
    if len(values) != n_models:
        raise ValueError(f"{name} must be one value or one per model ({n_models}), got {len(values)} values")
    for item in values:
        if not check(item):
            raise ValueError(f"every {name} must be {what}, got {item!r}")
    return values


def _is_lr(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float, np.floating))
            and math.isfinite(value) and value > 0)


def _is_seed(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and 0 <= value < 2**63


def fast_train_many(
    models: list[ProductMLP],
    X_train: Tensor,
    Y_train: Tensor,
    X_test: Tensor | None = None,
    Y_test: Tensor | None = None,
    *,
    epochs: int = 1000,
    batch_size: int = 100,
    lr: float | list[float] = 1e-3,
    optimizer: str = "adam",
    seed: int | list[int] = 0,
    keep_best: bool = True,
    on_diverge: str = "raise",
) -> list[TrainingHistory]:
    """Train K models of one shape at once on the same data; return one ``TrainingHistory`` each.

    Model k ends exactly as ``fast_train_model(models[k], ..., lr=lr[k], seed=seed[k])`` would
    (the same batch order, steps and history), but each layer's product is one ``np.matmul``
    for all K models. ``lr`` and ``seed`` are one value for all models or a list with one
    per model: copies that differ only in their initial weights, only in the learning rate,
    or only in the batch order. A model whose loss becomes NaN/inf stops (its weights stay
    those of its last finite step) while the others go on; afterwards ``on_diverge="raise"``
    raises ``TrainingDiverged`` for the first model that diverged, ``"stop"`` just returns
    the histories (``diverged_at`` set).
    """
    if not isinstance(models, (list, tuple)) or not models:
        raise ValueError("models must be a non-empty list of helpers.model.ProductMLP")
    n_models = len(models)
    lrs = _per_model("lr", lr, n_models, _is_lr, "a finite number > 0 (for example 1e-3)")
    seeds = _per_model("seed", seed, n_models, _is_seed, "an int >= 0")
    for model in models:
        _validate(model, X_train, Y_train, X_test, Y_test, epochs, batch_size, lrs[0], optimizer, 1,
                  on_diverge)
    net = BatchedFlatMLP(list(models))  # checks that all models have one shape

    n = X_train.shape[0]
    x_all, y_all = _augment(X_train), _as_numpy(Y_train)
    x_test = None if X_test is None else _augment(X_test)
    y_test = None if Y_test is None else _as_numpy(Y_test)
    shared_order = len(set(seeds)) == 1  # one batch order: the batch is (B, in+1), broadcast over models
    generators = [torch.Generator().manual_seed(int(s)) for s in (seeds[:1] if shared_order else seeds)]
    lr_column = np.asarray(lrs, dtype=np.float64).reshape(-1, 1)  # -lr / (1 - β1ᵗ) in float64, as _Adam

    # Optimizer state for all models (element-wise, as _Adam and _SGD above, with a per-model lr).
    exp_avg, exp_avg_sq = np.zeros_like(net.params), np.zeros_like(net.params)
    step_count = 0
    active = np.ones(n_models, dtype=bool)  # models still training (not diverged)

    histories = [TrainingHistory() for _ in models]
    best_params = net.params.copy()
    has_best = np.zeros(n_models, dtype=bool)
    for model in models:
        model.train()
    start_time = time.perf_counter()
    with np.errstate(all="ignore"):  # a diverging model overflows to inf/NaN: detected below
        for epoch in range(1, epochs + 1):
            orders = [torch.randperm(n, generator=g).numpy() for g in generators]
            if shared_order:
                x_epoch, y_epoch = x_all[orders[0]], y_all[orders[0]]
            else:
                stacked = np.stack(orders)  # (K, n)
                x_epoch, y_epoch = x_all[stacked], y_all[stacked]
            loss_sums = np.zeros(n_models, dtype=np.float64)
            for start in range(0, n, batch_size):
                x_batch = x_epoch[..., start : start + batch_size, :]
                y_batch = y_epoch[..., start : start + batch_size, :]
                rows = x_batch.shape[-2]
                losses = net.losses_and_gradients(x_batch, y_batch)
                finite = np.isfinite(losses)
                for k in np.flatnonzero(active & ~finite):  # no step on this batch, as the single trainer
                    histories[k].diverged_at = epoch
                active &= finite
                loss_sums += losses * rows
                step_count += 1
                grads = net.grads
                if optimizer == "adam":  # the same operations, in the same order, as _Adam.step
                    beta1, beta2 = ADAM_BETAS
                    exp_avg += (grads - exp_avg) * (1.0 - beta1)
                    exp_avg_sq *= beta2
                    exp_avg_sq += (grads * grads) * (1.0 - beta2)
                    denom = np.sqrt(exp_avg_sq)
                    denom /= math.sqrt(1.0 - beta2**step_count)
                    denom += ADAM_EPS
                    update = exp_avg / denom
                    update *= (-lr_column / (1.0 - beta1**step_count)).astype(np.float32)
                else:
                    update = grads * (-lr_column).astype(np.float32)
                if not active.all():
                    update[~active] = 0.0  # a diverged model keeps its last finite weights
                net.params += update
            test_values = net.losses(x_test, y_test) if x_test is not None else None
            for k in range(n_models):
                history = histories[k]
                if history.diverged_at is not None:
                    continue
                history.train_loss.append(float(loss_sums[k]) / n)
                if test_values is not None:
                    value = float(test_values[k])
                    if not math.isfinite(value):
                        history.train_loss.pop()
                        history.diverged_at = epoch
                        active[k] = False
                        continue
                    history.test_loss.append(value)
                    if history.best_test_loss is None or value < history.best_test_loss:
                        history.best_test_loss = value
                        history.best_epoch = epoch
                        best_params[k] = net.params[k]
                        has_best[k] = True
                history.epochs_run = epoch
            if not active.any():
                break
    seconds = time.perf_counter() - start_time
    for history in histories:
        history.seconds = seconds  # the wall time of the whole batch, shared
    net.store_into(list(models))
    if keep_best:
        chosen = np.where(has_best[:, None], best_params, net.params)
        net.store_into(list(models), chosen)
    diverged = [k for k, history in enumerate(histories) if history.diverged_at is not None]
    if diverged and on_diverge == "raise":
        first = diverged[0]
        raise TrainingDiverged(histories[first].diverged_at, histories[first],
                               detail=f"model {first} of {n_models}, lr {lrs[first]:g}")
    return histories


__all__ += ["BatchedFlatMLP", "fast_train_many"]
