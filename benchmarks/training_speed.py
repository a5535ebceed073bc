"""How long does training the notes' network take, four ways? And is the fast trainer as good?

The notes' settings: 1000 samples X1, X2 uniform in [1, 10), Y = X1 * X2, z-score
standardization of all the data (the note has no held-out split), a 2-16-8-1 ReLU
network, MSE, Adam with lr 1e-3, batches of 100, 1000 epochs (10,000 steps).
Each variant starts as the note does: ``torch.manual_seed(1)``, build the model,
then draw the data from the global generator, so all four start from the same
weights and the same data.

    note_script  (a) the note's loop exactly as its script writes it, default threads
    note_script_1_thread (a1) the same with torch.set_num_threads(1): how much of the gap is threads
    train_model  (b) helpers.training.train_model, the taught loop of notebook 05
    dataloader   (c) helpers.training.train_model_with_dataloader, notebook 06
    fast         (d) helpers.fast_training.fast_train_model, the verified NumPy twin

The variants run in turn (a b c d a b c d ...) ``--repeats`` times, so that a busy
spell on the machine hits all of them alike; the table gives medians. "train s" is
the training loop only (as TrainingHistory.seconds measures it); "call s" is the
whole call, set-up and loading the weights back included. "1st callback s" is the
time from the call to its first callback (after epoch 10): what a live dashboard
waits before its first point. Grid RMSE: the de-standardized prediction against
the true product on a 101 x 101 grid over [1, 10]². A short warm-up first pays the
process's one-time import costs (about 2 s for the first torch.optim optimizer), so
that they do not land on whichever variant happens to run first.

Usage::

    .venv/bin/python benchmarks/training_speed.py               # all four, 3 repeats, a table
    .venv/bin/python benchmarks/training_speed.py --json        # the same as JSON
    .venv/bin/python benchmarks/training_speed.py --variant fast --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from helpers.data import Standardizer, make_product_data
from helpers.evaluation import predict_on_grid, rmse
from helpers.fast_training import fast_train_model
from helpers.model import ProductMLP
from helpers.training import TrainingHistory, train_model, train_model_with_dataloader

EPOCHS = 1000
BATCH_SIZE = 100
LR = 1e-3
N_SAMPLES = 1000
NOTE_SEED = 1  # the note's torch.manual_seed(1)
DEFAULT_THREADS = torch.get_num_threads()  # what the note's script gets: torch's default


def grid_rmse(model: nn.Module, x_scaler: Standardizer, y_scaler: Standardizer) -> float:
    predicted, true = predict_on_grid(model, x_scaler, y_scaler, 1.0, 10.0, 101)
    return rmse(predicted.reshape(-1), true.reshape(-1))


# --- (a) the note's script, its logic copied as it is written (model, data, z-score, loop) --------------
class simpleNN(nn.Module):  # noqa: N801 (the note's name)
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x):
        x = torch.relu(self.fc(x))
        x = torch.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def run_note_script(threads: int = DEFAULT_THREADS) -> dict[str, float]:
    """The note's hand-written-batch script: same statements, same order, same prints (silenced)."""
    torch.set_num_threads(threads)
    call_start = time.perf_counter()
    torch.manual_seed(1)
    np.random.seed(1)
    model = simpleNN()
    X1 = 1 + 9 * torch.rand(1000)
    X2 = 1 + 9 * torch.rand(1000)
    Y = X1 * X2

    def z_score(x):
        return (x - x.mean()) / x.std(), x.mean(), x.std()

    X1, X1_mean, X1_std = z_score(X1)
    X2, X2_mean, X2_std = z_score(X2)
    Y, Y_mean, Y_std = z_score(Y)
    X = torch.stack([X1, X2], dim=1)
    Y = Y.unsqueeze(-1)

    batchsize = 100
    num_epochs = 1000
    dataset_size = len(X)
    num_batches = dataset_size // batchsize
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.001)

    with contextlib.redirect_stdout(io.StringIO()):  # the script prints every 10 epochs; keep the cost
        loop_start = time.perf_counter()
        for epoch in range(num_epochs):
            indices = torch.randperm(dataset_size)
            X_shuffle = X[indices]
            Y_shuffle = Y[indices]
            epoch_loss = 0
            for i in range(num_batches):
                start = i * batchsize
                end = (i + 1) * batchsize
                batch_x = X_shuffle[start:end]
                batch_y = Y_shuffle[start:end]
                optimizer.zero_grad()
                y_pred = model(batch_x)
                loss = criterion(y_pred, batch_y)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item()
            avg_loss = epoch_loss / num_batches  # noqa: F841 (computed and never used, as in the note)
            if (epoch + 1) % 10 == 0:
                print(f"Epoch[{epoch + 1}/1000],loss:{loss.item():.4f}")
        train_seconds = time.perf_counter() - loop_start
    call_seconds = time.perf_counter() - call_start
    torch.set_num_threads(DEFAULT_THREADS)
    x_scaler = Standardizer.from_dict({"mean": [X1_mean.item(), X2_mean.item()],
                                       "std": [X1_std.item(), X2_std.item()]})
    y_scaler = Standardizer.from_dict({"mean": [Y_mean.item()], "std": [Y_std.item()]})
    return {"train_seconds": train_seconds, "call_seconds": call_seconds,
            "grid_rmse": grid_rmse(model, x_scaler, y_scaler)}


# --- (b), (c), (d): the course's trainers, same start ----------------------------------------------------
def notes_start() -> tuple[ProductMLP, torch.Tensor, torch.Tensor, Standardizer, Standardizer]:
    """The note's global-seed recipe: seed 1, build the model, then draw the data; z-score all of it."""
    torch.manual_seed(NOTE_SEED)
    np.random.seed(NOTE_SEED)
    model = ProductMLP()  # the same Linear layers in the same order as simpleNN: the same initial weights
    X, Y = make_product_data(N_SAMPLES)  # seed=None: the global generator, as the note's torch.rand
    x_scaler, y_scaler = Standardizer().fit(X), Standardizer().fit(Y)
    return model, x_scaler.transform(X), y_scaler.transform(Y), x_scaler, y_scaler


