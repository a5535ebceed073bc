"""Slider latency of the playground (notebook 07), measured through the dashboard class.

For each repetition a control is set in Python (what a released slider does), and two
times are taken from that moment: to the first live frame of the new run, and to the
finished run with its final plots. The notes' settings (1000 training rows, 2-16-8-1
ReLU, Adam, batch 100, 1000 epochs) alternate between two learning rates.
The browser's round trip (a few milliseconds on 127.0.0.1) is not included.

    .venv/bin/python benchmarks/playground_latency.py [--repeats 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys

import torch

from helpers.dashboard import NOTES_SETTINGS, PlaygroundDashboard, time_control_change


def measure(repeats: int) -> dict[str, object]:
    torch.set_num_threads(1)
    dashboard = PlaygroundDashboard(NOTES_SETTINGS)
    dashboard.wait(timeout=120)  # the first run pays for imports and warm-up: not counted
    first_frames, dones, trainings = [], [], []
    for i in range(repeats):
        lr = 2e-3 if i % 2 == 0 else 1e-3
        first, done, run = time_control_change(dashboard, "lr", lr, timeout=120)
        first_frames.append(first)
        dones.append(done)
        trainings.append(run.history.seconds)
    return {
        "repeats": repeats,
        "first_frame_s": {"median": statistics.median(first_frames), "max": max(first_frames)},
        "done_s": {"median": statistics.median(dones), "max": max(dones)},
        "training_loop_s": {"median": statistics.median(trainings)},
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    result = measure(args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        ff, done, loop = result["first_frame_s"], result["done_s"], result["training_loop_s"]
        print(f"{args.repeats} learning-rate changes on the notes' settings")
        print(f"  to the first live frame: median {ff['median']:.3f} s, max {ff['max']:.3f} s (< 0.3)")
        print(f"  to the final plots:      median {done['median']:.3f} s, max {done['max']:.3f} s (< 1.5)")
        print(f"  training loop alone:     median {loop['median']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
