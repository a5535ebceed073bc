"""Training figures: loss curves on a log scale and the prediction / error heatmaps."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers.plots import figure_data, plot_error_heatmap, plot_loss_curves, plot_prediction_heatmaps
from helpers.training import TrainingHistory


def test_loss_curves_draw_both_losses_on_a_log_scale():
    fig = plot_loss_curves([1.0, 0.5, 0.25], [1.2, 0.6, 0.4], best_epoch=3)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = figure_data(fig)
    np.testing.assert_allclose(lines[0], [1.0, 0.5, 0.25])
    np.testing.assert_allclose(lines[1], [1.2, 0.6, 0.4])
    assert ax.get_lines()[2].get_xdata()[0] == 3  # the best-epoch marker
    assert "held-out" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_loss_curves_accept_a_history_and_train_only():
    history = TrainingHistory(train_loss=[0.9, 0.3], test_loss=[1.0, 0.4], best_epoch=2)
    fig = plot_loss_curves(history)
    assert [list(line) for line in figure_data(fig)[:2]] == [[0.9, 0.3], [1.0, 0.4]]
    assert fig.axes[0].get_lines()[2].get_xdata()[0] == 2  # the best-epoch marker
    fig = plot_loss_curves([0.9, 0.3])
    assert [list(line) for line in figure_data(fig)] == [[0.9, 0.3]]


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        ([], None, "non-empty"),
        ([1.0, 0.5], [1.0], "one value per epoch"),
        ([1.0, 0.0], None, "log scale"),
    ],
)
def test_loss_curves_reject_bad_input(train, test, message):
    with pytest.raises(ValueError, match=message):
        plot_loss_curves(train, test)


def test_prediction_heatmaps_show_true_predicted_and_error_with_the_square():
    true = torch.arange(16.0).reshape(4, 4)
    predicted = true + 0.5
    fig = plot_prediction_heatmaps(predicted, true, 0.0, 15.0, square=(1.0, 10.0))
    images = [image for ax in fig.axes for image in ax.get_images()]
    assert len(images) == 3
    np.testing.assert_allclose(images[0].get_array(), true.numpy())
    np.testing.assert_allclose(images[1].get_array(), predicted.numpy())
    np.testing.assert_allclose(images[2].get_array(), np.full((4, 4), 0.5))
    assert images[0].get_clim() == images[1].get_clim()  # one colour scale for true and predicted
    squares = [p for ax in fig.axes for p in ax.patches if p.get_label() == "training data"]
    assert len(squares) == 3 and squares[0].get_xy() == (1.0, 1.0) and squares[0].get_width() == 9.0


def test_error_heatmap_is_the_absolute_error():
    true = np.ones((3, 3))
    predicted = np.array([[1.0, 2.0, 0.0]] * 3)
    fig = plot_error_heatmap(predicted, true, 1.0, 10.0)
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), [[0.0, 1.0, 1.0]] * 3)
    with pytest.raises(ValueError, match="same shape"):
        plot_error_heatmap(np.ones((3, 3)), np.ones((2, 2)), 1.0, 10.0)


def test_prediction_heatmaps_reject_mismatched_grids():
    with pytest.raises(ValueError, match="equal square 2-D grids"):
        plot_prediction_heatmaps(np.ones((3, 3)), np.ones((3, 4)), 1.0, 10.0)
