"""Backpropagation (反向传播) by hand for a ProductMLP: plain matrix operations, no autograd.

The network is a stack of layers ``z_l = a_{l-1} @ W_lᵀ + b_l`` and
``a_l = f(z_l)`` (no ``f`` after the last layer), with ``a_0 = x``. For the MSE
loss ``L = mean((ŷ - y)²)`` over all N·out numbers the chain rule gives, from
the output backwards::

    δ_L     = dL/dz_L = 2 (ŷ - y) / (N · out)          (the output layer is linear)
    dL/dW_l = δ_lᵀ · a_{l-1}                            shape (out_l, in_l), like W_l
    dL/db_l = Σ_rows δ_l                                shape (out_l,), like b_l
    δ_{l-1} = (δ_l · W_l) ⊙ f'(z_{l-1})                 ⊙ = element-wise product

with ``f'(z) = [z > 0]`` for ReLU, ``1 - a²`` for tanh and ``a (1 - a)`` for
the sigmoid (``a = f(z)``). The gradients come back in the order and shapes of
``model.parameters()``: ``[W_1, b_1, W_2, b_2, ...]``, so they can be compared
with autograd's ``p.grad`` one by one, or fed to an optimizer step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.model import ACTIVATIONS, ProductMLP

__all__ = ["ForwardCache", "parameters_of", "forward_with_cache", "mse_backward"]

ParamsOrModel = ProductMLP | Sequence[Tensor]


@dataclass
class ForwardCache:
    """What the forward pass keeps for the backward pass.

    ``activations[0]`` is the input x, ``activations[l]`` the output of layer l
    (after its activation function); ``pre_activations[l-1]`` is ``z_l``, the
    value before it. ``output`` is ``activations[-1]`` (= ``z`` of the last layer).
    """

    activations: list[Tensor]
    pre_activations: list[Tensor]
    activation: str

    @property
    def output(self) -> Tensor:
        return self.activations[-1]


def parameters_of(params_or_model: ParamsOrModel, activation: str = "relu") -> tuple[list[Tensor], str]:
    """The weights and biases ``[W_1, b_1, W_2, b_2, ...]`` (detached) and the activation name.

    A ProductMLP brings its own activation; for a plain list of tensors pass ``activation``.
    """
    if isinstance(params_or_model, ProductMLP):
        params = [p.detach() for p in params_or_model.parameters()]
        activation = params_or_model.activation
    elif isinstance(params_or_model, (list, tuple)):
        params = [torch.as_tensor(p).detach() for p in params_or_model]
    else:
        raise ValueError(
            f"expected a ProductMLP or a list [W1, b1, W2, b2, ...], got {type(params_or_model).__name__}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if not params or len(params) % 2:
        raise ValueError(f"need pairs of (weight, bias), got {len(params)} tensor(s)")
    for i in range(0, len(params), 2):
        weight, bias = params[i], params[i + 1]
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ValueError(
                f"layer {i // 2 + 1}: weight must be (out, in) and bias (out,), "
                f"got {tuple(weight.shape)} and {tuple(bias.shape)}"
            )
        if i and weight.shape[1] != params[i - 2].shape[0]:
            raise ValueError(
                f"layer {i // 2 + 1} expects {weight.shape[1]} inputs but layer {i // 2} "
                f"gives {params[i - 2].shape[0]}"
            )
    return params, activation


def _activate(z: Tensor, activation: str) -> Tensor:
    if activation == "relu":
        return z.clamp(min=0)
    if activation == "tanh":
        return torch.tanh(z)
    return 1 / (1 + torch.exp(-z))  # sigmoid


def _activation_slope(z: Tensor, a: Tensor, activation: str) -> Tensor:
    """f'(z), written with the cached values (a = f(z))."""
    if activation == "relu":
        return (z > 0).to(z.dtype)
    if activation == "tanh":
        return 1 - a * a
    return a * (1 - a)  # sigmoid


def forward_with_cache(params_or_model: ParamsOrModel, x: Tensor, activation: str = "relu") -> ForwardCache:
    """Run the network on ``x`` (N, in_features), keeping every layer's input and pre-activation."""
    params, activation = parameters_of(params_or_model, activation)
    in_features = params[0].shape[1]
    if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[0] < 1 or x.shape[1] != in_features:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of shape (N, {in_features}) with N >= 1, got {shape}")
    a = x.to(params[0].dtype)
    activations, pre_activations = [a], []
    n_layers = len(params) // 2
    for layer in range(n_layers):
        weight, bias = params[2 * layer], params[2 * layer + 1]
        z = a @ weight.T + bias  # (N, in) @ (in, out) + (out,) -> (N, out)
        a = z if layer == n_layers - 1 else _activate(z, activation)  # the output layer stays linear
        pre_activations.append(z)
        activations.append(a)
    return ForwardCache(activations, pre_activations, activation)


def mse_backward(
    params_or_model: ParamsOrModel, x: Tensor, y: Tensor, activation: str = "relu"
) -> tuple[Tensor, list[Tensor]]:
    """MSE loss of the network on (x, y) and its gradient for every weight and bias.

    Returns ``(loss, grads)`` with ``grads`` in the order and shapes of
    ``model.parameters()``. Matches ``nn.MSELoss()`` (mean over all numbers)
    followed by ``loss.backward()``.
    """
    params, activation = parameters_of(params_or_model, activation)
    cache = forward_with_cache(params, x, activation)
    prediction = cache.output
    if not isinstance(y, Tensor) or y.shape != prediction.shape:
        shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise ValueError(f"y must have the prediction's shape {tuple(prediction.shape)}, got {shape}")
    error = prediction - y.to(prediction.dtype)
    loss = (error**2).mean()
    delta = 2 * error / error.numel()  # dL/dz of the output layer
    n_layers = len(params) // 2
    grads: list[Tensor] = [torch.empty(0)] * len(params)
    for layer in reversed(range(n_layers)):
        a_prev = cache.activations[layer]
        grads[2 * layer] = delta.T @ a_prev  # (out, N) @ (N, in) -> (out, in)
        grads[2 * layer + 1] = delta.sum(dim=0)  # (out,)
        if layer > 0:  # pass δ back through W_l, then through the activation of layer l-1
            z_prev = cache.pre_activations[layer - 1]
            delta = (delta @ params[2 * layer]) * _activation_slope(z_prev, a_prev, activation)
    return loss, grads
