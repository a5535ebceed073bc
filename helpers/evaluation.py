"""Step 5 of the flow: evaluation. Predictions in original units and how far off they are.

The model works in standardized units; a person asks "what is 3.2 × 7.5?".
``predict`` standardizes the inputs with the *training* statistics, runs the
model in eval mode under ``torch.no_grad()``, and undoes the standardization of
the output. ``evaluate`` measures the root-mean-square error (RMSE, 均方根误差)
and the largest error on held-out samples and on a regular grid over the
training square [1, 10]², where every region counts equally.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from helpers.data import Standardizer, make_grid

__all__ = [
    "EvaluationResult",
    "error_table",
    "evaluate",
    "max_abs_error",
    "predict",
    "predict_on_grid",
    "rmse",
]


def _as_column(values: Tensor, name: str) -> Tensor:
    if not isinstance(values, Tensor):
        raise ValueError(f"{name} must be a torch tensor, got {type(values).__name__}")
    if values.ndim == 2 and values.shape[1] == 1:
        return values[:, 0]
    if values.ndim == 1:
        return values
    raise ValueError(f"{name} must have shape (N,) or (N, 1), got {tuple(values.shape)}")


def rmse(predicted: Tensor, true: Tensor) -> float:
    """Root-mean-square error sqrt(mean((predicted - true)²)), in the units of the values."""
    p, t = _as_column(predicted, "predicted"), _as_column(true, "true")
    if p.shape != t.shape or p.numel() == 0:
        raise ValueError(f"predicted and true must hold the same, non-zero number of values, got "
                         f"{p.numel()} and {t.numel()}")
    return torch.sqrt(torch.mean((p.double() - t.double()) ** 2)).item()


def max_abs_error(predicted: Tensor, true: Tensor) -> float:
    """The largest |predicted - true| (the worst single prediction)."""
    p, t = _as_column(predicted, "predicted"), _as_column(true, "true")
    if p.shape != t.shape or p.numel() == 0:
        raise ValueError(f"predicted and true must hold the same, non-zero number of values, got "
                         f"{p.numel()} and {t.numel()}")
    return (p.double() - t.double()).abs().max().item()


def predict(model: nn.Module, X: Tensor, x_scaler: Standardizer, y_scaler: Standardizer) -> Tensor:
    """Predict Y in original units for inputs ``X`` (N, 2) in original units.

    standardize X → model (eval mode, no_grad) → de-standardize. The model's
    train/eval mode is restored afterwards. Returns a (N, 1) tensor.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X_standardized = x_scaler.transform(X)  # checks shape, dtype, finiteness and that it is fitted
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            prediction = model(X_standardized)
    finally:
        model.train(was_training)
    return y_scaler.inverse_transform(prediction)


def predict_on_grid(
    model: nn.Module,
    x_scaler: Standardizer,
    y_scaler: Standardizer,
    low: float = 1.0,
    high: float = 10.0,
    steps: int = 101,
) -> tuple[Tensor, Tensor]:
    """Predicted and true Y on a ``steps`` x ``steps`` grid over [low, high]².

    Both come back with shape (steps, steps), X2 along rows, X1 along columns
    (ready for ``plot_heatmap``).
    """
    _, _, points = make_grid(low, high, steps)
    predicted = predict(model, points, x_scaler, y_scaler).reshape(steps, steps)
    true = (points[:, 0] * points[:, 1]).reshape(steps, steps)
    return predicted, true


def error_table(X: Tensor, Y_true: Tensor, Y_predicted: Tensor) -> pd.DataFrame:
    """One row per sample: X1, X2, true Y, predicted Y, absolute and relative error (%)."""
    if not isinstance(X, Tensor) or X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be a (N, 2) tensor, got {getattr(X, 'shape', type(X).__name__)}")
    true = _as_column(Y_true, "Y_true").double()
    predicted = _as_column(Y_predicted, "Y_predicted").double()
    if not X.shape[0] == true.numel() == predicted.numel():
        raise ValueError(f"X, Y_true and Y_predicted must have the same number of rows, got {X.shape[0]}, "
                         f"{true.numel()} and {predicted.numel()}")
    absolute = (predicted - true).abs()
    return pd.DataFrame(
        {
            "X1": X[:, 0].double().numpy(),
            "X2": X[:, 1].double().numpy(),
            "true Y": true.numpy(),
            "predicted Y": predicted.numpy(),
            "abs error": absolute.numpy(),
            "rel error %": (100 * absolute / true.abs()).numpy(),
        }
    )


@dataclass
class EvaluationResult:
    """Errors in original units: on the held-out samples and on the regular grid."""

    heldout_rmse: float
    heldout_max_error: float
    grid_rmse: float
    grid_max_error: float
    grid_low: float
    grid_high: float
    grid_steps: int
    n_heldout: int

    def __str__(self) -> str:
        return (
            f"held-out ({self.n_heldout} samples): RMSE {self.heldout_rmse:.3f}, "
            f"max error {self.heldout_max_error:.3f}\n"
            f"grid {self.grid_steps}x{self.grid_steps} over [{self.grid_low:g}, {self.grid_high:g}]²: "
            f"RMSE {self.grid_rmse:.3f}, max error {self.grid_max_error:.3f}"
        )


