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
import math
from collections.abc import Sequence

import ipywidgets as widgets
import torch
from IPython.display import clear_output, display
from matplotlib.figure import Figure
from torch import nn

from helpers.data import Standardizer, make_product_data
from helpers.model import ProductMLP
from helpers.plots import plot_histograms, plot_product_heatmap
from helpers.training import train_model


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
    style = {"description_width": "130px"}  # wide enough for "range [low, high)" in full
    layout = widgets.Layout(width="560px")
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


# ---- 02 · nn.Linear: move a line with w and b ----------------------------------------------------

# A few points that lie close to y = 2x + 1: the line the sliders should find.
LINE_POINTS_X = (0.5, 1.5, 2.5, 3.5, 4.5)
LINE_POINTS_Y = (2.1, 3.8, 6.3, 7.9, 10.1)


def linear_fit_view(
    w: float,
    b: float,
    x: Sequence[float] = LINE_POINTS_X,
    y: Sequence[float] = LINE_POINTS_Y,
) -> tuple[Figure, float]:
    """The line of ``nn.Linear(1, 1)`` with weight ``w`` and bias ``b`` over the points (x, y).

    Red segments are the errors; returns the figure and the MSE (均方误差) of the line on the points.
    """
    if len(x) != len(y) or len(x) < 1:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
    if not (math.isfinite(w) and math.isfinite(b)):
        raise ValueError(f"w and b must be finite numbers, got w={w!r}, b={b!r}")
    layer = nn.Linear(1, 1)
    with torch.no_grad():
        layer.weight.fill_(w)
        layer.bias.fill_(b)
        inputs = torch.tensor(x, dtype=torch.float32).unsqueeze(-1)  # (N, 1): N samples, 1 feature
        targets = torch.tensor(y, dtype=torch.float32).unsqueeze(-1)
        predictions = layer(inputs)
        mse = nn.functional.mse_loss(predictions, targets).item()
        span = torch.linspace(min(x) - 0.5, max(x) + 0.5, 50).unsqueeze(-1)
        line = layer(span)
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(span.squeeze(-1).numpy(), line.squeeze(-1).numpy(), color="tab:blue", linewidth=2,
            label=f"y = {w:.2f}·x + {b:.2f}")
    for xi, yi, pi in zip(x, y, predictions.squeeze(-1).tolist(), strict=True):
        ax.plot([xi, xi], [yi, pi], color="tab:red", linewidth=1.2, alpha=0.8)
    ax.scatter(x, y, color="black", zorder=3, s=40, label="data points")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_ylim(min(y) - 4, max(y) + 4)
    ax.set_title(f"nn.Linear(1, 1): MSE = {mse:.3f}")
    ax.legend(loc="upper left")
    return fig, mse


def linear_fit_widget(w: float = 0.5, b: float = 0.0) -> widgets.VBox:
    """Sliders for the weight w and the bias b of a one-input Linear layer; shows the line and its MSE.

    Children: ``[w_slider, b_slider, text, output]``.
    """
    style = {"description_width": "80px"}
    layout = widgets.Layout(width="420px")
    w_slider = widgets.FloatSlider(value=w, min=-2.0, max=4.0, step=0.1, description="weight w",
                                   continuous_update=False, style=style, layout=layout)
    b_slider = widgets.FloatSlider(value=b, min=-4.0, max=6.0, step=0.1, description="bias b",
                                   continuous_update=False, style=style, layout=layout)
    text = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: object = None) -> None:
        fig, mse = linear_fit_view(w_slider.value, b_slider.value)
        text.value = text_html(f"y = {w_slider.value:.2f}·x + {b_slider.value:.2f}    MSE = {mse:.3f}")
        show_figure(output, fig)

    w_slider.observe(redraw, names="value")
    b_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([w_slider, b_slider, text, output])


# ---- 03 · softmax: logits in, probabilities out, with a temperature ------------------------------

