"""The training configuration (配置文件): one YAML file, checked field by field before anything runs.

The notes' project keeps its settings in ``config.yaml`` so that changing a
learning rate never means editing code. Here the file is ``configs/product.yaml``
with five sections::

    data:        how the product data are drawn and split (seeds included)
    model:       the network's shape
    training:    epochs, batch size, learning rate, optimizer, seed
    output:      where models/ and logs/ go, how often to keep a checkpoint
    evaluation:  the grid the model is scored on

Every field has a default (the notes' settings), so a file may list only what
it changes. ``load_config`` rejects, with a ``ConfigError`` that names the field:
an unknown section or key (with a "did you mean" suggestion), a wrong type
(``epochs: "100"``, ``lr: 1e-3``, which YAML reads as text), and a value out of
range (a negative learning rate, ``low >= high``, ...).

``FIELDS`` describes every field once (section, name, type, default, help): the
YAML checks, the command-line flags of ``python -m helpers.train`` and their
``--help`` text all come from it. This module sits beside the command-line tools
(``helpers.train``, ``helpers.evaluate``), above the steps of the flow.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.model import ACTIVATIONS
from helpers.training import OPTIMIZERS

__all__ = [
    "FIELDS",
    "SECTIONS",
    "Config",
    "ConfigError",
    "DataConfig",
    "EvaluationConfig",
    "FieldSpec",
    "ModelConfig",
    "OutputConfig",
    "TrainingConfig",
    "config_from_dict",
    "default_config_path",
    "load_config",
    "save_config",
]


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or out of range.

    ``field`` is the dotted name of the culprit (``"training.lr"``), or the
    section name for a problem with a whole section.
    """

    def __init__(self, field: str, problem: str, source: str = "config") -> None:
        self.field = field
        self.problem = problem
        self.source = source
        super().__init__(f"{source}: {field}: {problem}")


# ---- the schema ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One configuration field. ``kind`` is "int", "float", "str", "int_list" or "optional_str"."""

    section: str
    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class DataConfig:
    n_samples: int = 1250
    low: float = 1.0
    high: float = 10.0
    noise_std: float = 0.0
    test_fraction: float = 0.2
    data_seed: int = 0
    split_seed: int = 0


@dataclass(frozen=True)
class ModelConfig:
    hidden_sizes: tuple[int, ...] = (16, 8)
    activation: str = "relu"


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 1000
    batch_size: int = 100
    lr: float = 0.001
    optimizer: str = "adam"
    seed: int = 0


@dataclass(frozen=True)
class OutputConfig:
    output_dir: str = "."
    checkpoint_every: int = 100
    run_name: str | None = None


@dataclass(frozen=True)
class EvaluationConfig:
    grid_steps: int = 101
    table_rows: int = 10


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "output": OutputConfig,
    "evaluation": EvaluationConfig,
}

_HELP: dict[str, tuple[str, str]] = {
    # path: (kind, help)
    "data.n_samples": ("int", "how many (X1, X2) pairs to draw, training and held-out together (>= 2)"),
    "data.low": ("float", "X1 and X2 are drawn uniformly from [low, high)"),
    "data.high": ("float", "upper end of that range (must be > low)"),
    "data.noise_std": ("float", "std of Gaussian noise added to Y (>= 0; 0 = exact products)"),
    "data.test_fraction": ("float", "share of the samples held out for testing (between 0 and 1)"),
    "data.data_seed": ("int", "seed that draws the data (same seed, same samples)"),
    "data.split_seed": ("int", "seed that shuffles the samples into training and held-out sets"),
    "model.hidden_sizes": ("int_list", "units per hidden layer, input side first (e.g. 16 8)"),
    "model.activation": ("str", "activation after each hidden layer"),
    "training.epochs": ("int", "passes over the training set (>= 1)"),
    "training.batch_size": ("int", "samples per gradient step (>= 1)"),
    "training.lr": ("float", "learning rate: step size of the optimizer (> 0)"),
    "training.optimizer": ("str", "the optimizer that updates the weights"),
    "training.seed": ("int", "seed for the initial weights and the batch order"),
    "output.output_dir": ("str", "folder that receives models/ and logs/ (relative to where you run)"),
    "output.checkpoint_every": ("int", "save models/checkpoints/RUN/epoch_NNNN.pth every this many epochs "
                                "(0 = none)"),
    "output.run_name": ("optional_str", "name of this run's log and checkpoint folder (default: date-time)"),
    "evaluation.grid_steps": ("int", "the model is also scored on a grid_steps x grid_steps grid (>= 2)"),
    "evaluation.table_rows": ("int", "rows of the held-out error table that evaluate prints (>= 1)"),
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "model.activation": tuple(sorted(ACTIVATIONS)),
    "training.optimizer": tuple(sorted(OPTIMIZERS)),
}


