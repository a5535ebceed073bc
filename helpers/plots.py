"""The last step of the flow: pictures. Every function returns a matplotlib ``Figure``.

Figures are made with ``matplotlib.figure.Figure`` (not pyplot), so nothing is
shown or kept open by accident: a notebook shows one by ending a cell with it
(or ``display(fig)``), and tests inspect it without a screen.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import Tensor

from helpers.data import make_grid

# One setting for the whole course: sizes that read well on a laptop and on a projector.
CLASSROOM_STYLE: dict[str, object] = {
    "figure.figsize": (7.0, 4.5),
    "figure.dpi": 100,
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def _show_figures_in_notebooks() -> None:
    """Let a cell that ends with a ``Figure`` show it as a picture.

    IPython registers its PNG formatter only once pyplot's backend starts;
    our figures do not use pyplot, so register it here (a no-op outside IPython).
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "display_formatter"):
        select_figure_formats(shell, {"png"}, bbox_inches="tight")


_show_figures_in_notebooks()


def use_classroom_style(scale: float = 1.0) -> None:
    """Apply the course's figure and font sizes; ``scale=1.3`` for a big projector."""
    if not 0.5 <= scale <= 3.0:
        raise ValueError(f"scale must be between 0.5 and 3.0, got {scale}")
    style = dict(CLASSROOM_STYLE)
    for key, value in CLASSROOM_STYLE.items():
        if key.endswith("size") and isinstance(value, (int, float)):
            style[key] = value * scale
    width, height = CLASSROOM_STYLE["figure.figsize"]  # type: ignore[misc]
    style["figure.figsize"] = (width * scale, height * scale)
    mpl.rcParams.update(style)


def _to_numpy(values: Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def plot_histograms(
    before: Tensor,
    after: Tensor,
    names: Sequence[str] = ("X1", "X2"),
    bins: int = 30,
) -> Figure:
    """Histograms of each column before (top row) and after (bottom row) standardization."""
    before_np, after_np = _to_numpy(before), _to_numpy(after)
    if before_np.ndim != 2 or before_np.shape != after_np.shape:
        raise ValueError(
            f"before and after must be 2-D with equal shapes, got {before_np.shape} and {after_np.shape}"
        )
    if len(names) != before_np.shape[1]:
        raise ValueError(f"need one name per column ({before_np.shape[1]}), got {len(names)}")
    n_cols = before_np.shape[1]
    fig = Figure(figsize=(4.2 * n_cols, 6.5), layout="constrained")
    axes = fig.subplots(2, n_cols, squeeze=False)
    for col, name in enumerate(names):
        for row, (data, label, color) in enumerate(
            [(before_np, "original", "tab:blue"), (after_np, "standardized", "tab:orange")]
        ):
            ax = axes[row, col]
            column = data[:, col]
            ax.hist(column, bins=bins, color=color, alpha=0.8)
            ax.axvline(column.mean(), color="black", linestyle="--", linewidth=1)
            mean = column.mean() + 0.0  # "+ 0.0" turns -0.0 into 0.0
            mean = 0.0 if abs(mean) < 0.005 else mean  # no "-0.00" in titles
            ax.set_title(f"{name}, {label}\nmean {mean:.2f}, std {column.std(ddof=1):.2f}")
    fig.suptitle("Before and after z-score standardization")
    return fig


def outline_square(ax, low: float, high: float, label: str = "training data") -> None:
    """Draw the square [low, high]² on ``ax`` (where the model saw data)."""
    ax.add_patch(
        Rectangle(
            (low, low), high - low, high - low, fill=False, edgecolor="white",
            linewidth=2, linestyle="--", label=label,
        )
    )


def plot_heatmap(
    values: Tensor | np.ndarray,
    low: float,
    high: float,
    *,
    title: str = "",
    colorbar_label: str = "",
    cmap: str = "viridis",
    square: tuple[float, float] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """Heatmap of a (steps, steps) grid of values over [low, high]² (X1 across, X2 up).

    ``square=(a, b)`` outlines [a, b]², e.g. the region the model was trained on.
    """
    grid = _to_numpy(values)
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1]:
        raise ValueError(f"values must be a square 2-D grid, got shape {grid.shape}")
    fig = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(
        grid, origin="lower", extent=(low, high, low, high), cmap=cmap,
        vmin=vmin, vmax=vmax, aspect="equal",
    )
    fig.colorbar(image, ax=ax, label=colorbar_label)
    if square is not None:
        outline_square(ax, *square)
        ax.legend(loc="upper left")
    ax.set_xlabel("X1")
    ax.set_ylabel("X2")
    ax.set_title(title)
    ax.grid(False)
    return fig


def product_on_grid(low: float = 1.0, high: float = 10.0, steps: int = 101) -> Tensor:
    """The true product X1 * X2 on a regular grid, shape (steps, steps)."""
    _, _, points = make_grid(low, high, steps)
    return (points[:, 0] * points[:, 1]).reshape(steps, steps)


def plot_product_heatmap(low: float = 1.0, high: float = 10.0, steps: int = 101) -> Figure:
    """The target function Y = X1 * X2 as a heatmap."""
    return plot_heatmap(
        product_on_grid(low, high, steps), low, high,
        title="The target: Y = X1 * X2", colorbar_label="Y",
    )


def plot_surface_3d(
    values: Tensor | np.ndarray, low: float, high: float, *, title: str = "", zlabel: str = "Y"
) -> Figure:
    """A (steps, steps) grid of values as a 3-D surface over [low, high]²."""
    grid = _to_numpy(values)
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1]:
        raise ValueError(f"values must be a square 2-D grid, got shape {grid.shape}")
    axis = np.linspace(low, high, grid.shape[0])
    x1, x2 = np.meshgrid(axis, axis)
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(x1, x2, grid, cmap="viridis", linewidth=0, antialiased=True)
    ax.set_xlabel("X1")
    ax.set_ylabel("X2")
    ax.set_zlabel(zlabel)
    ax.set_title(title)
    return fig


