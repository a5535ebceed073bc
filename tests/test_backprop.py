"""The hand-written backward pass must agree with autograd, gradient by gradient."""

import pytest
import torch
from torch import nn

from helpers.backprop import forward_with_cache, mse_backward, parameters_of
from helpers.model import ProductMLP


def autograd_reference(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    model.zero_grad()
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


ARCHITECTURES = [
    dict(hidden_sizes=(16, 8)),  # the notes' 2-16-8-1 network
    dict(hidden_sizes=()),  # plain linear regression
    dict(hidden_sizes=(5,)),
    dict(hidden_sizes=(7, 6, 3), in_features=3, out_features=2),
]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: str(a["hidden_sizes"]))
@pytest.mark.parametrize("batch", [1, 4, 100])
def test_gradients_match_autograd(activation, arch, batch):
    torch.manual_seed(batch)
    model = ProductMLP(activation=activation, **arch)
    x = torch.randn(batch, model.in_features)
    y = torch.randn(batch, model.out_features)
    want_loss, want_grads = autograd_reference(model, x, y)
    loss, grads = mse_backward(model, x, y)
    assert torch.allclose(loss, want_loss, rtol=1e-5, atol=1e-7)
    assert len(grads) == len(want_grads)
    for got, want, (name, p) in zip(grads, want_grads, model.named_parameters(), strict=True):
        assert got.shape == p.shape, name
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-6), name


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_float64_agrees_to_rounding(activation):
    torch.manual_seed(1)
    model = ProductMLP(activation=activation).double()
    x, y = torch.randn(32, 2, dtype=torch.float64), torch.randn(32, 1, dtype=torch.float64)
    _, want = autograd_reference(model, x, y)
    _, got = mse_backward(model, x, y)
    assert max((g - w).abs().max().item() for g, w in zip(got, want, strict=True)) < 1e-12


def test_gradients_are_not_zero_so_the_comparison_means_something():
    torch.manual_seed(0)
    model = ProductMLP()
    _, grads = mse_backward(model, torch.randn(8, 2), torch.randn(8, 1) + 5)
    assert all(g.abs().sum() > 0 for g in grads)


def test_forward_cache_matches_the_model():
    torch.manual_seed(0)
    model = ProductMLP(hidden_sizes=(16, 8), activation="tanh")
    x = torch.randn(4, 2)
    cache = forward_with_cache(model, x)
    assert torch.allclose(cache.output, model(x).detach(), atol=1e-6)
    assert [tuple(a.shape) for a in cache.activations] == [(4, 2), (4, 16), (4, 8), (4, 1)]
    assert [tuple(z.shape) for z in cache.pre_activations] == [(4, 16), (4, 8), (4, 1)]
    assert torch.allclose(cache.activations[1], torch.tanh(cache.pre_activations[0]))


def test_plain_parameter_list_works_like_the_model():
    torch.manual_seed(0)
    model = ProductMLP(hidden_sizes=(4,), activation="sigmoid")
    params = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(5, 2), torch.randn(5, 1)
    loss_a, grads_a = mse_backward(model, x, y)
    loss_b, grads_b = mse_backward(params, x, y, activation="sigmoid")
    assert torch.equal(loss_a, loss_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b, strict=True))
    # the activation is taken from the model, and from the argument for a plain list
    _, grads_relu = mse_backward(params, x, y, activation="relu")
    assert not torch.allclose(grads_relu[0], grads_a[0])


def test_no_autograd_graph_is_built():
    model = ProductMLP()
    loss, grads = mse_backward(model, torch.randn(3, 2), torch.randn(3, 1))
    assert not loss.requires_grad and not any(g.requires_grad for g in grads)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    "x, y, message",
    [
        (torch.randn(4, 3), torch.randn(4, 1), r"x must be a tensor of shape \(N, 2\)"),
        (torch.randn(4), torch.randn(4, 1), r"x must be a tensor of shape \(N, 2\)"),
        (torch.randn(0, 2), torch.randn(0, 1), "N >= 1"),
        ([[1.0, 2.0]], torch.randn(1, 1), "got list"),
        (torch.randn(4, 2), torch.randn(4), r"y must have the prediction's shape \(4, 1\)"),
        (torch.randn(4, 2), torch.randn(3, 1), r"y must have the prediction's shape \(4, 1\)"),
    ],
)
def test_bad_inputs_raise(x, y, message):
    with pytest.raises(ValueError, match=message):
        mse_backward(ProductMLP(), x, y)


def test_bad_parameters_raise():
    w, b = torch.randn(3, 2), torch.randn(3)
    with pytest.raises(ValueError, match="pairs of"):
        parameters_of([w])
    with pytest.raises(ValueError, match="pairs of"):
        parameters_of([])
    with pytest.raises(ValueError, match=r"weight must be \(out, in\)"):
        parameters_of([w, torch.randn(2)])
    with pytest.raises(ValueError, match="layer 2 expects 4 inputs but layer 1 gives 3"):
        parameters_of([w, b, torch.randn(1, 4), torch.randn(1)])
    with pytest.raises(ValueError, match="activation must be one of"):
        parameters_of([w, b], activation="gelu")
    with pytest.raises(ValueError, match="expected a ProductMLP"):
        parameters_of("model")
