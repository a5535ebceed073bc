import pytest
import torch

from helpers import exercises
from helpers.exercises import check, close_to, equals, function_matches, register


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(exercises, "EXERCISES", {})


def test_equals_judge():
    assert equals((3, 2))(torch.Size([3, 2]))[0]
    ok, detail = equals((3, 2))((2, 3))
    assert not ok and detail == "expected (3, 2), got (2, 3)"


def test_close_to_judge():
    assert close_to(40.2)(40.2001)[0]
    assert close_to(40.2)(torch.tensor(40.2))[0]
    ok, detail = close_to(40.2)(41.0)
    assert not ok and "expected 40.2, got 41" in detail
    assert not close_to(1.0)("1.0")[0]
    assert not close_to(1.0)(torch.ones(2))[0]


def test_function_matches_judge():
    judge = function_matches(lambda x: x * 2, [(torch.tensor([1.0, 2.0]),)])
    assert judge(lambda x: x + x)[0]
    ok, detail = judge(lambda x: x * 3)
    assert not ok and "expected [2.0, 4.0], got [3.0, 6.0]" in detail
    assert not judge(42)[0]
    assert "shape" in judge(lambda x: x.sum())[1]


def test_check_prints_verdict_and_hint(scratch_registry, capsys):
    register("t.answer", "What is 6 * 7?", equals(42), "Multiply.")
    assert check("t.answer", 42) is True
    assert "correct" in capsys.readouterr().out
    assert check("t.answer", 41) is False
    out = capsys.readouterr().out
    assert "expected 42, got 41" in out and "Hint: Multiply." in out


def test_check_survives_a_crashing_answer(scratch_registry, capsys):
    register("t.fn", "Write f.", function_matches(lambda x: x, [(torch.ones(1),)]), "Return x.")
    assert check("t.fn", lambda x: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_unknown_key_and_duplicate_registration(scratch_registry):
    register("t.a", "q", equals(1), "h")
    with pytest.raises(ValueError, match="unknown exercise 't.b'; known exercises: t.a"):
        check("t.b", 1)
    with pytest.raises(ValueError, match="already registered"):
        register("t.a", "q", equals(1), "h")