def evaluate(
    model: nn.Module,
    x_scaler: Standardizer,
    y_scaler: Standardizer,
    X_test: Tensor,
    Y_test: Tensor,
    *,
    low: float = 1.0,
    high: float = 10.0,
    steps: int = 101,
) -> EvaluationResult:
    """RMSE and max error (original units) on ``X_test, Y_test`` and on a grid over [low, high]²."""
    predicted = predict(model, X_test, x_scaler, y_scaler)
    grid_predicted, grid_true = predict_on_grid(model, x_scaler, y_scaler, low, high, steps)
    return EvaluationResult(
        heldout_rmse=rmse(predicted, Y_test),
        heldout_max_error=max_abs_error(predicted, Y_test),
        grid_rmse=rmse(grid_predicted.reshape(-1), grid_true.reshape(-1)),
        grid_max_error=max_abs_error(grid_predicted.reshape(-1), grid_true.reshape(-1)),
        grid_low=float(low),
        grid_high=float(high),
        grid_steps=steps,
        n_heldout=X_test.shape[0],
    )


# ---- notebook 08: what the network learned ---------------------------------------------------------


def predict_along_line(
    model: nn.Module,
    x_scaler: Standardizer,
    y_scaler: Standardizer,
    start: tuple[float, float],
    end: tuple[float, float],
    steps: int = 2001,
) -> tuple[Tensor, Tensor]:
    """Points evenly spaced on the segment ``start`` → ``end`` (steps, 2) and the prediction there (steps,).

    Computed in float64 (a copy of the model), so that the straight pieces of a ReLU network
    show up as second differences of about 1e-12 rather than float32's 1e-5 noise.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 3:
        raise ValueError(f"steps must be an int >= 3 (second differences need three points), got {steps!r}")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not x_scaler.is_fitted or not y_scaler.is_fitted:
        raise ValueError("x_scaler and y_scaler must be fitted (call fit on the training data first)")
    a, b = torch.tensor(start, dtype=torch.float64), torch.tensor(end, dtype=torch.float64)
    if a.shape != (2,) or b.shape != (2,) or not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        raise ValueError(f"start and end must be two finite numbers each, got {start!r} and {end!r}")
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64).unsqueeze(1)
    points = a + t * (b - a)
    twin = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        standardized = (points - x_scaler.mean.double()) / x_scaler.std.double()
        output = twin(standardized) * y_scaler.std.double() + y_scaler.mean.double()
    return points, output[:, 0]


def second_differences(values: Tensor | np.ndarray) -> np.ndarray:
    """v[i+1] - 2 v[i] + v[i-1] for each inner point: 0 wherever ``values`` lie on a straight line."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size < 3:
        raise ValueError(f"values must be 1-D with at least 3 numbers, got shape {array.shape}")
    return array[2:] - 2.0 * array[1:-1] + array[:-2]


def find_kinks(values: Tensor | np.ndarray, *, rel_tol: float = 1e-9) -> list[int]:
    """Indices (into ``values``) where evenly spaced samples stop lying on one straight line.

    A second difference larger than ``rel_tol`` times the largest |value| marks a bend; a kink
    between two samples bends two neighbouring second differences, so consecutive marks count as
    one kink (reported at the first). Kinks closer than two samples apart merge: the count is a
    lower bound, exact when the sampling is fine enough.
    """
    if not rel_tol > 0:
        raise ValueError(f"rel_tol must be > 0, got {rel_tol!r}")
    array = np.asarray(values, dtype=np.float64)
    curvature = np.abs(second_differences(array))
    bent = np.flatnonzero(curvature > rel_tol * max(float(np.abs(array).max()), 1.0)) + 1
    return [int(i) for k, i in enumerate(bent) if k == 0 or i != bent[k - 1] + 1]


def relu_pattern_changes(model: nn.Module, X_standardized: Tensor) -> list[int]:
    """Indices i where the on/off pattern of the ReLUs differs between rows i and i + 1.

    Between two such places every ReLU keeps its state, so the network is one linear (affine)
    function there: the pieces of a piecewise-linear network. ``model`` must be a ``ProductMLP``
    with ReLU (anything with a ``layers`` ``nn.Sequential`` of Linear and ReLU).
    """
    layers = getattr(model, "layers", None)
    if not isinstance(layers, nn.Sequential) or not any(isinstance(m, nn.ReLU) for m in layers):
        raise ValueError("model must have a `layers` nn.Sequential with ReLU activations (a ReLU ProductMLP)")
    patterns = []
    with torch.no_grad():
        h = X_standardized.to(next(model.parameters()).dtype)
        for module in layers:
            h = module(h)
            if isinstance(module, nn.ReLU):
                patterns.append(h > 0)
    if not patterns:
        return []
    on_off = torch.cat(patterns, dim=1)
    changed = (on_off[1:] != on_off[:-1]).any(dim=1)
    return [int(i) for i in torch.nonzero(changed).flatten()]


def spread(values: Tensor | np.ndarray | list[float]) -> dict[str, float]:
    """min, median and max of a set of results (e.g. one RMSE per seed)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"values must be a non-empty set of finite numbers, got {array.tolist()!r}")
    return {"min": float(array.min()), "median": float(np.median(array)), "max": float(array.max())}


__all__ += ["find_kinks", "predict_along_line", "relu_pattern_changes", "second_differences", "spread"]
