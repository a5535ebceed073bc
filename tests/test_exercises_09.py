"""Exercises of notebook 09: the reference answer passes, a wrong one fails with a clear message."""

from helpers.exercises import check


def test_09_train_flags(capsys):
    assert check("09.train_flags", ["--epochs", "50", "--lr", "0.01", "--output-dir", "try"]) is True
    in_any_order = ["--output-dir", "try", "--lr", "1e-2", "--epochs", "50"]
    assert check("09.train_flags", in_any_order) is True
    assert check("09.train_flags", ["--epochs", "50", "--lr", "0.1", "--output-dir", "try"]) is False
    assert "training.lr is 0.1" in capsys.readouterr().out
    assert check("09.train_flags", [*in_any_order, "--seed", "1"]) is False
    assert "training.seed is changed" in capsys.readouterr().out
    assert check("09.train_flags", ["--epochs", "50"]) is False
    assert "training.lr is not set; output.output_dir is not set" in capsys.readouterr().out
    assert check("09.train_flags", ["--epoch", "50"]) is False  # no abbreviations
    assert "does not accept" in capsys.readouterr().out
    assert check("09.train_flags", "--epochs 50") is False
    assert check("09.train_flags", None) is False  # the notebook's placeholder does not raise


def test_09_checkpoint_count(capsys):
    assert check("09.checkpoint_count", len(range(40, 301, 40))) is True
    assert check("09.checkpoint_count", 300 / 40) is False
    assert "expected 7, got 7.5" in capsys.readouterr().out


def test_09_best_epoch(capsys):
    def best_epoch(test_losses):
        return test_losses.index(min(test_losses)) + 1

    def last_lowest(test_losses):  # takes the last of equal losses, and counts from 0
        return len(test_losses) - 1 - test_losses[::-1].index(min(test_losses))

    assert check("09.best_epoch", best_epoch) is True
    assert check("09.best_epoch", last_lowest) is False
    assert "expected 2, got 1" in capsys.readouterr().out
    assert check("09.best_epoch", None) is False


def test_09_where_it_goes(capsys):
    answer = {"learning rate": "configs", "training loop": "helpers", "best weights": "models",
              "loss of every epoch": "logs", "check that evaluate runs": "tests"}
    assert check("09.where_it_goes", answer) is True
    assert check("09.where_it_goes", {**answer, "best weights": "logs"}) is False
    out = capsys.readouterr().out
    assert "1 of 5 in the wrong folder: ['best weights']" in out and "models" not in out.split("Hint")[0]
    assert check("09.where_it_goes", {"learning rate": "configs"}) is False
    assert "needs the keys" in capsys.readouterr().out
    assert check("09.where_it_goes", None) is False
