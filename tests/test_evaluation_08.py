"""Helpers of notebook 08: predictions along a line, kinks of a ReLU network, spreads, and their plots."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data import Standardizer
from helpers.evaluation import (
    find_kinks,
    predict_along_line,
    relu_pattern_changes,
    second_differences,
    spread,
)
from helpers.model import ProductMLP
from helpers.plots import figure_data, plot_along_line, plot_metric_vs, plot_spread


@pytest.fixture()
def scalers() -> tuple[Standardizer, Standardizer]:
    X = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
    return Standardizer().fit(X), Standardizer().fit(X[:, :1] * X[:, 1:])


def test_second_differences_vanish_on_a_line_and_not_on_a_parabola() -> None:
    t = np.linspace(0, 1, 11)
    assert np.allclose(second_differences(3 * t + 2), 0.0)
    np.testing.assert_allclose(second_differences(t**2), 2 * 0.1**2)
    with pytest.raises(ValueError, match="at least 3"):
        second_differences([1.0, 2.0])


def test_find_kinks_counts_each_bend_once() -> None:
    t = np.linspace(-2, 2, 401)
    assert find_kinks(np.abs(t)) == [200]  # |t| bends once, at t = 0
    assert find_kinks(np.maximum(t - 1, 0) + np.maximum(-t - 1, 0) + 0.5 * t) == [100, 300]  # t = -1 and 1
    assert find_kinks(5 * t) == []
    with pytest.raises(ValueError, match="rel_tol must be > 0"):
        find_kinks(t, rel_tol=0)


def test_kinks_of_a_relu_network_are_where_its_pattern_changes(scalers) -> None:
    torch.manual_seed(3)
    model = ProductMLP(hidden_sizes=(6,))
    x_scaler, y_scaler = scalers
    points, predicted = predict_along_line(model, x_scaler, y_scaler, (0.0, 0.0), (8.0, 8.0), steps=4001)
    assert points.shape == (4001, 2) and predicted.shape == (4001,) and predicted.dtype == torch.float64
    changes = relu_pattern_changes(model.double(), (points - x_scaler.mean.double()) / x_scaler.std.double())
    kinks = find_kinks(predicted.numpy())
    assert 0 < len(kinks) <= 6  # one hidden layer of 6 units: at most 6 bends along a line
    assert kinks == changes  # the same places, not only the same number
    with torch.no_grad():  # the float64 line matches the float32 model
        model.float()
        direct = y_scaler.inverse_transform(model(x_scaler.transform(points.float())))[:, 0]
    torch.testing.assert_close(predicted.float(), direct, atol=1e-4, rtol=1e-5)


def test_a_tanh_network_is_curved_everywhere(scalers) -> None:
    torch.manual_seed(0)
    _, predicted = predict_along_line(ProductMLP(activation="tanh"), *scalers, (0.0, 0.0), (8.0, 8.0), 201)
    assert len(find_kinks(predicted.numpy())) == 1  # one long "bend": every second difference is non-zero
    with pytest.raises(ValueError, match="ReLU"):
        relu_pattern_changes(ProductMLP(activation="tanh"), torch.zeros(3, 2))


def test_predict_along_line_rejects_bad_input(scalers) -> None:
    with pytest.raises(ValueError, match="steps must be an int >= 3"):
        predict_along_line(ProductMLP(), *scalers, (0, 0), (1, 1), steps=2)
    with pytest.raises(ValueError, match="two finite numbers"):
        predict_along_line(ProductMLP(), *scalers, (0, 0, 0), (1, 1))
    with pytest.raises(ValueError, match="fitted"):
        predict_along_line(ProductMLP(), Standardizer(), scalers[1], (0, 0), (1, 1))


def test_spread() -> None:
    assert spread([0.3, 0.1, 0.2, 0.5]) == {"min": 0.1, "median": 0.25, "max": 0.5}
    with pytest.raises(ValueError, match="non-empty"):
        spread([])
    with pytest.raises(ValueError, match="finite"):
        spread([1.0, float("nan")])


def test_plots_draw_the_numbers_given() -> None:
    x = np.linspace(0, 15, 16)
    fig = plot_along_line(x, {"true": x**2, "predicted": 10 * x}, marks=[3.0, 7.0])
    drawn = figure_data(fig)
    assert any(d.shape == x.shape and np.allclose(d, x**2) for d in drawn)
    assert any(d.shape == x.shape and np.allclose(d, 10 * x) for d in drawn)
    with pytest.raises(ValueError, match="has 3 values for 16 positions"):
        plot_along_line(x, {"short": [1, 2, 3]})

    fig = plot_spread({"seeds": [0.2, 0.3, 0.25], "lr": [0.1, 0.4]})
    ax = fig.axes[0]
    assert [len(c.get_offsets()) for c in ax.collections[::2]] == [3, 2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["seeds", "lr"]

    fig = plot_metric_vs([9, 17, 33], {"one layer": [4.0, 1.4, 0.7], "two": [(15, 3.6), (37, 1.2)]},
                         xlabel="parameters", ylabel="grid RMSE")
    drawn = figure_data(fig)
    assert [list(d) for d in drawn] == [[4.0, 1.4, 0.7], [3.6, 1.2]]
    with pytest.raises(ValueError, match="at least one"):
        plot_metric_vs([1], {}, xlabel="x", ylabel="y")