def softmax_view(logits: Sequence[float], temperature: float = 1.0) -> tuple[Figure, list[float]]:
    """Bar chart of softmax(logits / temperature); returns the figure and the probabilities.

    The probabilities are computed the stable way (``torch.softmax`` subtracts the maximum).
    """
    if len(logits) < 2:
        raise ValueError(f"need at least 2 logits, got {len(logits)}")
    if not all(math.isfinite(v) for v in logits):
        raise ValueError(f"logits must be finite numbers, got {list(logits)}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    scaled = torch.tensor(logits, dtype=torch.float64) / temperature
    probabilities = torch.softmax(scaled, dim=-1).tolist()
    names = [f"class {i}\nlogit {v:.1f}" for i, v in enumerate(logits)]
    fig = Figure(figsize=(6.5, 4.0), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(names, probabilities, color="tab:blue")
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    bars[best].set_color("tab:orange")
    for bar, p in zip(bars, probabilities, strict=True):
        ax.annotate(f"{p:.3f}", (bar.get_x() + bar.get_width() / 2, p), ha="center", va="bottom",
                    xytext=(0, 2), textcoords="offset points")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("probability")
    ax.set_title(f"softmax(logits / T), T = {temperature:g}: the bars sum to {sum(probabilities):.3f}")
    return fig, probabilities


def softmax_widget(logits: Sequence[float] = (2.0, 1.0, 0.5, -1.0), temperature: float = 1.0) -> widgets.VBox:
    """One slider per logit and a temperature slider redraw the softmax bar chart.

    Children: ``[*logit_sliders, temperature_slider, text, output]``.
    """
    style = {"description_width": "110px"}  # wide enough for "temperature T" in full
    layout = widgets.Layout(width="440px")
    logit_sliders = [
        widgets.FloatSlider(value=v, min=-5.0, max=5.0, step=0.1, description=f"logit {i}",
                            continuous_update=False, style=style, layout=layout)
        for i, v in enumerate(logits)
    ]
    temperature_slider = widgets.FloatLogSlider(value=temperature, base=10, min=-1, max=1, step=0.05,
                                                description="temperature T", continuous_update=False,
                                                style=style, layout=layout)
    text = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: object = None) -> None:
        fig, probabilities = softmax_view([s.value for s in logit_sliders], temperature_slider.value)
        text.value = text_html("probabilities: " + ", ".join(f"{p:.3f}" for p in probabilities))
        show_figure(output, fig)

    for slider in [*logit_sliders, temperature_slider]:
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([*logit_sliders, temperature_slider, text, output])


# ---- 04 · the learning rate: too small, good, too large ------------------------------------------

def learning_rate_losses(
    lr: float, *, optimizer: str = "sgd", steps: int = 100, n_samples: int = 200, seed: int = 0
) -> tuple[list[float], int | None]:
    """Full-batch training of the 2-16-8-1 MLP on standardized product data for ``steps`` steps.

    Returns the loss before each step and the 1-based step where the loss became NaN/inf
    (None if it never did). One batch is the whole data set, so one epoch is one step.
    """
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    X, Y = make_product_data(n_samples, seed=seed)
    X, Y = Standardizer().fit_transform(X), Standardizer().fit_transform(Y)
    torch.manual_seed(seed)
    model = ProductMLP()
    history = train_model(model, X, Y, epochs=steps, batch_size=n_samples, lr=lr, optimizer=optimizer,
                          seed=seed, keep_best=False, on_diverge="stop")
    losses = [v for v in history.train_loss if math.isfinite(v)]
    return losses, history.diverged_at


def learning_rate_view(lr: float, *, optimizer: str = "sgd", steps: int = 100) -> tuple[Figure, str]:
    """The loss curve for one learning rate (log scale), and a one-line verdict.

    A diverged run is drawn up to the last finite loss with "diverged at step N" written
    on the plot: never a crash, never an empty figure.
    """
    losses, diverged_at = learning_rate_losses(lr, optimizer=optimizer, steps=steps)
    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.subplots()
    marker = "." if diverged_at is not None else ""  # a few points: show each one
    ax.plot(range(1, len(losses) + 1), losses, color="tab:blue", linewidth=2, marker=marker)
    ax.set_yscale("log")
    ax.set_xlim(0, steps + 1)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (MSE, log scale)")
    if diverged_at is not None:
        verdict = f"diverged at step {diverged_at}: the loss became inf/NaN (lr too large)"
        ax.text(0.5, 0.5, f"diverged at step {diverged_at}", transform=ax.transAxes, ha="center",
                va="center", fontsize=20, color="tab:red", fontweight="bold")
    else:
        verdict = f"loss {losses[0]:.3f} → {losses[-1]:.4f} after {len(losses)} steps"
    ax.set_title(f"{optimizer.upper()}, lr = {lr:.4g}")
    return fig, verdict


def learning_rate_widget(lr: float = 0.1, *, optimizer: str = "sgd", steps: int = 100) -> widgets.VBox:
    """A log-scale learning-rate slider redraws the loss curve (divergence shown as text, not a crash).

    Children: ``[lr_slider, text, output]``.
    """
    lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.5, step=0.25,
                                       description="learning rate", continuous_update=False,
                                       style={"description_width": "100px"},
                                       layout=widgets.Layout(width="480px"), readout_format=".4g")
    text = widgets.HTML()
    output = widgets.Output()

    def redraw(_change: object = None) -> None:
        fig, verdict = learning_rate_view(lr_slider.value, optimizer=optimizer, steps=steps)
        text.value = text_html(verdict)
        show_figure(output, fig)

    lr_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([lr_slider, text, output])
