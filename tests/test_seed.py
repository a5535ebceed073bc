import random

import numpy as np
import pytest
import torch

from helpers.seed import set_seed


def draw() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_same_seed_gives_same_numbers_in_all_three_libraries():
    set_seed(123)
    first = draw()
    set_seed(123)
    assert draw() == first


def test_different_seeds_give_different_numbers():
    set_seed(1)
    first = draw()
    set_seed(2)
    second = draw()
    assert all(a != b for a, b in zip(first, second, strict=True))


def test_returns_the_seed():
    assert set_seed(7) == 7


@pytest.mark.parametrize("bad", [1.5, "3", None, True, -1, 2**32])
def test_bad_seed_is_rejected_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="seed must be"):
        set_seed(bad)