def plot_product_surface_3d(low: float = 1.0, high: float = 10.0, steps: int = 41) -> Figure:
    """The target function Y = X1 * X2 as a 3-D surface: a curved sheet (part of a saddle)."""
    return plot_surface_3d(product_on_grid(low, high, steps), low, high, title="Y = X1 * X2")


def plot_scatter(X: Tensor, Y: Tensor, *, title: str = "Samples, coloured by Y") -> Figure:
    """Scatter of the samples (X1 across, X2 up), each dot coloured by its Y."""
    X_np, Y_np = _to_numpy(X), _to_numpy(Y).reshape(-1)
    if X_np.ndim != 2 or X_np.shape[1] != 2 or X_np.shape[0] != Y_np.shape[0]:
        raise ValueError(f"X must be (N, 2) and Y have N values, got {X_np.shape} and {Y_np.shape}")
    fig = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax = fig.subplots()
    points = ax.scatter(X_np[:, 0], X_np[:, 1], c=Y_np, s=12, cmap="viridis")
    fig.colorbar(points, ax=ax, label="Y")
    ax.set_xlabel("X1")
    ax.set_ylabel("X2")
    ax.set_title(title)
    ax.set_aspect("equal")
    return fig


def figure_data(fig: Figure) -> list[np.ndarray]:
    """The numbers drawn in ``fig`` (line data, image arrays, patch heights): for tests."""
    arrays: list[np.ndarray] = []
    for ax in fig.axes:
        arrays.extend(np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines())
        arrays.extend(np.asarray(image.get_array(), dtype=float) for image in ax.get_images())
        heights = [p.get_height() for p in ax.patches if hasattr(p, "get_height")]
        if heights:
            arrays.append(np.asarray(heights, dtype=float))
    return arrays


__all__ = [
    "CLASSROOM_STYLE",
    "use_classroom_style",
    "plot_histograms",
    "plot_heatmap",
    "plot_product_heatmap",
    "plot_surface_3d",
    "plot_product_surface_3d",
    "plot_scatter",
    "product_on_grid",
    "outline_square",
    "figure_data",
]


