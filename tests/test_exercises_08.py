"""Exercises of notebook 08: a trained answer passes, malformed ones fail (see test_exercise_answers)."""

from helpers.exercises import check


def test_log_weights_accepts_a_trained_answer_and_rejects_malformed_ones():
    assert check("08.log_weights", [0.9999, 1.0002, -0.0003]) is True  # what training gives
    assert check("08.log_weights", (1.0, 1.0)) is False
    assert check("08.log_weights", ("1", "1", "0")) is False


def test_overfit_signal_accepts_the_usual_names():
    assert all(check("08.overfit_signal", name) for name in ("Held-out", "test loss", " validation "))
