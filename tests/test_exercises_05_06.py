"""The exercises of notebooks 05 and 06: the reference answer passes, a wrong one fails."""

import pytest

from helpers.exercises import EXERCISES, check

CASES = {
    "05.steps_per_epoch": (16, 15),
    "05.true_epoch_mean": (0.44, (0.2 + 0.4 + 1.0) / 3),
    "05.param_count": (641, 609),
    "05.to_original_units": (40.25, 0.5),
    "06.loader_len": ((16, 15), (15, 15)),
    "06.item_shapes": (((2,), (1,)), ((1, 2), (1, 1))),
    "06.getitem_calls": (1_000_000, 10_000),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_reference_answer_passes_and_wrong_answer_fails(key, capsys):
    right, wrong = CASES[key]
    assert key in EXERCISES
    assert check(key, right) is True
    assert check(key, wrong) is False
    assert check(key, None) is False  # the placeholder a student starts with
    assert "Hint:" in capsys.readouterr().out


def test_every_05_06_exercise_is_covered():
    keys = {key for key in EXERCISES if key.startswith(("05.", "06."))}
    assert keys == set(CASES)