# --- Training figures (notebooks 05-06): loss curves, predicted surface, error map ---------------


def plot_loss_curves(
    train_loss: Sequence[float] | object,
    test_loss: Sequence[float] | None = None,
    *,
    best_epoch: int | None = None,
    title: str = "Loss per epoch (log scale)",
) -> Figure:
    """Training and held-out loss per epoch on a log scale, with the best epoch marked.

    Pass two lists, or one history object (anything with ``train_loss``,
    ``test_loss`` and ``best_epoch`` attributes, such as ``TrainingHistory``).
    """
    if hasattr(train_loss, "train_loss"):
        history = train_loss
        train_loss = history.train_loss
        test_loss = history.test_loss if test_loss is None else test_loss
        best_epoch = getattr(history, "best_epoch", None) if best_epoch is None else best_epoch
    train = np.asarray(train_loss, dtype=float)
    test = np.asarray(test_loss if test_loss is not None else [], dtype=float)
    if train.ndim != 1 or train.size == 0:
        raise ValueError(f"train_loss must be a non-empty list of numbers, got shape {train.shape}")
    if test.size and test.shape != train.shape:
        raise ValueError(f"test_loss must have one value per epoch ({train.size}), got {test.size}")
    if (train <= 0).any() or (test <= 0).any():
        raise ValueError("losses must be > 0 to be drawn on a log scale")
    epochs = np.arange(1, train.size + 1)
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(epochs, train, label="training (mean over the epoch)")
    if test.size:
        ax.plot(epochs, test, label="held-out")
    if best_epoch is not None:
        ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best held-out epoch ({best_epoch})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (standardized units)")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_prediction_heatmaps(
    predicted: Tensor | np.ndarray,
    true: Tensor | np.ndarray,
    low: float,
    high: float,
    *,
    square: tuple[float, float] | None = (1.0, 10.0),
    title: str = "",
) -> Figure:
    """Three heatmaps side by side: the true product, the prediction, and |prediction - true|.

    The first two share one colour scale, so equal colours mean equal values.
    ``square`` outlines the region the model was trained on.
    """
    pred, target = _to_numpy(predicted), _to_numpy(true)
    if pred.ndim != 2 or pred.shape[0] != pred.shape[1] or pred.shape != target.shape:
        raise ValueError(
            f"predicted and true must be equal square 2-D grids, got {pred.shape} and {target.shape}"
        )
    error = np.abs(pred - target)
    vmin, vmax = float(min(pred.min(), target.min())), float(max(pred.max(), target.max()))
    fig = Figure(figsize=(15.0, 4.6), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = [
        (target, "true Y = X1 * X2", "viridis", vmin, vmax),
        (pred, "predicted Y", "viridis", vmin, vmax),
        (error, "|predicted - true|", "magma", 0.0, None),
    ]
    for ax, (values, name, cmap, low_value, high_value) in zip(axes, panels, strict=True):
        image = ax.imshow(values, origin="lower", extent=(low, high, low, high), cmap=cmap,
                          vmin=low_value, vmax=high_value, aspect="equal")
        fig.colorbar(image, ax=ax, shrink=0.85)
        if square is not None:
            outline_square(ax, *square)
        ax.set_title(name)
        ax.set_xlabel("X1")
        ax.set_ylabel("X2")
        ax.grid(False)
    if square is not None:
        axes[0].legend(loc="upper left", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def plot_error_heatmap(
    predicted: Tensor | np.ndarray,
    true: Tensor | np.ndarray,
    low: float,
    high: float,
    *,
    square: tuple[float, float] | None = (1.0, 10.0),
    title: str = "Absolute error |predicted - true|",
) -> Figure:
    """One heatmap of |predicted - true| over [low, high]², the training square outlined."""
    pred, target = _to_numpy(predicted), _to_numpy(true)
    if pred.shape != target.shape:
        raise ValueError(f"predicted and true must have the same shape, got {pred.shape} and {target.shape}")
    return plot_heatmap(np.abs(pred - target), low, high, title=title, colorbar_label="|error|",
                        cmap="magma", square=square, vmin=0.0)


__all__ += ["plot_loss_curves", "plot_prediction_heatmaps", "plot_error_heatmap"]


def plot_curves(
    curves: dict[str, Sequence[float]],
    *,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str = "",
    log_y: bool = True,
) -> Figure:
    """One line per named curve (e.g. losses per step); non-finite values are left out of the line.

    A curve that blows up to inf or NaN stops where it became non-finite.
    """
    if not curves:
        raise ValueError("curves must hold at least one named sequence of numbers")
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    for label, values in curves.items():
        y = np.asarray(values, dtype=float)
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"curve {label!r} must be a non-empty 1-D sequence, got shape {y.shape}")
        ax.plot(np.arange(y.size), np.where(np.isfinite(y), y, np.nan), label=label, linewidth=2)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return fig


__all__ += ["plot_curves"]


# ---- notebook 08: what the network learned ---------------------------------------------------------


def plot_along_line(
    position: Tensor | np.ndarray | Sequence[float],
    curves: dict[str, Tensor | np.ndarray | Sequence[float]],
    *,
    shade: tuple[float, float] | None = (1.0, 10.0),
    marks: Sequence[float] = (),
    xlabel: str = "position along the line",
    ylabel: str = "Y",
    title: str = "",
) -> Figure:
    """Named curves over one position axis; ``shade`` marks the training range, ``marks`` draws
    thin vertical lines (e.g. where the network bends)."""
    x = _to_numpy(position).reshape(-1)
    if not curves:
        raise ValueError("curves must hold at least one named sequence of numbers")
    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax = fig.subplots()
    if shade is not None:
        ax.axvspan(*shade, color="tab:green", alpha=0.12, label="training range")
    for label, values in curves.items():
        y = _to_numpy(values).reshape(-1)
        if y.shape != x.shape:
            raise ValueError(f"curve {label!r} has {y.size} values for {x.size} positions")
        ax.plot(x, y, label=label, linewidth=2)
    for k, mark in enumerate(marks):
        ax.axvline(float(mark), color="grey", linewidth=0.8, linestyle=":", label="kink" if k == 0 else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=10)
    return fig


def plot_spread(
    groups: dict[str, Sequence[float]],
    *,
    ylabel: str = "held-out RMSE",
    title: str = "",
) -> Figure:
    """One column of dots per group (one dot per run), with each group's median as a bar."""
    if not groups:
        raise ValueError("groups must hold at least one named list of results")
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    for position, (label, values) in enumerate(groups.items()):
        y = _to_numpy(values).reshape(-1)
        if y.size == 0:
            raise ValueError(f"group {label!r} is empty")
        jitter = np.linspace(-0.12, 0.12, y.size) if y.size > 1 else np.zeros(1)
        ax.scatter(position + jitter, y, s=45, alpha=0.8, zorder=3)
        ax.hlines(np.median(y), position - 0.25, position + 0.25, color="black", linewidth=2.5, zorder=4,
                  label="median" if position == 0 else None)
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=10)
    return fig


def plot_metric_vs(
    x: Sequence[float],
    curves: dict[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    log_x: bool = True,
    log_y: bool = True,
) -> Figure:
    """One marked line per named curve over ``x`` (e.g. grid RMSE vs parameter count or learning rate).

    A curve may also be a list of (x, y) pairs when its x values differ from the shared ``x``.
    """
    if not curves:
        raise ValueError("curves must hold at least one named sequence of numbers")
    shared = _to_numpy(x).reshape(-1)
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for label, values in curves.items():
        array = np.asarray(values, dtype=float)
        xs, ys = (array[:, 0], array[:, 1]) if array.ndim == 2 else (shared, array.reshape(-1))
        if xs.shape != ys.shape:
            raise ValueError(f"curve {label!r} has {ys.size} values for {xs.size} x positions")
        ax.plot(xs, ys, marker="o", linewidth=2, label=label)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=10)
    return fig


__all__ += ["plot_along_line", "plot_metric_vs", "plot_spread"]
