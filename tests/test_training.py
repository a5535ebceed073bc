"""The training loop: it learns, reports the true epoch mean, stops on divergence, keeps the best model."""

import copy
import math

import pytest
import torch
from torch import nn

from helpers.data import Standardizer, make_product_data
from helpers.model import ProductMLP
from helpers.training import (
    TrainingDiverged,
    TrainingHistory,
    train_model,
    train_model_with_dataloader,
)


def standardized_data(n: int = 250, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    X, Y = make_product_data(n, seed=seed)
    return Standardizer().fit_transform(X), Standardizer().fit_transform(Y)


def fresh_model(seed: int = 0) -> ProductMLP:
    torch.manual_seed(seed)
    return ProductMLP()


TRAINERS = [train_model, train_model_with_dataloader]


@pytest.mark.parametrize("trainer", TRAINERS)
def test_loss_goes_down_on_a_small_run(trainer):
    X, Y = standardized_data(200)
    history = trainer(fresh_model(), X, Y, epochs=30, batch_size=50, lr=1e-2)
    assert isinstance(history, TrainingHistory)
    assert len(history.train_loss) == history.epochs_run == 30
    assert history.train_loss[-1] < history.train_loss[0] / 5
    assert history.test_loss == [] and history.best_epoch is None and history.best_test_loss is None
    assert history.diverged_at is None
    assert history.seconds > 0


def test_epoch_loss_is_the_true_mean_and_batches_follow_the_contract():
    # 250 rows in batches of 100: sizes 100, 100, 50, so the plain mean of the three batch
    # losses (and the last batch's loss) differ from the true mean over all 250 samples.
    X, Y = standardized_data(250)
    model = fresh_model()
    replay = copy.deepcopy(model)
    history = train_model(model, X, Y, epochs=2, batch_size=100, lr=1e-2, seed=7)

    generator = torch.Generator().manual_seed(7)
    optimizer = torch.optim.Adam(replay.parameters(), lr=1e-2)
    losses, sizes = [], []
    for _epoch in range(2):
        perm = torch.randperm(250, generator=generator)
        epoch_losses, epoch_sizes = [], []
        for start in range(0, 250, 100):
            idx = perm[start : start + 100]
            optimizer.zero_grad()
            loss = nn.MSELoss()(replay(X[idx]), Y[idx])
            loss.backward()
            optimizer.step()
            epoch_losses.append(loss.item())
            epoch_sizes.append(len(idx))
        losses.append(epoch_losses)
        sizes.append(epoch_sizes)

    assert sizes[0] == [100, 100, 50]
    for epoch in range(2):
        true_mean = sum(loss * size for loss, size in zip(losses[epoch], sizes[epoch], strict=True)) / 250
        plain_mean = sum(losses[epoch]) / 3
        assert history.train_loss[epoch] == pytest.approx(true_mean, rel=1e-6)
        assert abs(true_mean - plain_mean) > 1e-4  # the case discriminates the two averages
        assert abs(true_mean - losses[epoch][-1]) > 1e-4  # and the notes' "last batch" print
    # Same batches, same steps: the trained weights match the replay exactly.
    for trained, replayed in zip(model.parameters(), replay.parameters(), strict=True):
        torch.testing.assert_close(trained, replayed)


def test_same_seed_same_history_and_other_seed_differs():
    X, Y = standardized_data(200)
    first = train_model(fresh_model(), X, Y, epochs=3, seed=1)
    second = train_model(fresh_model(), X, Y, epochs=3, seed=1)
    other = train_model(fresh_model(), X, Y, epochs=3, seed=2)
    assert first.train_loss == second.train_loss
    assert first.train_loss != other.train_loss


def test_held_out_loss_is_recorded_every_epoch():
    X, Y = standardized_data(300)
    history = train_model(fresh_model(), X[:250], Y[:250], X[250:], Y[250:], epochs=5, batch_size=50)
    assert len(history.test_loss) == 5
    assert history.best_test_loss == min(history.test_loss)
    assert history.test_loss[history.best_epoch - 1] == history.best_test_loss


@pytest.mark.parametrize("on_diverge", ["raise", "stop"])
def test_divergence_names_the_epoch_and_never_leaves_nan_weights(on_diverge):
    X, Y = standardized_data(200)
    model = fresh_model()
    if on_diverge == "raise":
        with pytest.raises(TrainingDiverged, match=r"diverged in epoch \d+.*smaller") as caught:
            train_model(model, X, Y, epochs=20, lr=10.0, optimizer="sgd")
        history = caught.value.history
        assert f"epoch {caught.value.epoch}:" in str(caught.value)
        assert caught.value.epoch == history.diverged_at
    else:
        history = train_model(model, X, Y, epochs=20, lr=10.0, optimizer="sgd", on_diverge="stop")
    assert history.diverged_at is not None and 1 <= history.diverged_at <= 3
    assert history.epochs_run == len(history.train_loss) == history.diverged_at - 1
    assert all(math.isfinite(value) for value in history.train_loss)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_keep_best_restores_the_weights_of_the_best_held_out_epoch():
    # Held-out targets are the negated training targets: the better the model fits the
    # training data, the worse its held-out loss, so the best epoch comes early.
    X, Y = standardized_data(200)
    loss_fn = nn.MSELoss()
    results = {}
    for keep_best in (True, False):
        model = fresh_model()
        history = train_model(model, X, Y, X, -Y, epochs=15, batch_size=50, lr=1e-2, keep_best=keep_best)
        with torch.no_grad():
            results[keep_best] = (history, loss_fn(model(X), -Y).item())
    history, final_test = results[True]
    assert history.best_epoch < history.epochs_run
    assert final_test == pytest.approx(history.best_test_loss, rel=1e-5)
    history_last, final_test_last = results[False]
    assert final_test_last == pytest.approx(history_last.test_loss[-1], rel=1e-5)
    assert final_test_last > final_test


def test_callback_runs_every_k_epochs_and_at_the_last():
    X, Y = standardized_data(100)
    seen = []

    def callback(epoch, history):
        seen.append((epoch, len(history.train_loss)))

    train_model(fresh_model(), X, Y, epochs=12, callback=callback, callback_every=5)
    assert seen == [(5, 5), (10, 10), (12, 12)]


@pytest.mark.parametrize("trainer", TRAINERS)
def test_callback_returning_false_stops_training(trainer):
    X, Y = standardized_data(100)
    history = trainer(
        fresh_model(), X, Y, epochs=50, callback=lambda epoch, history: epoch < 6, callback_every=3
    )
    assert history.epochs_run == 6
    assert len(history.train_loss) == 6


def test_progress_bar_and_thread_count_restored(capsys):
    X, Y = standardized_data(100)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train_model(fresh_model(), X, Y, epochs=2, progress=True)
        assert "2/2" in capsys.readouterr().err  # tqdm drew the bar to the end
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_dataloader_variant_keeps_the_last_partial_batch():
    X, Y = standardized_data(250)
    model = fresh_model()
    calls = []
    original_forward = model.forward

    def counting_forward(x):
        calls.append(len(x))
        return original_forward(x)

    model.forward = counting_forward
    train_model_with_dataloader(model, X, Y, epochs=1, batch_size=100)
    assert calls == [100, 100, 50]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be an int >= 1"),
        ({"epochs": 2.5}, "epochs must be an int >= 1"),
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"lr": float("inf")}, "lr must be a finite number > 0"),
        ({"optimizer": "rmsprop"}, r"optimizer must be one of \['adam', 'sgd'\]"),
        ({"on_diverge": "ignore"}, "on_diverge must be one of"),
        ({"callback_every": 0}, "callback_every must be an int >= 1"),
    ],
)
@pytest.mark.parametrize("trainer", TRAINERS)
def test_bad_arguments_say_what_is_allowed(trainer, kwargs, message):
    X, Y = standardized_data(50)
    with pytest.raises(ValueError, match=message):
        trainer(fresh_model(), X, Y, **kwargs)


