"""The playground dashboard of notebook 07, without a browser: set a control in Python, wait, check."""

from __future__ import annotations

import threading
import time
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
import torch

from helpers.dashboard import (
    NOTES_SETTINGS,
    VIEW_STEPS,
    PlaygroundDashboard,
    PlaygroundFigure,
    PlaygroundSettings,
    build_model,
    format_hidden_sizes,
    make_playground_data,
    nice_limit,
    parse_hidden_sizes,
    status_line,
    take_snapshot,
    time_control_change,
    train_with_settings,
)
from helpers.fast_training import fast_train_model
from helpers.plots import figure_data
from helpers.training import TrainingHistory

# Small runs keep the suite quick; the notes' full settings run in notebook 07.
SMALL = replace(NOTES_SETTINGS, epochs=40, n_samples=300)


class RecordingTrainer:
    """The fast trainer, recording the arguments of every call (and optionally slowed down)."""

    def __init__(self, pause_per_callback: float = 0.0) -> None:
        self.calls: list[dict] = []
        self.pause = pause_per_callback
        self.lock = threading.Lock()

    def __call__(self, model, X_train, Y_train, X_test=None, Y_test=None, **kwargs):
        with self.lock:
            self.calls.append({"hidden_sizes": model.hidden_sizes, "activation": model.activation,
                               "n_train": X_train.shape[0], "Y_train": Y_train.clone(), **kwargs})
        callback = kwargs.pop("callback")

        def slow_callback(epoch, history):
            time.sleep(self.pause)
            return callback(epoch, history)

        return fast_train_model(model, X_train, Y_train, X_test, Y_test, callback=slow_callback, **kwargs)


def finite_figure_numbers(dashboard: PlaygroundDashboard) -> list[np.ndarray]:
    return [np.asarray(a, dtype=float) for a in figure_data(dashboard.figure.figure)]


# -- plain functions ---------------------------------------------------------------------------------
def test_hidden_sizes_text_round_trip():
    assert parse_hidden_sizes("16, 8") == (16, 8)
    assert parse_hidden_sizes(" 2 ") == (2,)
    assert parse_hidden_sizes("") == ()
    assert format_hidden_sizes((16, 8)) == "16, 8"
    assert parse_hidden_sizes(format_hidden_sizes((3, 5, 7))) == (3, 5, 7)


@pytest.mark.parametrize("text", ["abc", "16, x", "0", "4, -2", "1.5"])
def test_bad_hidden_sizes_text_raises(text):
    with pytest.raises(ValueError, match="hidden width"):
        parse_hidden_sizes(text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": 0.0}, "learning rate"),
        ({"lr": float("nan")}, "learning rate"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"hidden_sizes": (16, 0)}, "hidden widths"),
        ({"activation": "gelu"}, "activation"),
        ({"noise_std": -1.0}, "noise"),
        ({"test_fraction": 1.0}, "held-out fraction"),
        ({"n_samples": 3}, "fewer than 2 rows"),
        ({"data_range": (5.0, 5.0)}, "data range"),
        ({"seed": -1}, "seed"),
    ],
)
def test_settings_validate_says_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message):
        replace(NOTES_SETTINGS, **change).validate()


def test_notes_settings_are_the_notes_choices():
    s = NOTES_SETTINGS
    assert (s.n_samples, s.hidden_sizes, s.activation, s.optimizer, s.lr, s.batch_size, s.epochs) == (
        1250, (16, 8), "relu", "adam", 1e-3, 100, 1000)
    assert s.data_range == (1.0, 10.0)


