"""Step 4 of the flow: checkpoints (检查点). One file that can make predictions on its own.

The notes save only ``model.state_dict()``: the file then cannot rebuild the
network (its shape is not in it) nor undo the standardization (the means and
stds are not in it). A checkpoint here holds everything needed:

- ``model_config`` (``ProductMLP.config``) and the ``state_dict``,
- both fitted ``Standardizer`` s (``to_dict()``),
- the epoch, the loss history, the library versions, and optional ``extra`` data.

Saving is atomic: the file is written under a temporary name in the same folder
and then renamed over the target (``os.replace``), so a crash mid-way leaves the
old file intact and never half a file. Loading uses ``torch.load(...,
weights_only=True)``: only tensors and plain Python data are read back, never
arbitrary pickled code.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers.data import Standardizer
from helpers.model import ProductMLP

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_FORMAT_VERSION",
    "ArchitectureMismatchError",
    "CheckpointError",
    "CorruptCheckpointError",
    "LoadedCheckpoint",
    "NotACheckpointError",
    "default_artifacts_dir",
    "library_versions",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "nn-training-notebooks/product-mlp"
CHECKPOINT_FORMAT_VERSION = 1
_REQUIRED_KEYS = ("model_config", "state_dict", "x_scaler", "y_scaler", "epoch")


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be used (the subclasses say why)."""


class CorruptCheckpointError(CheckpointError):
    """The file is damaged: truncated, overwritten, or not readable by ``torch.load``."""


class NotACheckpointError(CheckpointError):
    """The file is readable but is not a checkpoint written by ``save_checkpoint``."""


class ArchitectureMismatchError(CheckpointError):
    """The saved weights do not fit the network shape the checkpoint describes."""


@dataclass
class LoadedCheckpoint:
    """What ``load_checkpoint`` gives back: a ready model (in eval mode) and its scalers."""

    model: ProductMLP
    x_scaler: Standardizer
    y_scaler: Standardizer
    epoch: int
    history: dict[str, Any] | None
    versions: dict[str, str]
    extra: Any = None
    path: Path | None = field(default=None, repr=False)


def default_artifacts_dir() -> Path:
    """``<repository root>/artifacts`` (git-ignored), created if missing: where notebooks write files."""
    folder = Path(__file__).resolve().parent.parent / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def library_versions() -> dict[str, str]:
    """The versions that matter for reading a checkpoint back: torch, numpy, python."""
    # str(): torch.__version__ is a TorchVersion object, which weights_only loading refuses.
    return {
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "python": platform.python_version(),
    }


def _history_to_dict(history: Any) -> dict[str, Any] | None:
    if history is None:
        return None
    if dataclasses.is_dataclass(history) and not isinstance(history, type):
        history = dataclasses.asdict(history)
    if not isinstance(history, dict):
        raise ValueError(
            f"history must be a TrainingHistory, a dict or None, got {type(history).__name__}"
        )
    return history


