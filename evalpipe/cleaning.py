"""Cleaning rules for the cells of the quarterly progress reports.

Each rule turns one messy written form into a clean value and says what it did, so that the
tidy table keeps, beside every value, the text it came from and a flag a reviewer can filter on.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# Value flags (stable codes used in data/processed and in the validation suites).
REPORTED = "reported"
NOT_APPLICABLE = "not_applicable"  # "NA", "N/A": the indicator did not exist yet (LFM 2019 extension)
UNKNOWN = "unknown"  # "¿?", "?", "s.d.": the team did not know the value
BLANK = "blank"  # empty cell
NOT_REPORTED = "not_reported"  # indicator absent from the report (added when the grid is completed)
VALUE_FLAGS = (REPORTED, NOT_APPLICABLE, UNKNOWN, BLANK, NOT_REPORTED)

_NA_TOKENS = {"na", "n/a", "n.a.", "n.a", "no aplica"}
_UNKNOWN_TOKENS = {"¿?", "?", "¿", "s.d.", "s/d", "sd", "nd", "n.d.", "por confirmar"}
_BLANK_TOKENS = {"", "-", "--", "—", "–"}
_FOOTNOTE_MARKS = re.compile(r"(?:\*+|†+|‡+|\(\d{1,2}\)|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:([.,' ])\d{3})(?:\1\d{3})*$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_CODE_LIKE = re.compile(r"^\d+(?:\s*\.\s*\d+)+\.?$")
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")


class CellFormatError(ValueError):
    """A cell whose text is not any of the accepted forms; ``expected`` says which forms are."""

    def __init__(self, expected: str, found: object):
        super().__init__(f"expected {expected}; found {found!r}")
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class CleanValue:
    """A cumulative value as read: the number (or None), its flag and whether a footnote mark was cut."""

    value: float | None
    flag: str
    footnote_mark: bool = False


def normalize_text(cell: object) -> str:
    """Cell text with every kind of space folded to one plain space and trimmed."""
    if cell is None:
        return ""
    if isinstance(cell, float) and math.isnan(cell):
        return ""
    text = unicodedata.normalize("NFC", str(cell))
    return _SPACES.sub(" ", text).strip()


def looks_like_code(cell: object) -> bool:
    """True for cells written as dotted numbers ("1.2.3", "1.2.3.4.", " 1.2.3.4")."""
    return bool(_CODE_LIKE.match(normalize_text(cell)))


def normalize_code(cell: object) -> str:
    """The canonical dotted code: spaces and trailing dot removed ("1.2.3.4." -> "1.2.3.4")."""
    text = normalize_text(cell)
    if isinstance(cell, float) and not isinstance(cell, bool):
        raise CellFormatError("an indicator code written as text, e.g. 1.2.3.4", cell)
    if not _CODE_LIKE.match(text):
        raise CellFormatError("an indicator code such as 1.2.3.4", cell)
    return ".".join(part.strip() for part in text.rstrip(".").split("."))


def code_depth(code: str) -> int:
    """Number of parts of a dotted code: 3 for an output, 4 for an indicator."""
    return len(code.split("."))


def parse_cumulative_value(cell: object) -> CleanValue:
    """Parse a cumulative value cell.

    Accepted: numbers; text numbers with thousands separators ("1,250", "1.250", "1 250");
    trailing footnote marks ("37*", "7**", "12(1)"); "NA"; "¿?"; blanks.
    Cumulative values are counts: a fraction ("2,5", "1.04") is refused, and a dot followed by exactly
    three digits is a thousands separator ("1.250" = 1250, as written in Spanish).
    """
    if isinstance(cell, bool):
        raise CellFormatError("a number, 'NA', '¿?' or an empty cell", cell)
    if isinstance(cell, (int, float)):
        if isinstance(cell, float) and math.isnan(cell):
            return CleanValue(None, BLANK)
        if not float(cell).is_integer():
            raise CellFormatError("a whole number (cumulative values are counts)", cell)
        return CleanValue(float(cell), REPORTED)
    text = normalize_text(cell)
    folded = text.lower()
    if folded in _BLANK_TOKENS:
        return CleanValue(None, BLANK)
    if folded in _NA_TOKENS:
        return CleanValue(None, NOT_APPLICABLE)
    if folded in _UNKNOWN_TOKENS:
        return CleanValue(None, UNKNOWN)
    footnote = False
    stripped = _FOOTNOTE_MARKS.sub("", text).strip()
    if stripped != text:
        footnote = True
        text = stripped
    if _THOUSANDS.match(text):
        return CleanValue(float(re.sub(r"[.,' ]", "", text)), REPORTED, footnote)
    if _PLAIN_NUMBER.match(text):
        number = float(text)
        if number.is_integer():
            return CleanValue(number, REPORTED, footnote)
    raise CellFormatError(
        "a count such as 37 or 1,250 (a footnote mark like 37* is allowed), 'NA', '¿?' or an empty cell",
        cell,
    )
