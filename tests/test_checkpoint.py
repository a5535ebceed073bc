"""Checkpoints: the round trip, the atomic save, and a clear error for every way loading can fail."""

import subprocess

import pytest
import torch

from helpers import checkpoint as checkpoint_module
from helpers.checkpoint import (
    ArchitectureMismatchError,
    CheckpointError,
    CorruptCheckpointError,
    LoadedCheckpoint,
    NotACheckpointError,
    default_artifacts_dir,
    load_checkpoint,
    save_checkpoint,
)
from helpers.data import Standardizer, make_product_data
from helpers.model import ProductMLP
from helpers.training import TrainingHistory


def fitted_scalers() -> tuple[Standardizer, Standardizer]:
    X, Y = make_product_data(100, seed=0)
    return Standardizer().fit(X), Standardizer().fit(Y)


def small_model(hidden=(16, 8), activation="relu") -> ProductMLP:
    torch.manual_seed(0)
    return ProductMLP(hidden_sizes=hidden, activation=activation)


def save_default(path, model=None, **kwargs):
    x_scaler, y_scaler = fitted_scalers()
    kwargs.setdefault("epoch", 3)
    return save_checkpoint(path, model or small_model(), x_scaler, y_scaler, **kwargs)


def test_round_trip_rebuilds_model_scalers_and_history(tmp_path):
    model = small_model(hidden=(5, 4, 3), activation="tanh")
    x_scaler, y_scaler = fitted_scalers()
    history = TrainingHistory(train_loss=[0.5, 0.25], test_loss=[0.6, 0.3], seconds=1.5, epochs_run=2,
                              best_epoch=2, best_test_loss=0.3)
    path = save_checkpoint(tmp_path / "sub" / "best.pt", model, x_scaler, y_scaler, epoch=2, history=history,
                           extra={"seed": 0, "note": "test"})
    loaded = load_checkpoint(path)
    assert isinstance(loaded, LoadedCheckpoint)
    assert loaded.model.config == model.config
    assert not loaded.model.training  # eval mode
    X = torch.randn(7, 2)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(X), model(X), rtol=0, atol=0)
    torch.testing.assert_close(loaded.x_scaler.mean, x_scaler.mean)
    torch.testing.assert_close(loaded.y_scaler.std, y_scaler.std)
    assert loaded.epoch == 2
    assert loaded.history["train_loss"] == [0.5, 0.25] and loaded.history["best_epoch"] == 2
    assert set(loaded.versions) == {"torch", "numpy", "python"}
    assert loaded.versions["torch"] == torch.__version__
    assert loaded.extra == {"seed": 0, "note": "test"}
    assert loaded.path == path


def test_saved_file_loads_with_plain_weights_only_torch_load(tmp_path):
    path = save_default(tmp_path / "ck.pt", history={"train_loss": [1.0]})
    payload = torch.load(path, weights_only=True)
    expected = {"model_config", "state_dict", "x_scaler", "y_scaler", "epoch", "history", "versions"}
    assert expected <= set(payload)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "best.pt"
    save_default(path, epoch=1)
    before = path.read_bytes()
    real_save = torch.save

    def crash_mid_way(obj, file, *args, **kwargs):
        file.write(b"half a checkpoint")  # some bytes reach the disk, then the process "crashes"
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash_mid_way)
    with pytest.raises(OSError, match="disk full"):
        save_default(path, epoch=2)
    monkeypatch.setattr(checkpoint_module.torch, "save", real_save)
    assert path.read_bytes() == before
    assert load_checkpoint(path).epoch == 1
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]  # no temporary file left behind


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "best.pt"
    save_default(path, epoch=1)
    save_default(path, epoch=9)
    assert load_checkpoint(path).epoch == 9
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        load_checkpoint(tmp_path / "nothing.pt")
    with pytest.raises(FileNotFoundError, match="is a folder"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "flipped"])
