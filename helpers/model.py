"""Step 2 of the flow: the model. The notes' 2-16-8-1 ReLU network, with its shape as arguments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

# The activations the course offers, by name (the names are what configs and widgets use).
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class ProductMLP(nn.Module):
    """A multilayer perceptron (多层感知机): Linear → activation → ... → Linear.

    The defaults are the notes' ``simpleNN``: 2 inputs, hidden layers of 16 and 8
    units with ReLU, 1 output, 193 parameters. ``config`` gives back the
    arguments, so a checkpoint can rebuild the same shape with ``from_config``.
    """

    def __init__(
        self,
        in_features: int = 2,
        hidden_sizes: Sequence[int] = (16, 8),
        out_features: int = 1,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        hidden = list(hidden_sizes)
        if any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden_sizes must be positive ints, got {hidden_sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.in_features = in_features
        self.hidden_sizes = tuple(hidden)
        self.out_features = out_features
        self.activation = activation
        sizes = [in_features, *hidden, out_features]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:  # no activation after the output layer: regression
                layers.append(ACTIVATIONS[activation]())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)

    @property
    def linears(self) -> list[nn.Linear]:
        """The Linear layers in order (input side first)."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments, as plain Python (safe to save in a checkpoint)."""
        return {
            "in_features": self.in_features,
            "hidden_sizes": list(self.hidden_sizes),
            "out_features": self.out_features,
            "activation": self.activation,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ProductMLP:
        """Build a fresh (untrained) model with the shape described by ``config``."""
        if not isinstance(config, dict):
            raise ValueError(f"config must be a dict, got {type(config).__name__}")
        allowed = {"in_features", "hidden_sizes", "out_features", "activation"}
        unknown = set(config) - allowed
        if unknown:
            raise ValueError(f"unknown config key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        return cls(**config)


def count_parameters(model: nn.Module) -> int:
    """Number of learnable numbers in ``model`` (193 for the notes' network)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["ACTIVATIONS", "ProductMLP", "count_parameters"]

