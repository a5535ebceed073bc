"""GLOSSARY.md is one well-formed table: four filled fields per row, Chinese terms, no duplicates,
and every row names a notebook that exists (and that the notebook 00 links to it)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "GLOSSARY.md"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
DASH_WITH_REASON = re.compile(r"^[—–-]\s*\(?\s*\w.{3,}")  # "— (a product name, not translated)"


def parse_table(text: str) -> list[list[str]]:
    """The rows of the first markdown table below its header and separator lines, split into fields."""
    lines = [line.strip() for line in text.splitlines()]
    table_lines = [line for line in lines if line.startswith("|")]
    if len(table_lines) < 3:
        raise ValueError("GLOSSARY.md must hold a markdown table with a header, a separator and rows")
    header, separator, *rows = table_lines
    if not re.fullmatch(r"\|(\s*:?-{3,}:?\s*\|)+", separator):
        raise ValueError(f"the second table line must be the separator |---|---|...; got {separator!r}")
    parsed = []
    for row in rows:
        if not row.endswith("|"):
            raise ValueError(f"a table row must end with '|': {row!r}")
        parsed.append([field.strip() for field in row[1:-1].split("|")])
    return [[field.strip() for field in header[1:-1].split("|")], *parsed]


@pytest.fixture(scope="module")
def table() -> list[list[str]]:
    return parse_table(GLOSSARY.read_text(encoding="utf-8"))


def test_header_names_the_four_columns(table) -> None:
    assert table[0] == ["Term", "中文", "Meaning", "Notebook"]


def test_every_row_has_four_non_empty_fields(table) -> None:
    bad = [row for row in table[1:] if len(row) != 4 or not all(row)]
    assert not bad, f"rows without exactly four non-empty fields (a stray '|'?): {bad}"


def test_chinese_field_holds_chinese_or_a_dash_with_a_reason(table) -> None:
    bad = [row[0] for row in table[1:] if not (CJK.search(row[1]) or DASH_WITH_REASON.match(row[1]))]
    assert not bad, f"terms whose 中文 field has no Chinese characters and no '— (reason)': {bad}"


def test_no_duplicate_english_terms(table) -> None:
    terms = [row[0].lower() for row in table[1:]]
    duplicates = sorted({term for term in terms if terms.count(term) > 1})
    assert not duplicates, f"terms listed more than once: {duplicates}"


def test_every_named_notebook_exists(table) -> None:
    existing = {path.name for path in (ROOT / "notebooks").glob("*.ipynb")}
    missing = sorted({row[3] for row in table[1:]} - existing)
    assert not missing, f"glossary rows name notebooks that do not exist in notebooks/: {missing}"


def test_the_notebooks_08_terms_are_there(table) -> None:
    terms = {row[0] for row in table[1:] if row[3] == "08_what_did_the_network_learn.ipynb"}
    assert {"piecewise linear (function)", "kink", "capacity", "overfitting"} <= terms


def test_notebook_00_links_to_the_glossary() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    assert any("](../GLOSSARY.md)" in cell.source for cell in nb.cells if cell.cell_type == "markdown")


@pytest.mark.parametrize(
    "text,message",
    [
        ("no table here", "must hold a markdown table"),
        ("| Term | 中文 |\n| a | b |\n| c | d |", "separator"),
        ("| Term | 中文 |\n|---|---|\n| a | b", "must end with"),
    ],
)
def test_the_parser_rejects_broken_tables(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_table(text)


def test_the_checks_catch_bad_rows() -> None:
    rows = parse_table("| Term | 中文 | Meaning | Notebook |\n|---|---|---|---|\n"
                       "| a | Voila | m | 99_missing.ipynb |\n| b | 张量 |  | 02_x.ipynb |\n")[1:]
    assert not CJK.search(rows[0][1]) and not DASH_WITH_REASON.match(rows[0][1])
    assert not all(rows[1])
    assert DASH_WITH_REASON.match("— (a product name, not translated)") and not DASH_WITH_REASON.match("—")