def save_checkpoint(
    path: str | os.PathLike[str],
    model: ProductMLP,
    x_scaler: Standardizer,
    y_scaler: Standardizer,
    *,
    epoch: int,
    history: Any = None,
    extra: Any = None,
) -> Path:
    """Write ``model`` + both standardizers + ``epoch`` + ``history`` to ``path`` atomically.

    ``history`` is a ``TrainingHistory`` (or a dict, or None); ``extra`` is any
    plain data (numbers, strings, lists, dicts, tensors). Missing folders are
    created. Returns the path written.
    """
    if not isinstance(model, ProductMLP):
        raise ValueError(
            f"model must be a helpers.model.ProductMLP (its config rebuilds it), got {type(model).__name__}"
        )
    for name, scaler in (("x_scaler", x_scaler), ("y_scaler", y_scaler)):
        if not isinstance(scaler, Standardizer):
            raise ValueError(
                f"{name} must be a fitted helpers.data.Standardizer, got {type(scaler).__name__}"
            )
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
    payload = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "model_config": model.config,
        "state_dict": {name: tensor.detach().clone() for name, tensor in model.state_dict().items()},
        "x_scaler": x_scaler.to_dict(),  # raises if not fitted
        "y_scaler": y_scaler.to_dict(),
        "epoch": epoch,
        "history": _history_to_dict(history),
        "versions": library_versions(),
        "extra": extra,
    }
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{target} is a folder; give a file name such as {target / 'best.pt'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file lives in the same folder: os.replace is atomic only within one file system.
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _read(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Weights only load failed" in str(error):
            raise NotACheckpointError(
                f"{path} holds pickled Python objects, not just tensors and plain data "
                "(for example a whole model saved with torch.save(model)); it is not a checkpoint "
                "written by save_checkpoint, and loading it safely (weights_only=True) is refused"
            ) from error
        raise CorruptCheckpointError(
            f"{path} is corrupt or not a PyTorch file ({error}); save the checkpoint again"
        ) from error
    except Exception as error:  # a damaged file fails in many ways: EOFError, IndexError, RuntimeError...
        raise CorruptCheckpointError(
            f"{path} is corrupt or truncated (torch.load failed: {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}); save the checkpoint again"
        ) from error


def _check_format(path: Path, payload: Any) -> None:
    if isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise NotACheckpointError(
            f"{path} holds a bare state_dict (what torch.save(model.state_dict()) writes, as the notes do): "
            "it has no model configuration and no standardizers; use save_checkpoint to write a full one"
        )
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise NotACheckpointError(
            f"{path} is a PyTorch file but not a checkpoint written by save_checkpoint "
            f"(no 'format': {CHECKPOINT_FORMAT!r} marker)"
        )
    version = payload.get("format_version")
    if version != CHECKPOINT_FORMAT_VERSION:
        raise NotACheckpointError(
            f"{path} has checkpoint format version {version!r}; this code reads version "
            f"{CHECKPOINT_FORMAT_VERSION}"
        )
    missing = [key for key in _REQUIRED_KEYS if key not in payload]
    if missing:
        raise CorruptCheckpointError(f"{path} is missing the entries {missing}; save the checkpoint again")


def _build_model(path: Path, config: Any, state_dict: Any) -> ProductMLP:
    try:
        model = ProductMLP.from_config(config)
    except (ValueError, TypeError) as error:
        raise CorruptCheckpointError(
            f"{path} has an invalid model configuration {config!r}: {error}"
        ) from error
    if not isinstance(state_dict, dict):
        raise CorruptCheckpointError(f"{path} has no valid state_dict (got {type(state_dict).__name__})")
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    saved = {name: tuple(t.shape) for name, t in state_dict.items() if isinstance(t, torch.Tensor)}
    if expected != saved:
        problems = []
        for name in sorted(expected.keys() | saved.keys()):
            if name not in saved:
                problems.append(f"{name} missing")
            elif name not in expected:
                problems.append(f"{name} unexpected")
            elif expected[name] != saved[name]:
                problems.append(f"{name} is {saved[name]}, the config needs {expected[name]}")
        raise ArchitectureMismatchError(
            f"{path}: the saved weights belong to another architecture than its config {config} "
            f"({'; '.join(problems[:4])}{'; ...' if len(problems) > 4 else ''})"
        )
    model.load_state_dict(state_dict)
    return model


def load_checkpoint(path: str | os.PathLike[str]) -> LoadedCheckpoint:
    """Read a checkpoint written by ``save_checkpoint`` and rebuild everything from the file alone.

    Returns a ``LoadedCheckpoint`` whose model is in eval mode. Errors:
    ``FileNotFoundError`` (no file), ``CorruptCheckpointError`` (damaged file),
    ``NotACheckpointError`` (another kind of file), ``ArchitectureMismatchError``
    (weights that do not fit the saved configuration). All but the first are
    ``CheckpointError``, a ``ValueError``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no checkpoint file at {path}; run the training that saves it first, or check the path"
        )
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder, not a checkpoint file")
    payload = _read(path)
    _check_format(path, payload)
    model = _build_model(path, payload["model_config"], payload["state_dict"])
    try:
        x_scaler = Standardizer.from_dict(payload["x_scaler"])
        y_scaler = Standardizer.from_dict(payload["y_scaler"])
    except ValueError as error:
        raise CorruptCheckpointError(f"{path} has invalid standardizer statistics: {error}") from error
    if x_scaler.mean is not None and x_scaler.mean.numel() != model.in_features:
        raise ArchitectureMismatchError(
            f"{path}: the X standardizer has {x_scaler.mean.numel()} columns, "
            f"the model has {model.in_features} inputs"
        )
    model.eval()
    return LoadedCheckpoint(
        model=model,
        x_scaler=x_scaler,
        y_scaler=y_scaler,
        epoch=int(payload["epoch"]),
        history=payload.get("history"),
        versions=dict(payload.get("versions") or {}),
        extra=payload.get("extra"),
        path=path,
    )
