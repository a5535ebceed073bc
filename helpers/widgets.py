"""Interactive controls (ipywidgets 8) on top of the other helpers.

Each widget has two parts:

- a *view*: a plain function from numbers to a matplotlib ``Figure`` (and
  sometimes a text), tested without a browser;
- a *builder*: a thin function that wires sliders (``continuous_update=False``)
  to the view and shows the figure in a ``widgets.Output``.

Lower modules (data, model, training, plots, ...) never import this one.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
from IPython.display import clear_output, display
from matplotlib.figure import Figure

from helpers.data import Standardizer, make_product_data
from helpers.plots import plot_histograms, plot_product_heatmap


def show_figure(output: widgets.Output, fig: Figure) -> None:
    """Replace what ``output`` shows with ``fig`` (no flicker).

    The figure on show is also kept as ``output.figure``, so tests can inspect it.
    """
    output.figure = fig
    with output:
        clear_output(wait=True)
        display(fig)


def text_html(text: str) -> str:
    """``text`` as preformatted HTML for a ``widgets.HTML`` (kept readable, escaped)."""
    return f"<pre style='margin: 0; font-size: 14px'>{html.escape(text)}</pre>"


# ---- 00 · start here: a first slider ------------------------------------------------------------

def product_point_view(x1: float, x2: float, low: float = 1.0, high: float = 10.0) -> tuple[Figure, str]:
    """The product heatmap with the point (x1, x2) marked, and the text ``X1 * X2 = ...``.

    The dashed curve through the point joins every (X1, X2) with the same product.
    """
    for name, value in (("x1", x1), ("x2", x2)):
        if not low <= value <= high:
            raise ValueError(f"{name} must lie in [{low}, {high}] (the heatmap's range), got {value}")
    product = x1 * x2
    fig = plot_product_heatmap(low, high, steps=101)
    ax = fig.axes[0]
    curve_x1 = [low + (high - low) * i / 200 for i in range(201)]
    curve = [(a, product / a) for a in curve_x1 if low <= product / a <= high]
    ax.plot([a for a, _ in curve], [b for _, b in curve], color="white", linestyle="--", linewidth=1.5,
            label=f"X1 * X2 = {product:.2f}")
    ax.plot([x1], [x2], marker="o", markersize=12, color="red", markeredgecolor="white", linestyle="none")
    ax.legend(loc="upper right")
    ax.set_title(f"X1 * X2 = {x1:.2f} * {x2:.2f} = {product:.2f}")
    return fig, f"X1 * X2 = {x1:.2f} * {x2:.2f} = {product:.2f}"


def product_point_widget(x1: float = 3.0, x2: float = 4.0) -> widgets.VBox:
    """Two sliders (X1, X2) that move a point on the product heatmap and print X1 * X2.

    Children: ``[x1_slider, x2_slider, text, output]``.
    """
    style = {"description_width": "40px"}
    layout = widgets.Layout(width="420px")
    x1_slider = widgets.FloatSlider(value=x1, min=1.0, max=10.0, step=0.5, description="X1",
                                    continuous_update=False, style=style, layout=layout)
    x2_slider = widgets.FloatSlider(value=x2, min=1.0, max=10.0, step=0.5, description="X2",
                                    continuous_update=False, style=style, layout=layout)
    text = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: object = None) -> None:
        fig, message = product_point_view(x1_slider.value, x2_slider.value)
        text.value = text_html(message)
        show_figure(output, fig)

    x1_slider.observe(redraw, names="value")
    x2_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([x1_slider, x2_slider, text, output])


# ---- 01 · data and standardization: the same data before and after z-score ---------------------

def standardization_view(
    n_samples: int = 1000, low: float = 1.0, high: float = 10.0, seed: int = 0
) -> tuple[Figure, str]:
    """Make ``n_samples`` product inputs in [low, high), standardize them, and show both.

    Returns the before/after histograms of X1 and X2 and a text with each column's
    mean and std before and after. Bad arguments raise ``make_product_data``'s ValueError.
    """
    X, _ = make_product_data(n_samples, low, high, seed=seed)
    scaler = Standardizer().fit(X)
    X_standardized = scaler.transform(X)
    fig = plot_histograms(X, X_standardized)
    lines = [f"{n_samples} samples in [{low:g}, {high:g})"]
    for col, name in enumerate(("X1", "X2")):
        before, after = X[:, col], X_standardized[:, col]
        after_mean = after.mean().item() + 0.0
        after_mean = 0.0 if abs(after_mean) < 5e-5 else after_mean  # no "-0.0000"
        lines.append(
            f"{name}: before mean {before.mean().item():8.4f}, std {before.std().item():8.4f}"
            f"  ->  after mean {after_mean:7.4f}, std {after.std().item():.4f}"
        )
    return fig, "\n".join(lines)


def standardization_widget(n_samples: int = 1000, low: float = 1.0, high: float = 10.0) -> widgets.VBox:
    """Sliders for the number of samples and the range [low, high) redraw the before/after histograms.

    Children: ``[n_slider, range_slider, text, output]``. An empty range (low == high)
    shows the error message instead of a figure.
    """
    style = {"description_width": "90px"}
    layout = widgets.Layout(width="520px")
    n_slider = widgets.IntSlider(value=n_samples, min=10, max=5000, step=10, description="samples",
                                 continuous_update=False, style=style, layout=layout)
    range_slider = widgets.FloatRangeSlider(value=(low, high), min=-50.0, max=150.0, step=1.0,
                                            description="range [low, high)", continuous_update=False,
                                            style=style, layout=layout)
    text = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: object = None) -> None:
        lo, hi = range_slider.value
        try:
            fig, message = standardization_view(n_slider.value, lo, hi)
        except ValueError as error:
            text.value = text_html(f"⚠ {error}: drag the two ends of the range apart")
            return
        text.value = text_html(message)
        show_figure(output, fig)

    n_slider.observe(redraw, names="value")
    range_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([n_slider, range_slider, text, output])
