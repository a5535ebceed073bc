import matplotlib as mpl
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers.data import Standardizer, make_product_data
from helpers.plots import (
    figure_data,
    plot_heatmap,
    plot_histograms,
    plot_product_heatmap,
    plot_product_surface_3d,
    plot_scatter,
    product_on_grid,
    use_classroom_style,
)


def test_histograms_have_one_panel_per_column_and_stage():
    X, _ = make_product_data(300, seed=0)
    fig = plot_histograms(X, Standardizer().fit_transform(X))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert any("standardized" in t and "mean 0.00, std 1.00" in t for t in titles)


def test_histograms_reject_mismatched_input():
    with pytest.raises(ValueError, match="equal shapes"):
        plot_histograms(torch.zeros(5, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="one name per column"):
        plot_histograms(torch.zeros(5, 2), torch.zeros(5, 2), names=["a"])


def test_product_heatmap_draws_the_product():
    fig = plot_product_heatmap(1.0, 10.0, steps=11)
    image = figure_data(fig)[0]
    assert image.shape == (11, 11)
    assert image[0, 0] == pytest.approx(1.0) and image[-1, -1] == pytest.approx(100.0)
    assert np.allclose(image, product_on_grid(1.0, 10.0, 11).numpy())


def test_heatmap_outlines_a_square_and_rejects_non_square_grids():
    fig = plot_heatmap(np.zeros((5, 5)), 0.0, 12.0, square=(1.0, 10.0))
    assert len(fig.axes[0].patches) == 1
    with pytest.raises(ValueError, match="square 2-D grid"):
        plot_heatmap(np.zeros((5, 4)), 0.0, 1.0)


def test_surface_3d_and_scatter_return_figures():
    surface = plot_product_surface_3d(steps=9).axes[0]
    assert surface.name == "3d"
    low, high = surface.get_zlim()
    assert low <= 1.0 and high >= 100.0  # the product over [1, 10]² runs from 1 to 100
    X, Y = make_product_data(50, seed=0)
    points = plot_scatter(X, Y).axes[0].collections[0]
    np.testing.assert_allclose(points.get_offsets(), X.numpy())  # one dot per sample, where it is
    np.testing.assert_allclose(points.get_array(), Y.numpy().ravel())  # coloured by Y
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_scatter(torch.zeros(5, 3), torch.zeros(5, 1))


def test_classroom_style_scales_fonts_and_rejects_silly_scales():
    original = dict(mpl.rcParams)
    try:
        use_classroom_style(1.5)
        assert mpl.rcParams["font.size"] == pytest.approx(13 * 1.5)
        with pytest.raises(ValueError, match="scale"):
            use_classroom_style(10)
    finally:
        mpl.rcParams.update(original)
