"""The playground of notebook 07: retrain the product MLP live while the class watches.

In the spirit of TensorFlow Playground, for Y = X1 * X2. The logic is plain functions
and one small class, so it is tested without a browser:

- ``PlaygroundSettings``: every knob of the dashboard in one frozen dataclass
  (``NOTES_SETTINGS`` are the notes' choices: 1000 training samples (plus 250
  held out, as in notebook 05), 2-16-8-1 ReLU, Adam 1e-3, batch 100, 1000 epochs).
- ``make_playground_data``, ``build_model``, ``take_snapshot``: data, a freshly
  seeded model, and the numbers every view shows (loss curves, the learned
  surface and its error over [0, 12]², held-out and grid RMSE in original units).
- ``PlaygroundFigure``: one matplotlib figure whose artists are built once and
  then only given new data; ``to_png`` renders it at a modest dpi.
- ``PlaygroundDashboard``: the ipywidgets controls, wired to the above. Every
  change starts a new run in a background thread (the kernel stays free for
  the next slider event) with the fast trainer (``helpers.fast_training``).

Superseding: each run gets a generation number. A newer request bumps the number;
the older run's callback sees it and stops training, and every frame is
published under one lock only if its generation is still the newest, so a stale
frame can never overwrite a newer one. Widgets are updated by setting values
(``Image.value`` with PNG bytes, ``HTML.value``), never through an ``Output``
context, because output capture from a background thread is unreliable.
"""

from __future__ import annotations

import html
import io
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage
from torch import Tensor

from helpers.data import ProductData, make_grid, prepare_product_data
from helpers.model import ACTIVATIONS, ProductMLP
from helpers.plots import outline_square
from helpers.training import OPTIMIZERS, TrainingHistory

try:  # the fast, verified twin of the taught loop; the taught loop itself as a fallback
    from helpers.fast_training import fast_train_model as default_trainer
except ImportError:  # pragma: no cover - only while fast_training.py does not exist
    from helpers.training import train_model as default_trainer

__all__ = [
    "NOTES_SETTINGS",
    "VIEW_RANGE",
    "PlaygroundData",
    "PlaygroundDashboard",
    "PlaygroundFigure",
    "PlaygroundSettings",
    "RunResult",
    "Snapshot",
    "build_model",
    "describe_settings",
    "format_hidden_sizes",
    "make_playground_data",
    "nice_limit",
    "parse_hidden_sizes",
    "status_line",
    "take_snapshot",
    "time_control_change",
    "train_with_settings",
]

# The views cover a wider square than the data, so the class sees what happens outside it.
VIEW_RANGE: tuple[float, float] = (0.0, 12.0)
VIEW_STEPS = 121  # 0.1 apart over [0, 12]
GRID_RMSE_STEPS = 101  # the grid RMSE is measured on the training square, 101 x 101 points

Trainer = Callable[..., TrainingHistory]