def test_corrupt_file(tmp_path, damage):
    path = save_default(tmp_path / "best.pt")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"this is not a checkpoint at all" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(data[:-200] + bytes(200))  # the zip's central directory overwritten
    with pytest.raises(CorruptCheckpointError, match="corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("make_object", "message"),
    [
        (lambda: small_model().state_dict(), "bare state_dict.*no standardizers"),  # as the notes save
        (lambda: {"weights": [1, 2, 3], "name": "other"}, "not a checkpoint written by save_checkpoint"),
        (small_model, "pickled Python objects"),  # a whole model: refused by weights_only=True
    ],
    ids=["bare_state_dict", "other_torch_file", "pickled_model"],
)
def test_torch_files_that_are_not_checkpoints(tmp_path, make_object, message):
    path = tmp_path / "other.pt"
    torch.save(make_object(), path)
    with pytest.raises(NotACheckpointError, match=message):
        load_checkpoint(path)


def _set_config(field: str, value):
    return lambda payload: payload["model_config"].__setitem__(field, value)


@pytest.mark.parametrize(
    ("hidden", "damage", "error", "message"),
    [
        ((16, 8), lambda p: p.__setitem__("format_version", 99), NotACheckpointError, "format version 99"),
        ((16, 8), lambda p: p.pop("y_scaler"), CorruptCheckpointError, "missing the entries.*y_scaler"),
        # the configuration and the weights no longer agree
        ((32, 8), _set_config("hidden_sizes", [16, 8]), ArchitectureMismatchError,
         r"another architecture.*layers\.0\.weight is \(32, 2\)"),
        ((16, 8, 4), _set_config("hidden_sizes", [16, 8]), ArchitectureMismatchError,
         r"layers\.6\.weight unexpected"),
        ((16, 8), _set_config("activation", "swish"), CorruptCheckpointError, "invalid model configuration"),
        ((16, 8), lambda p: p.__setitem__("x_scaler", {"mean": [1.0, 2.0], "std": [0.0, 1.0]}),
         CorruptCheckpointError, "invalid standardizer"),
    ],
    ids=["newer_format", "missing_entry", "other_widths", "extra_layer", "bad_activation", "bad_scaler"],
)
def test_damaged_payload_names_what_is_wrong(tmp_path, hidden, damage, error, message):
    path = save_default(tmp_path / "best.pt", model=small_model(hidden=hidden))
    payload = torch.load(path, weights_only=True)
    damage(payload)
    torch.save(payload, path)
    with pytest.raises(error, match=message):
        load_checkpoint(path)


def test_all_load_errors_are_value_errors():
    for error in (CorruptCheckpointError, NotACheckpointError, ArchitectureMismatchError):
        assert issubclass(error, CheckpointError) and issubclass(error, ValueError)


def test_save_rejects_bad_arguments(tmp_path):
    x_scaler, y_scaler = fitted_scalers()
    with pytest.raises(ValueError, match="ProductMLP"):
        save_checkpoint(tmp_path / "a.pt", torch.nn.Linear(2, 1), x_scaler, y_scaler, epoch=1)
    with pytest.raises(ValueError, match="to_dict called before fit"):
        save_checkpoint(tmp_path / "a.pt", small_model(), Standardizer(), y_scaler, epoch=1)
    with pytest.raises(ValueError, match="x_scaler must be a fitted"):
        save_checkpoint(tmp_path / "a.pt", small_model(), {"mean": 1}, y_scaler, epoch=1)
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        save_checkpoint(tmp_path / "a.pt", small_model(), x_scaler, y_scaler, epoch=-1)
    with pytest.raises(ValueError, match="is a folder"):
        save_checkpoint(tmp_path, small_model(), x_scaler, y_scaler, epoch=1)
    with pytest.raises(ValueError, match="history must be"):
        save_checkpoint(tmp_path / "a.pt", small_model(), x_scaler, y_scaler, epoch=1, history=[1.0])
    assert list(tmp_path.iterdir()) == []


def test_default_artifacts_dir_is_the_git_ignored_folder_at_the_repository_root():
    folder = default_artifacts_dir()
    assert folder.is_dir() and folder.name == "artifacts"
    assert (folder.parent / "pyproject.toml").exists()
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(folder / "best.pt")], cwd=folder.parent, check=False
    )
    assert ignored.returncode == 0
