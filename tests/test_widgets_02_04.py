"""Widgets of notebooks 02-04: the views compute the right numbers, the builders redraw on a slider change."""

import math
import re

import numpy as np
import pytest

from helpers.plots import figure_data
from helpers.widgets import (
    LINE_POINTS_X,
    LINE_POINTS_Y,
    learning_rate_losses,
    learning_rate_view,
    learning_rate_widget,
    linear_fit_view,
    linear_fit_widget,
    softmax_view,
    softmax_widget,
)


def figure_texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


# ---- 02 · linear fit -----------------------------------------------------------------------------

def test_linear_fit_view_mse_and_line():
    fig, mse = linear_fit_view(2.0, 1.0)
    expected = np.mean([(2 * x + 1 - y) ** 2 for x, y in zip(LINE_POINTS_X, LINE_POINTS_Y, strict=True)])
    assert mse == pytest.approx(expected, rel=1e-5)
    assert mse < 0.1  # the points were made near y = 2x + 1
    line = figure_data(fig)[0]
    assert np.allclose(np.diff(line, 2), 0, atol=1e-4)  # a straight line
    assert f"MSE = {mse:.3f}" in fig.axes[0].get_title()
    _, worse = linear_fit_view(0.0, 0.0)
    assert worse > 30 * mse


def test_linear_fit_view_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        linear_fit_view(1.0, 0.0, x=(1.0, 2.0), y=(1.0,))
    with pytest.raises(ValueError, match="finite"):
        linear_fit_view(math.nan, 0.0)


def test_linear_fit_widget_redraws():
    box = linear_fit_widget(w=0.5, b=0.0)
    w_slider, b_slider, text, output = box.children
    before = figure_data(output.figure)[0].copy()
    assert "MSE" in text.value
    w_slider.value = 2.0
    b_slider.value = 1.0
    after = figure_data(output.figure)[0]
    assert not np.allclose(before, after)
    assert "y = 2.00·x + 1.00" in text.value


# ---- 03 · softmax ----------------------------------------------------------------------------------

def test_softmax_view_probabilities():
    fig, probs = softmax_view([2.0, 1.0, 0.1], temperature=1.0)
    expected = np.exp([2.0, 1.0, 0.1]) / np.exp([2.0, 1.0, 0.1]).sum()
    assert np.allclose(probs, expected)
    assert np.allclose(figure_data(fig)[-1], expected)  # the bar heights
    assert sum(probs) == pytest.approx(1.0)


def test_softmax_view_temperature_sharpens_and_flattens():
    _, cold = softmax_view([2.0, 1.0, 0.0], temperature=0.1)
    _, hot = softmax_view([2.0, 1.0, 0.0], temperature=10.0)
    assert cold[0] > 0.999
    assert max(hot) - min(hot) < 0.1
    _, huge = softmax_view([1000.0, 999.0], temperature=1.0)  # would overflow without max-subtraction
    assert huge == pytest.approx([0.7310586, 0.2689414])  # same as softmax([1, 0])


@pytest.mark.parametrize(
    "logits, temperature, message",
    [([1.0], 1.0, "at least 2"), ([1.0, math.inf], 1.0, "finite"), ([1.0, 2.0], 0.0, "positive"),
     ([1.0, 2.0], -1.0, "positive")],
)
def test_softmax_view_bad_input(logits, temperature, message):
    with pytest.raises(ValueError, match=message):
        softmax_view(logits, temperature)


def test_softmax_widget_redraws():
    box = softmax_widget(logits=(2.0, 1.0, 0.5, -1.0))
    *logit_sliders, temperature_slider, text, output = box.children
    assert len(logit_sliders) == 4
    before = figure_data(output.figure)[-1].copy()
    logit_sliders[3].value = 4.0
    after = figure_data(output.figure)[-1]
    assert after.argmax() == 3 and before.argmax() == 0
    temperature_slider.value = 10.0
    flat = figure_data(output.figure)[-1]
    assert flat.max() - flat.min() < after.max() - after.min()
    assert "probabilities" in text.value


# ---- 04 · learning rate ------------------------------------------------------------------------------

def test_learning_rate_losses_small_good_large():
    small, small_div = learning_rate_losses(1e-3, steps=60)
    good, good_div = learning_rate_losses(0.1, steps=60)
    large, large_div = learning_rate_losses(1.0, steps=60)
    assert small_div is None and good_div is None
    assert len(small) == len(good) == 60
    assert small[-1] > 0.9 * small[0]  # too small: hardly moves
    assert good[-1] < 0.1 * good[0]  # good: falls fast
    assert large_div is not None and 1 < large_div <= 60  # too large: blows up
    assert len(large) == large_div - 1  # the losses before the blow-up, none after it


def test_learning_rate_view_diverged_case_is_a_clear_plot():
    fig, verdict = learning_rate_view(1.0, steps=60)
    assert "diverged at step" in verdict
    assert any(t.startswith("diverged at step") for t in figure_texts(fig))
    step = int(re.search(r"diverged at step (\d+)", verdict)[1])
    drawn = figure_data(fig)[0]
    assert len(drawn) == step - 1 and np.isfinite(drawn).all()  # every finite loss before it is drawn


def test_learning_rate_view_good_case():
    fig, verdict = learning_rate_view(0.1, steps=30)
    assert "diverged" not in verdict and "after 30 steps" in verdict
    assert not any("diverged" in t for t in figure_texts(fig))
    assert len(figure_data(fig)[0]) == 30


def test_learning_rate_bad_input():
    with pytest.raises(ValueError, match="lr must be a positive number"):
        learning_rate_losses(0.0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        learning_rate_losses(0.1, optimizer="rmsprop", steps=2)


def test_learning_rate_widget_redraws_and_survives_divergence():
    box = learning_rate_widget(lr=0.1, steps=40)
    lr_slider, text, output = box.children
    assert "diverged" not in text.value
    lr_slider.value = 1.0
    assert "diverged at step" in text.value
    assert any("diverged at step" in t for t in figure_texts(output.figure))
