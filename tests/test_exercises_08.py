"""The exercises of notebook 08: the reference answer passes, a wrong one and the placeholder fail."""

import pytest

from helpers.exercises import EXERCISES, check
from helpers.model import ProductMLP, count_parameters

CASES = {
    "08.kinks_one_layer": (16, 17),
    "08.log_weights": ((1.0, 1.0, 0.0), (0.5, 0.5, 0.0)),
    "08.param_count_64_64": (count_parameters(ProductMLP(hidden_sizes=(64, 64))), 64 * 64 + 2 * 64 + 64),
    "08.overfit_signal": ("held-out", "training"),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_reference_answer_passes_and_wrong_answer_fails(key, capsys):
    right, wrong = CASES[key]
    assert key in EXERCISES
    assert check(key, right) is True
    assert check(key, wrong) is False
    assert check(key, None) is False  # the placeholder a student starts with
    out = capsys.readouterr().out
    assert "✅" in out and "expected" in out and "Hint:" in out


def test_log_weights_accepts_a_trained_answer_and_rejects_malformed_ones():
    assert check("08.log_weights", [0.9999, 1.0002, -0.0003]) is True  # what training gives
    assert check("08.log_weights", (1.0, 1.0)) is False
    assert check("08.log_weights", ("1", "1", "0")) is False


def test_overfit_signal_accepts_the_usual_names():
    assert all(check("08.overfit_signal", name) for name in ("Held-out", "test loss", " validation "))


def test_every_08_exercise_is_covered():
    assert {key for key in EXERCISES if key.startswith("08.")} == set(CASES)
