"""helpers.config: the course's YAML file loads as the notes' settings; every bad field is named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.config import (
    FIELDS,
    SECTIONS,
    Config,
    ConfigError,
    config_from_dict,
    default_config_path,
    load_config,
    save_config,
)

PRODUCT_YAML = Path(__file__).resolve().parents[1] / "configs" / "product.yaml"


def test_default_path_is_the_repositorys_file():
    assert default_config_path() == PRODUCT_YAML
    assert PRODUCT_YAML.is_file()


def test_product_yaml_holds_the_notes_settings():
    config = load_config(PRODUCT_YAML)
    assert (config.data.n_samples, config.data.low, config.data.high) == (1250, 1.0, 10.0)
    assert round(config.data.n_samples * (1 - config.data.test_fraction)) == 1000  # the notes' 1000 to train
    assert config.model.hidden_sizes == (16, 8) and config.model.activation == "relu"
    t = config.training
    assert (t.epochs, t.batch_size, t.lr, t.optimizer) == (1000, 100, 0.001, "adam")
    assert config.data.test_fraction == 0.2
    assert config.output.checkpoint_every == 100 and config.output.run_name is None


def test_product_yaml_lists_every_field_with_a_comment():
    text = PRODUCT_YAML.read_text(encoding="utf-8")
    for spec in FIELDS:
        lines = [line for line in text.splitlines() if re.match(rf"\s+{spec.name}:", line)]
        assert len(lines) == 1, f"{spec.path}: expected exactly one line in product.yaml, found {lines}"
        assert "#" in lines[0], f"{spec.path}: the line needs a comment that says what it does: {lines[0]!r}"
    for section in SECTIONS:
        assert re.search(rf"^{section}:", text, re.MULTILINE), f"section {section!r} missing"


def test_built_in_defaults_equal_the_file():
    assert Config().to_dict() == load_config(PRODUCT_YAML).to_dict()


def test_empty_file_and_partial_file_use_defaults(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_config(empty) == Config()
    partial = tmp_path / "partial.yaml"
    partial.write_text("training:\n  epochs: 7\nmodel:\n  hidden_sizes: [4]\n", encoding="utf-8")
    config = load_config(partial)
    assert config.training.epochs == 7 and config.model.hidden_sizes == (4,)
    assert config.training.lr == 0.001  # untouched fields keep the defaults


def test_ints_are_accepted_where_floats_are_expected():
    config = config_from_dict({"data": {"low": 2, "high": 5}, "training": {"lr": 1}})
    assert config.data.low == 2.0 and isinstance(config.data.low, float)
    assert config.training.lr == 1.0


def test_overrides_replace_the_file_and_are_checked(tmp_path):
    config = load_config(PRODUCT_YAML, {"training.epochs": 50, "training.lr": 0.01,
                                        "model.hidden_sizes": [8, 4, 2], "output.output_dir": str(tmp_path)})
    assert config.training.epochs == 50 and config.training.lr == 0.01
    assert config.model.hidden_sizes == (8, 4, 2) and config.output.output_dir == str(tmp_path)
    with pytest.raises(ConfigError, match=r"^command line: training\.lr: the learning rate must be > 0"):
        load_config(PRODUCT_YAML, {"training.lr": -0.5})
    with pytest.raises(ConfigError, match=r"override: training\.learning_rate: unknown setting"):
        load_config(PRODUCT_YAML, {"training.learning_rate": 0.1})


BAD_CONFIGS = [
    # (raw dict, field named in the message, a phrase of the message)
    ({"trainig": {"epochs": 3}}, "trainig", "did you mean 'training'"),
    ({"training": {"epoch": 3}}, "training.epoch", "unknown key 'epoch' in section 'training'"),
    ({"training": {"learning_rate": 0.1}}, "training.learning_rate", "allowed: epochs, batch_size, lr"),
    ({"training": {"epochs": "100"}}, "training.epochs", "must be a whole number, got str '100'"),
    ({"training": {"epochs": 10.5}}, "training.epochs", "must be a whole number"),
    ({"training": {"epochs": True}}, "training.epochs", "must be a whole number, got bool"),
    ({"training": {"epochs": 0}}, "training.epochs", "must be >= 1"),
    ({"training": {"batch_size": -5}}, "training.batch_size", "must be >= 1"),
    ({"training": {"lr": -0.001}}, "training.lr", "the learning rate must be > 0"),
    ({"training": {"lr": 0}}, "training.lr", "the learning rate must be > 0"),
    ({"training": {"lr": "1e-3"}}, "training.lr", "YAML reads 1e-3 as text"),
    ({"training": {"lr": float("nan")}}, "training.lr", "must be a finite number"),
    ({"training": {"optimizer": "rmsprop"}}, "training.optimizer", "must be one of ['adam', 'sgd']"),
    ({"training": {"seed": -1}}, "training.seed", "must be >= 0"),
    ({"training": {"seed": 2**32}}, "training.seed", "must be below 2**32"),
    ({"model": {"hidden_sizes": 16}}, "model.hidden_sizes", "must be a list of whole numbers"),
    ({"model": {"hidden_sizes": [16, 0]}}, "model.hidden_sizes", "at least 1 unit"),
    ({"model": {"activation": "gelu"}}, "model.activation", "must be one of ['relu', 'sigmoid', 'tanh']"),
    ({"data": {"n_samples": 1}}, "data.n_samples", "must be >= 2"),
    ({"data": {"low": 10.0, "high": 1.0}}, "data.high", "must be larger than data.low"),
    ({"data": {"noise_std": -1.0}}, "data.noise_std", "must be >= 0"),
    ({"data": {"test_fraction": 1.5}}, "data.test_fraction", "strictly between 0 and 1"),
    ({"data": {"n_samples": 3, "test_fraction": 0.1}}, "data.test_fraction", "leaves an empty"),
    ({"output": {"checkpoint_every": -1}}, "output.checkpoint_every", "must be >= 0"),
    ({"output": {"run_name": "../escape"}}, "output.run_name", "must be null or a name"),
    ({"output": {"output_dir": ""}}, "output.output_dir", "must be a non-empty text"),
    ({"evaluation": {"grid_steps": 1}}, "evaluation.grid_steps", "must be >= 2"),
    ({"training": [1, 2]}, "training", "must be a mapping"),
]


@pytest.mark.parametrize(("raw", "field", "phrase"), BAD_CONFIGS, ids=[f"{c[1]}:{c[2]}" for c in BAD_CONFIGS])
def test_bad_fields_are_rejected_by_name(raw, field, phrase):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, source="my.yaml")
    error = caught.value
    assert error.field == field
    assert str(error).startswith(f"my.yaml: {field}: ")
    assert phrase in str(error)
    assert isinstance(error, ValueError)


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match=r"\(top level\): must be a mapping of sections, got list"):
        config_from_dict([1, 2])


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  lr: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(bad))}: training\.lr: "):
        load_config(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("training: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid YAML"):
        load_config(broken)
    with pytest.raises(FileNotFoundError, match="no configuration file at"):
        load_config(tmp_path / "missing.yaml")


def test_save_config_round_trips(tmp_path):
    config = config_from_dict({"training": {"epochs": 12, "lr": 0.05}, "model": {"hidden_sizes": [3]},
                               "output": {"run_name": "abc"}})
    path = save_config(config, tmp_path / "sub" / "run.yaml")
    assert load_config(path) == config


def test_every_field_has_help_a_default_and_a_unique_flag():
    flags = [spec.flag for spec in FIELDS]
    assert len(flags) == len(set(flags))
    for spec in FIELDS:
        assert spec.help and spec.kind in {"int", "float", "str", "optional_str", "int_list"}
        config_from_dict({spec.section: {spec.name: spec.default}})  # each default passes its own checks
