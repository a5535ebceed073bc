"""Widgets of notebooks 00 and 01: views tested without a browser, builders by setting sliders in Python."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plots import figure_data
from helpers.widgets import (
    product_point_view,
    product_point_widget,
    standardization_view,
    standardization_widget,
)


def marked_point(fig: Figure) -> tuple[float, float]:
    """The (x, y) of the single-marker line drawn on the heatmap."""
    points = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) == 1]
    assert len(points) == 1
    return float(points[0].get_xdata()[0]), float(points[0].get_ydata()[0])


def test_product_point_view_marks_the_point_and_prints_the_product():
    fig, text = product_point_view(3.0, 4.0)
    assert isinstance(fig, Figure)
    assert text == "X1 * X2 = 3.00 * 4.00 = 12.00"
    assert marked_point(fig) == (3.0, 4.0)
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (101, 101) and image.max() == pytest.approx(100.0)


def test_product_point_view_draws_the_curve_of_equal_products():
    fig, _ = product_point_view(2.0, 6.0)
    curve = max(fig.axes[0].get_lines(), key=lambda line: len(line.get_xdata()))
    x1, x2 = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    assert len(x1) > 10
    assert np.allclose(x1 * x2, 12.0)
    assert x2.min() >= 1.0 and x2.max() <= 10.0


def test_product_point_view_rejects_points_off_the_map():
    with pytest.raises(ValueError, match=r"x1 must lie in \[1.0, 10.0\].*got 11"):
        product_point_view(11.0, 4.0)
    with pytest.raises(ValueError, match="x2 must lie in"):
        product_point_view(3.0, 0.5)


def test_product_point_widget_follows_its_sliders():
    box = product_point_widget()
    x1_slider, x2_slider, text, output = box.children
    assert x1_slider.continuous_update is False and x2_slider.continuous_update is False
    assert "12.00" in text.value and marked_point(output.figure) == (3.0, 4.0)
    x1_slider.value = 7.5
    assert "7.50 * 4.00 = 30.00" in text.value
    assert marked_point(output.figure) == (7.5, 4.0)
    x2_slider.value = 2.0
    assert marked_point(output.figure) == (7.5, 2.0)


def test_standardization_view_reports_means_and_stds_before_and_after():
    fig, text = standardization_view(1000, 1.0, 10.0, seed=0)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    lines = text.splitlines()
    assert lines[0] == "1000 samples in [1, 10)"
    for line in lines[1:]:
        before_mean = float(line.split("before mean")[1].split(",")[0])
        assert 5.0 < before_mean < 6.0  # uniform on [1, 10) has mean 5.5
        assert "after mean  0.0000, std 1.0000" in line
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("mean 0.00, std 1.00" in t for t in titles) == 2


def test_standardization_view_same_seed_same_picture_and_range_moves_the_data():
    first = figure_data(standardization_view(200, 1.0, 10.0, seed=3)[0])
    again = figure_data(standardization_view(200, 1.0, 10.0, seed=3)[0])
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    _, text = standardization_view(200, 100.0, 110.0, seed=3)
    assert "before mean 10" in text  # the raw data moved to about 105 ...
    assert text.count("after mean  0.0000, std 1.0000") == 2  # ... the standardized data did not


def test_standardization_view_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 2"):
        standardization_view(1, 1.0, 10.0)
    with pytest.raises(ValueError, match="low must be smaller than high"):
        standardization_view(100, 5.0, 5.0)


def test_standardization_widget_redraws_and_survives_an_empty_range():
    box = standardization_widget()
    n_slider, range_slider, text, output = box.children
    assert n_slider.continuous_update is False and range_slider.continuous_update is False
    assert "1000 samples in [1, 10)" in text.value
    first_figure = output.figure
    n_slider.value = 200
    assert "200 samples in [1, 10)" in text.value and output.figure is not first_figure
    heights = [p.get_height() for p in output.figure.axes[0].patches]
    assert sum(heights) == 200  # the first histogram counts every sample once
    range_slider.value = (20.0, 40.0)
    assert "200 samples in [20, 40)" in text.value
    figure_before = output.figure
    range_slider.value = (30.0, 30.0)
    assert "low must be smaller than high" in text.value
    assert output.figure is figure_before  # the last good picture stays
