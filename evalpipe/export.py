"""Writing the published tables: stable columns, the data's origin on every row, safe cells."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .drop import DataDrop

# Cell starts a spreadsheet would run as a formula (CSV/XLSX injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_table(table: pd.DataFrame, path: Path, drop: DataDrop) -> Path:
    """Write ``table`` as UTF-8 CSV with a ``data_origin`` column (``synthetic`` or ``real``)."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(neutralise_cell)
    out["data_origin"] = drop.data_origin
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
    return path
