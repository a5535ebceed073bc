"""Exercises of notebook 07: the reference answer passes, a wrong one or the placeholder fails."""

from dataclasses import replace

from helpers.dashboard import NOTES_SETTINGS, train_with_settings
from helpers.exercises import check
from helpers.model import ProductMLP, count_parameters


def test_07_parameter_count(capsys):
    assert check("07.parameter_count", count_parameters(ProductMLP(hidden_sizes=(4, 4)))) is True
    assert check("07.parameter_count", 32) is False  # the biases forgotten
    assert "expected 37, got 32" in capsys.readouterr().out
    assert check("07.parameter_count", None) is False


def test_07_linear_grid_rmse_matches_what_the_playground_shows(capsys):
    _, _, snapshot = train_with_settings(replace(NOTES_SETTINGS, hidden_sizes=()))
    assert check("07.linear_grid_rmse", round(snapshot.grid_rmse, 1)) is True
    assert check("07.linear_grid_rmse", 0.3) is False  # the notes' network, not the linear model
    assert check("07.linear_grid_rmse", None) is False
    assert "Hint:" in capsys.readouterr().out