# ---------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaygroundSettings:
    """Everything one run depends on. Same settings, same numbers.

    ``seed`` seeds the weights, the batch order and the data; ``data_draw`` counts
    the "Regenerate data" clicks (a new sample of the same size and range).
    """

    lr: float = 1e-3
    optimizer: str = "adam"
    epochs: int = 1000
    batch_size: int = 100
    hidden_sizes: tuple[int, ...] = (16, 8)
    activation: str = "relu"
    n_samples: int = 1250  # 1000 to train on (10 batches of 100, as in the notes) + 250 held out
    noise_std: float = 0.0
    test_fraction: float = 0.2
    data_range: tuple[float, float] = (1.0, 10.0)
    seed: int = 0
    data_draw: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` saying what is wrong and what is allowed."""
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise ValueError(f"learning rate must be a number in (0, 10], got {self.lr!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        for name in ("epochs", "batch_size", "n_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if len(self.hidden_sizes) > 6 or any(
            isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= 256 for h in self.hidden_sizes
        ):
            raise ValueError(
                f"hidden widths must be at most 6 ints between 1 and 256, got {self.hidden_sizes!r}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if not (math.isfinite(self.noise_std) and self.noise_std >= 0):
            raise ValueError(f"noise on Y must be >= 0, got {self.noise_std!r}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(
                f"held-out fraction must be strictly between 0 and 1, got {self.test_fraction!r}"
            )
        n_test = round(self.n_samples * self.test_fraction)
        if n_test < 2 or self.n_samples - n_test < 2:
            raise ValueError(
                f"{self.n_samples} samples with a held-out fraction of {self.test_fraction} leave fewer "
                "than 2 rows in the training or held-out set; use more samples"
            )
        low, high = self.data_range
        if not (math.isfinite(low) and math.isfinite(high) and high - low >= 0.5):
            raise ValueError(f"data range must be at least 0.5 wide (low < high), got {self.data_range!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**20:
            raise ValueError(f"seed must be an int in [0, {2**20}), got {self.seed!r}")

    @property
    def data_seed(self) -> int:
        """The seed of the data sample: changes with ``seed`` and with each "Regenerate data"."""
        return self.seed * 1000 + self.data_draw

    @property
    def data_key(self) -> tuple[Any, ...]:
        """What the data depend on (a change here means new data)."""
        return (self.n_samples, self.noise_std, self.test_fraction, self.data_range, self.data_seed)


NOTES_SETTINGS = PlaygroundSettings()


def parse_hidden_sizes(text: str) -> tuple[int, ...]:
    """``"16, 8"`` -> ``(16, 8)``; an empty text means no hidden layer (a linear model).

    Raises ``ValueError`` for anything that is not positive integers separated by commas.
    """
    parts = [part.strip() for part in str(text).replace(";", ",").split(",")]
    parts = [part for part in parts if part]
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(
            f"hidden widths must be whole numbers separated by commas, like '16, 8', got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise ValueError(f"every hidden width must be at least 1, got {text!r}")
    return sizes


def format_hidden_sizes(sizes: tuple[int, ...]) -> str:
    """``(16, 8)`` -> ``"16, 8"`` (the inverse of ``parse_hidden_sizes``)."""
    return ", ".join(str(size) for size in sizes)


# ---------------------------------------------------------------------------------------------------
# Data, model, and the numbers the views show
# ---------------------------------------------------------------------------------------------------
PlaygroundData = ProductData  # the dashboard's data: one sample, split and standardized


def make_playground_data(settings: PlaygroundSettings) -> ProductData:
    """Make, split and standardize the product data the way notebooks 01-05 do."""
    settings.validate()
    low, high = settings.data_range
    return prepare_product_data(settings.n_samples, low, high, noise_std=settings.noise_std,
                                test_fraction=settings.test_fraction, data_seed=settings.data_seed,
                                split_seed=settings.data_seed)


def build_model(settings: PlaygroundSettings) -> ProductMLP:
    """A fresh ``ProductMLP`` whose initial weights depend only on ``settings.seed``.

    The global torch generator is left as it was (``fork_rng``), so building a
    model here does not change the random numbers of the notebook around it.
    """
    settings.validate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return ProductMLP(hidden_sizes=settings.hidden_sizes, activation=settings.activation)


def _predict(model: ProductMLP, data: PlaygroundData, points: Tensor) -> np.ndarray:
    """The model's prediction for ``points`` (original units in, original units out)."""
    with torch.no_grad():
        standardized = model(data.x_scaler.transform(points))
        # undone by hand: inverse_transform rightly refuses NaN, but a blown-up model may produce it
        prediction = standardized * data.y_scaler.std + data.y_scaler.mean
    return prediction.reshape(-1).numpy().astype(np.float64)


_GRID_CACHE: dict[tuple[float, float, int], tuple[Tensor, np.ndarray]] = {}


def _grid(low: float, high: float, steps: int) -> tuple[Tensor, np.ndarray]:
    """Grid points and the true product on them (cached: the views ask for the same grids)."""
    key = (float(low), float(high), steps)
    if key not in _GRID_CACHE:
        if len(_GRID_CACHE) >= 16:  # the view grid plus a few data ranges: keep it small
            _GRID_CACHE.clear()
        _, _, points = make_grid(low, high, steps)
        truth = (points[:, 0] * points[:, 1]).numpy().astype(np.float64)
        _GRID_CACHE[key] = (points, truth)
    return _GRID_CACHE[key]


@dataclass
class Snapshot:
    """The numbers every view shows at one moment of a run (original units unless named)."""

    status: str  # "training", "done", "diverged", "stopped"
    epoch: int
    epochs: int
    train_loss: list[float]  # standardized MSE per epoch
    test_loss: list[float]
    surface: np.ndarray | None  # (VIEW_STEPS, VIEW_STEPS) prediction over VIEW_RANGE², None if not finite
    error: np.ndarray | None  # surface - X1 * X2
    held_out_rmse: float | None
    grid_rmse: float | None
    training_seconds: float
    diverged_at: int | None
    data_range: tuple[float, float]


def take_snapshot(
    model: ProductMLP,
    data: PlaygroundData,
    history: TrainingHistory,
    settings: PlaygroundSettings,
    status: str,
) -> Snapshot:
    """Compute what the views show from the model as it is now (never NaN: None instead)."""
    points, truth = _grid(*VIEW_RANGE, VIEW_STEPS)
    surface: np.ndarray | None = _predict(model, data, points)
    error: np.ndarray | None = None
    if np.isfinite(surface).all():
        error = (surface - truth).reshape(VIEW_STEPS, VIEW_STEPS)
        surface = surface.reshape(VIEW_STEPS, VIEW_STEPS)
    else:
        surface = None
    held_out = _predict(model, data, data.X_test) - data.Y_test.reshape(-1).numpy()
    held_out_rmse = float(np.sqrt(np.mean(held_out**2)))
    square_points, square_truth = _grid(*settings.data_range, GRID_RMSE_STEPS)
    grid_rmse = float(np.sqrt(np.mean((_predict(model, data, square_points) - square_truth) ** 2)))
    return Snapshot(
        status=status,
        epoch=history.epochs_run,
        epochs=settings.epochs,
        train_loss=list(history.train_loss),
        test_loss=list(history.test_loss),
        surface=surface,
        error=error,
        held_out_rmse=held_out_rmse if math.isfinite(held_out_rmse) else None,
        grid_rmse=grid_rmse if math.isfinite(grid_rmse) else None,
        training_seconds=history.seconds,
        diverged_at=history.diverged_at,
        data_range=settings.data_range,
    )


def train_with_settings(
    settings: PlaygroundSettings, *, trainer: Trainer | None = None
) -> tuple[ProductMLP, TrainingHistory, Snapshot]:
    """One whole run, without widgets: data, seeded model, training, final snapshot.

    What the dashboard does for each change, as one plain call (notebook 07 uses it
    for side-by-side experiments). A diverging run returns with ``diverged_at`` set.
    """
    data = make_playground_data(settings)
    model = build_model(settings)
    history = (trainer or default_trainer)(
        model, data.X_train_std, data.Y_train_std, data.X_test_std, data.Y_test_std,
        epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
        optimizer=settings.optimizer, seed=settings.seed, keep_best=True, on_diverge="stop",
    )
    status = "diverged" if history.diverged_at is not None else "done"
    return model, history, take_snapshot(model, data, history, settings, status)


def describe_settings(settings: PlaygroundSettings) -> str:
    """One line about a run: ``2-16-8-1 relu, adam lr 0.001, batch 100, 1000 epochs``."""
    shape = "-".join(str(n) for n in (2, *settings.hidden_sizes, 1))
    return (f"{shape} {settings.activation}, {settings.optimizer} lr {settings.lr:.3g}, "
            f"batch {settings.batch_size}, {settings.epochs} epochs")


def status_line(snapshot: Snapshot, wall_seconds: float | None = None) -> str:
    """One line for the class: what the run is doing and how well it does."""
    if snapshot.status == "diverged":
        head = f"diverged at epoch {snapshot.diverged_at}: the loss became NaN/inf (learning rate too large?)"
    elif snapshot.status == "done":
        head = f"done: {snapshot.epoch} epochs"
    elif snapshot.status == "stopped":
        head = f"stopped at epoch {snapshot.epoch}"
    else:
        head = f"training: epoch {snapshot.epoch} / {snapshot.epochs}"
    parts = [head]
    if wall_seconds is not None:
        parts.append(f"wall time {wall_seconds:.2f} s")
    return " · ".join(parts)


def nice_limit(value: float, floor: float = 1.0) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is >= ``value`` (at least ``floor``)."""
    if not math.isfinite(value) or value <= floor:
        return floor
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


# ---------------------------------------------------------------------------------------------------
# The figure: built once, then only fed new data
# ---------------------------------------------------------------------------------------------------
class PlaygroundFigure:
    """Loss curves (log scale), learned surface and error heatmaps over ``VIEW_RANGE``².

    The artists are made once; ``update(snapshot)`` changes their data, and
    ``to_png()`` renders the figure (Agg, no pyplot) to PNG bytes.
    """

    def __init__(self, dpi: int = 72) -> None:
        low, high = VIEW_RANGE
        self.dpi = dpi
        self.figure = Figure(figsize=(13.5, 4.3), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        fig = self.figure
        self.ax_loss = fig.add_axes((0.05, 0.14, 0.25, 0.72))
        self.ax_surface = fig.add_axes((0.36, 0.14, 0.22, 0.72))
        self.ax_error = fig.add_axes((0.69, 0.14, 0.22, 0.72))
        cax_surface = fig.add_axes((0.59, 0.14, 0.012, 0.72))
        cax_error = fig.add_axes((0.92, 0.14, 0.012, 0.72))

        ax = self.ax_loss
        (self.train_line,) = ax.plot([], [], color="tab:blue", label="train")
        (self.test_line,) = ax.plot([], [], color="tab:orange", label="held-out")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title("loss (MSE, standardized)")
        ax.legend(loc="upper right")
        self.diverged_marker = ax.axvline(1, color="tab:red", linestyle="--", visible=False)
        self.loss_note = ax.text(0.97, 0.5, "", transform=ax.transAxes, ha="right", va="center",
                                 color="tab:red", fontsize=12)

        blank = np.zeros((VIEW_STEPS, VIEW_STEPS))
        extent = (low, high, low, high)
        self.surface_image = self.ax_surface.imshow(
            blank, origin="lower", extent=extent, cmap="viridis", vmin=0.0, vmax=high * high
        )
        self.error_image = self.ax_error.imshow(
            blank, origin="lower", extent=extent, cmap="RdBu_r", vmin=-1.0, vmax=1.0
        )
        fig.colorbar(self.surface_image, cax=cax_surface)
        fig.colorbar(self.error_image, cax=cax_error)
        self.notes: dict[str, Any] = {}
        for ax, title in ((self.ax_surface, "learned Ŷ"), (self.ax_error, "error Ŷ − X1·X2")):
            outline_square(ax, *NOTES_SETTINGS.data_range)
            ax.set_title(title)
            ax.set_xlabel("X1")
            ax.set_ylabel("X2")
            ax.grid(False)
            self.notes[title] = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center",
                                        fontsize=12, color="black",
                                        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
        self.surface_square = self.ax_surface.patches[-1]
        self.error_square = self.ax_error.patches[-1]
        self.error_square.set_edgecolor("black")  # white would vanish where the error is near 0
        self.title = fig.suptitle("", fontsize=13)
        # Blitting: everything that changes every frame is drawn over a saved background,
        # which is redrawn only when something in it changes (axis limits, colour scale, notes).
        self._dynamic = [self.train_line, self.test_line, self.surface_image, self.error_image,
                         self.surface_square, self.error_square, self.title]
        self._background: Any = None
        self._background_key: tuple[Any, ...] | None = None
        self.full_draws = 0

    def update(self, snapshot: Snapshot, title: str = "") -> None:
        """Give every artist the numbers of ``snapshot`` (nothing is re-created)."""
        epochs_axis = np.arange(1, len(snapshot.train_loss) + 1)
        self.train_line.set_data(epochs_axis, snapshot.train_loss)
        self.test_line.set_data(np.arange(1, len(snapshot.test_loss) + 1), snapshot.test_loss)
        few = len(snapshot.train_loss) < 30  # a few points (an early divergence) need markers to be seen
        for line in (self.train_line, self.test_line):
            line.set_marker("o" if few else "None")
        ax = self.ax_loss
        last = snapshot.epochs if snapshot.diverged_at is None else max(10, round(snapshot.diverged_at * 1.5))
        ax.set_xlim(0, max(last, 1))
        losses = [v for v in (*snapshot.train_loss, *snapshot.test_loss) if math.isfinite(v) and v > 0]
        if losses:
            # whole decades: the axis (and its tick labels) changes only when a new decade is reached
            low_decade, high_decade = math.floor(math.log10(min(losses))), math.ceil(math.log10(max(losses)))
            ax.set_ylim(10.0**low_decade, 10.0 ** max(high_decade, low_decade + 1))
        if snapshot.diverged_at is not None:
            self.diverged_marker.set_xdata([snapshot.diverged_at, snapshot.diverged_at])
            self.diverged_marker.set_visible(True)
            self.loss_note.set_text(f"diverged at epoch {snapshot.diverged_at}")
        else:
            self.diverged_marker.set_visible(False)
            self.loss_note.set_text("")

        low, high = snapshot.data_range
        for square in (self.surface_square, self.error_square):
            square.set_bounds(low, low, high - low, high - low)
        surface_note, error_note = self.notes["learned Ŷ"], self.notes["error Ŷ − X1·X2"]
        if snapshot.surface is None or snapshot.error is None:
            hidden = np.ma.masked_all((VIEW_STEPS, VIEW_STEPS))
            self.surface_image.set_data(hidden)
            self.error_image.set_data(hidden)
            message = "no finite prediction:\nthe weights blew up"
            surface_note.set_text(message)
            error_note.set_text(message)
        else:
            self.surface_image.set_data(snapshot.surface)
            self.error_image.set_data(snapshot.error)
            vmax = self.surface_image.get_clim()[1]
            peak = float(np.abs(snapshot.surface).max())
            off_scale = peak > 2 * vmax
            surface_note.set_text(f"predictions reach {peak:.3g}:\nfar off this scale" if off_scale else "")
            # a symmetric colour scale: the same colour means the same error on both sides of 0
            limit = nice_limit(float(np.abs(snapshot.error).max()))
            self.error_image.set_clim(-limit, limit)
            error_note.set_text("")
        self.title.set_text(title)

    def _static_key(self) -> tuple[Any, ...]:
        """What the saved background depends on; a change means one full draw."""
        return (
            self.ax_loss.get_xlim(), self.ax_loss.get_ylim(), self.error_image.get_clim(),
            self.diverged_marker.get_visible(), tuple(self.diverged_marker.get_xdata()),
            self.loss_note.get_text(), *(note.get_text() for note in self.notes.values()),
            tuple(line.get_marker() for line in (self.train_line, self.test_line)),
        )

    def _draw_dynamic(self) -> None:
        for ax in (self.ax_loss, self.ax_surface, self.ax_error):
            for artist in self._dynamic:
                if artist.axes is ax:
                    ax.draw_artist(artist)
            for spine in ax.spines.values():  # the images would cover half of each spine
                ax.draw_artist(spine)
        for note in self.notes.values():
            note.axes.draw_artist(note)
        legend = self.ax_loss.get_legend()
        if legend is not None:
            self.ax_loss.draw_artist(legend)
        self.figure.draw_artist(self.title)

    def to_png(self) -> bytes:
        """The figure as PNG bytes (what the dashboard's ``Image`` widget shows).

        A full draw costs about 0.15 s on a laptop CPU, mostly tick labels; a frame drawn
        over the saved background costs a few hundredths of that.
        """
        key = self._static_key()
        if key != self._background_key:
            for artist in self._dynamic:
                artist.set_visible(False)
            try:
                self.canvas.draw()
            finally:
                for artist in self._dynamic:
                    artist.set_visible(True)
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_key = key
            self.full_draws += 1
        self.canvas.restore_region(self._background)
        self._draw_dynamic()
        width, height = self.canvas.get_width_height()
        image = PILImage.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1)  # fast beats small here
        return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------
# The dashboard
# ---------------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    """One run of the dashboard: its settings, history, last snapshot and timings.

    Times are ``time.perf_counter()`` values; ``first_frame_seconds`` and
    ``done_seconds`` are measured from ``requested_at`` (when the change arrived).
    """

    generation: int
    settings: PlaygroundSettings
    requested_at: float
    status: str = "starting"  # then "training", "done", "diverged", "superseded" or "error"
    history: TrainingHistory | None = None
    snapshot: Snapshot | None = None
    model: ProductMLP | None = None
    error: str | None = None
    first_frame_at: float | None = None
    done_at: float | None = None
    frames: int = 0
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def first_frame_seconds(self) -> float | None:
        return None if self.first_frame_at is None else self.first_frame_at - self.requested_at

    @property
    def done_seconds(self) -> float | None:
        return None if self.done_at is None else self.done_at - self.requested_at


def _slider_style() -> dict[str, str]:
    return {"description_width": "150px"}


class PlaygroundDashboard:
    """Controls + live views for training the product MLP. Display it by ending a cell with it.

    - ``controls``: the widgets by name (``lr``, ``optimizer``, ``epochs``, ``batch_size``,
      ``hidden``, ``activation``, ``n_samples``, ``noise_std``, ``test_fraction``,
      ``data_range``, ``seed``); setting one's ``.value`` starts a new run.
    - ``train()``, ``regenerate_data()``, ``reset()``: what the three buttons do.
    - ``wait(timeout)``: block until the newest run has finished; returns its ``RunResult``.
    - ``figure``: the ``PlaygroundFigure`` on show (``figure.figure`` is the matplotlib Figure).
    """

    def __init__(
        self,
        settings: PlaygroundSettings = NOTES_SETTINGS,
        *,
        start: bool = True,
        trainer: Trainer | None = None,
        frame_interval: float = 0.2,
        dpi: int = 72,
    ) -> None:
        settings.validate()
        self.trainer: Trainer = trainer if trainer is not None else default_trainer
        self.frame_interval = frame_interval
        self.figure = PlaygroundFigure(dpi=dpi)
        self.data_draw = settings.data_draw
        self._generation = 0
        self._state_lock = threading.Lock()  # guards the generation number and the current run
        self._draw_lock = threading.Lock()  # one frame at a time; a frame is published only if newest
        self._current: RunResult | None = None
        self._thread: threading.Thread | None = None
        self._suspend_events = False
        self._data_cache: tuple[tuple[Any, ...], PlaygroundData] | None = None
        self.runs_started = 0
        self.shown_generation = 0  # the run whose frame is on show (tests check it never goes back)

        self.controls = self._make_controls()
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.regenerate_button = widgets.Button(description="Regenerate data", icon="refresh")
        self.reset_button = widgets.Button(description="Reset to the notes' settings", icon="undo",
                                           layout=widgets.Layout(width="230px"))
        self.train_button.on_click(lambda _button: self.train())
        self.regenerate_button.on_click(lambda _button: self.regenerate_data())
        self.reset_button.on_click(lambda _button: self.reset())
        self.status = widgets.HTML(value=self._status_html("ready", "idle"))
        self.readouts = widgets.HTML(value="")
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1000px"))
        self.image.add_class("playground-plot")
        self.status.add_class("playground-status")
        self.readouts.add_class("playground-readouts")
        self.image.value = self.figure.to_png()
        self.widget = self._layout()
        self.widget.add_class("playground-dashboard")
        self.set_settings(settings, train=start)

    # -- controls ---------------------------------------------------------------------------------
    def _make_controls(self) -> dict[str, widgets.Widget]:
        style = _slider_style()
        wide = widgets.Layout(width="430px")
        common = {"style": style, "layout": wide, "continuous_update": False}
        controls: dict[str, widgets.Widget] = {
            "lr": widgets.FloatLogSlider(value=1e-3, base=10, min=-4, max=0, step=0.1,
                                         description="learning rate", readout_format=".2g", **common),
            "optimizer": widgets.ToggleButtons(options=[("Adam", "adam"), ("SGD", "sgd")], value="adam",
                                               description="optimizer", style=style),
            "epochs": widgets.IntSlider(value=1000, min=10, max=3000, step=10, description="epochs",
                                        **common),
            "batch_size": widgets.SelectionSlider(options=[10, 25, 50, 100, 200, 400, 800, 1600],
                                                  value=100, description="batch size", **common),
            "hidden": widgets.Text(value="16, 8", description="hidden widths", placeholder="16, 8",
                                   continuous_update=False, style=style, layout=wide),
            "activation": widgets.ToggleButtons(options=[("ReLU", "relu"), ("Tanh", "tanh"),
                                                         ("Sigmoid", "sigmoid")], value="relu",
                                                description="activation", style=style),
            "n_samples": widgets.IntSlider(value=1250, min=50, max=5000, step=50,
                                           description="samples", **common),
            "noise_std": widgets.FloatSlider(value=0.0, min=0.0, max=10.0, step=0.5,
                                             description="noise on Y (std)", **common),
            "test_fraction": widgets.FloatSlider(value=0.2, min=0.1, max=0.5, step=0.05,
                                                 description="held-out fraction", **common),
            "data_range": widgets.FloatRangeSlider(value=(1.0, 10.0), min=0.0, max=10.0, step=0.5,
                                                   description="data range", **common),
            "seed": widgets.BoundedIntText(value=0, min=0, max=9999, description="seed",
                                           style=style, layout=widgets.Layout(width="260px")),
        }
        for name, control in controls.items():
            control.add_class(f"playground-{name.replace('_', '-')}")
            control.observe(self._on_control_change, names="value")
        return controls

    def _layout(self) -> widgets.VBox:
        c = self.controls
        model_box = widgets.VBox([widgets.HTML("<b>Model and training</b>"), c["lr"], c["optimizer"],
                                  c["epochs"], c["batch_size"], c["hidden"], c["activation"]])
        data_box = widgets.VBox([widgets.HTML("<b>Data</b>"), c["n_samples"], c["noise_std"],
                                 c["test_fraction"], c["data_range"], c["seed"],
                                 widgets.HBox([self.train_button, self.regenerate_button]),
                                 self.reset_button])
        return widgets.VBox([widgets.HBox([model_box, data_box]), self.status, self.image, self.readouts])

    @property
    def settings(self) -> PlaygroundSettings:
        """The settings the controls show now (raises ``ValueError`` for unusable hidden widths)."""
        c = self.controls
        low, high = c["data_range"].value
        return PlaygroundSettings(
            lr=float(c["lr"].value),
            optimizer=c["optimizer"].value,
            epochs=int(c["epochs"].value),
            batch_size=int(c["batch_size"].value),
            hidden_sizes=parse_hidden_sizes(c["hidden"].value),
            activation=c["activation"].value,
            n_samples=int(c["n_samples"].value),
            noise_std=float(c["noise_std"].value),
            test_fraction=round(float(c["test_fraction"].value), 4),
            data_range=(float(low), float(high)),
            seed=int(c["seed"].value),
            data_draw=self.data_draw,
        )

    def set_settings(self, settings: PlaygroundSettings, *, train: bool = True) -> None:
        """Move every control to ``settings`` at once, then start one run (if ``train``)."""
        settings.validate()
        values = {
            "lr": settings.lr, "optimizer": settings.optimizer, "epochs": settings.epochs,
            "batch_size": settings.batch_size, "hidden": format_hidden_sizes(settings.hidden_sizes),
            "activation": settings.activation, "n_samples": settings.n_samples,
            "noise_std": settings.noise_std, "test_fraction": settings.test_fraction,
            "data_range": settings.data_range, "seed": settings.seed,
        }
        self._suspend_events = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
            self.data_draw = settings.data_draw
        finally:
            self._suspend_events = False
        if train:
            self.train()

    def _on_control_change(self, _change: dict[str, Any]) -> None:
        if not self._suspend_events:
            self.train()

    # -- the three buttons ------------------------------------------------------------------------
    def regenerate_data(self) -> RunResult | None:
        """Draw a new data sample (same size, range and noise) and retrain."""
        self.data_draw += 1
        return self.train()

    def reset(self) -> RunResult | None:
        """Back to the notes' settings (and the first data sample), then retrain."""
        self.set_settings(NOTES_SETTINGS, train=False)
        return self.train()

    def train(self) -> RunResult | None:
        """Start a new run with the controls' settings; any running one is superseded.

        Returns the new run's ``RunResult`` (filled in as it goes), or ``None`` when the
        settings are unusable (the status line then says why).
        """
        requested_at = time.perf_counter()
        try:
            settings = self.settings
            settings.validate()
        except ValueError as error:
            with self._state_lock:
                self._generation += 1  # stop whatever runs: its settings are no longer on show
                generation = self._generation
                self._current = None
            self._publish_text(generation, self._status_html(f"cannot train: {error}", "error"))
            return None
        with self._state_lock:
            self._generation += 1
            run = RunResult(self._generation, settings, requested_at)
            previous = self._thread
            self._current = run
            self.runs_started += 1
            thread = threading.Thread(target=self._run, args=(run, previous), daemon=True,
                                      name=f"playground-run-{run.generation}")
            self._thread = thread
        thread.start()
        return run

    def wait(self, timeout: float = 60.0) -> RunResult:
        """Block until the newest run has finished (a run that gets superseded is followed).

        Raises ``TimeoutError`` after ``timeout`` seconds and ``RuntimeError`` when
        the controls hold unusable settings (nothing runs).
        """
        deadline = time.monotonic() + timeout
        while True:
            run = self._current
            if run is None:
                raise RuntimeError("no run to wait for: the settings are unusable (see the status line)")
            if not run.finished.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"the run did not finish within {timeout} s (status: {run.status})")
            if run is self._current:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"runs kept being superseded for {timeout} s")

    @property
    def result(self) -> RunResult | None:
        """The newest run (finished or not)."""
        return self._current

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- running (in a background thread) ---------------------------------------------------------
    def _is_newest(self, run: RunResult) -> bool:
        return run.generation == self._generation

    def _data_for(self, settings: PlaygroundSettings) -> PlaygroundData:
        cached = self._data_cache
        if cached is not None and cached[0] == settings.data_key:
            return cached[1]
        data = make_playground_data(settings)
        self._data_cache = (settings.data_key, data)
        return data

    def _run(self, run: RunResult, previous: threading.Thread | None) -> None:
        try:
            if previous is not None:
                previous.join(timeout=10.0)  # it stops at its next callback; never train two at once
            if not self._is_newest(run):
                run.status = "superseded"
                return
            settings = run.settings
            data = self._data_for(settings)
            model = build_model(settings)
            run.model = model
            run.status = "training"
            next_frame = -math.inf

            def on_epoch(_epoch: int, history: TrainingHistory) -> bool:
                nonlocal next_frame
                if not self._is_newest(run):
                    return False
                now = time.perf_counter()
                if now >= next_frame:
                    self._publish(run, model, data, history, "training")
                    done = time.perf_counter()
                    # at most a third of the time goes to drawing, however slow the machine is
                    next_frame = done + max(self.frame_interval, 2 * (done - now))
                return self._is_newest(run)

            history = self.trainer(
                model, data.X_train_std, data.Y_train_std, data.X_test_std, data.Y_test_std,
                epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
                optimizer=settings.optimizer, seed=settings.seed, callback=on_epoch,
                callback_every=max(1, min(10, settings.epochs // 50)), keep_best=True, on_diverge="stop",
            )
            run.history = history
            if not self._is_newest(run):
                run.status = "superseded"
                return
            final = "diverged" if history.diverged_at is not None else "done"
            self._publish(run, model, data, history, final)
        except Exception as error:  # shown on the dashboard: a thread's traceback would be lost
            run.status = "error"
            run.error = f"{type(error).__name__}: {error}"
            self._publish_text(run.generation, self._status_html(f"error: {run.error}", "error"))
        finally:
            if run.status in ("done", "diverged"):
                run.done_at = time.perf_counter()
            run.finished.set()

    def _publish(self, run: RunResult, model: ProductMLP, data: PlaygroundData,
                 history: TrainingHistory, status: str) -> None:
        """Draw one frame and show it, unless a newer run exists (then drop it)."""
        snapshot = take_snapshot(model, data, history, run.settings, status)
        with self._draw_lock:
            if not self._is_newest(run):
                return
            wall = time.perf_counter() - run.requested_at
            line = status_line(snapshot, wall)
            self.figure.update(snapshot, title=line)
            self.shown_generation = run.generation
            self.image.value = self.figure.to_png()
            self.status.value = self._status_html(line, status)
            self.readouts.value = self._readouts_html(snapshot, run, wall)
            run.snapshot = snapshot
            run.frames += 1
            if status in ("done", "diverged"):
                run.status = status
            if run.first_frame_at is None:
                run.first_frame_at = time.perf_counter()

    def _publish_text(self, generation: int, status_html: str) -> None:
        with self._draw_lock:
            if generation == self._generation:
                self.status.value = status_html

    @staticmethod
    def _status_html(text: str, kind: str) -> str:
        colors = {"done": "#1a7f37", "diverged": "#cf222e", "error": "#cf222e", "training": "#9a6700"}
        color = colors.get(kind, "#57606a")
        return (f"<div class='playground-status-{kind}' style='font-size: 15px; color: {color}'>"
                f"<b>{html.escape(text)}</b></div>")

    def _readouts_html(self, snapshot: Snapshot, run: RunResult, wall: float) -> str:
        def number(value: float | None) -> str:
            return "—" if value is None else f"{value:.3f}"

        low, high = snapshot.data_range
        rows = [
            ("held-out RMSE (original units)", number(snapshot.held_out_rmse)),
            (f"grid RMSE on [{low:g}, {high:g}]²", number(snapshot.grid_rmse)),
            ("epoch", f"{snapshot.epoch} / {snapshot.epochs}"),
            ("wall time", f"{wall:.2f} s (training loop {snapshot.training_seconds:.2f} s)"),
            ("data sample", f"seed {run.settings.seed}, draw {run.settings.data_draw}"),
            ("this run", describe_settings(run.settings)),
        ]
        cells = "".join(f"<tr><td style='padding-right: 1em'>{html.escape(k)}</td><td><b>{v}</b></td></tr>"
                        for k, v in rows)
        return f"<table style='font-size: 14px'>{cells}</table>"


def time_control_change(
    dashboard: PlaygroundDashboard, name: str, value: Any, timeout: float = 60.0
) -> tuple[float, float, RunResult]:
    """Set control ``name`` to ``value`` and time it: seconds to the first live frame and to done.

    This is the latency a teacher feels when releasing a slider (minus the browser's
    round trip). Returns ``(first_frame_seconds, done_seconds, run)``.
    """
    if name not in dashboard.controls:
        raise ValueError(f"unknown control {name!r}; the controls are {sorted(dashboard.controls)}")
    started = time.perf_counter()
    dashboard.controls[name].value = value
    run = dashboard.wait(timeout)
    if run.first_frame_at is None or run.done_at is None:
        raise RuntimeError(f"the run ended without a frame (status {run.status}, error {run.error})")
    return run.first_frame_at - started, run.done_at - started, run

