"""Exercises of notebooks 02-04: the reference answers are what the code gives (see test_exercise_answers)."""

import torch

from helpers.exercises import check


def test_accuracy_reference_is_what_argmax_gives():
    logits = torch.tensor([[2.0, 0.5, 0.1], [0.2, 0.3, 1.5], [1.0, 2.0, 0.0], [0.3, 0.2, 0.1]])
    labels = torch.tensor([0, 2, 0, 0])
    assert check("03.accuracy", (logits.argmax(dim=1) == labels).float().mean())


def test_one_weight_reference_is_what_autograd_gives():
    w = torch.tensor(1.0, requires_grad=True)
    loss = (w * 2.0 + 0.5 - 7.0) ** 2
    loss.backward()
    assert check("04.one_weight_grad", w.grad.item())
