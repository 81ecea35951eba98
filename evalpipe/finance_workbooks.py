"""One finance workbook read: a budget narrative or an ILO financial report (formats in data/raw/finance/README.md).

Every amount cell becomes a row with its provenance (file, sheet, row, column). The table is found by its
header (within the first rows of the one sheet that has one), the currency and the years are checked
against the declaration and the project's life, and bad input raises ``InputError`` naming file, sheet,
row and column. The workbook is opened through the workbook gate (``workbook_gate.open_workbook``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import cleaning
from .codes import ACUMULADO, TOTAL
from .errors import InputError
from .finance import ADJUSTMENT, BUDGET_COLUMNS, ORDINARY, REPORT_COLUMNS
from .quarters import Quarter, quarter_from_period
from .readers import HEADER_SEARCH_ROWS, fold_header
from .workbook_gate import open_workbook

_CURRENCY_LINE = re.compile(r"(?i)^\s*(moneda|currency|divisa)\b\s*:?\s*(.*)$")
_CURRENCY_HEADER = re.compile(r"\(([A-Za-z]{3})\)")
_YEAR = re.compile(r"^(?:year |ano )?((?:19|20)\d{2})$")
_BUDGET_HEADERS = {"code": {"item", "codigo", "code", "cod"},
                   "name": {"budget category", "category", "description", "descripcion", "partida"},
                   "total": {"total"}}
_REPORT_HEADERS = {"code": {"codigo", "code", "cod", "codigo de linea"},
                   "name": {"linea presupuestaria", "descripcion", "linea", "budget line", "concepto"},
                   "type": {"tipo", "tipo de registro", "type"},
                   "cumulative": {"ejecutado acumulado", "acumulado ejecutado", "gasto acumulado",
                                  "cumulative expenditure"}}
_MEASURE_HEADER = re.compile(r"^(programado|presupuesto programado|programmed|ejecutado|gasto ejecutado|executed|"
                             r"expenditure) ((?:19|20)\d{2})$")
_ENTRY = {"": ORDINARY, "subtotal": ORDINARY, "total": ORDINARY, "ajuste": ADJUSTMENT, "adjustment": ADJUSTMENT}


@dataclass
class _Table:
    """The table of one sheet: its header row (0-based) and what each column holds."""

    sheet: str
    rows: list[tuple]
    header: int
    columns: dict[int, tuple[str, int | None]]  # position -> (role, year)
    names: dict[int, str]  # position -> header text as written

    def position(self, role: str) -> int | None:
        return next((p for p, (r, _) in self.columns.items() if r == role), None)


def _header_role(cell: object, known: dict[str, set[str]]) -> tuple[str, int | None] | None:
    if isinstance(cell, int) and not isinstance(cell, bool):  # a year typed as a number (budget narratives)
        return ("year", cell) if "year" in known and 1900 <= cell <= 2099 else None
    folded = fold_header(_CURRENCY_HEADER.sub(" ", cleaning.normalize_text(cell)))
    for role, aliases in known.items():
        if folded in aliases:
            return role, None
    if (match := _YEAR.match(folded)) and "year" in known:
        return "year", int(match.group(1))
    if (match := _MEASURE_HEADER.match(folded)) and "measure" in known:
        measure = "programado" if match.group(1) in ("programado", "presupuesto programado", "programmed") \
            else "ejecutado"
        return measure, int(match.group(2))
    return None


def _find_table(path: Path, display: str, known: dict[str, set[str]], what: str) -> _Table:
    """The one sheet whose first rows hold a header with a code column and at least one amount column."""
    workbook = open_workbook(path, display)
    try:
        sheets = {name: [tuple(r) for r in workbook[name].iter_rows(values_only=True)] for name in workbook.sheetnames}
    finally:
        workbook.close()
    found = []
    for name, rows in sheets.items():
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            columns = {p: role for p, cell in enumerate(row) if (role := _header_role(cell, known))}
            roles = {role for role, _ in columns.values()}
            if "code" in roles and roles & {"year", "total", "programado", "ejecutado"}:
                names = {p: cleaning.normalize_text(row[p]) for p in columns}
                found.append(_Table(name, rows, index, columns, names))
                break
    if len(found) != 1:
        raise InputError(display, f"exactly one sheet with {what} (a header row within the first "
                         f"{HEADER_SEARCH_ROWS} rows)", found=f"{len(found)} in sheets {', '.join(sheets)}")
    return found[0]


def _check_currency(table: _Table, display: str, currency: str) -> None:
    """The currency stated above the table or in its headers must be the declared one; one must be stated."""
    from openpyxl.utils import get_column_letter

    stated = False
    for index, row in enumerate(table.rows[:table.header]):
        for position, cell in enumerate(row):
            match = _CURRENCY_LINE.match(cleaning.normalize_text(cell))
            if not match:
                continue
            text = match.group(2) or cleaning.normalize_text(row[position + 1] if position + 1 < len(row) else "")
            code = re.search(r"[A-Za-z]{3}", text)
            if code is None or code.group(0).upper() != currency:
                raise InputError(display, f"amounts in {currency}, the currency declared in finance/finance.yaml",
                                 sheet=table.sheet, row=index + 1, column=get_column_letter(position + 1),
                                 found=cleaning.normalize_text(cell))
            stated = True
    for position, name in table.names.items():
        match = _CURRENCY_HEADER.search(name)
        if match and match.group(1).upper() != currency:
            raise InputError(display, f"amounts in {currency}, the currency declared in finance/finance.yaml",
                             sheet=table.sheet, row=table.header + 1, column=name, found=name)
        stated = stated or bool(match)
    if not stated:
        raise InputError(display, f"the currency stated: a line 'Moneda: {currency}' above the table or "
                         f"'({currency})' in the amount headers", sheet=table.sheet, row=table.header + 1,
                         found="no currency")


def _check_years(table: _Table, display: str, first_year: int, last_year: int) -> None:
    for position, (role, year) in table.columns.items():
        if year is not None and not first_year <= year <= last_year:
            raise InputError(display, f"a year within the project's life ({first_year}-{last_year}, "
                             "lfm/project.yaml)", sheet=table.sheet, row=table.header + 1,
                             column=table.names[position], found=year)


def _amount(cell: object, display: str, table: _Table, row: int, position: int) -> float | None:
    """An amount in the currency, to the cent; None for an empty cell or '-'."""
    where = dict(sheet=table.sheet, row=row, column=table.names[position])
    if cell is None or (isinstance(cell, str) and cleaning.normalize_text(cell) in ("", "-", "—")):
        return None
    if isinstance(cell, bool):
        raise InputError(display, "an amount such as 12345.67", **where, found=cell)
    if isinstance(cell, (int, float)):
        return None if math.isnan(cell) else round(float(cell), 2)
    text = cleaning.normalize_text(cell)
    if text.startswith("="):
        raise InputError(display, "a typed value, not a formula (paste values only)", **where, found=text)
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return round(float(text), 2)
    raise InputError(display, "an amount such as 12345.67 (a point for the decimals)", **where, found=cell)


def _code(cell: object) -> str:
    text = cleaning.normalize_text(cell)
    return cleaning.normalize_code(text) if cleaning.looks_like_code(text) else text.upper()


def read_budget_narrative(path: Path, display: str, version: str, items: pd.DataFrame, currency: str,
                          years: tuple[int, int]) -> pd.DataFrame:
    """One budget narrative: an amount cell per item and year (and the stated totals), with provenance."""
    table = _find_table(path, display, _BUDGET_HEADERS | {"year": set()}, "the budget by item and year")
    _check_currency(table, display, currency)
    _check_years(table, display, *years)
    code_at = table.position("code")
    known = items.set_index("item_code")
    parents = set(items["parent_code"])
    cells, seen = [], set()
    for index in range(table.header + 1, len(table.rows)):
        row, excel_row = table.rows[index], index + 1
        amounts = {p: _amount(row[p] if p < len(row) else None, display, table, excel_row, p)
                   for p, (role, _) in table.columns.items() if role in ("year", "total")}
        code = _code(row[code_at] if code_at < len(row) else None)
        if not code:
            if any(v is not None for v in amounts.values()):
                raise InputError(display, "a budget item code (A, B, ...) in the row of the amounts", sheet=table.sheet,
                                 row=excel_row, column=table.names[code_at], found=None)
            continue
        if code not in known.index:
            raise InputError(display, f"a budget item declared in finance/finance.yaml ({', '.join(known.index)})",
                             sheet=table.sheet, row=excel_row, column=table.names[code_at], found=row[code_at])
        if code in seen:
            raise InputError(display, f"each budget item once (item {code} is repeated)", sheet=table.sheet,
                             row=excel_row, column=table.names[code_at], found=row[code_at])
        seen.add(code)
        for position, value in amounts.items():
            role, year = table.columns[position]
            value = 0.0 if value is None else value
            if value < 0:
                raise InputError(display, "a non-negative amount", sheet=table.sheet, row=excel_row,
                                 column=table.names[position], found=value)
            cells.append({"version": version, "item_code": code, "item": known.loc[code, "item"],
                          "line_type": known.loc[code, "line_type"], "parent_code": known.loc[code, "parent_code"],
                          "period": str(year) if role == "year" else TOTAL, "year": year, "amount": value,
                          "stated": role == "total" or code in parents, "currency": currency,
                          "source_file": display, "source_sheet": table.sheet, "source_row": excel_row,
                          "source_column": table.names[position], "source_code_column": table.names[code_at]})
    missing = [c for c in known.index if c not in parents and c not in seen]
    if missing:
        raise InputError(display, "a row for every budget item declared in finance/finance.yaml",
                         sheet=table.sheet, row=table.header + 1, column=table.names[code_at],
                         found=f"no row for {', '.join(missing)}")
    return pd.DataFrame(cells, columns=BUDGET_COLUMNS)


def read_financial_report(path: Path, display: str, quarter: Quarter, lines: pd.DataFrame, currency: str,
                          years: tuple[int, int]) -> tuple[pd.DataFrame, str]:
    """One ILO financial report: an amount cell per line, year and measure, with provenance; and the text of
    its period line."""
    known = _REPORT_HEADERS | {"measure": set()}
    table = _find_table(path, display, known, "the financial execution by line")
    _check_currency(table, display, currency)
    _check_years(table, display, *years)
    period_text = ""
    for index, row in enumerate(table.rows[:table.header]):
        for position, cell in enumerate(row):
            text = cleaning.normalize_text(cell)
            if re.search(r"(?i)peri[oó]do|trimestre\b", text):
                title = quarter_from_period(text)
                if title is not None and title != quarter:
                    from openpyxl.utils import get_column_letter

                    raise InputError(display, f"the period of the title block to match the quarter in the file "
                                     f"name ({quarter})", sheet=table.sheet, row=index + 1,
                                     column=get_column_letter(position + 1), found=text)
                period_text = period_text or text
    own_year = {role for role, year in table.columns.values() if year == quarter.year}
    if not {"programado", "ejecutado"} <= own_year:
        raise InputError(display, f"the columns 'Programado {quarter.year} (USD)' and 'Ejecutado {quarter.year} (USD)' "
                         "(the report's own year)", sheet=table.sheet, row=table.header + 1,
                         found=", ".join(table.names.values()))
    for position, (role, year) in table.columns.items():
        if (role == "ejecutado" and year != quarter.year) or (role == "programado" and year < quarter.year):
            raise InputError(display, f"executed amounts of the report's own year ({quarter.year}) and programmes "
                             f"of that year or later", sheet=table.sheet, row=table.header + 1,
                             column=table.names[position], found=table.names[position])
    code_at, type_at = table.position("code"), table.position("type")
    catalogue = lines.set_index("line_code")
    parents = set(lines["parent_code"])
    cells, seen = [], set()
    for index in range(table.header + 1, len(table.rows)):
        row, excel_row = table.rows[index], index + 1
        amounts = {p: _amount(row[p] if p < len(row) else None, display, table, excel_row, p)
                   for p, (role, _) in table.columns.items() if role in ("programado", "ejecutado", "cumulative")}
        code = _code(row[code_at] if code_at < len(row) else None)
        if not code:
            if any(v is not None for v in amounts.values()):
                raise InputError(display, "a line code in the row of the amounts", sheet=table.sheet, row=excel_row,
                                 column=table.names[code_at], found=None)
            continue
        if code not in catalogue.index:
            raise InputError(display, "a line code known to the LFM (an output of lfm/outputs.csv) or declared in "
                             "finance/finance.yaml", sheet=table.sheet, row=excel_row, column=table.names[code_at],
                             found=row[code_at])
        kind = fold_header(row[type_at] if type_at is not None and type_at < len(row) else "")
        if kind not in _ENTRY or (_ENTRY[kind] == ADJUSTMENT and code in parents):
            raise InputError(display, "a type among: (empty), Subtotal, Total, Ajuste (adjustments go on the rows "
                             "of a line, not of a subtotal)", sheet=table.sheet, row=excel_row,
                             column=table.names[type_at], found=row[type_at])
        entry, stated = _ENTRY[kind], code in parents
        if entry == ORDINARY:
            if code in seen:
                raise InputError(display, f"each line once (line {code} is repeated; a credit or reversal goes on "
                                 "a row of its own with Tipo 'Ajuste')", sheet=table.sheet, row=excel_row,
                                 column=table.names[code_at], found=row[code_at])
            seen.add(code)
        line = catalogue.loc[code]
        for position, value in amounts.items():
            role, year = table.columns[position]
            if value is None and entry == ADJUSTMENT:
                continue
            value = 0.0 if value is None else value
            if value < 0 and entry == ORDINARY and not stated and role != "cumulative":
                what = "executed" if role == "ejecutado" else "programmed"
                raise InputError(display, f"a non-negative {what} amount (a credit, refund or reversal goes on a "
                                 "row of its own with Tipo 'Ajuste')", sheet=table.sheet, row=excel_row,
                                 column=table.names[position], found=value)
            cumulative = role == "cumulative"
            cells.append({"report_quarter": str(quarter), "report_year": quarter.year, "line_code": code,
                          "line_name": line["line"], "line_type": line["line_type"], "parent_code": line["parent_code"],
                          "output_id": line["output_id"], "entry": entry, "stated": stated or cumulative,
                          "measure": "ejecutado" if cumulative else role,
                          "period": ACUMULADO if cumulative else str(year),
                          "year": None if cumulative else year, "amount": value, "currency": currency,
                          "source_file": display, "source_sheet": table.sheet, "source_row": excel_row,
                          "source_column": table.names[position], "source_code_column": table.names[code_at]})
    if not cells:
        raise InputError(display, "at least one line with amounts under the header", sheet=table.sheet,
                         row=table.header + 1, found="no lines")
    return pd.DataFrame(cells, columns=REPORT_COLUMNS), period_text

