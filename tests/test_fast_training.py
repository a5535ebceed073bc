"""The fast trainer is a twin of the taught loop: same steps, same losses, same weights, same history.

The step-by-step check drives ``MiniBatchStepper`` (the inner loop that ``fast_train_model``
runs) next to a small autograd reference written here, from the same initial weights and
the same batch order, and compares the loss of every step. The whole-run checks compare
``fast_train_model`` with ``helpers.training.train_model`` itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data import Standardizer, make_product_data, train_test_split
from helpers.fast_training import FlatMLP, MiniBatchStepper, fast_train_model, step_losses_side_by_side
from helpers.model import ProductMLP
from helpers.training import TrainingDiverged, TrainingHistory, train_model

ACTIVATIONS = ["relu", "tanh", "sigmoid"]
OPTIMIZERS = {"adam": (torch.optim.Adam, 1e-2), "sgd": (torch.optim.SGD, 0.2)}


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """250 training rows (batches of 64 leave a partial batch of 58) and 50 held-out rows."""
    X, Y = make_product_data(300, seed=7, noise_std=2.0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_fraction=1 / 6, seed=0)
    x_scaler, y_scaler = Standardizer().fit(X_train), Standardizer().fit(Y_train)
    return (x_scaler.transform(X_train), y_scaler.transform(Y_train),
            x_scaler.transform(X_test), y_scaler.transform(Y_test))


def twin_models(seed: int = 0, **config: object) -> tuple[ProductMLP, ProductMLP]:
    """Two models with identical initial weights."""
    torch.manual_seed(seed)
    first = ProductMLP(**config)
    second = ProductMLP(**config)
    second.load_state_dict(first.state_dict())
    return first, second


def autograd_step_losses(model: ProductMLP, X: torch.Tensor, Y: torch.Tensor, *, batch_size: int,
                         optimizer: str, lr: float, seed: int, steps: int) -> list[float]:
    """The reference: the taught loop with autograd, following the batch-order contract, one loss per step."""
    opt = OPTIMIZERS[optimizer][0](model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    while len(losses) < steps:
        perm = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses


def fast_step_losses(model: ProductMLP, X: torch.Tensor, Y: torch.Tensor, *, batch_size: int,
                     optimizer: str, lr: float, seed: int, steps: int) -> tuple[list[float], FlatMLP]:
    stepper = MiniBatchStepper(model, X, Y, batch_size=batch_size, lr=lr, optimizer=optimizer, seed=seed)
    losses: list[float] = []
    while len(losses) < steps:
        for loss, _rows in stepper.epoch():
            losses.append(loss)
            if len(losses) == steps:
                break
    return losses, stepper.net


def max_weight_difference(first: nn.Module, second: nn.Module) -> float:
    pairs = zip(first.parameters(), second.parameters(), strict=True)
    return max((a - b).abs().max().item() for a, b in pairs)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_step_loss_agrees_with_autograd(data, activation: str, optimizer: str) -> None:
    X_train, Y_train, _, _ = data
    reference, fast = twin_models(activation=activation)
    lr = OPTIMIZERS[optimizer][1]
    settings = dict(batch_size=64, optimizer=optimizer, lr=lr, seed=3, steps=100)
    expected = autograd_step_losses(reference, X_train, Y_train, **settings)
    got, net = fast_step_losses(fast, X_train, Y_train, **settings)
    assert len(got) == len(expected) == 100
    differences = np.abs(np.array(got) - np.array(expected))
    assert differences.max() < 1e-5, f"step {differences.argmax() + 1}: {got[differences.argmax()]} vs " \
                                     f"{expected[differences.argmax()]}"
    # Not a vacuous check: the weights really moved and the loss really fell.
    assert expected[-1] < 0.8 * expected[0]
    net.store_into(fast)
    assert max_weight_difference(reference, fast) < 1e-5


@pytest.mark.parametrize("hidden_sizes", [(), (3,), (5, 4, 3)])
def test_every_step_loss_agrees_for_other_shapes(data, hidden_sizes: tuple[int, ...]) -> None:
    X_train, Y_train, _, _ = data
    reference, fast = twin_models(hidden_sizes=hidden_sizes, activation="tanh")
    settings = dict(batch_size=100, optimizer="adam", lr=1e-2, seed=1, steps=100)
    expected = autograd_step_losses(reference, X_train, Y_train, **settings)
    got, _ = fast_step_losses(fast, X_train, Y_train, **settings)
    assert np.abs(np.array(got) - np.array(expected)).max() < 1e-5


def test_flat_buffer_round_trip_and_forward_match_the_module(data) -> None:
    X_train, _, _, _ = data
    model = ProductMLP(hidden_sizes=(6, 5), activation="sigmoid")
    net = FlatMLP(model, max_batch=8)
    assert net.params.size == sum(p.numel() for p in model.parameters())
    copy = ProductMLP(hidden_sizes=(6, 5), activation="sigmoid")
    net.store_into(copy)
    assert max_weight_difference(model, copy) == 0.0
    x_aug = np.hstack([X_train.numpy(), np.ones((X_train.shape[0], 1), dtype=np.float32)])
    with torch.no_grad():
        expected = model(X_train).numpy()
    np.testing.assert_allclose(net.forward(x_aug), expected, atol=1e-6)  # buffers grow for 250 rows


@pytest.mark.parametrize(("activation", "optimizer", "lr"),
                         [("relu", "adam", 1e-2), ("tanh", "sgd", 5e-2), ("sigmoid", "adam", 3e-2)])
def test_whole_run_matches_train_model(data, activation: str, optimizer: str, lr: float) -> None:
    reference, fast = twin_models(seed=2, activation=activation)
    settings = dict(epochs=15, batch_size=64, lr=lr, optimizer=optimizer, seed=5, keep_best=False)
    expected = train_model(reference, *data, **settings)
    got = fast_train_model(fast, *data, **settings)
    assert isinstance(got, TrainingHistory)
    assert got.epochs_run == expected.epochs_run == 15
    np.testing.assert_allclose(got.train_loss, expected.train_loss, atol=1e-5)
    np.testing.assert_allclose(got.test_loss, expected.test_loss, atol=1e-5)
    assert got.best_epoch == expected.best_epoch
    assert got.diverged_at is None and got.seconds > 0
    assert max_weight_difference(reference, fast) < 1e-5
    # The trained weights are in the module: its own prediction gives the last held-out loss.
    _, _, X_test, Y_test = data
    with torch.no_grad():
        module_loss = nn.functional.mse_loss(fast(X_test), Y_test).item()
    assert module_loss == pytest.approx(got.test_loss[-1], abs=1e-6)


def test_keep_best_loads_the_best_epoch_like_train_model(data) -> None:
    reference, fast = twin_models(hidden_sizes=(32, 32))
    settings = dict(epochs=40, batch_size=32, lr=3e-2, optimizer="adam", seed=0)
    expected = train_model(reference, *data, **settings)
    got = fast_train_model(fast, *data, **settings)
    assert got.best_epoch == expected.best_epoch
    assert got.best_epoch is not None and got.best_epoch < got.epochs_run  # best is not the last here
    assert got.best_test_loss == pytest.approx(expected.best_test_loss, abs=1e-5)
    assert max_weight_difference(reference, fast) < 1e-5
    _, _, X_test, Y_test = data
    with torch.no_grad():
        module_loss = nn.functional.mse_loss(fast(X_test), Y_test).item()
    assert module_loss == pytest.approx(got.best_test_loss, abs=1e-6)
    assert module_loss < got.test_loss[-1]


def test_without_test_data_the_module_gets_the_last_weights(data) -> None:
    X_train, Y_train, _, _ = data
    reference, fast = twin_models()
    before = [p.detach().clone() for p in fast.parameters()]
    expected = train_model(reference, X_train, Y_train, epochs=5, seed=1)
    got = fast_train_model(fast, X_train, Y_train, epochs=5, seed=1)
    assert got.test_loss == [] and got.best_epoch is None
    np.testing.assert_allclose(got.train_loss, expected.train_loss, atol=1e-5)
    assert max_weight_difference(reference, fast) < 1e-5
    assert any((a != b).any() for a, b in zip(before, fast.parameters(), strict=True))


def test_callback_schedule_early_stop_and_live_weights(data) -> None:
    reference, fast = twin_models()
    seen: dict[str, list[tuple[int, int, float]]] = {"reference": [], "fast": []}
    _, _, X_test, Y_test = data

    def recorder(name: str, model: ProductMLP):
        def callback(epoch: int, history: TrainingHistory) -> bool:
            with torch.no_grad():  # what a dashboard does: predict with the module mid-run
                live = nn.functional.mse_loss(model(X_test), Y_test).item()
            seen[name].append((epoch, len(history.train_loss), live))
            return epoch < 15

        return callback

    settings = dict(epochs=50, batch_size=64, lr=1e-2, callback_every=5, keep_best=False)
    expected = train_model(reference, *data, callback=recorder("reference", reference), **settings)
    got = fast_train_model(fast, *data, callback=recorder("fast", fast), **settings)
    assert [entry[:2] for entry in seen["fast"]] == [(5, 5), (10, 10), (15, 15)]
    assert [entry[:2] for entry in seen["reference"]] == [entry[:2] for entry in seen["fast"]]
    np.testing.assert_allclose([e[2] for e in seen["fast"]], [e[2] for e in seen["reference"]], atol=1e-5)
    assert got.epochs_run == expected.epochs_run == 15

    calls: list[int] = []
    fast_train_model(ProductMLP(), *data, epochs=7, callback_every=3, callback=lambda e, h: calls.append(e))
    assert calls == [3, 6, 7]  # every callback_every epochs and after the last one


def test_divergence_is_reported_like_train_model(data) -> None:
    reference, fast = twin_models()
    settings = dict(epochs=20, lr=10.0, optimizer="sgd", batch_size=32)
    with pytest.raises(TrainingDiverged) as expected:
        train_model(reference, *data, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's overflow warnings are silenced, not shown to students
        with pytest.raises(TrainingDiverged, match="diverged in epoch") as got:
            fast_train_model(fast, *data, **settings)
    assert got.value.epoch == expected.value.epoch
    assert got.value.history.epochs_run == expected.value.history.epochs_run
    assert all(math.isfinite(v) for v in got.value.history.train_loss)

    stopped = fast_train_model(ProductMLP(), *data, on_diverge="stop", **settings)
    assert stopped.diverged_at == expected.value.epoch
    assert stopped.epochs_run == stopped.diverged_at - 1


def test_later_divergence_keeps_history_and_best_weights(data) -> None:
    reference, fast = twin_models(activation="tanh")
    settings = dict(epochs=30, lr=0.6, optimizer="sgd", batch_size=16, on_diverge="stop")
    expected = train_model(reference, *data, **settings)
    got = fast_train_model(fast, *data, **settings)
    assert got.diverged_at == expected.diverged_at
    assert got.diverged_at is not None and got.diverged_at > 1  # a few finite epochs first
    assert got.epochs_run == expected.epochs_run == got.diverged_at - 1
    assert got.best_epoch == expected.best_epoch
    # keep_best: the module holds the best finite epoch's weights. (Not compared with the reference's:
    # a run that blows up amplifies float32 rounding, so only stable runs agree weight for weight.)
    assert all(torch.isfinite(p).all() for p in fast.parameters())
    _, _, X_test, Y_test = data
    with torch.no_grad():
        module_loss = nn.functional.mse_loss(fast(X_test), Y_test).item()
    assert module_loss == pytest.approx(got.best_test_loss, rel=1e-5)


def _bad(**overrides: object) -> dict[str, object]:
    return overrides


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), _bad(epochs=0), "epochs"),
        ((), _bad(batch_size=0), "batch_size"),
        ((), _bad(lr=-1.0), "lr"),
        ((), _bad(lr=float("nan")), "lr"),
        ((), _bad(optimizer="rmsprop"), "optimizer"),
        ((), _bad(on_diverge="ignore"), "on_diverge"),
        ((), _bad(callback_every=0), "callback_every"),
        (("X_1d",), {}, "X_train"),
        (("only_X_test",), {}, "X_test and Y_test"),
    ],
)
def test_argument_errors_match_train_model(data, args: tuple[str, ...], kwargs: dict, message: str) -> None:
    X_train, Y_train, X_test, Y_test = data
    positional: tuple = (X_train, Y_train, X_test, Y_test)
    if args == ("X_1d",):
        positional = (X_train[:, 0], Y_train)
    elif args == ("only_X_test",):
        positional = (X_train, Y_train, X_test)
    with pytest.raises(ValueError, match=message) as expected:
        train_model(ProductMLP(), *positional, **kwargs)
    with pytest.raises(ValueError, match=message) as got:
        fast_train_model(ProductMLP(), *positional, **kwargs)
    assert str(got.value) == str(expected.value)


def test_rejects_a_module_that_is_not_a_product_mlp(data) -> None:
    with pytest.raises(ValueError, match="ProductMLP"):
        fast_train_model(nn.Sequential(nn.Linear(2, 1)), *data[:2], epochs=1)


def test_side_by_side_check_for_the_notebook(data) -> None:
    X_train, Y_train, _, _ = data
    model = ProductMLP(activation="sigmoid")
    before = [p.detach().clone() for p in model.parameters()]
    autograd_losses, fast_losses = step_losses_side_by_side(model, X_train, Y_train, steps=30, batch_size=64,
                                                            lr=0.2, optimizer="sgd", seed=3)
    assert len(autograd_losses) == len(fast_losses) == 30
    assert np.abs(np.array(autograd_losses) - np.array(fast_losses)).max() < 1e-5
    # its autograd side is the reference written in this file
    reference = ProductMLP(activation="sigmoid")
    reference.load_state_dict(model.state_dict())
    expected = autograd_step_losses(reference, X_train, Y_train, batch_size=64, optimizer="sgd", lr=0.2,
                                    seed=3, steps=30)
    assert autograd_losses == expected
    assert all((a == b).all() for a, b in zip(before, model.parameters(), strict=True))  # model untouched
    with pytest.raises(ValueError, match="steps"):
        step_losses_side_by_side(model, X_train, Y_train, steps=0)


def test_benchmark_script_runs_one_variant_and_prints_json(capsys) -> None:
    """A smoke test of benchmarks/training_speed.py (the fast variant only: the others take seconds)."""
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "training_speed.py"
    spec = importlib.util.spec_from_file_location("training_speed", path)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    assert set(benchmark.VARIANTS) == {"note_script", "note_script_1_thread", "train_model", "dataloader",
                                       "fast"}
    assert benchmark.main(["--variant", "fast", "--repeats", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    fast = report["variants"]["fast"]
    assert len(fast["runs"]) == 1 and fast["median_train_seconds"] > 0
    assert 0.2 < fast["median_grid_rmse"] < 0.4  # the notes' settings learn the product to the usual band
    assert fast["median_first_callback_seconds"] < fast["median_call_seconds"]


def test_other_input_and_output_sizes_match_train_model() -> None:
    generator = torch.Generator().manual_seed(0)
    X, Y = torch.randn(130, 3, generator=generator), torch.randn(130, 2, generator=generator)
    reference, fast = twin_models(in_features=3, out_features=2, hidden_sizes=(7,))
    settings = dict(epochs=20, batch_size=32, lr=1e-2)
    expected = train_model(reference, X[:100], Y[:100], X[100:], Y[100:], **settings)
    got = fast_train_model(fast, X[:100], Y[:100], X[100:], Y[100:], **settings)
    np.testing.assert_allclose(got.train_loss + got.test_loss, expected.train_loss + expected.test_loss,
                               atol=1e-5)
    assert got.best_epoch == expected.best_epoch
    assert max_weight_difference(reference, fast) < 1e-5
