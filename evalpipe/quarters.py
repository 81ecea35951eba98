"""Calendar quarters as the project reports them ("2020Q2", "2020T2", "T2 2020", "abril-junio 2020")."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import total_ordering

_MONTHS_ES = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}


@total_ordering
@dataclass(frozen=True)
class Quarter:
    """A calendar quarter; ordered, hashable and printed as ``2020Q2``."""

    year: int
    q: int

    def __post_init__(self) -> None:
        if not 1 <= self.q <= 4:
            raise ValueError(f"quarter number must be 1-4, got {self.q}")

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    def __lt__(self, other: "Quarter") -> bool:
        return (self.year, self.q) < (other.year, other.q)

    @property
    def index(self) -> int:
        """Months-free ordinal, so that consecutive quarters differ by one."""
        return self.year * 4 + self.q - 1

    @property
    def start_date(self) -> "dt.date":
        return dt.date(self.year, 3 * self.q - 2, 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + (self.q == 4), self.q % 4 + 1)


_QUARTER_PATTERNS = [
    re.compile(r"(?P<year>(?:19|20)\d{2})\s*[-_ ]?\s*[QqTt](?P<q>[1-4])(?!\d)"),
    re.compile(r"(?<![A-Za-z0-9])[QqTt](?P<q>[1-4])\s*[-_ ]?\s*(?P<year>(?:19|20)\d{2})"),
]


def parse_quarter(text: str) -> Quarter:
    """Read a quarter written as 2020Q2, 2020-T2, T2 2020 or Q2_2020; raise ValueError otherwise."""
    found = find_quarter(str(text))
    if found is None:
        raise ValueError(f"not a quarter (expected e.g. 2020Q2): {text!r}")
    return found


def find_quarter(text: str) -> Quarter | None:
    """The first quarter code found anywhere in ``text``, or None."""
    for pattern in _QUARTER_PATTERNS:
        match = pattern.search(text)
        if match:
            return Quarter(int(match.group("year")), int(match.group("q")))
    return None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def quarter_from_period(text: str) -> Quarter | None:
    """The quarter of a period line: "Trimestre: 2019-T3", "Periodo: abril - junio 2019",
    "octubre 2019 - marzo 2020" (the quarter of the last month, with that month's year).

    A quarter code wins over month names; returns None when the text names neither.
    """
    code = find_quarter(str(text))
    if code is not None:
        return code
    folded = _fold(str(text))
    months = list(re.finditer("|".join(_MONTHS_ES), folded))
    years = list(re.finditer(r"(?:19|20)\d{2}", folded))
    if not months or not years:
        return None
    last_month = months[-1]
    after = [y for y in years if y.start() > last_month.start()]
    year = (after[0] if after else years[-1]).group(0)
    return Quarter(int(year), (_MONTHS_ES[last_month.group(0)] - 1) // 3 + 1)


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    out, current = [], first
    while current <= last:
        out.append(current)
        current = current.next()
    return out
