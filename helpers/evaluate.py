"""``python -m helpers.evaluate``: the notes' ``src/test.py``. Scores a checkpoint from the file alone.

::

    python -m helpers.evaluate models/best.pth              # held-out and grid RMSE, error table
    python -m helpers.evaluate models/best.pth --x1 3 --x2 7  # predict one product

The checkpoint holds the network's shape, its weights and both standardizers
(``helpers.checkpoint``), so it predicts in original units on its own. To score
it on *the same* held-out samples the training never saw, the command rebuilds
them: ``helpers.train`` stores its whole configuration in every checkpoint
(``extra["config"]``), and the data are drawn from seeded generators, so
``prepare_data`` with the saved ``data`` settings gives the same samples and the
same split again. As a guard, the standardization statistics of the rebuilt
training part must equal the saved ones; if they do not (another torch version
drawing different random numbers, say), the held-out numbers are skipped with a
message and only the grid is scored. A checkpoint without a configuration (one
saved from a notebook) is scored on the grid only.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import torch

from helpers.checkpoint import CheckpointError, LoadedCheckpoint, load_checkpoint
from helpers.config import Config, ConfigError, DataConfig, config_from_dict
from helpers.data import ProductData
from helpers.evaluation import error_table, evaluate, max_abs_error, predict, predict_on_grid, rmse
from helpers.train import prepare_data

__all__ = ["build_parser", "main", "predict_one", "rebuild_heldout", "report"]


def saved_config(checkpoint: LoadedCheckpoint) -> Config | None:
    """The training configuration stored in the checkpoint by ``helpers.train`` (None if absent)."""
    extra = checkpoint.extra
    if not isinstance(extra, dict) or "config" not in extra:
        return None
    return config_from_dict(extra["config"], source=f"{checkpoint.path} (saved settings)")


def rebuild_heldout(checkpoint: LoadedCheckpoint, config: Config) -> tuple[ProductData | None, str]:
    """Regenerate the run's data from the saved settings; check it against the saved standardizers.

    Returns the data (None if the check fails) and a one-line verdict.
    """
    data = prepare_data(config.data)
    pairs = [(data.x_scaler, checkpoint.x_scaler), (data.y_scaler, checkpoint.y_scaler)]
    same = all(
        torch.allclose(rebuilt.mean, saved.mean, rtol=1e-5, atol=1e-6)  # type: ignore[arg-type]
        and torch.allclose(rebuilt.std, saved.std, rtol=1e-5, atol=1e-6)  # type: ignore[arg-type]
        for rebuilt, saved in pairs
    )
    if not same:
        return None, (
            "the data rebuilt from the saved seeds do not match the checkpoint's standardization statistics "
            "(different library versions draw different random numbers?): held-out scores skipped"
        )
    return data, (
        f"held-out set rebuilt from the saved seeds (data_seed={config.data.data_seed}, "
        f"split_seed={config.data.split_seed}): {len(data.X_test)} samples, statistics match the checkpoint"
    )


def predict_one(checkpoint: LoadedCheckpoint, x1: float, x2: float) -> float:
    """The checkpoint's prediction of x1 * x2, in original units."""
    X = torch.tensor([[x1, x2]], dtype=torch.float32)
    return float(predict(checkpoint.model, X, checkpoint.x_scaler, checkpoint.y_scaler)[0, 0])


def _describe(checkpoint: LoadedCheckpoint, config: Config | None) -> str:
    extra = checkpoint.extra if isinstance(checkpoint.extra, dict) else {}
    model = checkpoint.model
    parts = [f"Checkpoint {checkpoint.path}: epoch {checkpoint.epoch}"]
    if extra.get("kind"):
        parts.append(f"{extra['kind']} model")
    if extra.get("run_name"):
        parts.append(f"run {extra['run_name']!r}")
    parts.append(f"network {[model.in_features, *model.hidden_sizes, model.out_features]} {model.activation}")
    if config is not None:
        t = config.training
        parts.append(f"trained with {t.optimizer} lr={t.lr}, batch {t.batch_size}, seed {t.seed}")
    return ", ".join(parts)


