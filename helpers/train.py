"""``python -m helpers.train``: the notes' ``src/train.py``, driven by ``configs/product.yaml``.

One command does what the notebooks do by hand, and keeps everything it makes::

    python -m helpers.train --config configs/product.yaml
    python -m helpers.train --epochs 50 --lr 0.01 --hidden-sizes 16 8 --output-dir /tmp/try

1. read and check the configuration (``helpers.config``); any flag overrides the file,
2. draw the product data with ``data.data_seed``, split it with ``data.split_seed``,
   fit the two standardizers on the training part only (``helpers.data``),
3. build the network with ``training.seed`` (``helpers.model``) and train it with
   the course's loop, ``helpers.training.train_model``, showing a progress bar,
4. after every epoch append ``epoch, train_loss, test_loss, seconds`` to
   ``logs/RUN.csv``; whenever the held-out loss reaches a new low, rewrite
   ``models/best.pth``; every ``output.checkpoint_every`` epochs keep a snapshot in
   ``models/checkpoints/RUN/epoch_NNNN.pth`` (``helpers.checkpoint``, atomic writes),
5. print where everything went.

Every checkpoint carries the full configuration (``extra["config"]``), so
``python -m helpers.evaluate`` can regenerate the very same held-out set from the
seeds in it: the data are drawn from seeded private generators, so the same
settings give the same samples (evaluate checks this against the saved
standardization statistics).
"""

from __future__ import annotations

import argparse
import csv
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import torch

from helpers.checkpoint import save_checkpoint
from helpers.config import (
    FIELDS,
    SECTIONS,
    Config,
    ConfigError,
    DataConfig,
    default_config_path,
    load_config,
    save_config,
)
from helpers.data import ProductData, prepare_product_data
from helpers.model import ProductMLP, count_parameters
from helpers.seed import set_seed
from helpers.training import TrainingHistory, train_model

__all__ = [
    "LOG_COLUMNS",
    "RunResult",
    "build_parser",
    "main",
    "overrides_from_args",
    "prepare_data",
    "read_log",
    "run_training",
]

LOG_COLUMNS = ("epoch", "train_loss", "test_loss", "seconds")

# best.pth is rewritten at a new lowest held-out loss, but at most once per this many seconds (and once at the
# end): early in training nearly every epoch is a new best, and writing a file each time would double the
# run's time. A crash loses at most this much progress of the best model.
BEST_SAVE_INTERVAL_S = 1.0


def prepare_data(data: DataConfig) -> ProductData:
    """Draw, split and standardize the data exactly as described by ``data`` (same seeds, same data)."""
    return prepare_product_data(data.n_samples, data.low, data.high, noise_std=data.noise_std,
                                test_fraction=data.test_fraction, data_seed=data.data_seed,
                                split_seed=data.split_seed)


@dataclass
class RunResult:
    """What one training run produced, and where it put it."""

    run_name: str
    best_path: Path
    log_path: Path
    config_path: Path
    checkpoint_dir: Path
    checkpoints: list[Path]
    history: TrainingHistory
    wall_seconds: float
    best_rmse: float | None = None  # held-out RMSE of the best epoch, in units of Y
    notes: list[str] = field(default_factory=list)


def _run_name(logs_dir: Path, wanted: str | None) -> str:
    if wanted:
        return wanted
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name, n = stamp, 2
    while (logs_dir / f"{name}.csv").exists():  # two runs in the same second
        name, n = f"{stamp}-{n}", n + 1
    return name


