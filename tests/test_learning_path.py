"""The learning path (README and notebook 00) lists every notebook, links it, and agrees on minutes.

Each notebook's title cell says "It takes about N minutes"; the tables must say the same N,
so a notebook that grows cannot leave a stale table behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ROW = re.compile(r"^\| \[(\d\d) [^\]]+\]\(([^)]+)\) \|[^|]+\| (\d+) \|$")
MINUTES = re.compile(r"takes about (\d+) minutes")


def title_minutes(path: Path) -> int:
    title = nbformat.read(path, as_version=4).cells[0].source
    found = MINUTES.search(title)
    assert found, f"{path.name}: the title cell does not say 'takes about N minutes'"
    return int(found.group(1))


def table_rows(text: str) -> dict[str, tuple[str, int]]:
    """``{"05": ("link target", minutes)}`` from the markdown table rows of ``text``."""
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match.group(1)] = (match.group(2), int(match.group(3)))
    return rows


def readme_table() -> dict[str, tuple[str, int]]:
    return table_rows((ROOT / "README.md").read_text(encoding="utf-8"))


def notebook_00_table() -> dict[str, tuple[str, int]]:
    cells = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4).cells
    return table_rows("\n".join(cell.source for cell in cells if cell.cell_type == "markdown"))


@pytest.mark.parametrize(
    ("where", "read_table", "link_prefix"),
    [("README.md", readme_table, "notebooks/"), ("notebook 00", notebook_00_table, "")],
)
def test_learning_path_lists_every_notebook_with_its_minutes(where, read_table, link_prefix) -> None:
    rows = read_table()
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert sorted(rows) == numbers, f"{where}: the table lists {sorted(rows)}, the notebooks are {numbers}"
    for path in NOTEBOOKS:
        link, minutes = rows[path.name[:2]]
        assert link == link_prefix + path.name, f"{where}: row {path.name[:2]} links {link!r}"
        assert minutes == title_minutes(path), (
            f"{where}: row {path.name[:2]} says {minutes} minutes, "
            f"{path.name}'s title says {title_minutes(path)}"
        )


def test_row_pattern_reads_a_row_and_rejects_a_broken_one() -> None:
    good = "| [05 Train](05_train.ipynb) | the loop | 40 |"
    assert table_rows(good) == {"05": ("05_train.ipynb", 40)}
    assert table_rows("| 05 Train | the loop | 40 |") == {}
