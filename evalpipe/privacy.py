"""Small-count suppression for tables about child victims and residents.

Counts from 1 to ``threshold - 1`` in a disaggregated public table could single a child out; they are
shown as ``<threshold`` instead. Zero stays zero (it reveals no one) and totals are not suppressed.
"""

from __future__ import annotations

import pandas as pd

DEFAULT_THRESHOLD = 5


def suppress_small_counts(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD,
                          columns: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Return a copy with small counts replaced by "<threshold", and how many cells were hidden."""
    out = table.copy()
    hidden = 0
    candidates = columns if columns is not None else [
        c for c in out.columns if pd.api.types.is_integer_dtype(out[c]) or
        (pd.api.types.is_float_dtype(out[c]) and out[c].dropna().apply(float.is_integer).all())]
    for column in candidates:
        values = out[column]
        small = values.notna() & (values > 0) & (values < threshold)
        if small.any():
            hidden += int(small.sum())
            out[column] = values.astype(object).where(~small, f"<{threshold}")
    return out, hidden


def suppress_where(table: pd.DataFrame, rows: pd.Series, column: str, threshold: int = DEFAULT_THRESHOLD
                   ) -> tuple[pd.DataFrame, int]:
    """Suppress small counts of ``column`` only in the selected ``rows`` (e.g. rows about victims)."""
    out = table.copy()
    values = out[column]
    small = rows & values.notna() & (values > 0) & (values < threshold)
    out[column] = values.astype(object).where(~small, f"<{threshold}")
    return out, int(small.sum())
