"""Exercises of notebooks 02-04: the reference answer passes, typical wrong answers fail."""

import pytest
import torch

from helpers.exercises import EXERCISES, check

RIGHT_AND_WRONG = {
    "02.linear_weight_shape": ((2, 5), (5, 2)),
    "02.parameter_count": (16, 20),
    "02.linear_by_hand": (lambda x, w, b: x @ w.T + b, lambda x, w, b: x @ w[:, : x.shape[1]].T),
    "03.stable_softmax": (
        lambda z: torch.exp(z - z.max(dim=-1, keepdim=True).values)
        / torch.exp(z - z.max(dim=-1, keepdim=True).values).sum(dim=-1, keepdim=True),
        lambda z: torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True),  # overflows at 1000: nan
    ),
    "03.iloc_shape": ((2, 3), (2, 4)),
    "03.accuracy": (0.75, 0.5),
    "04.one_weight_grad": (-18.0, -9.0),
    "04.steps": (200, 10),
    "04.mse_grad": (lambda p, t: 2 * (p - t) / p.numel(), lambda p, t: 2 * (p - t)),
}


@pytest.mark.parametrize("key", sorted(RIGHT_AND_WRONG))
def test_reference_passes_and_wrong_answer_fails(key, capsys):
    right, wrong = RIGHT_AND_WRONG[key]
    assert check(key, right) is True
    assert "correct" in capsys.readouterr().out
    assert check(key, wrong) is False
    assert "Hint:" in capsys.readouterr().out
    assert check(key, None) is False  # the placeholder the student starts with


def test_every_exercise_of_02_to_04_is_covered():
    keys = {k for k in EXERCISES if k[:3] in {"02.", "03.", "04."}}
    assert keys == set(RIGHT_AND_WRONG)


def test_accuracy_reference_is_what_argmax_gives():
    logits = torch.tensor([[2.0, 0.5, 0.1], [0.2, 0.3, 1.5], [1.0, 2.0, 0.0], [0.3, 0.2, 0.1]])
    labels = torch.tensor([0, 2, 0, 0])
    assert check("03.accuracy", (logits.argmax(dim=1) == labels).float().mean())


def test_one_weight_reference_is_what_autograd_gives():
    w = torch.tensor(1.0, requires_grad=True)
    loss = (w * 2.0 + 0.5 - 7.0) ** 2
    loss.backward()
    assert check("04.one_weight_grad", w.grad.item())
