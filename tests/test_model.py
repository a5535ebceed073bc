import pytest
import torch
from torch import nn

from helpers.model import ProductMLP, count_parameters


def test_default_is_the_notes_network():
    model = ProductMLP()
    assert count_parameters(model) == 193  # (2*16+16) + (16*8+8) + (8*1+1)
    shapes = [tuple(layer.weight.shape) for layer in model.linears]
    assert shapes == [(16, 2), (8, 16), (1, 8)]
    assert [type(m) for m in model.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert model(torch.zeros(4, 2)).shape == (4, 1)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_config_round_trip_rebuilds_the_same_shape(activation):
    model = ProductMLP(hidden_sizes=(5, 4, 3), activation=activation)
    clone = ProductMLP.from_config(model.config)
    assert clone.config == model.config
    clone.load_state_dict(model.state_dict())
    x = torch.randn(7, 2)
    assert torch.equal(clone(x), model(x))


def test_no_hidden_layer_is_linear_regression():
    model = ProductMLP(hidden_sizes=())
    assert count_parameters(model) == 3 and len(model.layers) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_sizes": (16, 0)}, "hidden_sizes must be positive ints"),
        ({"hidden_sizes": (16.0,)}, "hidden_sizes must be positive ints"),
        ({"activation": "gelu"}, r"activation must be one of \['relu', 'sigmoid', 'tanh'\]"),
        ({"in_features": 0}, "in_features must be a positive int"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProductMLP(**kwargs)


def test_from_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown config key"):
        ProductMLP.from_config({"hidden_sizes": [4], "dropout": 0.1})
    with pytest.raises(ValueError, match="must be a dict"):
        ProductMLP.from_config([4])