def run_training(config: Config, *, progress: bool = True, stream: TextIO | None = None) -> RunResult:
    """Train one model as ``config`` says, writing the log, the checkpoints and best.pth."""
    out = stream if stream is not None else sys.stdout

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    root = Path(config.output.output_dir)
    models_dir, logs_dir = root / "models", root / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    run_name = _run_name(logs_dir, config.output.run_name)
    log_path = logs_dir / f"{run_name}.csv"
    config_path = save_config(config, logs_dir / f"{run_name}.yaml")
    best_path = models_dir / "best.pth"
    checkpoint_dir = models_dir / "checkpoints" / run_name
    notes: list[str] = []
    stale = sorted(checkpoint_dir.glob("epoch_*.pth")) if checkpoint_dir.exists() else []
    for old in stale:  # a rerun under the same name replaces that run's snapshots
        old.unlink()
    if stale:
        notes.append(f"removed {len(stale)} old checkpoint(s) of an earlier run named {run_name!r}")

    data = prepare_data(config.data)
    X_train, Y_train, X_test, Y_test = data.standardized
    set_seed(config.training.seed)
    model = ProductMLP(hidden_sizes=config.model.hidden_sizes, activation=config.model.activation)
    extra_base: dict[str, Any] = {"config": config.to_dict(), "run_name": run_name}

    t = config.training
    say(f"Run {run_name!r}: {len(X_train)} training and {len(X_test)} held-out samples, "
        f"network {[2, *config.model.hidden_sizes, 1]} ({count_parameters(model)} parameters), "
        f"{t.epochs} epochs, batch {t.batch_size}, {t.optimizer} lr={t.lr}, seed {t.seed}")

    checkpoints: list[Path] = []
    every = config.output.checkpoint_every
    best_saved = {"epoch": 0, "at": float("-inf")}

    def save_best(epoch: int, history: TrainingHistory) -> None:
        save_checkpoint(best_path, model, data.x_scaler, data.y_scaler, epoch=epoch, history=history,
                        extra={**extra_base, "kind": "best"})
        best_saved.update(epoch=epoch, at=time.perf_counter())

    start = time.perf_counter()
    with open(log_path, "w", newline="", encoding="utf-8") as log_file:
        writer = csv.writer(log_file)
        writer.writerow(LOG_COLUMNS)

        def after_epoch(epoch: int, history: TrainingHistory) -> None:
            # history.seconds is the training time so far; writing files here is not counted in it.
            writer.writerow([epoch, f"{history.train_loss[-1]:.8g}", f"{history.test_loss[-1]:.8g}",
                             f"{history.seconds:.4f}"])
            log_file.flush()  # a crash or Ctrl-C keeps every finished epoch in the log
            if history.best_epoch == epoch:  # a new lowest held-out loss: this is the best model so far
                if time.perf_counter() - best_saved["at"] >= BEST_SAVE_INTERVAL_S:
                    save_best(epoch, history)
            if every and epoch % every == 0:
                path = checkpoint_dir / f"epoch_{epoch:04d}.pth"
                save_checkpoint(path, model, data.x_scaler, data.y_scaler, epoch=epoch, history=history,
                                extra={**extra_base, "kind": "periodic"})
                checkpoints.append(path)

        history = train_model(
            model, X_train, Y_train, X_test, Y_test,
            epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer, seed=t.seed,
            callback=after_epoch, callback_every=1, progress=progress, keep_best=True, on_diverge="stop",
        )
    if history.best_epoch is not None and history.best_epoch != best_saved["epoch"]:
        # A newer best arrived less than BEST_SAVE_INTERVAL_S after the last write. keep_best=True has put
        # the best weights back into the model, so write them now.
        save_best(history.best_epoch, history)
    wall = time.perf_counter() - start

    best_rmse = None
    if history.best_test_loss is not None:
        # MSE in standardized units -> RMSE in units of Y: undo the division by Y's std.
        best_rmse = float(history.best_test_loss) ** 0.5 * float(data.y_scaler.std[0])  # type: ignore[index]
    result = RunResult(run_name, best_path, log_path, config_path, checkpoint_dir, checkpoints, history, wall,
                       best_rmse, notes)
    _report(result, config, say)
    return result


def _report(result: RunResult, config: Config, say: Any) -> None:
    history = result.history
    if history.diverged_at is not None:
        say(f"Training DIVERGED in epoch {history.diverged_at}: the loss became NaN or infinite. "
            f"The learning rate {config.training.lr} is probably too large; try a 10 times smaller one.")
    else:
        say(f"Done: {history.epochs_run} epochs in {history.seconds:.1f} s of training "
            f"({result.wall_seconds:.1f} s in all, with setup and writing files).")
    if history.best_epoch is not None:
        say(f"Best held-out loss {history.best_test_loss:.6f} (standardized MSE) in epoch "
            f"{history.best_epoch}: held-out RMSE about {result.best_rmse:.3f} in units of Y.")
    for note in result.notes:
        say(f"Note: {note}.")
    say("Written:")
    if result.best_path.exists() and history.best_epoch is not None:
        say(f"  best model    {result.best_path}   (epoch {history.best_epoch}, lowest held-out loss)")
    if result.checkpoints:
        say(f"  checkpoints   {result.checkpoint_dir}/   ({len(result.checkpoints)} files, every "
            f"{config.output.checkpoint_every} epochs)")
    say(f"  log           {result.log_path}   ({', '.join(LOG_COLUMNS)}; one row per epoch)")
    say(f"  settings      {result.config_path}   (the exact configuration of this run)")
    if result.best_path.exists() and history.best_epoch is not None:
        say(f"Next: python -m helpers.evaluate {result.best_path}")


