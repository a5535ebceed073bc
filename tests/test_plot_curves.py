"""plot_curves (notebook 01's gradient-descent comparison): one line per curve, blow-ups cut off."""

import math

import numpy as np
import pytest

from helpers.plots import plot_curves


def test_one_line_per_curve_with_labels_and_log_scale():
    fig = plot_curves({"a": [1.0, 0.5, 0.25], "b": [2.0, 2.0, 2.0]}, title="t")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert np.allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.5, 0.25])
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert plot_curves({"a": [1.0, -1.0]}, log_y=False).axes[0].get_yscale() == "linear"


def test_non_finite_values_are_left_out_of_the_line():
    fig = plot_curves({"blows up": [1.0, 100.0, math.inf, math.nan]})
    drawn = np.asarray(fig.axes[0].get_lines()[0].get_ydata(), dtype=float)
    assert np.array_equal(np.isfinite(drawn), [True, True, False, False])


def test_rejects_empty_input():
    with pytest.raises(ValueError, match="at least one"):
        plot_curves({})
    with pytest.raises(ValueError, match="'a' must be a non-empty 1-D"):
        plot_curves({"a": []})
