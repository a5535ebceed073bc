"""Every notebook is clean source: valid, no outputs, a title that promises, a summary that delivers.

A failure names the notebook and the cell, so the fix is one click away.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
NAME_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def heading(cell) -> str:
    """The first line of a markdown cell if it is a heading, else ''."""
    if cell.cell_type != "markdown":
        return ""
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return first if first.startswith("#") else ""


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_name_is_numbered_topic(path: Path):
    assert NAME_PATTERN.match(path.name), f"{path.name}: name must look like NN_topic.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_valid_nbformat_4_with_python3_kernel(path: Path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{path.name}: nbformat {nb.nbformat}, expected 4"
    nbformat.validate(nb)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    assert kernel == "python3", f"{path.name}: kernelspec name is {kernel!r}, expected 'python3'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_outputs_or_execution_counts(path: Path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        f"{path.name} cell {i}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, "outputs must not be committed; clear them in: " + ", ".join(dirty)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_opens_with_title_goals_and_time(path: Path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name} cell 0: must be a markdown title cell"
    assert first.source.lstrip().startswith("# "), f"{path.name} cell 0: must start with a '# ' title"
    text = first.source.lower()
    assert "learn" in text, f"{path.name} cell 0: must say what the reader will learn"
    assert re.search(r"\d+\s*min", text), f"{path.name} cell 0: must say how long it takes ('20 minutes')"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_ends_with_summary_then_only_exercises(path: Path):
    nb = nbformat.read(path, as_version=4)
    level2 = [(i, heading(c)) for i, c in enumerate(nb.cells) if heading(c).startswith("## ")]
    summaries = [i for i, h in level2 if h.lower().startswith("## summary")]
    assert summaries, f"{path.name}: needs a '## Summary' markdown cell near the end"
    after = [(i, h) for i, h in level2 if i > summaries[-1]]
    stray = [f"cell {i} ({h!r})" for i, h in after if not h.lower().startswith("## exercises")]
    assert not stray, f"{path.name}: after '## Summary' only '## Exercises' may follow, found " + ", ".join(
        stray
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_uses_the_seeding_helper(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "set_seed(" in code, f"{path.name}: call helpers' set_seed(...) so the run is repeatable"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_sys_path_hacks(path: Path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert "sys.path" not in cell.source, (
                f"{path.name} cell {i}: `import helpers` works without sys.path edits (pip install -e .)"
            )


COURSE_NOTEBOOKS = [p for p in NOTEBOOKS if p.name[:2] != "00"]


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=ids(COURSE_NOTEBOOKS))
def test_exercises_are_checked_and_have_hidden_solutions(path: Path):
    nb = nbformat.read(path, as_version=4)
    checked = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "check(" in c.source]
    assert checked, f"{path.name}: no exercise is checked with helpers.exercises.check(...)"
    hidden = [i for i, c in enumerate(nb.cells) if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden, f"{path.name}: the exercises need solutions in collapsed cells (source_hidden)"
    for i in hidden:
        first_line = nb.cells[i].source.splitlines()[0] if nb.cells[i].source else ""
        assert first_line.startswith("# Solution"), (
            f"{path.name} cell {i}: a collapsed cell must say what it is on its first line "
            f"('# Solution (try first!)'), found {first_line!r}"
        )
