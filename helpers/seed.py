"""One call that makes a run repeatable: same seed, same numbers, same figures."""

from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(seed: int) -> int:
    """Seed Python's ``random``, NumPy and torch with one integer and return it.

    Call it at the top of a notebook and again right before anything random
    you want to repeat exactly (building a model, shuffling, training).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed
