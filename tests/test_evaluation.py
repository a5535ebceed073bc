"""Evaluation numbers on a model whose predictions are known exactly: Y_hat = X1 + X2."""

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data import Standardizer
from helpers.evaluation import (
    EvaluationResult,
    error_table,
    evaluate,
    max_abs_error,
    predict,
    predict_on_grid,
    rmse,
)


def sum_model() -> nn.Linear:
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 1.0]]))
        model.bias.zero_()
    return model


def identity_scalers() -> tuple[Standardizer, Standardizer]:
    return (
        Standardizer.from_dict({"mean": [0.0, 0.0], "std": [1.0, 1.0]}),
        Standardizer.from_dict({"mean": [0.0], "std": [1.0]}),
    )


def test_rmse_and_max_error_by_hand():
    assert rmse(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([[1.0], [2.0], [5.0]])) == pytest.approx(
        (4 / 3) ** 0.5
    )
    assert max_abs_error(torch.tensor([1.0, -2.0]), torch.tensor([1.5, 1.0])) == pytest.approx(3.0)


def test_rmse_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same, non-zero number"):
        rmse(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(N,\) or \(N, 1\)"):
        rmse(torch.zeros(3, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="torch tensor"):
        max_abs_error([1.0], torch.zeros(1))


def test_predict_standardizes_in_and_destandardizes_out():
    model = sum_model()
    x_scaler = Standardizer.from_dict({"mean": [1.0, 2.0], "std": [2.0, 4.0]})
    y_scaler = Standardizer.from_dict({"mean": [10.0], "std": [3.0]})
    X = torch.tensor([[3.0, 6.0], [1.0, 2.0]])
    # standardized: (1, 1) and (0, 0) → model: 2 and 0 → original units: 2*3+10, 0*3+10
    predicted = predict(model, X, x_scaler, y_scaler)
    torch.testing.assert_close(predicted, torch.tensor([[16.0], [10.0]]))
    assert not predicted.requires_grad  # computed under no_grad


def test_predict_restores_the_train_mode_and_checks_inputs():
    model = sum_model()
    x_scaler, y_scaler = identity_scalers()
    model.train()
    predict(model, torch.ones(2, 2), x_scaler, y_scaler)
    assert model.training
    model.eval()
    predict(model, torch.ones(2, 2), x_scaler, y_scaler)
    assert not model.training
    with pytest.raises(ValueError, match="expects 2 column"):
        predict(model, torch.ones(2, 3), x_scaler, y_scaler)
    with pytest.raises(ValueError, match="torch.nn.Module"):
        predict("model", torch.ones(2, 2), x_scaler, y_scaler)


def test_error_table_columns_and_values():
    X = torch.tensor([[2.0, 3.0], [1.0, 1.0]])
    predicted = predict(sum_model(), X, *identity_scalers())
    table = error_table(X, torch.tensor([[6.0], [1.0]]), predicted)
    assert list(table.columns) == ["X1", "X2", "true Y", "predicted Y", "abs error", "rel error %"]
    np.testing.assert_allclose(table["predicted Y"], [5.0, 2.0])
    np.testing.assert_allclose(table["abs error"], [1.0, 1.0])
    np.testing.assert_allclose(table["rel error %"], [100 / 6, 100.0])
    with pytest.raises(ValueError, match="same number of rows"):
        error_table(X, torch.zeros(3, 1), predicted)
    with pytest.raises(ValueError, match=r"X must be a \(N, 2\) tensor"):
        error_table(torch.zeros(2, 3), torch.zeros(2, 1), predicted)


def test_grid_predictions_have_the_heatmap_layout():
    predicted, true = predict_on_grid(sum_model(), *identity_scalers(), low=1.0, high=10.0, steps=4)
    axis = np.linspace(1.0, 10.0, 4)
    x1, x2 = np.meshgrid(axis, axis)  # X1 along columns, X2 along rows
    np.testing.assert_allclose(predicted.numpy(), x1 + x2, rtol=1e-6)
    np.testing.assert_allclose(true.numpy(), x1 * x2, rtol=1e-6)


def test_evaluate_on_a_known_model():
    X_test = torch.tensor([[2.0, 3.0], [1.0, 1.0]])
    Y_test = torch.tensor([[6.0], [1.0]])
    result = evaluate(sum_model(), *identity_scalers(), X_test, Y_test, steps=101)
    assert isinstance(result, EvaluationResult)
    assert result.heldout_rmse == pytest.approx(1.0)
    assert result.heldout_max_error == pytest.approx(1.0)
    axis = np.linspace(1.0, 10.0, 101)
    x1, x2 = np.meshgrid(axis, axis)
    error = (x1 + x2) - x1 * x2
    assert result.grid_rmse == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-5)
    assert result.grid_max_error == pytest.approx(80.0, rel=1e-5)  # at (10, 10): 20 vs 100
    assert (result.n_heldout, result.grid_steps) == (2, 101)
    assert "RMSE 1.000" in str(result) and "101x101" in str(result)