@pytest.mark.parametrize(
    ("X", "Y", "message"),
    [
        (torch.zeros(10, 3), torch.zeros(10, 1), r"X_train must have shape \(N, 2\)"),
        (torch.zeros(10), torch.zeros(10, 1), r"X_train must have shape \(N, 2\)"),
        (torch.zeros(10, 2), torch.zeros(10), r"Y_train must have shape \(N, 1\).*unsqueeze"),
        (torch.zeros(10, 2), torch.zeros(9, 1), "same number of rows"),
        (torch.zeros(10, 2, dtype=torch.long), torch.zeros(10, 1), "floating-point"),
        ([[1.0, 2.0]], torch.zeros(1, 1), "torch tensors"),
    ],
)
def test_bad_shapes_are_explained(X, Y, message):
    with pytest.raises(ValueError, match=message):
        train_model(fresh_model(), X, Y, epochs=1)


def test_test_data_needs_both_parts_and_the_right_shape():
    X, Y = standardized_data(50)
    with pytest.raises(ValueError, match="both X_test and Y_test"):
        train_model(fresh_model(), X, Y, X_test=X, epochs=1)
    with pytest.raises(ValueError, match=r"X_test must have shape \(N, 2\)"):
        train_model(fresh_model(), X, Y, torch.zeros(5, 3), torch.zeros(5, 1), epochs=1)


def test_model_must_be_a_module():
    X, Y = standardized_data(50)
    with pytest.raises(ValueError, match="torch.nn.Module"):
        train_model(lambda x: x, X, Y, epochs=1)
