"""``fast_train_many`` trains K models at once, and each ends exactly as its own ``fast_train_model`` run.

Every test trains the same models twice: once together (one batched matmul per layer) and once
one by one with the single-model fast trainer (itself checked against autograd in
test_fast_training.py), then compares the histories and the weights.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from helpers.data import Standardizer, make_product_data, train_test_split
from helpers.fast_training import BatchedFlatMLP, fast_train_many, fast_train_model
from helpers.model import ProductMLP
from helpers.training import TrainingDiverged

LOSS_RTOL = 1e-5  # float32 rounding: measured agreement is about 1e-7 over 1000 epochs


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, ...]:
    """250 training rows (batches of 64 leave a partial batch of 58) and 50 held-out rows."""
    X, Y = make_product_data(300, seed=7, noise_std=2.0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_fraction=1 / 6, seed=0)
    x_scaler, y_scaler = Standardizer().fit(X_train), Standardizer().fit(Y_train)
    return (x_scaler.transform(X_train), y_scaler.transform(Y_train),
            x_scaler.transform(X_test), y_scaler.transform(Y_test))


def make_models(count: int, **config: object) -> list[ProductMLP]:
    """``count`` models of one shape whose initial weights differ (seeds 0, 1, ...)."""
    models = []
    for k in range(count):
        torch.manual_seed(k)
        models.append(ProductMLP(**config))
    return models


def train_both(data, models, *, lr, seed, **kwargs):
    """Train copies of ``models`` together and one by one: (histories together, alone, models each way)."""
    together = [copy.deepcopy(m) for m in models]
    alone = [copy.deepcopy(m) for m in models]
    many = fast_train_many(together, *data, lr=lr, seed=seed, **kwargs)
    lrs = lr if isinstance(lr, list) else [lr] * len(models)
    seeds = seed if isinstance(seed, list) else [seed] * len(models)
    singles = [fast_train_model(model, *data, lr=lrs[k], seed=seeds[k], **kwargs)
               for k, model in enumerate(alone)]
    return many, singles, together, alone


def assert_same_runs(many, singles, together, alone, weight_atol: float = 1e-5) -> None:
    assert len(many) == len(singles)
    for k, (batched, single) in enumerate(zip(many, singles, strict=True)):
        assert batched.epochs_run == single.epochs_run, f"model {k}"
        assert batched.best_epoch == single.best_epoch, f"model {k}"
        assert batched.diverged_at == single.diverged_at, f"model {k}"
        np.testing.assert_allclose(batched.train_loss, single.train_loss, rtol=LOSS_RTOL, err_msg=f"{k}")
        np.testing.assert_allclose(batched.test_loss, single.test_loss, rtol=LOSS_RTOL, err_msg=f"{k}")
    for k, (first, second) in enumerate(zip(together, alone, strict=True)):
        for a, b in zip(first.parameters(), second.parameters(), strict=True):
            torch.testing.assert_close(a, b, atol=weight_atol, rtol=1e-4, msg=f"model {k}")


def test_copies_differing_in_seed_and_batch_order_match_single_runs(data) -> None:
    models = make_models(5)
    runs = train_both(data, models, lr=1e-2, seed=[0, 1, 2, 3, 4], epochs=60, batch_size=64)
    assert_same_runs(*runs)
    losses = [history.test_loss[-1] for history in runs[0]]
    assert len(set(losses)) == 5  # the copies really are different runs


def test_copies_differing_only_in_learning_rate_share_one_batch_order(data) -> None:
    models = [copy.deepcopy(make_models(1)[0]) for _ in range(4)]  # the same initial weights
    runs = train_both(data, models, lr=[1e-3, 3e-3, 1e-2, 3e-2], seed=0, epochs=60, batch_size=64)
    assert_same_runs(*runs)
    finals = [history.train_loss[-1] for history in runs[0]]
    assert finals[0] > finals[2]  # a larger rate gets further in 60 epochs


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("optimizer,lr", [("adam", 1e-2), ("sgd", 0.2)])
def test_every_activation_and_optimizer(data, activation: str, optimizer: str, lr: float) -> None:
    models = make_models(3, activation=activation)
    runs = train_both(data, models, lr=lr, seed=[3, 4, 5], epochs=30, batch_size=64, optimizer=optimizer)
    assert_same_runs(*runs)


@pytest.mark.parametrize("hidden_sizes", [(), (4,), (8, 8, 4)])
def test_other_shapes_including_a_linear_model(data, hidden_sizes: tuple[int, ...]) -> None:
    models = make_models(3, hidden_sizes=hidden_sizes)
    runs = train_both(data, models, lr=1e-2, seed=[0, 0, 7], epochs=30, batch_size=100)
    assert_same_runs(*runs)


def test_without_keep_best_or_test_data_the_models_get_the_last_weights(data) -> None:
    X_train, Y_train, _, _ = data
    models = make_models(2)
    runs = train_both((X_train, Y_train), models, lr=1e-2, seed=[1, 2], epochs=20, batch_size=50,
                      keep_best=False)
    assert all(history.test_loss == [] and history.best_epoch is None for history in runs[0])
    assert_same_runs(*runs)


def test_a_diverging_model_stops_and_the_others_go_on(data) -> None:
    models = make_models(3)
    runs = train_both(data, models, lr=[1e-2, 1e3, 1e-2], seed=0, epochs=40, batch_size=64, optimizer="sgd",
                      on_diverge="stop")
    many, singles, _, _ = runs
    assert many[1].diverged_at is not None and many[1].diverged_at == singles[1].diverged_at
    assert many[0].diverged_at is None and many[0].epochs_run == 40
    assert_same_runs(*runs)
    assert all(torch.isfinite(p).all() for p in runs[2][1].parameters())  # the last finite weights


def test_divergence_raises_by_default_naming_the_model(data) -> None:
    with pytest.raises(TrainingDiverged, match="model 1 of 2"):
        fast_train_many(make_models(2), *data, lr=[1e-2, 1e3], optimizer="sgd", epochs=20, batch_size=64)


def test_same_arguments_same_numbers(data) -> None:
    first = fast_train_many(make_models(3), *data, lr=1e-2, seed=[0, 1, 2], epochs=10)
    second = fast_train_many(make_models(3), *data, lr=1e-2, seed=[0, 1, 2], epochs=10)
    assert [h.test_loss for h in first] == [h.test_loss for h in second]


def test_batched_forward_matches_each_module(data) -> None:
    X_train = data[0]
    models = make_models(4, hidden_sizes=(5, 3))
    net = BatchedFlatMLP(models)
    x_aug = np.hstack([X_train.numpy(), np.ones((X_train.shape[0], 1), dtype=np.float32)])
    predictions = net.predict(x_aug)
    assert predictions.shape == (4, X_train.shape[0], 1)
    with torch.no_grad():
        for k, model in enumerate(models):
            np.testing.assert_allclose(predictions[k], model(X_train).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "models_factory,kwargs,message",
    [
        (lambda: [], {}, "non-empty list"),
        (lambda: [ProductMLP(), torch.nn.Linear(2, 1)], {}, r"models\[1\] must be a helpers.model"),
        (lambda: [ProductMLP(), ProductMLP(hidden_sizes=(4,))], {}, "same shape and activation"),
        (lambda: [ProductMLP(), ProductMLP()], {"lr": [1e-3]}, r"one per model \(2\), got 1"),
        (lambda: [ProductMLP(), ProductMLP()], {"lr": [1e-3, -1.0]}, "every lr must be a finite number > 0"),
        (lambda: [ProductMLP()], {"seed": [1.5]}, "every seed must be an int"),
        (lambda: [ProductMLP()], {"epochs": 0}, "epochs must be an int >= 1"),
        (lambda: [ProductMLP()], {"optimizer": "rmsprop"}, "optimizer must be one of"),
    ],
)
def test_bad_arguments_say_what_is_allowed(data, models_factory, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        fast_train_many(models_factory(), *data, **kwargs)