def _build_fields() -> tuple[FieldSpec, ...]:
    specs = []
    for section, cls in SECTIONS.items():
        defaults = cls()
        for name in cls.__dataclass_fields__:
            path = f"{section}.{name}"
            kind, text = _HELP[path]
            default = getattr(defaults, name)
            specs.append(FieldSpec(section, name, kind, default, text, _CHOICES.get(path, ())))
    return tuple(specs)


FIELDS: tuple[FieldSpec, ...] = _build_fields()
_BY_PATH: dict[str, FieldSpec] = {spec.path: spec for spec in FIELDS}


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration: ``config.training.lr`` and so on."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (lists, numbers, strings): for YAML files and checkpoints."""
        result: dict[str, dict[str, Any]] = {}
        for section in SECTIONS:
            values = getattr(self, section)
            result[section] = {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in ((n, getattr(values, n)) for n in type(values).__dataclass_fields__)
            }
        return result


# ---- checking one value --------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _coerce(spec: FieldSpec, value: Any, source: str) -> Any:
    """Check the type of ``value`` for ``spec``; return it in the field's Python type."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(spec.path, problem, source)

    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"must be a whole number, got {_type_name(value)} {value!r}")
        return value
    if spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", value.strip()):
                hint = " (YAML reads 1e-3 as text: write 0.001 or 1.0e-3)"
            raise fail(f"must be a number, got {_type_name(value)} {value!r}{hint}")
        if not math.isfinite(value):
            raise fail(f"must be a finite number, got {value!r}")
        return float(value)
    if spec.kind == "str":
        if not isinstance(value, str) or not value:
            raise fail(f"must be a non-empty text, got {_type_name(value)} {value!r}")
        return value
    if spec.kind == "optional_str":
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", value) or value in {".", ".."}:
            raise fail(
                f"must be null or a name made of letters, digits, '_', '-', '.', got {_type_name(value)} "
                f"{value!r}"
            )
        return value
    if spec.kind == "int_list":
        if not isinstance(value, (list, tuple)) or any(
            isinstance(v, bool) or not isinstance(v, int) for v in value
        ):
            raise fail(f"must be a list of whole numbers such as [16, 8], got {_type_name(value)} {value!r}")
        return tuple(value)
    raise AssertionError(f"unknown field kind {spec.kind!r}")  # pragma: no cover


def _check_range(spec: FieldSpec, value: Any, source: str) -> None:
    """Rules that depend on the value alone."""
    path = spec.path

    def fail(problem: str) -> ConfigError:
        return ConfigError(path, problem, source)

    if spec.choices and value not in spec.choices:
        raise fail(f"must be one of {list(spec.choices)}, got {value!r}")
    at_least = {
        "data.n_samples": 2,
        "training.epochs": 1,
        "training.batch_size": 1,
        "output.checkpoint_every": 0,
        "evaluation.grid_steps": 2,
        "evaluation.table_rows": 1,
        "data.data_seed": 0,
        "data.split_seed": 0,
        "training.seed": 0,
    }
    if path in at_least and value < at_least[path]:
        raise fail(f"must be >= {at_least[path]}, got {value!r}")
    if path.endswith("seed") and value >= 2**32:
        raise fail(f"must be below 2**32, got {value!r}")
    if path == "training.lr" and value <= 0:
        raise fail(f"the learning rate must be > 0 (for example 0.001), got {value!r}")
    if path == "data.noise_std" and value < 0:
        raise fail(f"must be >= 0, got {value!r}")
    if path == "data.test_fraction" and not 0.0 < value < 1.0:
        raise fail(f"must be strictly between 0 and 1 (for example 0.2), got {value!r}")
    if path == "model.hidden_sizes" and any(v < 1 for v in value):
        raise fail(f"every layer needs at least 1 unit, got {list(value)}")


def _check_together(config: Config, source: str) -> None:
    """Rules that involve two fields."""
    data = config.data
    if data.low >= data.high:
        raise ConfigError("data.high", f"must be larger than data.low, got low={data.low}, high={data.high}",
                          source)
    n_test = round(data.n_samples * data.test_fraction)
    if not 1 <= n_test <= data.n_samples - 1:
        raise ConfigError(
            "data.test_fraction",
            f"{data.test_fraction} of data.n_samples={data.n_samples} leaves an empty training or held-out "
            "set; use more samples or a fraction closer to 0.5",
            source,
        )


# ---- building a Config ---------------------------------------------------------------------------


def _unknown(kind: str, name: str, allowed: list[str], where: str = "") -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}{where}; allowed: {', '.join(allowed)}{suggestion}"


def config_from_dict(
    raw: Mapping[str, Any] | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    source: str = "config",
) -> Config:
    """Validate a nested dict (as read from YAML) plus ``overrides`` and return a ``Config``.

    ``overrides`` maps dotted names (``"training.lr"``) to values that replace
    the file's; they pass the same checks. Missing fields take their defaults.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("(top level)", f"must be a mapping of sections, got {_type_name(raw)}", source)
    values: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    for section, body in raw.items():
        if section not in SECTIONS:
            raise ConfigError(str(section), _unknown("section", str(section), list(SECTIONS)), source)
        if body is None:
            continue
        if not isinstance(body, Mapping):
            problem = f"must be a mapping of key: value lines, got {_type_name(body)}"
            raise ConfigError(section, problem, source)
        allowed = list(SECTIONS[section].__dataclass_fields__)
        for name, value in body.items():
            if name not in allowed:
                problem = _unknown("key", str(name), allowed, f" in section {section!r}")
                raise ConfigError(f"{section}.{name}", problem, source)
            values[section][name] = value
    for path, value in (overrides or {}).items():
        if path not in _BY_PATH:
            raise ConfigError(path, _unknown("setting", path, list(_BY_PATH)), "override")
        section, name = path.split(".")
        values[section][name] = value

    sections: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        checked = {}
        for name, value in values[section].items():
            spec = _BY_PATH[f"{section}.{name}"]
            from_override = overrides is not None and spec.path in overrides
            where = "command line" if from_override else source
            value = _coerce(spec, value, where)
            _check_range(spec, value, where)
            checked[name] = value
        sections[section] = cls(**checked)
    config = Config(**sections)
    _check_together(config, source)
    return config


def load_config(path: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None) -> Config:
    """Read a YAML configuration file, apply ``overrides`` (dotted names) and validate everything."""
    import yaml  # PyYAML, pinned in requirements.txt

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no configuration file at {path}; the course's default is configs/product.yaml"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError("(syntax)", f"not valid YAML: {error}", str(path)) from error
    return config_from_dict(raw, overrides, source=str(path))


def save_config(config: Config, path: str | os.PathLike[str]) -> Path:
    """Write ``config`` as YAML (the exact settings of a run, kept next to its log)."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    return path


def default_config_path() -> Path:
    """``<repository root>/configs/product.yaml``: the course's configuration."""
    return Path(__file__).resolve().parent.parent / "configs" / "product.yaml"