def course_variant(trainer: Callable[..., TrainingHistory]) -> Callable[[], dict[str, float]]:
    def run() -> dict[str, float]:
        model, X, Y, x_scaler, y_scaler = notes_start()
        first_callback: list[float] = []
        call_start = time.perf_counter()

        def note_first_callback(epoch: int, history: TrainingHistory) -> None:
            if not first_callback:
                first_callback.append(time.perf_counter() - call_start)

        history = trainer(model, X, Y, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, optimizer="adam",
                          seed=NOTE_SEED, callback=note_first_callback, callback_every=10)
        call_seconds = time.perf_counter() - call_start
        return {"train_seconds": history.seconds, "call_seconds": call_seconds,
                "first_callback_seconds": first_callback[0],
                "grid_rmse": grid_rmse(model, x_scaler, y_scaler), "final_train_loss": history.train_loss[-1]}

    return run


VARIANTS: dict[str, tuple[str, Callable[[], dict[str, float]]]] = {
    "note_script": ("(a) the note's script as written, default threads", run_note_script),
    "note_script_1_thread": ("(a1) the same script with torch.set_num_threads(1)",
                             lambda: run_note_script(threads=1)),
    "train_model": ("(b) helpers.training.train_model (notebook 05)", course_variant(train_model)),
    "dataloader": ("(c) train_model_with_dataloader (notebook 06)",
                   course_variant(train_model_with_dataloader)),
    "fast": ("(d) helpers.fast_training.fast_train_model", course_variant(fast_train_model)),
}


def machine(load_at_start: tuple[float, float, float]) -> dict[str, Any]:
    model_name = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        model_name = names[0] if names else model_name
    return {
        "cpu": model_name,
        "cores": os.cpu_count(),
        "torch_default_threads": DEFAULT_THREADS,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "load_average_at_start": [round(v, 2) for v in load_at_start],
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
    }


def warm_up() -> None:
    """Pay the one-time costs of a process (the first torch.optim optimizer imports parts of torch,
    about 2 s; tqdm, DataLoader) before timing, so they do not land on whichever variant runs first."""
    model, X, Y, _, _ = notes_start()
    for trainer in (train_model, train_model_with_dataloader, fast_train_model):
        trainer(model, X, Y, epochs=1, callback=lambda epoch, history: None)
    optim.Adam(simpleNN().parameters(), lr=0.001).step()


def run_benchmark(names: list[str], repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    load_at_start = os.getloadavg()  # 1, 5, 15-minute load: above the core count, timings are inflated
    warm_up()
    for repeat in range(1, repeats + 1):
        for name in names:  # alternating: a b c d, a b c d, ...
            result = VARIANTS[name][1]()
            runs[name].append(result)
            log(f"repeat {repeat}/{repeats} {name:12s} train {result['train_seconds']:7.3f} s  "
                f"grid RMSE {result['grid_rmse']:.4f}")
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        entry: dict[str, Any] = {"label": VARIANTS[name][0], "runs": results}
        for key in results[0]:
            entry[f"median_{key}"] = statistics.median(r[key] for r in results)
        summary[name] = entry
    report: dict[str, Any] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(load_at_start),
        "settings": {"samples": N_SAMPLES, "network": "2-16-8-1 ReLU", "loss": "MSE", "optimizer": "Adam",
                     "lr": LR, "batch_size": BATCH_SIZE, "epochs": EPOCHS, "repeats": repeats},
        "variants": summary,
    }
    for baseline in ("note_script", "note_script_1_thread", "train_model"):
        if baseline in summary and "fast" in summary:
            report[f"speedup_fast_over_{baseline}"] = (
                summary[baseline]["median_train_seconds"] / summary["fast"]["median_train_seconds"]
            )
    return report


def print_table(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"{report['date']}  {m['cpu']}, {m['cores']} cores, torch {m['torch']} "
          f"(default {m['torch_default_threads']} threads), numpy {m['numpy']}, "
          f"load average at start {m['load_average_at_start']}, at end {m['load_average_at_end']}")
    print(f"median of {report['settings']['repeats']} alternating runs; 1000 samples, 2-16-8-1 ReLU, "
          "Adam 1e-3, batch 100, 1000 epochs\n")
    header = f"| {'variant':52s} | train s | call s | 1st callback s | grid RMSE |"
    print(header)
    print("|" + "|".join("-" * (len(part) + 0) for part in header.split("|")[1:-1]) + "|")
    for entry in report["variants"].values():
        first = entry.get("median_first_callback_seconds")
        first_text = f"{first:14.3f}" if first is not None else f"{'-':>14s}"
        print(f"| {entry['label']:52s} | {entry['median_train_seconds']:7.3f} | "
              f"{entry['median_call_seconds']:6.3f} | {first_text} | {entry['median_grid_rmse']:9.4f} |")
    print()
    for baseline, label in (("note_script", "(a) the note's script"),
                            ("note_script_1_thread", "(a1) the note's script, 1 thread"),
                            ("train_model", "(b) train_model")):
        if f"speedup_fast_over_{baseline}" in report:
            print(f"speed-up of (d) fast over {label} (median training loop): "
                  f"{report[f'speedup_fast_over_{baseline}']:.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant (default 3)")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="run only this variant (may be given more than once)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    names = args.variant or list(VARIANTS)
    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    report = run_benchmark(names, args.repeats, log)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print()
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
