"""python -m helpers.train and python -m helpers.evaluate, end to end on a short configuration.

The end-to-end tests start real processes (``sys.executable -m ...``) in a
temporary folder, as a student would type the commands; the finer checks call
``main`` / ``run_training`` in-process, which is faster.
"""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import evaluate as evaluate_cli
from helpers import train as train_cli
from helpers.checkpoint import load_checkpoint, save_checkpoint
from helpers.config import FIELDS, DataConfig, config_from_dict, load_config
from helpers.model import ProductMLP
from helpers.train import LOG_COLUMNS, prepare_data, read_log, run_training

REPO = Path(__file__).resolve().parents[1]
EPOCHS = 6


def run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ...`` like a student in a terminal; the repository is importable (pip install -e .)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240, check=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short training run through the real command, shared by the tests below."""
    out = tmp_path_factory.mktemp("run")
    result = run_command("helpers.train", "--config", str(REPO / "configs" / "product.yaml"),
                         "--epochs", str(EPOCHS), "--checkpoint-every", "2", "--output-dir", str(out),
                         "--run-name", "short", cwd=out)
    assert result.returncode == 0, result.stderr
    return out, result


# ---- python -m helpers.train ----------------------------------------------------------------------


def test_train_writes_log_checkpoints_and_best(trained):
    out, _ = trained
    assert (out / "models" / "best.pth").is_file()
    snapshots = sorted(p.name for p in (out / "models" / "checkpoints" / "short").iterdir())
    assert snapshots == ["epoch_0002.pth", "epoch_0004.pth", "epoch_0006.pth"]
    log = read_log(out / "logs" / "short.csv")
    assert list(log) == list(LOG_COLUMNS)
    assert log["epoch"] == list(range(1, EPOCHS + 1))
    assert log["train_loss"][-1] < log["train_loss"][0]  # it learned something
    assert all(b >= a for a, b in zip(log["seconds"], log["seconds"][1:], strict=False))
    saved = load_config(out / "logs" / "short.yaml")  # the settings of the run, next to its log
    assert saved.training.epochs == EPOCHS and saved.output.checkpoint_every == 2


def test_train_prints_where_everything_went_and_shows_progress(trained):
    out, result = trained
    for path in (out / "models" / "best.pth", out / "logs" / "short.csv", out / "logs" / "short.yaml"):
        assert str(path) in result.stdout
    assert f"{out / 'models' / 'checkpoints' / 'short'}/   (3 files, every 2 epochs)" in result.stdout
    assert f"{EPOCHS}/{EPOCHS}" in result.stderr  # tqdm's bar reached the end
    assert "python -m helpers.evaluate" in result.stdout


def test_best_checkpoint_is_the_epoch_with_the_lowest_held_out_loss(trained):
    out, _ = trained
    log = read_log(out / "logs" / "short.csv")
    best_epoch = 1 + min(range(EPOCHS), key=lambda i: log["test_loss"][i])
    checkpoint = load_checkpoint(out / "models" / "best.pth")
    assert checkpoint.epoch == best_epoch
    assert checkpoint.extra["kind"] == "best" and checkpoint.extra["run_name"] == "short"
    assert checkpoint.extra["config"]["training"]["epochs"] == EPOCHS
    # Its weights give exactly the logged held-out loss of that epoch.
    data = prepare_data(DataConfig())
    _, _, X_test, Y_test = data.standardized
    with torch.no_grad():
        mse = torch.nn.functional.mse_loss(checkpoint.model(X_test), Y_test).item()
    assert math.isclose(mse, log["test_loss"][best_epoch - 1], rel_tol=1e-5)
    periodic = load_checkpoint(out / "models" / "checkpoints" / "short" / "epoch_0004.pth")
    assert periodic.epoch == 4 and periodic.extra["kind"] == "periodic"


def test_train_rejects_a_bad_flag_naming_the_field(tmp_path, capsys):
    assert train_cli.main(["--lr", "-0.01", "--output-dir", str(tmp_path)]) == 2
    assert "training.lr: the learning rate must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()  # nothing ran
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epoch: 10\n", encoding="utf-8")
    assert train_cli.main(["--config", str(bad)]) == 2
    assert "training.epoch: unknown key 'epoch'" in capsys.readouterr().err
    assert train_cli.main(["--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no configuration file" in capsys.readouterr().err


def test_show_config_applies_the_overrides(capsys):
    assert train_cli.main(["--show-config", "--epochs", "7", "--hidden-sizes", "5", "3", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "epochs: 7" in printed and "seed: 3" in printed and "- 5\n  - 3" in printed


def test_every_config_field_has_a_flag():
    help_text = train_cli.build_parser().format_help()
    for spec in FIELDS:
        assert spec.flag in help_text and spec.path in help_text, spec.path
    args = train_cli.build_parser().parse_args(["--epochs", "3", "--hidden-sizes", "4", "2", "--lr", "0.5"])
    assert train_cli.overrides_from_args(args) == {"training.epochs": 3, "model.hidden_sizes": [4, 2],
                                                    "training.lr": 0.5}


def test_same_settings_give_the_same_losses(tmp_path):
    config = config_from_dict({"training": {"epochs": 3}, "output": {"output_dir": str(tmp_path),
                                                                     "checkpoint_every": 0}})
    runs = [run_training(config, progress=False, stream=io.StringIO()).history for _ in range(2)]
    assert runs[0].train_loss == runs[1].train_loss and runs[0].test_loss == runs[1].test_loss
    other = config_from_dict({"training": {"epochs": 3, "seed": 1}, "output": {"output_dir": str(tmp_path)}})
    assert run_training(other, progress=False, stream=io.StringIO()).history.train_loss != runs[0].train_loss


def test_best_is_written_at_the_end_even_when_writes_are_throttled(tmp_path, monkeypatch):
    # Only the first best is written during the run; the last one must still reach the file.
    monkeypatch.setattr(train_cli, "BEST_SAVE_INTERVAL_S", 1e9)
    config = config_from_dict({"training": {"epochs": 5}, "output": {"output_dir": str(tmp_path),
                                                                     "checkpoint_every": 0}})
    result = run_training(config, progress=False, stream=io.StringIO())
    assert result.history.best_epoch == 5
    assert load_checkpoint(result.best_path).epoch == 5
    assert result.checkpoints == [] and not list(result.checkpoint_dir.glob("*.pth"))


def test_a_rerun_under_the_same_name_replaces_its_snapshots(tmp_path):
    first = config_from_dict({"training": {"epochs": 4}, "output": {"output_dir": str(tmp_path),
                                                                    "checkpoint_every": 1, "run_name": "r"}})
    run_training(first, progress=False, stream=io.StringIO())
    second = config_from_dict({"training": {"epochs": 2}, "output": {"output_dir": str(tmp_path),
                                                                     "checkpoint_every": 1, "run_name": "r"}})
    stream = io.StringIO()
    result = run_training(second, progress=False, stream=stream)
    assert sorted(p.name for p in result.checkpoint_dir.iterdir()) == ["epoch_0001.pth", "epoch_0002.pth"]
    assert "removed 4 old checkpoint(s)" in stream.getvalue()
    assert read_log(result.log_path)["epoch"] == [1, 2]


def test_divergence_exits_with_1_and_says_why(tmp_path, capsys):
    status = train_cli.main(["--lr", "1000", "--optimizer", "sgd", "--epochs", "3", "--no-progress",
                             "--output-dir", str(tmp_path)])
    assert status == 1
    out = capsys.readouterr().out
    assert "DIVERGED in epoch 1" in out and "too large" in out
    assert not (tmp_path / "models" / "best.pth").exists()


def test_read_log_refuses_other_csv_files(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a training log"):
        read_log(other)


# ---- python -m helpers.evaluate -------------------------------------------------------------------


def test_evaluate_scores_the_checkpoint_from_the_file_alone(trained, tmp_path):
    out, _ = trained
    result = run_command("helpers.evaluate", str(out / "models" / "best.pth"), "--rows", "4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "statistics match the checkpoint" in text
    assert "grid 101x101 over [1, 10]²: RMSE" in text
    header = next(line for line in text.splitlines() if "predicted Y" in line)
    assert header.split() == ["X1", "X2", "true", "Y", "predicted", "Y", "abs", "error", "rel", "error", "%"]
    table = text[text.index(header):].splitlines()[1:]
    assert len([line for line in table if line.strip()]) == 4
    assert max(len(line) for line in text.splitlines() if line in table) < 80  # fits a projector
    # The held-out RMSE it prints is the logged best held-out loss, back in units of Y.
    heldout = float(re.search(r"held-out \(250 samples\): RMSE ([0-9.]+)", text).group(1))
    log = read_log(out / "logs" / "short.csv")
    y_std = float(prepare_data(DataConfig()).y_scaler.std[0])
    assert math.isclose(heldout, math.sqrt(min(log["test_loss"])) * y_std, abs_tol=2e-3)


def test_evaluate_predicts_one_product(trained, tmp_path):
    out, _ = trained
    result = run_command("helpers.evaluate", str(out / "models" / "best.pth"), "--x1", "3", "--x2", "7",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    match = re.search(r"X1 = 3, X2 = 7: predicted Y = ([-0-9.]+), true X1 \* X2 = 21,", result.stdout)
    assert match, result.stdout
    checkpoint = load_checkpoint(out / "models" / "best.pth")
    checkpoint.model.eval()
    with torch.no_grad():  # by hand, not with the command's own function: standardize, predict, undo
        x = checkpoint.x_scaler.transform(torch.tensor([[3.0, 7.0]]))
        expected = float(checkpoint.y_scaler.inverse_transform(checkpoint.model(x))[0, 0])
    assert math.isclose(float(match.group(1)), expected, abs_tol=1e-3)
    assert "warning" not in result.stdout


def test_evaluate_warns_outside_the_training_range(trained, capsys):
    out, _ = trained
    assert evaluate_cli.main([str(out / "models" / "best.pth"), "--x1", "30", "--x2", "7"]) == 0
    assert "X1 outside the training range [1, 10]" in capsys.readouterr().out


def test_evaluate_errors(tmp_path, capsys):
    assert evaluate_cli.main([str(tmp_path / "missing.pth")]) == 2
    assert "no checkpoint file at" in capsys.readouterr().err
    bare = tmp_path / "bare.pth"
    torch.save(ProductMLP().state_dict(), bare)  # what the notes save
    assert evaluate_cli.main([str(bare)]) == 2
    assert "bare state_dict" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        evaluate_cli.main([str(bare), "--x1", "3"])
    assert caught.value.code == 2
    assert "give both --x1 and --x2" in capsys.readouterr().err


def test_evaluate_without_saved_settings_scores_the_grid_only(tmp_path):
    data = prepare_data(DataConfig())
    path = save_checkpoint(tmp_path / "notebook.pth", ProductMLP(), data.x_scaler, data.y_scaler, epoch=0)
    stream = io.StringIO()
    assert evaluate_cli.report(load_checkpoint(path), grid_steps=11, stream=stream) == 0
    text = stream.getvalue()
    assert "No training settings in this checkpoint" in text and "grid 11x11 over [1, 10]²: RMSE" in text
    assert "held-out (" not in text


def test_evaluate_refuses_a_held_out_set_that_does_not_match(trained, tmp_path):
    out, _ = trained
    checkpoint = load_checkpoint(out / "models" / "best.pth")
    checkpoint.extra["config"]["data"]["data_seed"] = 1  # other seed: other samples, other statistics
    stream = io.StringIO()
    evaluate_cli.report(checkpoint, stream=stream)
    text = stream.getvalue()
    assert "do not match the checkpoint's standardization statistics" in text
    assert "held-out (" not in text and "grid 101x101" in text


@pytest.mark.parametrize("module", ["helpers.train", "helpers.evaluate"])
def test_help_is_complete(module, tmp_path):
    result = run_command(module, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"usage: python -m {module}")
    assert "Examples:" in text and "Exit status:" in text
    wanted = [spec.flag for spec in FIELDS] + ["--config", "--show-config", "--no-progress"] \
        if module == "helpers.train" else ["checkpoint", "--x1", "--x2", "--rows", "--grid-steps"]
    missing = [flag for flag in wanted if flag not in text]
    assert not missing, f"{module} --help does not mention {missing}"