def report(checkpoint: LoadedCheckpoint, *, rows: int | None = None, grid_steps: int | None = None,
           stream: TextIO | None = None) -> int:
    """Print held-out and grid scores and the error table; return the exit status."""
    out = stream if stream is not None else sys.stdout

    def say(text: str = "") -> None:
        print(text, file=out)

    try:
        config = saved_config(checkpoint)
    except ConfigError as error:
        say(f"warning: the checkpoint's saved settings are not valid here ({error}); using the grid only")
        config = None
    data_settings = config.data if config is not None else DataConfig()
    steps = grid_steps or (config.evaluation.grid_steps if config is not None else 101)
    rows = rows or (config.evaluation.table_rows if config is not None else 10)
    say(_describe(checkpoint, config))

    data = None
    if config is None:
        say("No training settings in this checkpoint (it was not written by helpers.train): the held-out set "
            "cannot be rebuilt; scoring on the grid over "
            f"[{data_settings.low:g}, {data_settings.high:g}]² only.")
    else:
        data, verdict = rebuild_heldout(checkpoint, config)
        say(verdict)
    say("")
    model, xs, ys = checkpoint.model, checkpoint.x_scaler, checkpoint.y_scaler
    low, high = data_settings.low, data_settings.high
    if data is not None:
        result = evaluate(model, xs, ys, data.X_test, data.Y_test, low=low, high=high, steps=steps)
        say("Errors in units of Y (root-mean-square error and the largest single error):")
        say(str(result))
        predicted = predict(model, data.X_test, xs, ys)
        table = error_table(data.X_test[:rows], data.Y_test[:rows], predicted[:rows])
        say("")
        say(f"The first {len(table)} held-out samples:")
        say(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    else:
        grid_predicted, grid_true = predict_on_grid(model, xs, ys, low, high, steps)
        flat_predicted, flat_true = grid_predicted.reshape(-1), grid_true.reshape(-1)
        say(f"grid {steps}x{steps} over [{low:g}, {high:g}]²: RMSE {rmse(flat_predicted, flat_true):.3f}, "
            f"max error {max_abs_error(flat_predicted, flat_true):.3f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.evaluate",
        description=textwrap.fill(
            "Score a checkpoint written by `python -m helpers.train` from the file alone: RMSE and largest "
            "error (in units of Y) on the run's held-out samples, rebuilt from the seeds saved in the "
            "checkpoint, and on a regular grid over the training square; then a table of held-out samples "
            "with true and predicted Y. With --x1 and --x2, predict that one product instead."
        ),
        epilog=(
            "Examples:\n"
            "  python -m helpers.evaluate models/best.pth\n"
            "  python -m helpers.evaluate models/checkpoints/RUN/epoch_0100.pth --rows 5\n"
            "  python -m helpers.evaluate models/best.pth --x1 3 --x2 7\n"
            "Exit status: 0 done, 2 missing or unreadable checkpoint, or bad flags."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", type=Path, help="checkpoint file, e.g. models/best.pth")
    parser.add_argument("--x1", type=float, help="first factor of one product to predict (needs --x2)")
    parser.add_argument("--x2", type=float, help="second factor of one product to predict (needs --x1)")
    parser.add_argument("--rows", type=int, metavar="N",
                        help="rows of the held-out error table (default: the saved evaluation.table_rows)")
    parser.add_argument("--grid-steps", type=int, metavar="N",
                        help="score on an N x N grid (default: the saved evaluation.grid_steps)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m helpers.evaluate``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.x1 is None) != (args.x2 is None):
        parser.error("give both --x1 and --x2 to predict one product, or neither")
    if args.rows is not None and args.rows < 1:
        parser.error(f"--rows must be >= 1, got {args.rows}")
    if args.grid_steps is not None and args.grid_steps < 2:
        parser.error(f"--grid-steps must be >= 2, got {args.grid_steps}")
    try:
        checkpoint = load_checkpoint(args.checkpoint)
    except (FileNotFoundError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.x1 is not None:
        predicted = predict_one(checkpoint, args.x1, args.x2)
        true = args.x1 * args.x2
        print(f"X1 = {args.x1:g}, X2 = {args.x2:g}: predicted Y = {predicted:.3f}, "
              f"true X1 * X2 = {true:g}, error {abs(predicted - true):.3f}")
        try:
            config = saved_config(checkpoint)
        except ConfigError:
            config = None
        data = config.data if config is not None else DataConfig()
        outside = [name for name, v in (("X1", args.x1), ("X2", args.x2)) if not data.low <= v <= data.high]
        if outside:
            print(f"warning: {' and '.join(outside)} outside the training range "
                  f"[{data.low:g}, {data.high:g}]: the network learned the product only where it saw data "
                  "and does not extrapolate it")
        return 0
    return report(checkpoint, rows=args.rows, grid_steps=args.grid_steps)


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
