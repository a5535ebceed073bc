"""Step 1 of the flow: make the product data, split it, and standardize it (z-score)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "make_product_data",
    "train_test_split",
    "Standardizer",
    "ProductData",
    "prepare_product_data",
    "make_grid",
]


def _check_finite(name: str, value: float) -> None:
    if not torch.isfinite(torch.tensor(float(value))):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def make_product_data(
    n_samples: int = 1000,
    low: float = 1.0,
    high: float = 10.0,
    *,
    noise_std: float = 0.0,
    seed: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Make ``n_samples`` points X1, X2 uniform in [low, high) and Y = X1 * X2.

    Returns ``X`` of shape (N, 2) and ``Y`` of shape (N, 1), both float32.
    ``1 + 9 * torch.rand(n)`` of the notes is ``low + (high - low) * torch.rand(n)``.
    ``noise_std`` adds Gaussian noise to Y (not to X). With ``seed=None`` the
    global torch generator is used (seed it with ``set_seed``); with an int,
    a private generator makes the data reproducible on its own.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int):
        raise ValueError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2 (to split and to compute a std), got {n_samples}")
    _check_finite("low", low)
    _check_finite("high", high)
    if low >= high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    _check_finite("noise_std", noise_std)
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    x1 = low + (high - low) * torch.rand(n_samples, generator=generator)
    x2 = low + (high - low) * torch.rand(n_samples, generator=generator)
    y = x1 * x2
    if noise_std > 0:
        y = y + noise_std * torch.randn(n_samples, generator=generator)
    X = torch.stack([x1, x2], dim=1)  # (N,) and (N,) -> (N, 2): one row per sample
    Y = y.unsqueeze(-1)  # (N,) -> (N, 1): one target column
    return X, Y


def train_test_split(
    X: Tensor, Y: Tensor, test_fraction: float = 0.2, *, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Shuffle the rows with a fixed ``seed`` and split them.

    Returns ``X_train, X_test, Y_train, Y_test``. The test rows are held out:
    the model never trains on them, so their error measures generalization.
    """
    if not isinstance(X, Tensor) or not isinstance(Y, Tensor):
        raise ValueError("X and Y must be torch tensors")
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and Y must be 2-D (N, D), got shapes {tuple(X.shape)} and {tuple(Y.shape)}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows, got {X.shape[0]} and {Y.shape[0]}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    n = X.shape[0]
    n_test = round(n * test_fraction)
    if n_test < 1 or n_test > n - 1:
        raise ValueError(
            f"test_fraction={test_fraction} of {n} rows leaves an empty train or test set; "
            "use more rows or a fraction closer to 0.5"
        )
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test_idx, train_idx = order[:n_test], order[n_test:]
    return X[train_idx], X[test_idx], Y[train_idx], Y[test_idx]


