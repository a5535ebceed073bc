"""Step 5 of the flow: evaluation. Predictions in original units and how far off they are.

The model works in standardized units; a person asks "what is 3.2 × 7.5?".
``predict`` standardizes the inputs with the *training* statistics, runs the
model in eval mode under ``torch.no_grad()``, and undoes the standardization of
the output. ``evaluate`` measures the root-mean-square error (RMSE, 均方根误差)
and the largest error on held-out samples and on a regular grid over the
training square [1, 10]², where every region counts equally.
"""

from __future__ import annotations

from dataclasses import dataclass

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
