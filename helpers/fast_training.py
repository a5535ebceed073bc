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
