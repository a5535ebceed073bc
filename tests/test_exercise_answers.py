"""Every registered exercise: the reference answer passes, a typical wrong answer and the placeholder fail.

One table for the whole course, and a test that the table and the registry hold the same keys,
so an exercise added to ``helpers.exercises`` without a right and a wrong case fails here.
Checks of particular messages and judges live in the per-notebook files (test_exercises_NN.py).
"""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import EXERCISES, check
from helpers.model import ProductMLP, count_parameters


def _stable_softmax(z: torch.Tensor) -> torch.Tensor:
    shifted = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return shifted / shifted.sum(dim=-1, keepdim=True)


WHERE_IT_GOES = {
    "learning rate": "configs",
    "training loop": "helpers",
    "best weights": "models",
    "loss of every epoch": "logs",
    "check that evaluate runs": "tests",
}

# key: (a reference answer, a typical wrong answer)
CASES = {
    "00.first_check": (8.0, 24 / 4),
    "01.stack_shape": ((5, 2), (2, 5)),
    "01.population_std": (torch.tensor([1.0, 2.0, 3.0, 4.0]).std(correction=0).item(), 1.291),
    "01.to_original_units": (lambda y, mean, std: y * std + mean, lambda y, mean, std: (y + mean) * std),
    "02.linear_weight_shape": ((2, 5), (5, 2)),
    "02.parameter_count": (16, 20),
    "02.linear_by_hand": (lambda x, w, b: x @ w.T + b, lambda x, w, b: x @ w[:, : x.shape[1]].T),
    "03.stable_softmax": (
        _stable_softmax,
        lambda z: torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True),  # overflows at 1000: nan
    ),
    "03.iloc_shape": ((2, 3), (2, 4)),
    "03.accuracy": (0.75, 0.5),
    "04.one_weight_grad": (-18.0, -9.0),
    "04.steps": (200, 10),
    "04.mse_grad": (lambda p, t: 2 * (p - t) / p.numel(), lambda p, t: 2 * (p - t)),
    "05.steps_per_epoch": (16, 15),
    "05.true_epoch_mean": (0.44, (0.2 + 0.4 + 1.0) / 3),
    "05.param_count": (641, 609),
    "05.to_original_units": (40.25, 0.5),
    "06.loader_len": ((16, 15), (15, 15)),
    "06.item_shapes": (((2,), (1,)), ((1, 2), (1, 1))),
    "06.getitem_calls": (1_000_000, 10_000),
    "07.parameter_count": (count_parameters(ProductMLP(hidden_sizes=(4, 4))), 32),
    "07.linear_grid_rmse": (6.9, 0.3),
    "08.kinks_one_layer": (16, 17),
    "08.log_weights": ((1.0, 1.0, 0.0), (0.5, 0.5, 0.0)),
    "08.param_count_64_64": (count_parameters(ProductMLP(hidden_sizes=(64, 64))), 64 * 64 + 2 * 64 + 64),
    "08.overfit_signal": ("held-out", "training"),
    "09.train_flags": (["--epochs", "50", "--lr", "0.01", "--output-dir", "try"], ["--epochs", "50"]),
    "09.checkpoint_count": (len(range(40, 301, 40)), 300 / 40),
    "09.best_epoch": (
        lambda losses: losses.index(min(losses)) + 1,
        lambda losses: losses.index(min(losses)),  # counts epochs from 0
    ),
    "09.where_it_goes": (WHERE_IT_GOES, {**WHERE_IT_GOES, "best weights": "logs"}),
}


def test_every_registered_exercise_has_a_case() -> None:
    missing = sorted(set(EXERCISES) - set(CASES))
    unknown = sorted(set(CASES) - set(EXERCISES))
    assert not missing, f"registered exercises without a right and a wrong answer here: {missing}"
    assert not unknown, f"cases for exercises that are not registered: {unknown}"


@pytest.mark.parametrize("key", sorted(CASES))
def test_reference_passes_wrong_answer_and_placeholder_fail(key: str, capsys) -> None:
    right, wrong = CASES[key]
    assert EXERCISES[key].question and EXERCISES[key].hint
    assert check(key, right) is True
    assert "correct" in capsys.readouterr().out
    assert check(key, wrong) is False
    assert "Hint:" in capsys.readouterr().out
    assert check(key, None) is False  # the placeholder a student starts with