class Standardizer:
    """Z-score standardization (标准化), column by column: ``(x - mean) / std``.

    ``fit`` learns one mean and one std per column from the *training* data only;
    ``transform`` applies them to any data; ``inverse_transform`` undoes it.
    ``unbiased=True`` divides by N - 1 like ``torch.std``'s default (the notes'
    ``x.std()``); ``unbiased=False`` divides by N (the population std).
    """

    def __init__(self, unbiased: bool = True) -> None:
        self.unbiased = bool(unbiased)
        self.mean: Tensor | None = None
        self.std: Tensor | None = None

    @property
    def is_fitted(self) -> bool:
        return self.mean is not None and self.std is not None

    @staticmethod
    def _check_2d(data: Tensor, what: str) -> None:
        if not isinstance(data, Tensor):
            raise ValueError(f"{what} expects a torch tensor, got {type(data).__name__}")
        if data.ndim != 2:
            raise ValueError(
                f"{what} expects a 2-D tensor of shape (N, D), got shape {tuple(data.shape)}; "
                "use x.unsqueeze(-1) to turn a 1-D tensor into one column"
            )
        if not data.is_floating_point():
            raise ValueError(f"{what} expects a floating-point tensor, got dtype {data.dtype}")
        if not torch.isfinite(data).all():
            raise ValueError(f"{what} got non-finite values (NaN or inf); clean the data first")

    def fit(self, data: Tensor) -> Standardizer:
        """Learn each column's mean and std from ``data`` (N, D). Returns ``self``."""
        self._check_2d(data, "fit")
        if data.shape[0] < 2:
            raise ValueError(f"fit needs at least 2 rows to compute a std, got {data.shape[0]}")
        mean = data.mean(dim=0)
        std = data.std(dim=0, correction=1 if self.unbiased else 0)
        flat = [i for i, s in enumerate(std.tolist()) if not s > 0]
        if flat:
            raise ValueError(
                f"column(s) {flat} have zero spread (every value equal): "
                "dividing by a std of 0 is undefined; drop the column or add variation"
            )
        self.mean, self.std = mean, std
        return self

    def _check_ready(self, data: Tensor, what: str) -> None:
        if not self.is_fitted:
            raise ValueError(f"{what} called before fit: call fit(train_data) first")
        self._check_2d(data, what)
        assert self.mean is not None
        if data.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"{what} expects {self.mean.shape[0]} column(s) (as fitted), got {data.shape[1]}"
            )

    def transform(self, data: Tensor) -> Tensor:
        """Standardize ``data`` with the fitted statistics: ``(data - mean) / std``."""
        self._check_ready(data, "transform")
        return (data - self.mean) / self.std

    def inverse_transform(self, data: Tensor) -> Tensor:
        """Undo ``transform``: ``data * std + mean`` (back to original units)."""
        self._check_ready(data, "inverse_transform")
        return data * self.std + self.mean

    def fit_transform(self, data: Tensor) -> Tensor:
        """``fit`` then ``transform`` the same data (use it on training data only)."""
        return self.fit(data).transform(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and floats, safe for ``torch.save`` and ``weights_only=True`` loading."""
        if not self.is_fitted:
            raise ValueError("to_dict called before fit: there are no statistics to save yet")
        assert self.mean is not None and self.std is not None
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "unbiased": self.unbiased}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted ``Standardizer`` from ``to_dict()`` output."""
        if not isinstance(state, dict) or not {"mean", "std"} <= state.keys():
            raise ValueError("from_dict expects a dict with keys 'mean' and 'std' (from to_dict())")
        mean = torch.as_tensor(state["mean"], dtype=torch.float32)
        std = torch.as_tensor(state["std"], dtype=torch.float32)
        if mean.ndim != 1 or mean.shape != std.shape or mean.numel() == 0:
            raise ValueError(
                f"'mean' and 'std' must be equal-length, non-empty lists, got {state['mean']!r} "
                f"and {state['std']!r}"
            )
        if not torch.isfinite(mean).all() or not (std > 0).all():
            raise ValueError("'mean' must be finite and every 'std' must be > 0")
        scaler = cls(unbiased=bool(state.get("unbiased", True)))
        scaler.mean, scaler.std = mean, std
        return scaler

    def __repr__(self) -> str:
        if not self.is_fitted:
            return f"Standardizer(unbiased={self.unbiased}, not fitted)"
        assert self.mean is not None and self.std is not None
        mean = [round(v, 4) for v in self.mean.tolist()]
        std = [round(v, 4) for v in self.std.tolist()]
        return f"Standardizer(mean={mean}, std={std})"


@dataclass(frozen=True)
class ProductData:
    """One sample of the product data, split, with standardizers fitted on the training rows only."""

    X_train: Tensor  # original units
    X_test: Tensor
    Y_train: Tensor
    Y_test: Tensor
    x_scaler: Standardizer
    y_scaler: Standardizer
    X_train_std: Tensor  # standardized: what the network sees
    X_test_std: Tensor
    Y_train_std: Tensor
    Y_test_std: Tensor

    @property
    def standardized(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``X_train, Y_train, X_test, Y_test`` standardized: the order the trainers take them in."""
        return self.X_train_std, self.Y_train_std, self.X_test_std, self.Y_test_std


def prepare_product_data(
    n_samples: int = 1250,
    low: float = 1.0,
    high: float = 10.0,
    *,
    noise_std: float = 0.0,
    test_fraction: float = 0.2,
    data_seed: int = 0,
    split_seed: int = 0,
) -> ProductData:
    """Make, split and standardize the product data, as notebook 05 does cell by cell.

    The defaults are the course's: 1250 samples in [1, 10)², 250 of them held out,
    the scalers fitted on the 1000 training rows only (no leakage from the held-out set).
    """
    X, Y = make_product_data(n_samples, low, high, noise_std=noise_std, seed=data_seed)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_fraction, seed=split_seed)
    x_scaler, y_scaler = Standardizer().fit(X_train), Standardizer().fit(Y_train)
    return ProductData(
        X_train, X_test, Y_train, Y_test, x_scaler, y_scaler,
        x_scaler.transform(X_train), x_scaler.transform(X_test),
        y_scaler.transform(Y_train), y_scaler.transform(Y_test),
    )


def make_grid(low: float = 1.0, high: float = 10.0, steps: int = 101) -> tuple[Tensor, Tensor, Tensor]:
    """A regular ``steps`` x ``steps`` grid over [low, high]².

    Returns the two axes (each shape (steps,)) and the grid points as one
    (steps * steps, 2) tensor, rows ordered so that ``values.reshape(steps, steps)``
    has X2 along the rows and X1 along the columns (as ``imshow`` expects).
    """
    _check_finite("low", low)
    _check_finite("high", high)
    if low >= high:
        raise ValueError(f"low must be smaller than high, got low={low}, high={high}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int >= 2, got {steps!r}")
    axis = torch.linspace(low, high, steps)
    x2_grid, x1_grid = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([x1_grid.reshape(-1), x2_grid.reshape(-1)], dim=1)
    return axis, axis.clone(), points