def test_data_are_split_and_standardized_on_the_training_rows():
    data = make_playground_data(SMALL)
    assert data.X_train.shape == (240, 2) and data.X_test.shape == (60, 2)
    assert torch.allclose(data.X_train_std.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(data.Y_train_std.std(0), torch.ones(1), atol=1e-5)
    assert data.X_train.min() >= 1.0 and data.X_train.max() < 10.0
    again = make_playground_data(SMALL)
    assert torch.equal(again.X_train, data.X_train), "same settings must give the same data"
    redrawn = make_playground_data(replace(SMALL, data_draw=1))
    assert not torch.equal(redrawn.X_train, data.X_train), "a new draw must give new data"


def test_build_model_is_seeded_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b = build_model(SMALL), build_model(SMALL)
    assert torch.rand(1) == expected_next, "build_model must not consume the notebook's random numbers"
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert build_model(replace(SMALL, hidden_sizes=(2,), activation="tanh")).hidden_sizes == (2,)


def test_nice_limit():
    assert nice_limit(0.3) == 1.0
    assert nice_limit(3.2) == 5.0
    assert nice_limit(17.0) == 20.0
    assert nice_limit(51.0) == 100.0
    assert nice_limit(float("inf")) == 1.0


def test_snapshot_of_an_untrained_model_is_finite_and_shaped():
    data = make_playground_data(SMALL)
    snapshot = take_snapshot(build_model(SMALL), data, TrainingHistory(), SMALL, "training")
    assert snapshot.surface.shape == (VIEW_STEPS, VIEW_STEPS)
    assert np.isfinite(snapshot.surface).all() and np.isfinite(snapshot.error).all()
    assert snapshot.grid_rmse > 5, "an untrained net is far from the product"
    assert status_line(snapshot).startswith("training: epoch 0 / 40")


def test_snapshot_and_figure_survive_nan_weights():
    data = make_playground_data(SMALL)
    model = build_model(SMALL)
    with torch.no_grad():
        model.linears[0].weight.fill_(float("nan"))
    history = TrainingHistory(train_loss=[1.0, 1e30], test_loss=[1.0, 1e31], epochs_run=2, diverged_at=3)
    snapshot = take_snapshot(model, data, history, SMALL, "diverged")
    assert snapshot.surface is None and snapshot.error is None and snapshot.grid_rmse is None
    figure = PlaygroundFigure()
    figure.update(snapshot, status_line(snapshot))
    assert figure.to_png().startswith(b"\x89PNG")
    texts = [t.get_text() for ax in figure.figure.axes for t in ax.texts]
    assert "diverged at epoch 3" in texts
    assert any("no finite prediction" in t for t in texts)
    assert "diverged at epoch 3" in status_line(snapshot)


# -- the dashboard -------------------------------------------------------------------------------------
def test_dashboard_controls_act_on_release_and_start_with_the_notes_settings():
    dashboard = PlaygroundDashboard(start=False)
    assert dashboard.settings == NOTES_SETTINGS
    for name, control in dashboard.controls.items():
        if hasattr(control, "continuous_update"):
            assert control.continuous_update is False, f"{name} must act on release"
    assert dashboard.result is None


def test_first_run_trains_and_draws():
    trainer = RecordingTrainer()
    dashboard = PlaygroundDashboard(SMALL, trainer=trainer)
    run = dashboard.wait(timeout=60)
    assert run.status == "done", run.error
    assert run.history.epochs_run == SMALL.epochs
    assert len(run.history.train_loss) == SMALL.epochs and len(run.history.test_loss) == SMALL.epochs
    assert run.history.train_loss[-1] < run.history.train_loss[0]
    assert trainer.calls[-1]["lr"] == SMALL.lr and trainer.calls[-1]["optimizer"] == "adam"
    assert run.snapshot.grid_rmse is not None and run.snapshot.held_out_rmse is not None
    assert bytes(dashboard.image.value).startswith(b"\x89PNG")
    assert "done: 40 epochs" in dashboard.status.value
    assert "held-out RMSE" in dashboard.readouts.value
    assert run.first_frame_seconds is not None and run.done_seconds >= run.first_frame_seconds


def test_setting_the_learning_rate_retrains_with_it_and_changes_the_figure():
    trainer = RecordingTrainer()
    dashboard = PlaygroundDashboard(SMALL, trainer=trainer)
    first = dashboard.wait(timeout=60)
    before = finite_figure_numbers(dashboard)
    image_before = dashboard.image.value
    dashboard.controls["lr"].value = 0.03
    run = dashboard.wait(timeout=60)
    assert run.generation > first.generation
    assert run.settings.lr == pytest.approx(0.03)
    assert trainer.calls[-1]["lr"] == pytest.approx(0.03)
    assert run.history.epochs_run == SMALL.epochs
    after = finite_figure_numbers(dashboard)
    assert any(not np.allclose(a, b, equal_nan=True) for a, b in zip(before, after, strict=True))
    assert dashboard.image.value != image_before


def test_setting_hidden_widths_builds_that_network_and_changes_the_surface():
    trainer = RecordingTrainer()
    dashboard = PlaygroundDashboard(SMALL, trainer=trainer)
    dashboard.wait(timeout=60)
    surface_before = dashboard.figure.surface_image.get_array().copy()
    dashboard.controls["hidden"].value = "2"
    run = dashboard.wait(timeout=60)
    assert run.model.hidden_sizes == (2,)
    assert trainer.calls[-1]["hidden_sizes"] == (2,)
    assert sum(p.numel() for p in run.model.parameters()) == 2 * 2 + 2 + 2 + 1
    assert not np.allclose(dashboard.figure.surface_image.get_array(), surface_before)


@pytest.mark.parametrize(
    ("name", "value", "check"),
    [
        ("optimizer", "sgd", lambda run, call, first: call["optimizer"] == "sgd"),
        ("epochs", 20, lambda run, call, first: call["epochs"] == 20 and run.history.epochs_run == 20),
        ("batch_size", 25, lambda run, call, first: call["batch_size"] == 25),
        ("activation", "sigmoid", lambda run, call, first: run.model.activation == "sigmoid"),
        ("n_samples", 500, lambda run, call, first: call["n_train"] == 400),
        ("test_fraction", 0.5, lambda run, call, first: call["n_train"] == 150),
        # noise and range must change the data the network trains on, not only the settings
        ("noise_std", 2.0, lambda run, call, first: not torch.allclose(call["Y_train"], first["Y_train"])),
        ("data_range", (2.0, 5.0), lambda run, call, first: run.snapshot.data_range == (2.0, 5.0)
         and not torch.allclose(call["Y_train"], first["Y_train"])),
        ("seed", 7, lambda run, call, first: call["seed"] == 7),
    ],
)
def test_every_control_reaches_the_training_run(name, value, check):
    trainer = RecordingTrainer()
    dashboard = PlaygroundDashboard(SMALL, trainer=trainer)
    dashboard.wait(timeout=60)
    dashboard.controls[name].value = value
    run = dashboard.wait(timeout=60)
    assert run.status == "done", run.error
    assert check(run, trainer.calls[-1], trainer.calls[0])


def test_a_change_while_training_supersedes_the_run_and_no_stale_frame_comes_back():
    trainer = RecordingTrainer(pause_per_callback=0.02)  # slow enough to change a control mid-run
    dashboard = PlaygroundDashboard(replace(SMALL, epochs=400), trainer=trainer, frame_interval=0.0)
    shown: list[int] = []
    dashboard.image.observe(lambda _change: shown.append(dashboard.shown_generation), names="value")
    first = dashboard.result
    deadline = time.monotonic() + 30
    while first.frames < 2 and time.monotonic() < deadline:  # it is really drawing
        time.sleep(0.01)
    assert first.frames >= 2
    dashboard.controls["lr"].value = 0.01
    second = dashboard.result
    dashboard.controls["epochs"].value = 30
    newest = dashboard.wait(timeout=60)
    time.sleep(0.3)  # any stale thread would publish now
    assert newest is dashboard.result and newest.generation > second.generation > first.generation
    assert first.finished.is_set() and first.status == "superseded"
    assert first.history is not None and first.history.epochs_run < 400, "the old run must stop early"
    assert second.status == "superseded"
    assert newest.status == "done" and newest.history.epochs_run == 30
    assert shown == sorted(shown), f"a stale frame came back after a newer one: {shown}"
    assert shown[-1] == newest.generation == dashboard.shown_generation
    assert "done: 30 epochs" in dashboard.status.value


def test_a_diverging_run_says_where_and_draws_a_clear_plot():
    dashboard = PlaygroundDashboard(SMALL)
    dashboard.wait(timeout=60)
    # SGD with learning rate 1 and Tanh overflows within a few epochs
    dashboard.set_settings(replace(SMALL, optimizer="sgd", lr=1.0, activation="tanh"))
    run = dashboard.wait(timeout=60)
    assert run.status == "diverged"
    assert run.history.diverged_at is not None
    assert f"diverged at epoch {run.history.diverged_at}" in dashboard.status.value
    for array in finite_figure_numbers(dashboard):
        assert np.isfinite(array).all(), "no NaN may reach the heatmaps or the curves"
    assert bytes(dashboard.image.value).startswith(b"\x89PNG")


def test_reset_button_restores_the_notes_settings():
    dashboard = PlaygroundDashboard(SMALL, start=False)
    trainer = RecordingTrainer()
    dashboard.trainer = trainer
    dashboard.controls["activation"].value = "tanh"
    dashboard.controls["hidden"].value = "4"
    dashboard.regenerate_button.click()
    assert dashboard.data_draw == 1
    dashboard.reset_button.click()
    assert dashboard.settings == NOTES_SETTINGS
    assert dashboard.controls["hidden"].value == "16, 8"
    run = dashboard.result
    assert run.settings == NOTES_SETTINGS
    assert dashboard.wait(timeout=60) is run and run.status == "done"
    assert trainer.calls[-1]["epochs"] == 1000 and trainer.calls[-1]["hidden_sizes"] == (16, 8)


def test_regenerate_and_train_buttons_start_new_runs():
    dashboard = PlaygroundDashboard(SMALL)
    first = dashboard.wait(timeout=60)
    dashboard.regenerate_button.click()
    redrawn = dashboard.wait(timeout=60)
    assert redrawn.settings.data_draw == first.settings.data_draw + 1
    dashboard.train_button.click()
    again = dashboard.wait(timeout=60)
    assert again.generation == redrawn.generation + 1 and again.settings == redrawn.settings
    # same settings, same numbers
    assert again.history.train_loss == pytest.approx(redrawn.history.train_loss)


def test_unusable_hidden_widths_show_an_error_instead_of_training():
    dashboard = PlaygroundDashboard(SMALL)
    dashboard.wait(timeout=60)
    dashboard.controls["hidden"].value = "sixteen"
    assert dashboard.result is None
    assert "cannot train" in dashboard.status.value and "hidden widths" in dashboard.status.value
    with pytest.raises(RuntimeError, match="unusable"):
        dashboard.wait(timeout=1)
    dashboard.controls["hidden"].value = "8"
    assert dashboard.wait(timeout=60).status == "done"


def test_a_trainer_error_is_shown_on_the_dashboard():
    def broken_trainer(*args, **kwargs):
        raise RuntimeError("boom")

    dashboard = PlaygroundDashboard(SMALL, trainer=broken_trainer)
    run = dashboard.wait(timeout=60)
    assert run.status == "error" and "boom" in run.error
    assert "boom" in dashboard.status.value


def test_time_control_change_measures_both_latencies():
    dashboard = PlaygroundDashboard(SMALL)
    dashboard.wait(timeout=60)
    first_frame, done, run = time_control_change(dashboard, "lr", 0.002)
    assert 0 < first_frame <= done
    assert run.settings.lr == pytest.approx(0.002)
    with pytest.raises(ValueError, match="unknown control"):
        time_control_change(dashboard, "momentum", 0.9)


def test_settings_dataclass_is_frozen():
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'lr'"):
        PlaygroundSettings().lr = 1.0  # type: ignore[misc]


def test_train_with_settings_is_the_dashboard_run_without_widgets():
    model, history, snapshot = train_with_settings(SMALL)
    dashboard = PlaygroundDashboard(SMALL)
    run = dashboard.wait(timeout=60)
    assert history.train_loss == pytest.approx(run.history.train_loss)
    assert snapshot.grid_rmse == pytest.approx(run.snapshot.grid_rmse)
    assert model.hidden_sizes == (16, 8)
    _, diverged, snap = train_with_settings(replace(SMALL, optimizer="sgd", lr=1.0, activation="tanh"))
    assert diverged.diverged_at is not None and snap.status == "diverged"


def test_describe_settings_names_the_shape_and_the_optimizer():
    from helpers.dashboard import describe_settings

    assert describe_settings(NOTES_SETTINGS) == "2-16-8-1 relu, adam lr 0.001, batch 100, 1000 epochs"
    assert describe_settings(replace(NOTES_SETTINGS, hidden_sizes=())).startswith("2-1 relu")


def test_latency_benchmark_runs_and_reports_both_times():
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "playground_latency.py"
    done = subprocess.run([sys.executable, str(script), "--repeats", "1", "--json"], capture_output=True,
                          text=True, timeout=300, check=True)
    result = json.loads(done.stdout)
    assert result["repeats"] == 1
    assert 0 < result["first_frame_s"]["median"] <= result["done_s"]["median"]
