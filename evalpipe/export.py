"""Writing the published tables: stable columns, the data's origin on every row, safe cells."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .drop import DataDrop

# Cell starts a spreadsheet would run as a formula (CSV/XLSX injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Inside a cell: a separator of either locale (',' English, ';' Spanish), a tab or a line break, then
# (after spaces or a quote) a formula character. A spreadsheet that splits the line there would start a
# cell with a formula: "1;=HYPERLINK(...)" opens in a Spanish-locale Excel as 1 | =HYPERLINK(...).
_SEGMENT_FORMULA = re.compile(r'([,;\t\r\n][ \t"]*)(?=[=+\-@])')
_START_AFTER_BLANKS = re.compile(r'[ "]+[=+\-@]')
_NEUTRALISED_SEGMENT = re.compile(r'([,;\t\r\n][ \t"]*)\'(?=[=+\-@])')


def neutralise_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets an apostrophe before the formula character:
    at the start of the cell and after every separator of either locale (or tab, line break) inside it,
    so that no way of splitting the line yields a cell that starts with =, +, -, @. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) or _START_AFTER_BLANKS.match(value):
        value = "'" + value
    return _SEGMENT_FORMULA.sub(lambda m: m.group(1) + "'", value)


def restore_cell(text: str) -> str:
    """The text ``neutralise_cell`` was given (for places that run nothing, such as the PDF annex)."""
    if text.startswith("'") and (text[1:2] in FORMULA_START or _START_AFTER_BLANKS.match(text[1:])):
        text = text[1:]
    return _NEUTRALISED_SEGMENT.sub(r"\1", text)


def write_table(table: pd.DataFrame, path: Path, drop: DataDrop) -> Path:
    """Write ``table`` as UTF-8 CSV with a ``data_origin`` column (``synthetic`` or ``real``)."""
    out = table.copy()
    for column in out.columns:
        # text of any dtype: object, pandas' string dtype, or categories (written as their text)
        if out[column].dtype == object or isinstance(out[column].dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out[column] = out[column].astype(object).map(neutralise_cell)
    out["data_origin"] = drop.data_origin
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
    return path
