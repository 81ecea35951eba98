"""The types a microdata column may be declared with (``microdata/sources.yaml``), registered by name.

Each type says how a cell is parsed when the partner's file is read (``parse``), how the parsed values
become a column (``column``), how the column is written to the processed CSV (``write``) and read back from
it (``read``), and whether its values are private (ids and free text: never echoed in a message, a
validation result or the Data Docs). The sources schema (``schemas.ColumnSpec``), the reader and writer of
``microdata`` and ``privacy.PRIVATE_TYPES`` all take them from here. This module imports nothing heavy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable


class CellProblem(ValueError):
    """A cell that is not a value of its column's type: what was expected, and whether the cell may be shown
    as it is (``masked``: identifiers in it are masked before it is echoed)."""

    def __init__(self, expected: str, masked: bool = True) -> None:
        super().__init__(expected)
        self.expected, self.masked = expected, masked


def _as_text(values):
    import pandas as pd

    return pd.Series(list(values), dtype="object", index=getattr(values, "index", None))


@dataclass(frozen=True)
class ColumnType:
    name: str
    private: bool = False
    # a cell (already trimmed text, or the number or date the workbook holds) -> its value; CellProblem if not
    parse: Callable[[Any, str], Any] = lambda value, decimal: str(value)
    # the parsed values (a list, None for blank) and their index -> the typed column
    column: Callable[[list, Any], Any] = lambda parsed, index: _as_text(_series(parsed, index))
    # the typed column -> the column as the processed CSV holds it
    write: Callable[[Any], Any] = lambda values: values
    # the processed CSV's text column (None for blank) -> the typed column
    read: Callable[[Any], Any] = lambda values: values.astype("object")


def _series(parsed: list, index: Any):
    import pandas as pd

    return pd.Series(parsed, dtype="object", index=index)


COLUMN_TYPES: dict[str, ColumnType] = {}


def column_type(kind: ColumnType) -> ColumnType:
    COLUMN_TYPES[kind.name] = kind
    return kind


_DOT_THOUSANDS = re.compile(r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4})")


def _number(value: Any, decimal: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    candidate = str(value)
    if decimal == "," and _DOT_THOUSANDS.fullmatch(candidate):
        candidate = candidate.replace(".", "")  # 1.250,5 in a decimal-comma file
    if re.fullmatch(r"-?\d+,\d+", candidate):
        candidate = candidate.replace(",", ".")
    try:
        return float(candidate)
    except ValueError:
        raise CellProblem("a number") from None


def _date(value: Any, decimal: str):
    import pandas as pd

    if hasattr(value, "year"):
        return pd.Timestamp(value).normalize()
    match = _DATE.fullmatch(str(value))
    if not match:
        raise CellProblem("a date written YYYY-MM-DD or DD/MM/YYYY")
    try:
        if match.group(1):
            return pd.Timestamp(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return pd.Timestamp(int(match.group(6)), int(match.group(5)), int(match.group(4)))
    except ValueError:
        raise CellProblem("a calendar date", masked=False) from None


def _number_column(parsed: list, index: Any):
    import pandas as pd

    return pd.Series(parsed, dtype="float64", index=index)


def _date_column(parsed: list, index: Any):
    import pandas as pd

    return pd.to_datetime(pd.Series(parsed, index=index, dtype="object"))


def _read_number(values):
    import pandas as pd

    return pd.to_numeric(values).astype("float64")


def _read_date(values):
    import pandas as pd

    return pd.to_datetime(values)


column_type(ColumnType("id", private=True))  # a pseudonymous identifier (a project code such as VR-001)
column_type(ColumnType("text", private=True))  # free text
column_type(ColumnType("category"))  # one of the values the source's suite lists
column_type(ColumnType("number", parse=_number, column=_number_column, read=_read_number))
column_type(ColumnType("date", parse=_date, column=_date_column, write=lambda values: values.dt.strftime("%Y-%m-%d"),
                       read=_read_date))

PRIVATE_TYPES = tuple(name for name, kind in COLUMN_TYPES.items() if kind.private)