def read_log(path: str | Path) -> dict[str, list[float]]:
    """Read a training log CSV back: one list per column (``epoch`` as ints)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != LOG_COLUMNS:
            raise ValueError(f"{path} is not a training log: columns {reader.fieldnames}, expected "
                             f"{list(LOG_COLUMNS)}")
        columns: dict[str, list[float]] = {name: [] for name in LOG_COLUMNS}
        for row in reader:
            for name in LOG_COLUMNS:
                columns[name].append(int(row[name]) if name == "epoch" else float(row[name]))
    return columns


# ---- the command line ----------------------------------------------------------------------------

_FLAG_TYPES = {"int": int, "float": float, "str": str, "optional_str": str}


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m helpers.train`` parser: --config plus one flag per configuration field."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.train",
        description=textwrap.fill(
            "Train the product MLP (Y = X1 * X2) with the course's training loop. Settings come from a YAML "
            "file (--config); every setting can be overridden by the flag of the same name. Writes "
            "OUTPUT_DIR/logs/RUN.csv (epoch, train_loss, test_loss, seconds) and OUTPUT_DIR/logs/RUN.yaml "
            "(the settings used), OUTPUT_DIR/models/best.pth (the lowest held-out loss so far, rewritten at "
            "most once a second and at the end) and OUTPUT_DIR/models/checkpoints/RUN/epoch_NNNN.pth "
            "(every --checkpoint-every epochs)."
        ),
        epilog=(
            "Examples:\n"
            "  python -m helpers.train --config configs/product.yaml\n"
            "  python -m helpers.train --epochs 200 --lr 0.01 --hidden-sizes 32 16 --run-name wide\n"
            "  python -m helpers.train --show-config --seed 3\n"
            "Then: python -m helpers.evaluate models/best.pth\n"
            "Exit status: 0 trained, 1 the training diverged, 2 bad configuration or flags."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # "--epoch 10" is an error, not silently "--epochs 10"
    )
    parser.add_argument("--config", type=Path, default=default_config_path(), metavar="FILE",
                        help="YAML configuration file (default: the repository's configs/product.yaml)")
    parser.add_argument("--show-config", action="store_true",
                        help="print the configuration after the overrides, and exit without training")
    parser.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    for section in SECTIONS:
        group = parser.add_argument_group(f"{section} settings (override the file's '{section}:' section)")
        for spec in (s for s in FIELDS if s.section == section):
            default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
            default = "null" if default is None else default
            text = f"{spec.help} [config: {spec.path}; built-in default: {default}]"
            if spec.choices:
                text = f"{spec.help}: one of {', '.join(spec.choices)} [config: {spec.path}; built-in " \
                       f"default: {default}]"
            metavar = spec.name.upper()
            if spec.kind == "int_list":
                group.add_argument(spec.flag, dest=spec.path, type=int, nargs="+", metavar="UNITS", help=text)
            else:
                group.add_argument(spec.flag, dest=spec.path, type=_FLAG_TYPES[spec.kind], metavar=metavar,
                                   help=text)
    return parser


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration values given as flags, by dotted name (flags left out are not included)."""
    return {spec.path: vars(args)[spec.path] for spec in FIELDS if vars(args).get(spec.path) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m helpers.train``; returns the exit status."""
    import yaml

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, overrides_from_args(args))
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.show_config:
        print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")
        return 0
    result = run_training(config, progress=not args.no_progress)
    return 1 if result.history.diverged_at is not None else 0


if __name__ == "__main__":
    torch.set_num_threads(1)  # a tiny network: one thread is faster (shared/notes/performance.md)
    sys.exit(main())
