"""Data flows one way through helpers/, and so do the imports.

data → model → training (and its fast twin) → checkpoint → evaluation → plots; widgets, the
dashboard, the configuration, the commands and the exercise checks sit on top. A module may import
only modules of a lower layer, never one of its own layer or above (imports inside functions count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parent.parent / "helpers"

LAYER = {
    "seed": 0,
    "data": 1,
    "model": 2,
    "backprop": 3,
    "training": 3,
    "fast_training": 4,
    "checkpoint": 5,
    "evaluation": 6,
    "plots": 7,
    # on top of the flow
    "config": 8,
    "widgets": 8,
    "dashboard": 8,
    "train": 9,
    "evaluate": 10,
    "exercises": 10,
}


def helpers_imports(source: str) -> set[str]:
    """Names of the ``helpers`` modules that ``source`` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "helpers" and len(parts) > 1:
                    found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.startswith("helpers."):
                found.add(module.split(".")[1])
            elif (node.level == 0 and module == "helpers") or (node.level == 1 and not module):
                found.update(alias.name for alias in node.names)  # from helpers import data / from . import x
            elif node.level == 1:
                found.add(module.split(".")[0])
    return found


def violations(module: str, imported: set[str]) -> list[str]:
    """The imports of ``module`` that go against the flow (same layer or above, or an unknown module)."""
    bad = []
    for name in sorted(imported):
        if name not in LAYER:
            bad.append(f"{module} imports helpers.{name}, which has no layer in tests/test_architecture.py")
        elif LAYER[name] >= LAYER[module]:
            bad.append(f"{module} (layer {LAYER[module]}) imports {name} (layer {LAYER[name]})")
    return bad


MODULES = sorted(p.stem for p in HELPERS.glob("*.py") if p.stem != "__init__")


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) == set(LAYER), f"modules {sorted(set(MODULES) ^ set(LAYER))}: add or remove in LAYER"


@pytest.mark.parametrize("module", MODULES)
def test_imports_follow_the_flow(module: str) -> None:
    imported = helpers_imports((HELPERS / f"{module}.py").read_text(encoding="utf-8"))
    assert not violations(module, imported), violations(module, imported)


def test_the_checker_sees_every_import_form_and_flags_an_upward_one() -> None:
    source = (
        "import helpers.model\n"
        "from helpers.training import train_model\n"
        "from helpers import seed\n"
        "from . import data\n"
        "def later():\n"
        "    from .plots import plot_loss_curves\n"
    )
    assert helpers_imports(source) == {"model", "training", "seed", "data", "plots"}
    assert violations("checkpoint", {"model", "data"}) == []
    assert violations("data", {"plots"}) == ["data (layer 1) imports plots (layer 7)"]
    assert violations("training", {"backprop"}) == ["training (layer 3) imports backprop (layer 3)"]
