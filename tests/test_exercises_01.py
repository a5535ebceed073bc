"""Exercises of notebooks 00 and 01: the reference answer passes, a wrong one fails with a clear message."""

import torch

from helpers.exercises import check


def test_00_first_check(capsys):
    assert check("00.first_check", 8.0) is True
    assert check("00.first_check", 24 / 4) is False
    assert "expected 8, got 6" in capsys.readouterr().out
    assert check("00.first_check", None) is False  # the notebook's placeholder does not raise


def test_01_stack_shape(capsys):
    a, b = torch.zeros(5), torch.ones(5)
    assert check("01.stack_shape", tuple(torch.stack([a, b], dim=1).shape)) is True
    assert check("01.stack_shape", torch.stack([a, b], dim=1).shape) is True  # a torch.Size works too
    assert check("01.stack_shape", (2, 5)) is False
    assert "expected (5, 2), got (2, 5)" in capsys.readouterr().out


def test_01_population_std(capsys):
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert check("01.population_std", values.std(correction=0).item()) is True
    assert check("01.population_std", values.std()) is False  # torch's default divides by N - 1
    out = capsys.readouterr().out
    assert "expected 1.118, got 1.291" in out and "Hint:" in out


def test_01_to_original_units(capsys):
    def right(y_standardized, mean, std):
        return y_standardized * std + mean

    def backwards(y_standardized, mean, std):
        return (y_standardized + mean) * std

    def placeholder(y_standardized, mean, std):
        return None

    assert check("01.to_original_units", right) is True
    assert check("01.to_original_units", backwards) is False
    assert "expected [[40.25], [10.25], [30.25]]" in capsys.readouterr().out
    assert check("01.to_original_units", placeholder) is False
    assert "your function returned None" in capsys.readouterr().out
    assert check("01.to_original_units", 40.25) is False  # a number, not a function
