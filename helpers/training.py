"""Step 3 of the flow: training. The notes' hand-written mini-batch loop, fixed and instrumented.

``train_model`` runs the loop the notebooks teach: every epoch a fresh random
order (``torch.randperm``), consecutive slices of ``batch_size`` rows, and for
each batch zero_grad → forward → MSE loss → backward → step. It returns a
``TrainingHistory`` with what the notes' script leaves out: the *true* mean
training loss of each epoch (weighted by batch size, not the last batch), the
held-out loss, the best epoch, and the wall time.

``train_model_with_dataloader`` is the same loop fed by a ``DataLoader``
(notebook 06 compares the two).

Batch-order contract (a fast twin trainer reproduces it step for step)::

    generator = torch.Generator().manual_seed(seed)
    for each epoch:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]      # the last, partial batch is kept

After each epoch the held-out MSE is computed on the whole test set (no_grad);
the best epoch is the first one with the strictly lowest held-out loss.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

__all__ = [
    "OPTIMIZERS",
    "TrainingDiverged",
    "TrainingHistory",
    "make_optimizer",
    "train_model",
    "train_model_with_dataloader",
]

# The optimizers the course offers, by name. Default hyper-parameters apart from the learning rate.
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}

ON_DIVERGE = ("raise", "stop")


@dataclass
class TrainingHistory:
    """What happened during training, one entry per completed epoch.

    - ``train_loss``: the mean training MSE of each epoch, averaged over *all*
      samples (each batch's loss weighted by its size), in standardized units.
    - ``test_loss``: the held-out MSE after each epoch (empty without test data).
    - ``seconds``: wall time of the loop (callbacks excluded).
    - ``epochs_run``: epochs completed (fewer than asked after an early stop or divergence).
    - ``best_epoch`` / ``best_test_loss``: 1-based epoch with the lowest held-out loss.
    - ``diverged_at``: 1-based epoch in which the loss became NaN or infinite, else None.
    """

    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    epochs_run: int = 0
    best_epoch: int | None = None
    best_test_loss: float | None = None
    diverged_at: int | None = None


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the weights are no longer usable.

    ``epoch`` is the 1-based epoch where it happened, ``history`` the losses
    recorded up to then.
    """

    def __init__(self, epoch: int, history: TrainingHistory, detail: str = "") -> None:
        self.epoch = epoch
        self.history = history
        message = (
            f"training diverged in epoch {epoch}: the loss became non-finite (NaN or inf)"
            f"{' (' + detail + ')' if detail else ''}. The learning rate is probably too large: "
            "try a smaller one (for example 10 times smaller)."
        )
        super().__init__(message)


def make_optimizer(name: str, parameters: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """``torch.optim.Adam`` or ``torch.optim.SGD`` by name, with learning rate ``lr``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name](parameters, lr=lr)


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _check_xy(model: nn.Module, X: object, Y: object, which: str) -> None:
    if not isinstance(X, Tensor) or not isinstance(Y, Tensor):
        raise ValueError(f"X_{which} and Y_{which} must be torch tensors")
    in_features = getattr(model, "in_features", X.shape[-1] if X.ndim else None)
    out_features = getattr(model, "out_features", 1)
    if X.ndim != 2 or X.shape[1] != in_features:
        raise ValueError(f"X_{which} must have shape (N, {in_features}), got {tuple(X.shape)}")
    if Y.ndim != 2 or Y.shape[1] != out_features:
        raise ValueError(
            f"Y_{which} must have shape (N, {out_features}), got {tuple(Y.shape)}; "
            "use y.unsqueeze(-1) to turn a 1-D target into one column"
        )
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X_{which} and Y_{which} must have the same number of rows, got {X.shape[0]} and {Y.shape[0]}"
        )
    if X.shape[0] < 1:
        raise ValueError(f"X_{which} has no rows")
    if not X.is_floating_point() or not Y.is_floating_point():
        raise ValueError(
            f"X_{which} and Y_{which} must be floating-point tensors, got {X.dtype} and {Y.dtype}"
        )


def _validate(
    model: nn.Module,
    X_train: Tensor,
    Y_train: Tensor,
    X_test: Tensor | None,
    Y_test: Tensor | None,
    epochs: int,
    batch_size: int,
    lr: float,
    optimizer: str,
    callback_every: int,
    on_diverge: str,
) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("callback_every", callback_every)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0 (for example 1e-3), got {lr!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    if on_diverge not in ON_DIVERGE:
        raise ValueError(f"on_diverge must be one of {list(ON_DIVERGE)}, got {on_diverge!r}")
    _check_xy(model, X_train, Y_train, "train")
    if (X_test is None) != (Y_test is None):
        raise ValueError("give both X_test and Y_test, or neither")
    if X_test is not None:
        _check_xy(model, X_test, Y_test, "test")


def _randperm_batches(n: int, batch_size: int, seed: int) -> Callable[[], Iterator[Tensor]]:
    """Index batches of one epoch per call, following the batch-order contract above."""
    generator = torch.Generator().manual_seed(seed)

    def one_epoch() -> Iterator[Tensor]:
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            yield perm[start : start + batch_size]

    return one_epoch


def _fit(
    model: nn.Module,
    epoch_batches: Callable[[], Iterable[tuple[Tensor, Tensor]]],
    n_train: int,
    X_test: Tensor | None,
    Y_test: Tensor | None,
    *,
    epochs: int,
    lr: float,
    optimizer: str,
    callback: Callable[[int, TrainingHistory], bool | None] | None,
    callback_every: int,
    progress: bool,
    keep_best: bool,
    on_diverge: str,
) -> TrainingHistory:
    """The loop shared by both entry points; ``epoch_batches()`` yields one epoch's (x, y) batches."""
    from tqdm.auto import tqdm  # imported here: only needed when training

    history = TrainingHistory()
    loss_fn = nn.MSELoss()
    opt = make_optimizer(optimizer, model.parameters(), lr)
    best_state: dict[str, Tensor] | None = None
    callback_seconds = 0.0

    # One thread: this net is tiny (193 parameters, batches of 100 rows), so every op is dominated
    # by call overhead, and a second thread only adds synchronisation. Measured on 2-core machines:
    # 8.6 s with 1 thread vs 9.5 s with 2, and 24 s vs 7.9 s when the machine is busy
    # (shared/notes/performance.md). The caller's setting is restored afterwards.
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model.train()
    bar = tqdm(total=epochs, disable=not progress, unit="epoch")
    start_time = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            loss_sum = 0.0
            seen = 0
            for x_batch, y_batch in epoch_batches():
                opt.zero_grad()
                prediction = model(x_batch)
                loss = loss_fn(prediction, y_batch)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    # Stop before backward/step: the weights stay as they were (finite).
                    history.diverged_at = epoch
                    break
                loss.backward()
                opt.step()
                loss_sum += loss_value * len(x_batch)  # weight by batch size: the last batch may be smaller
                seen += len(x_batch)
            if history.diverged_at is None:
                history.train_loss.append(loss_sum / seen)
                if X_test is not None:
                    model.eval()
                    with torch.no_grad():
                        test_value = loss_fn(model(X_test), Y_test).item()
                    model.train()
                    if not math.isfinite(test_value):
                        history.train_loss.pop()
                        history.diverged_at = epoch
                    else:
                        history.test_loss.append(test_value)
                        if history.best_test_loss is None or test_value < history.best_test_loss:
                            history.best_test_loss = test_value
                            history.best_epoch = epoch
                            if keep_best:
                                best_state = copy.deepcopy(model.state_dict())
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
                keep_going = callback(epoch, history)
                callback_seconds += time.perf_counter() - callback_start
                if keep_going is False:  # None (no return value) means "go on"
                    break
    finally:
        history.seconds = time.perf_counter() - start_time - callback_seconds
        bar.close()
        torch.set_num_threads(previous_threads)

    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    if history.diverged_at is not None and on_diverge == "raise":
        raise TrainingDiverged(history.diverged_at, history)
    return history


def train_model(
    model: nn.Module,
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
    """Train ``model`` in place with the hand-written mini-batch loop; return its history.

    The data must already be standardized tensors: ``X`` of shape (N, in_features),
    ``Y`` of shape (N, 1). Batches follow the module's batch-order contract
    (``torch.randperm`` with a private generator seeded by ``seed``).

    - ``optimizer``: ``"adam"`` or ``"sgd"`` (PyTorch defaults apart from ``lr``).
    - ``callback(epoch, history)`` runs every ``callback_every`` epochs and after
      the last one; returning ``False`` stops training early.
    - ``progress=True`` shows a tqdm bar.
    - ``keep_best=True`` (with test data): at the end the model holds the
      weights of the epoch with the lowest held-out loss, not the last ones.
    - A NaN/inf loss stops training: ``on_diverge="raise"`` raises
      ``TrainingDiverged`` (naming the epoch), ``"stop"`` returns the history
      with ``diverged_at`` set.
    """
    _validate(model, X_train, Y_train, X_test, Y_test, epochs, batch_size, lr, optimizer, callback_every,
              on_diverge)
    n = X_train.shape[0]
    next_epoch_indices = _randperm_batches(n, batch_size, seed)

    def epoch_batches() -> Iterator[tuple[Tensor, Tensor]]:
        for idx in next_epoch_indices():
            yield X_train[idx], Y_train[idx]

    return _fit(model, epoch_batches, n, X_test, Y_test, epochs=epochs, lr=lr, optimizer=optimizer,
                callback=callback, callback_every=callback_every, progress=progress, keep_best=keep_best,
                on_diverge=on_diverge)


def train_model_with_dataloader(
    model: nn.Module,
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
    """Same as ``train_model``, but the batches come from a ``DataLoader``.

    ``DataLoader(TensorDataset(X_train, Y_train), batch_size=batch_size,
    shuffle=True, generator=torch.Generator().manual_seed(seed))``: each epoch
    it fetches the rows one by one (``__getitem__``) and stacks them (collation),
    which is slower than slicing an in-memory tensor (notebook 06 measures it).
    """
    _validate(model, X_train, Y_train, X_test, Y_test, epochs, batch_size, lr, optimizer, callback_every,
              on_diverge)
    loader = DataLoader(
        TensorDataset(X_train, Y_train),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    return _fit(model, lambda: loader, X_train.shape[0], X_test, Y_test, epochs=epochs, lr=lr,
                optimizer=optimizer, callback=callback, callback_every=callback_every, progress=progress,
                keep_best=keep_best, on_diverge=on_diverge)
