"""Budget and financial execution (§171-183): Tables 3-6, Annexes 19-20, Finding 13, §177.

Reads the budget narratives and the ILO financial reports of ``finance/`` (formats in
data/raw/finance/README.md) with the provenance of every amount; checks the sums a reviewer checks by
hand, within a stated rounding tolerance; computes the tables from the leaf amounts (never from the
totals a file states); and audits the published figures against them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from . import cleaning
from .audit import finding
from .errors import InputError
from .outputs import round_half_up
from .quarters import Quarter, find_quarter, parse_quarter, quarter_from_period, quarter_range
from .readers import HEADER_SEARCH_ROWS, fold_header, open_workbook

FINANCE_DIR = "finance"
DECLARATION = "finance.yaml"
RAW_UNIT = 0.01  # the raw files give amounts to the cent
PUBLISHED_UNIT = 1.0  # the report prints whole dollars
ORDINARY, ADJUSTMENT = "ordinario", "ajuste"
ACUMULADO, TOTAL = "acumulado", "total"
GROUPINGS = {"OUTPUTS": ("Productos de los componentes", "Outputs of the components"),  # §177
             "NO_OUTPUTS": ("Acciones que no terminan en productos", "Actions that do not end in outputs")}

PROVENANCE = ["source_file", "source_sheet", "source_row", "source_column", "source_code_column"]
BUDGET_COLUMNS = ["version", "item_code", "item", "line_type", "parent_code", "period", "year", "amount", "stated",
                  "currency", *PROVENANCE]
REPORT_COLUMNS = ["report_quarter", "report_year", "line_code", "line_name", "line_type", "parent_code", "output_id",
                  "entry", "stated", "measure", "period", "year", "amount", "currency", *PROVENANCE]
CHECK_COLUMNS = ["rule", "table", "line", "line_name", "period", "measure", "expected", "found", "difference",
                 "tolerance", "passed", "n_terms", "where", "source_file", "source_sheet", "source_row",
                 "source_column"]
TABLE_COLUMNS = ["line", "line_name_es", "line_name_en", "line_type", "parent_code", "is_total", "period", "measure",
                 "value", "value_rounded", "unit", "currency", "numerator", "denominator", "source"]
EXECUTION_COLUMNS = [*TABLE_COLUMNS[:6], "component_id", "output_id", *TABLE_COLUMNS[6:]]

# The cross-table rules a reviewer checks by hand. A line rule is named after the kind of total.
RULES = {
    "outputs_sum_to_component": "the outputs of a component add up to the component (Annexes 19-20)",
    "items_sum_to_operating_costs": "the operating-cost items add up to the operating costs (Annexes 19-20)",
    "lines_sum_to_total": "components, operating costs and PM add up to the total (Annexes 19-20)",
    "items_sum_to_direct_costs": "items A-G add up to the total direct costs (Tables 3-6)",
    "direct_and_indirect_sum_to_total": "direct plus indirect costs make the total cost (Tables 3-6)",
    "years_sum_to_total": "the years add up to the item's total (Table 4 to Table 3, Table 6 to Table 5)",
    "years_sum_to_cumulative": "the years add up to the cumulative figure: executed to the cut-off = executed of each "
                               "year; whole-life programme = programme of each year (Annexes 19-20)",
    "balance_is_programmed_minus_executed": "balance carried over = programmed in the years reported - executed to "
                                            "the cut-off (Annex 19, 'Saldos anteriores')",
    "pct_is_executed_over_programmed": "execution % = executed / programmed x 100 (Annexes 19-20)",
    "share_is_amount_over_total": "share % = amount / total cost x 100 (Tables 3-6)",
}
LINE_RULE = {"component": "outputs_sum_to_component", "operating_costs": "items_sum_to_operating_costs",
             "total": "lines_sum_to_total", "direct_total": "items_sum_to_direct_costs",
             "total_cost": "direct_and_indirect_sum_to_total"}
TOLERANCE = ("a printed or stated total may differ from the sum of its n parts by up to (n + 1) / 2 units of "
             "rounding: 1 USD for the published figures (whole dollars), 0.01 USD for the raw files (cents)")


@dataclass
class FinanceData:
    """The finance folder as read: every amount cell with its provenance, and what was (not) opened."""

    currency: str
    cutoff: Quarter
    first_quarter: Quarter  # the project's life (lfm/project.yaml)
    last_quarter: Quarter
    items: pd.DataFrame  # budget items: item_code, item, item_es, line_type, parent_code
    lines: pd.DataFrame  # report lines: line_code, line, line_en, line_type, parent_code, component_id, output_id
    budget: pd.DataFrame  # one row per amount cell of the budget narratives (BUDGET_COLUMNS)
    reports: pd.DataFrame  # one row per amount cell of the reports used (REPORT_COLUMNS)
    inventory: pd.DataFrame  # one row per report file: file, quarter, status, period_text
    labels: dict[str, str]  # budget version -> label

    @property
    def first_year(self) -> int:
        return self.first_quarter.year

    @property
    def last_year(self) -> int:
        return self.last_quarter.year


# ------------------------------------------------------------------ declaration and catalogue

def _display(path: Path, project_root: Path | None) -> str:
    from .paths import display_path

    return display_path(path, project_root) if project_root else Path(path).name


def load_declaration(folder: Path, project_root: Path | None = None, *, raw_dir: Path | None = None,
                     allow_outside: bool = False) -> dict:
    """finance/finance.yaml, read safely and checked against ``schemas.FinanceSpec``; every file and
    folder it names must lie inside the drop (after links) unless ``allow_outside``."""
    from .paths import inside_drop
    from .safeyaml import read_yaml
    from .schemas import FinanceSpec, validate

    folder = Path(folder)
    raw_dir = Path(raw_dir) if raw_dir is not None else folder.parent
    path = folder / DECLARATION
    display = _display(path, project_root)
    inside_drop(folder, raw_dir, _display(folder, project_root), allow_outside=allow_outside, what="folder")
    if not path.exists():
        raise InputError(display, "a finance.yaml that declares the currency, the budget narratives and the report "
                         "lines (see data/raw/finance/README.md)", found="missing file")
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    document = read_yaml(path, display)
    spec = validate(FinanceSpec, document.data, display, document=document)
    for version, narrative in spec.budget_narratives.items():
        target = folder / narrative.file
        inside_drop(target, raw_dir, f"{display}: budget_narratives.{version}.file {narrative.file}",
                    allow_outside=allow_outside)
    reports = folder / spec.financial_reports
    inside_drop(reports, raw_dir, f"{display}: financial_reports {spec.financial_reports}",
                allow_outside=allow_outside, what="folder")
    for report in sorted(reports.glob("*.xlsx")) if reports.is_dir() else []:
        inside_drop(report, raw_dir, _display(report, project_root), allow_outside=allow_outside)
    return document.data


def _project_life(raw_dir: Path, project_root: Path | None = None, allow_outside: bool = False
                  ) -> tuple[Quarter, Quarter]:
    from .lfm import load_project

    project = load_project(raw_dir, project_root, allow_outside=allow_outside)
    return project.first_quarter, project.last_quarter


def _items(declaration: dict) -> pd.DataFrame:
    items = declaration["budget_items"]
    parents = {spec.get("parent") for spec in items.values()}
    root = next(code for code, spec in items.items() if not spec.get("parent"))
    kinds = {code: ("total_cost" if code == root else "direct_total" if code in parents else
                    "indirect" if spec.get("parent") == root else "direct") for code, spec in items.items()}
    return pd.DataFrame([{"item_code": code, "item": spec["name_en"], "item_es": spec.get("name_es", spec["name_en"]),
                          "line_type": kinds[code], "parent_code": spec.get("parent") or ""}
                         for code, spec in items.items()])


def _lines(declaration: dict, lfm) -> pd.DataFrame:
    """Report lines in print order: each component, its LFM outputs and declared lines; then the rest."""
    declared = declaration["report_lines"]

    def label(template: dict, code: str) -> dict:
        return {lang: template[lang].replace("{id}", code) for lang in ("es", "en")}

    def row(code: str, names: dict, kind: str, parent: str, component: str, output: str | None) -> dict:
        return {"line_code": code, "line": names["es"], "line_en": names.get("en", names["es"]), "line_type": kind,
                "parent_code": parent, "component_id": component, "output_id": output}

    rows = []
    for cid in lfm.components["component_id"]:
        rows.append(row(f"C{cid}", label(declaration["component_label"], cid), "component", "TOTAL", cid, None))
        rows += [row(oid, label(declaration["output_label"], oid), "output", f"C{cid}", cid, oid)
                 for oid in lfm.outputs.loc[lfm.outputs["component_id"] == cid, "output_id"]]
        rows += [row(code, spec, spec["type"], spec["parent"], cid, None)
                 for code, spec in declared.items() if spec.get("parent") == f"C{cid}"]
    rows += [row(code, spec, spec["type"], spec.get("parent") or "", "", None)
             for code, spec in declared.items() if not str(spec.get("parent", "")).startswith("C")]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ reading workbooks

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


# ------------------------------------------------------------------ loading

def load_finance(raw_dir: Path, lfm, cutoff: Quarter, project_root: Path | None = None, *,
                 allow_outside: bool = False) -> FinanceData:
    """Read the finance folder of a drop: budget narratives, and the reports at or before the cut-off.

    Bad input raises InputError naming file, sheet, row and column, including stated totals that do
    not add up to their rows (see ``reconcile``).
    """
    raw_dir = Path(raw_dir)
    folder = raw_dir / FINANCE_DIR
    declaration = load_declaration(folder, project_root, raw_dir=raw_dir, allow_outside=allow_outside)
    currency = str(declaration["currency"]).upper()
    first_quarter, last_quarter = _project_life(raw_dir, project_root, allow_outside)
    years = first_quarter.year, last_quarter.year
    items, lines = _items(declaration), _lines(declaration, lfm)
    budget = []
    for version, spec in declaration["budget_narratives"].items():
        path = folder / spec["file"]
        display = _display(path, project_root)
        if not path.exists():
            raise InputError(display, f"the budget narrative '{version}' declared in finance/finance.yaml",
                             found="missing file")
        budget.append(read_budget_narrative(path, display, version, items, currency, years))
    inventory, reports = [], []
    for path in sorted((folder / declaration["financial_reports"]).glob("*.xlsx")):
        if path.name.startswith("~$"):
            continue
        display = _display(path, project_root)
        quarter = find_quarter(path.stem)
        if quarter is None:
            raise InputError(display, "a file name that contains the report's quarter, e.g. "
                             "'Informe financiero OIT 2020T2.xlsx'", found=path.name)
        if not first_quarter <= quarter <= last_quarter:
            raise InputError(display, f"a report quarter within the project's life ({first_quarter}-{last_quarter}, "
                             "lfm/project.yaml)", found=str(quarter))
        if quarter > cutoff:
            inventory.append({"file": display, "quarter": str(quarter), "status": "after_cutoff", "period_text": ""})
            continue
        if str(quarter) in [r["quarter"] for r in inventory]:
            raise InputError(display, f"one financial report per quarter ({quarter} has two)", found=path.name)
        cells, period_text = read_financial_report(path, display, quarter, lines, currency, years)
        reports.append(cells)
        inventory.append({"file": display, "quarter": str(quarter), "status": "used", "period_text": period_text})
    used = [r for r in inventory if r["status"] == "used"]
    if not used:
        raise InputError(_display(folder / declaration["financial_reports"], project_root),
                         f"at least one ILO financial report at or before the cut-off {cutoff}",
                         found=f"{len(inventory)} report(s), all after it")
    finance = FinanceData(
        currency=currency, cutoff=cutoff, first_quarter=first_quarter, last_quarter=last_quarter, items=items,
        lines=lines,
        budget=pd.concat(budget, ignore_index=True), reports=pd.concat(reports, ignore_index=True),
        inventory=pd.DataFrame(inventory).sort_values("quarter", kind="stable").reset_index(drop=True),
        labels={version: spec.get("label", version) for version, spec in declaration["budget_narratives"].items()})
    checks = reconcile(finance)
    failed = checks[~checks["passed"]]
    if len(failed):
        first = failed.iloc[0]
        raise InputError(first["source_file"], f"a total equal to the sum of its parts ({RULES[first['rule']]}): "
                         f"{first['expected']:,.2f} within {first['tolerance']:.2f}", sheet=first["source_sheet"],
                         row=int(first["source_row"]), column=first["source_column"], found=f"{first['found']:,.2f}")
    return finance


# ------------------------------------------------------------------ reconciliation

def _tolerance(n_terms: int, unit: float) -> float:
    return round((n_terms + 1) / 2 * unit, 6)


def _check(rule: str, total: pd.Series, expected: float, n_terms: int, unit: float) -> dict:
    found = float(total["value"])
    difference = round(found - expected, 6)
    tolerance = _tolerance(n_terms, unit)
    where = total.get("where") or (f"{total['source_file']}, sheet '{total['source_sheet']}', "
                                   f"row {total['source_row']}, column '{total['source_column']}'")
    return {"rule": rule, "table": total["table"], "line": total["line_code"], "line_name": total.get("line", ""),
            "period": total["period"], "measure": total["measure"], "expected": round(expected, 6), "found": found,
            "difference": difference, "tolerance": tolerance, "passed": abs(difference) <= tolerance,
            "n_terms": n_terms, "where": where,
            **{k: total.get(k, "") for k in ("source_file", "source_sheet", "source_row", "source_column")}}


def check_cells(cells: pd.DataFrame, unit: float, periods: bool = True) -> pd.DataFrame:
    """Every sum rule on a table of amount cells: each total against the sum of its parts.

    ``cells`` has one row per (table, line_code, period, measure) with ``value``, ``parent_code`` and
    ``line_type``; lines add up to their parent, years to the ``total`` / ``acumulado`` period (when
    ``periods``), and a ``saldos_anteriores`` cell to the programme of the years with executed amounts
    minus the executed to the cut-off. Ratio cells (``execution_pct``, ``share_of_total_pct``) are checked
    against the amounts, half a printed digit plus the amounts' own rounding allowed.
    """
    checks = []
    amounts = cells[cells["measure"].isin(["amount", "programado", "ejecutado"])]
    value = {(r.table, r.line_code, r.period, r.measure): r.value for r in amounts.itertuples()}
    types = dict(zip(zip(cells["table"], cells["line_code"]), cells["line_type"]))
    children = amounts[amounts["parent_code"] != ""].groupby(["table", "parent_code", "period", "measure"])["value"]
    line_parts = {key: (float(group.sum()), len(group)) for key, group in children}
    years = amounts[amounts["period"].str.fullmatch(r"\d{4}")].groupby(["table", "line_code", "measure"])["value"]
    year_parts = {key: (float(group.sum()), len(group)) for key, group in years}
    for _, total in amounts.iterrows():
        key = (total["table"], total["line_code"], total["period"], total["measure"])
        if key in line_parts:  # lines add up to their parent
            rule = LINE_RULE.get(types[key[:2]], "lines_sum_to_total")
            checks.append(_check(rule, total, *line_parts[key], unit))
        if periods and key[2] in (TOTAL, ACUMULADO) and (key[0], key[1], key[3]) in year_parts:
            rule = "years_sum_to_total" if key[2] == TOTAL else "years_sum_to_cumulative"
            checks.append(_check(rule, total, *year_parts[(key[0], key[1], key[3])], unit))
    for _, balance in cells[cells["measure"] == "saldos_anteriores"].iterrows():
        key = (balance["table"], balance["line_code"])
        reported = [p for (t, l, p, m) in value if (t, l) == key and m == "ejecutado" and p != ACUMULADO]
        executed = value.get((*key, ACUMULADO, "ejecutado"))
        if executed is None or not reported:
            continue
        programmed = sum(value.get((*key, p, "programado"), 0.0) for p in reported)
        checks.append(_check("balance_is_programmed_minus_executed", balance, programmed - executed,
                             len(reported) + 1, unit))
    for _, ratio in cells[cells["measure"].isin(["execution_pct", "share_of_total_pct"])].iterrows():
        key = (ratio["table"], ratio["line_code"], ratio["period"])
        if ratio["measure"] == "execution_pct":
            rule, numerator = "pct_is_executed_over_programmed", value.get((*key, "ejecutado"))
            denominator = value.get((*key, "programado"))
        else:
            root = cells[(cells["table"] == ratio["table"]) & (cells["parent_code"] == "")]["line_code"].iloc[0]
            rule, numerator = "share_is_amount_over_total", value.get((*key, "amount"))
            denominator = value.get((ratio["table"], root, TOTAL, "amount"))
        if numerator is None or denominator is None:
            continue
        printed = ratio["value"]
        if denominator == 0:
            if not pd.isna(printed):
                checks.append({**_check(rule, ratio, float("nan"), 1, unit), "passed": False,
                               "difference": float("nan")})
            continue
        exact = 100 * numerator / denominator
        digits = 1 if not pd.isna(printed) and abs(printed) < 1 else 0
        check = _check(rule, ratio, exact, 1, unit)
        check["tolerance"] = round(0.5 * 10 ** -digits + 50 * unit * (1 / abs(denominator)
                                                                      + abs(numerator) / denominator ** 2), 6)
        check["passed"] = not pd.isna(printed) and abs(printed - exact) <= check["tolerance"]
        checks.append(check)
    return pd.DataFrame(checks, columns=CHECK_COLUMNS)


def _raw_cells(finance: FinanceData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw amounts as cells (entries of a line summed), and each report's cumulative-expenditure view:
    its stated cumulative beside the executed of every year, from the last report of that year so far."""
    budget = finance.budget.assign(table="budget " + finance.budget["version"], line_code=finance.budget["item_code"],
                                   line=finance.budget["item"], measure="amount", value=finance.budget["amount"])
    keys = ["report_quarter", "line_code", "period", "measure"]
    reports = (finance.reports.groupby(keys, sort=False)
               .agg(value=("amount", "sum"), line=("line_name", "first"),
                    **{c: (c, "first") for c in ["line_type", "parent_code", "report_year", "source_file",
                                                 "source_sheet", "source_row", "source_column"]})
               .reset_index())
    reports["value"] = reports["value"].round(2)
    reports["table"] = "report " + reports["report_quarter"]
    views = []
    quarters = sorted(reports["report_quarter"].unique(), key=parse_quarter)
    for position, quarter in enumerate(quarters):
        own = reports[(reports["report_quarter"] == quarter) & (reports["period"] == ACUMULADO)]
        latest = {parse_quarter(q).year: q for q in quarters[:position + 1]}
        earlier = reports[reports["report_quarter"].isin(latest.values()) & (reports["measure"] == "ejecutado")
                          & (reports["period"] != ACUMULADO)]
        earlier = earlier[earlier.apply(lambda r: latest[int(r["period"])] == r["report_quarter"], axis=1)]
        views.append(pd.concat([own, earlier]).assign(table=f"cumulative at {quarter}"))
    cells = pd.concat([budget, reports], ignore_index=True)
    return cells, (pd.concat(views, ignore_index=True) if views else cells.iloc[0:0])


def reconcile(finance: FinanceData) -> pd.DataFrame:
    """Every stated total of the raw files against the sum of its parts (CHECK_COLUMNS), tolerance in cents.

    Budget narratives: items to direct costs, direct plus indirect to the total, years to the Total column.
    Reports: outputs to their component, operating-cost items to their subtotal, components, operating
    costs and PM to the total; and each report's cumulative expenditure to the executed of its years.
    """
    cells, views = _raw_cells(finance)
    cumulative = views[views["period"] == ACUMULADO]
    checks = [check_cells(cells[cells["period"] != ACUMULADO], RAW_UNIT),
              check_cells(views, RAW_UNIT)[lambda c: c["rule"] == "years_sum_to_cumulative"],
              check_cells(cumulative, RAW_UNIT, periods=False)]
    return pd.concat([c for c in checks if len(c)], ignore_index=True).reindex(columns=CHECK_COLUMNS)


# ------------------------------------------------------------------ computing the tables

def _pct(numerator: float, denominator: float) -> float:
    return float("nan") if not denominator else 100 * numerator / denominator


def _rounded(value: float, unit: str) -> float:
    """As the report prints: whole dollars and whole percentages; a share that is not zero but would
    print as 0 gets one decimal (Table 4: 0.1)."""
    if value is None or pd.isna(value):
        return float("nan")
    whole = round_half_up(value, 0)
    return round_half_up(value, 1) if unit == "%" and whole == 0 and value != 0 else whole


def _row(base: dict, period: str, measure: str, value: float, unit: str, currency: str,
         numerator: float | None = None, denominator: float | None = None, source: str = "") -> dict:
    value = round(value, 2) if unit != "%" and not pd.isna(value) else value
    return {**base, "period": period, "measure": measure, "value": value, "value_rounded": _rounded(value, unit),
            "unit": unit, "currency": currency if unit != "%" else "", "numerator": numerator,
            "denominator": denominator, "source": source}


def _budget_table(finance: FinanceData) -> pd.DataFrame:
    """Tables 3-6: each item by year and in total, its share of the total cost, the distribution by year,
    and the indirect costs as a share of the direct costs (§172-173)."""
    items = finance.items.set_index("item_code")
    root = items.index[items["parent_code"] == ""][0]
    direct_total = items.index[items["line_type"] == "direct_total"][0]
    rows = []
    for version, part in finance.budget[~finance.budget["stated"]].groupby("version", sort=False):
        years = sorted(int(y) for y in part["year"].dropna().unique())
        leaf = {(r.item_code, int(r.year)): r.amount for r in part.itertuples()}
        source = part["source_file"].iloc[0]

        def amount(code: str, year: int | None) -> float:
            if year is None:
                return sum(amount(code, y) for y in years)
            kids = items.index[items["parent_code"] == code]
            return round(sum(amount(k, year) for k in kids), 2) if len(kids) else leaf.get((code, year), 0.0)

        grand = amount(root, None)
        for code, item in items.iterrows():
            base = {"version": version, "line": code, "line_name_es": item["item_es"], "line_name_en": item["item"],
                    "line_type": item["line_type"], "parent_code": item["parent_code"],
                    "is_total": code in set(items["parent_code"])}
            for year in years:
                rows.append(_row(base, str(year), "amount", amount(code, year), "USD", finance.currency, source=source))
            total = amount(code, None)
            rows.append(_row(base, TOTAL, "amount", total, "USD", finance.currency, source=source))
            rows.append(_row(base, TOTAL, "share_of_total_pct", _pct(total, grand), "%", "", total, grand, source))
            if code == root:
                for year in years:
                    rows.append(_row(base, str(year), "share_of_total_pct", _pct(amount(code, year), grand), "%", "",
                                     amount(code, year), grand, source))
            if item["line_type"] == "indirect":
                direct = amount(direct_total, None)
                rows.append(_row(base, TOTAL, "share_of_direct_pct", _pct(total, direct), "%", "", total, direct,
                                 source))
    return pd.DataFrame(rows, columns=["version", *TABLE_COLUMNS])


def _years_used(finance: FinanceData) -> tuple[dict[int, str], dict[int, str]]:
    """For each year, the report its executed amounts come from (the last one of that year), and for the
    years after, the report whose programme counts (the last report)."""
    used = finance.inventory[finance.inventory["status"] == "used"]
    own = {parse_quarter(q).year: q for q in used["quarter"]}
    last = used["quarter"].iloc[-1]
    reports = finance.reports
    planned = reports[(reports["report_quarter"] == last) & (reports["measure"] == "programado")]
    forward = {int(y): last for y in planned["year"].dropna().unique() if int(y) not in own}
    return own, forward


def _execution_table(finance: FinanceData) -> pd.DataFrame:
    """Annexes 19-20: programmed and executed by year and line, execution %, whole-life programme, balance
    carried over; the components' and the other lines' shares of the whole-life programme (§177)."""
    own, forward = _years_used(finance)
    leaves = finance.reports[~finance.reports["stated"]]
    chosen = [(leaves["report_quarter"] == q) & (leaves["year"] == y) for y, q in {**own, **forward}.items()]
    leaves = leaves[pd.concat(chosen, axis=1).any(axis=1)]
    amounts = leaves.groupby(["line_code", "measure", "year"])["amount"].sum().round(2).to_dict()
    files = finance.inventory.set_index("quarter")["file"]
    lines = finance.lines.set_index("line_code")
    present = set(leaves["line_code"])

    def leaves_of(code: str) -> list[str]:
        kids = lines.index[lines["parent_code"] == code]
        return [leaf for kid in kids for leaf in leaves_of(kid)] if len(kids) else [code] * (code in present)

    members = {code: leaves_of(code) for code in lines.index if leaves_of(code)}
    root = lines.index[lines["parent_code"] == ""][0]
    components = [c for c in members if lines.loc[c, "line_type"] == "component"]
    others = [c for c in members if lines.loc[c, "parent_code"] == root and c not in components]
    groups = {"OUTPUTS": [leaf for c in components for leaf in members[c]],
              "NO_OUTPUTS": [leaf for c in others for leaf in members[c]]}
    years = sorted(own) + sorted(forward)

    def total(code: str, measure: str, years_: list[int]) -> float:
        leaves_ = groups.get(code) or members[code]
        return round(sum(amounts.get((leaf, measure, y), 0.0) for leaf in leaves_ for y in years_), 2)

    grand = total(root, "programado", years)
    rows = []
    ordered = [root] + [c for c in members if c != root] + list(groups)
    for code in ordered:
        if code in groups:
            base = {"line": code, "line_name_es": GROUPINGS[code][0], "line_name_en": GROUPINGS[code][1],
                    "line_type": "grouping", "parent_code": "", "is_total": True, "component_id": "", "output_id": ""}
        else:
            line = lines.loc[code]
            base = {"line": code, "line_name_es": line["line"], "line_name_en": line["line_en"],
                    "line_type": line["line_type"], "parent_code": line["parent_code"],
                    "is_total": code in set(lines["parent_code"]), "component_id": line["component_id"],
                    "output_id": line["output_id"] or ""}
        cur = finance.currency
        for year in years:
            source = files[own.get(year) or forward[year]]
            programmed = total(code, "programado", [year])
            rows.append(_row(base, str(year), "programado", programmed, "USD", cur, source=source))
            if year in own:
                executed = total(code, "ejecutado", [year])
                rows.append(_row(base, str(year), "ejecutado", executed, "USD", cur, source=source))
                rows.append(_row(base, str(year), "execution_pct", _pct(executed, programmed), "%", "", executed,
                                 programmed, source))
            else:
                rows.append(_row(base, str(year), "programado_share_pct", _pct(programmed, grand), "%", "",
                                 programmed, grand, source))
        source = "; ".join(files[q] for q in sorted(set(own.values()) | set(forward.values()), key=parse_quarter))
        whole_life = total(code, "programado", years)
        executed = total(code, "ejecutado", sorted(own))
        balance = round(total(code, "programado", sorted(own)) - executed, 2)
        rows += [_row(base, ACUMULADO, "programado", whole_life, "USD", cur, source=source),
                 _row(base, ACUMULADO, "ejecutado", executed, "USD", cur, source=source),
                 _row(base, ACUMULADO, "execution_pct", _pct(executed, whole_life), "%", "", executed, whole_life,
                      source),
                 _row(base, ACUMULADO, "saldos_anteriores", balance, "USD", cur, source=source),
                 _row(base, ACUMULADO, "programado_share_pct", _pct(whole_life, grand), "%", "", whole_life, grand,
                      source),
                 _row(base, ACUMULADO, "saldos_share_pct", _pct(balance, grand), "%", "", balance, grand, source)]
    return pd.DataFrame(rows, columns=EXECUTION_COLUMNS)


def compute_tables(finance: FinanceData) -> dict[str, pd.DataFrame]:
    """The long-form tables ``budget`` (Tables 3-6) and ``financial_execution`` (Annexes 19-20, §177,
    Finding 13), computed from the leaf amounts: ``value`` exact, ``value_rounded`` as the report prints."""
    return {"budget": _budget_table(finance), "financial_execution": _execution_table(finance)}


def read_tables(tables_dir: Path) -> dict[str, pd.DataFrame]:
    """The tables a run wrote (``tables/budget.csv``, ``tables/financial_execution.csv``) typed back as
    ``compute_tables`` returns them: codes and years stay text, amounts are numbers."""
    tables = {}
    for name in ("budget", "financial_execution"):
        table = pd.read_csv(Path(tables_dir) / f"{name}.csv", dtype=str, keep_default_na=False)
        for column in ("value", "value_rounded", "numerator", "denominator"):
            table[column] = pd.to_numeric(table[column].replace("", None)).astype("float64")
        table["is_total"] = table["is_total"].eq("True")
        tables[name] = table.drop(columns="data_origin", errors="ignore")
    return tables


@dataclass(frozen=True)
class PivotBlock:
    """One finance table as the report prints it: lines down, periods across, for one budget version (or
    none) and one measure. ``values`` maps (line, period) to a number; a cell not in it has no value."""

    table: str
    version: str | None
    measure: str
    periods: list[str]
    lines: list[str]
    names: dict[str, str]
    totals: frozenset[str]
    values: dict[tuple[str, str], float]
    percent: bool


def pivot_blocks(tables: dict[str, pd.DataFrame], lang: str = "es", column: str = "value_rounded") -> list[PivotBlock]:
    """The long-form finance tables pivoted as the PDF annex and the workbook show them: one block per
    budget version and measure (Tables 3-6) or per measure (Annexes 19-20); years in order, then the
    total / cumulative column; line names in ``lang`` (Spanish where a name is missing)."""
    blocks = []
    for name, table in tables.items():
        used = column if column in table.columns else "value"
        fallback = table.get("line_name_es", table["line"])
        names = dict(zip(table["line"], table.get(f"line_name_{lang}", fallback)))
        groups = ["version", "measure"] if "version" in table.columns else ["measure"]
        for key, rows in table.groupby(groups, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            seen = list(dict.fromkeys(rows["period"]))
            periods = sorted(p for p in seen if p.isdigit()) + [p for p in seen if not p.isdigit()]
            values = rows.groupby(["line", "period"], sort=False)[used].sum()
            flags = rows.get("is_total", pd.Series(False, index=rows.index)).astype(bool)
            blocks.append(PivotBlock(
                table=name, version=key[0] if len(key) == 2 else None, measure=key[-1], periods=periods,
                lines=list(dict.fromkeys(rows["line"])), names={k: str(v) for k, v in names.items()},
                totals=frozenset(rows.loc[flags, "line"]), values={k: float(v) for k, v in values.items()},
                percent="unit" in rows.columns and bool(rows["unit"].eq("%").all())))
    return blocks


def execution_by_component(financial_execution: pd.DataFrame) -> pd.DataFrame:
    """Programmed, executed and execution % of each component and of the total to the cut-off (§179)."""
    table = financial_execution[financial_execution["line_type"].isin(["component", "total"])
                                & (financial_execution["period"] == ACUMULADO)]
    wide = table.pivot_table(index=["line", "line_name_es"], columns="measure", values="value", sort=False)
    return wide[["programado", "ejecutado", "execution_pct"]].reset_index()


def programmed_meaning(finance: FinanceData, lang: str = "en") -> pd.DataFrame:
    """What 'programado' (and its neighbours) means in each column, in words (catalog ``finance.meaning.*``),
    from the reports used."""
    from . import i18n

    def t(key: str, **fields) -> str:
        return i18n.t(f"finance.meaning.{key}", lang, **fields)

    own, forward = _years_used(finance)
    inventory = finance.inventory.set_index("quarter")
    totals = _execution_table(finance).query("line_type == 'total' and measure == 'execution_pct'")
    rate = dict(zip(totals["period"], totals["value_rounded"]))
    rows = []
    for year, quarter in sorted(own.items()):
        report = inventory.loc[quarter]
        closed = parse_quarter(quarter).q == 4
        period = f" ('{report['period_text']}')" if report["period_text"] else ""
        detail = ((t("closed_year_spent") if rate.get(str(year)) == 100 else t("closed_year")) if closed
                  else t("open_year", period=period))
        rows.append({"period": str(year), "measure": "programado", "meaning": t(
            "own_programme", year=year, quarter=quarter, file=Path(report["file"]).name, detail=detail)})
        rows.append({"period": str(year), "measure": "ejecutado", "meaning": t(
            "own_executed", year=year, period=period, detail=t("whole_year") if closed else t("part_year"))})
    for year, quarter in sorted(forward.items()):
        rows.append({"period": str(year), "measure": "programado",
                     "meaning": t("forward_programme", year=year, quarter=quarter)})
    reported = ", ".join(str(y) for y in sorted(own))
    all_years = ", ".join(str(y) for y in sorted(own) + sorted(forward))
    rows += [
        {"period": ACUMULADO, "measure": "programado",
         "meaning": t("whole_life", all_years=all_years, reported=reported)},
        {"period": ACUMULADO, "measure": "ejecutado",
         "meaning": t("executed_to_cutoff", cutoff=finance.cutoff, reported=reported)},
        {"period": ACUMULADO, "measure": "saldos_anteriores", "meaning": t("balance", reported=reported)},
    ]
    return pd.DataFrame(rows)


def suite_parameters(finance: FinanceData, lfm) -> dict:
    """The values the finance suites (expectations/finance/*.json) take from the drop."""
    return {"currencies": [finance.currency], "known_item_codes": finance.items["item_code"].tolist(),
            "known_line_codes": finance.lines["line_code"].tolist(),
            "lfm_output_ids": lfm.outputs["output_id"].tolist(),
            "first_year": finance.first_year, "last_year": finance.last_year,
            "project_quarters": [str(q) for q in quarter_range(finance.first_quarter, finance.last_quarter)]}


# ------------------------------------------------------------------ the published figures and their audit

PUBLISHED_FILES = {"budget": "budget_tables.csv", "financial_execution": "financial_execution.csv",
                   "narrative": "finance_narrative.csv"}
PUBLISHED_BUDGET = {"Table 3": "initial", "Table 4": "initial", "Table 5": "expanded", "Table 6": "expanded"}
_PUBLISHED_PERIOD = {"Acumulado": ACUMULADO, "saldos": ACUMULADO}
_PUBLISHED_MEASURE = {"pct": "execution_pct"}


def _read_published(published_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: (pd.read_csv(Path(published_dir) / file, dtype=str, keep_default_na=False)
                   if (Path(published_dir) / file).exists() else pd.DataFrame())
            for name, file in PUBLISHED_FILES.items()}


def _number(text: str) -> float:
    return float(text) if str(text).strip() not in ("", "-") else float("nan")


def published_cells(published_dir: Path, computed: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The published Tables 3-6 and Annexes 19-20 as cells (one per printed figure), keyed like the computed
    tables; the line hierarchy is the computed one."""
    published = _read_published(published_dir)
    budget_lines = computed["budget"].drop_duplicates("line").set_index("line")
    execution_lines = computed["financial_execution"].drop_duplicates("line_name_es").set_index("line_name_es")
    cells = []
    for r in published["budget"].to_dict("records"):
        version = PUBLISHED_BUDGET.get(r["table"])
        if version is None or r["item_code"] not in budget_lines.index:
            continue
        line = budget_lines.loc[r["item_code"]]
        base = {"table": f"budget {version}", "published": r["table"], "line_code": r["item_code"], "line": r["item"],
                "parent_code": line["parent_code"], "line_type": line["line_type"], "period": r["year"],
                "where": f"{r['table']} L{r['source_line']}"}
        cells.append({**base, "measure": "amount", "value": _number(r["usd"]), "printed": r["usd_raw"]})
        if r["pct"] != "":
            cells.append({**base, "measure": "share_of_total_pct", "value": _number(r["pct"]), "printed": r["pct"]})
    for r in published["financial_execution"].to_dict("records"):
        if r["line_key"] not in execution_lines.index:
            cells.append({"table": "financial execution", "published": f"Annex {r['annex']}", "line_code": "",
                          "line": r["line_key"], "parent_code": "", "line_type": "", "period": r["period"],
                          "measure": r["measure"], "value": _number(r["value"]), "printed": r["value_raw"],
                          "where": f"Annex {r['annex']} L{r['source_line']}"})
            continue
        line = execution_lines.loc[r["line_key"]]
        cells.append({"table": "financial execution", "published": f"Annex {r['annex']}",
                      "line_code": line["line"], "line": r["line_key"], "parent_code": line["parent_code"],
                      "line_type": line["line_type"], "period": _PUBLISHED_PERIOD.get(r["period"], r["period"]),
                      "measure": _PUBLISHED_MEASURE.get(r["measure"], r["measure"]), "value": _number(r["value"]),
                      "printed": r["value_raw"], "where": f"Annex {r['annex']} L{r['source_line']}"})
    columns = ["table", "published", "line_code", "line", "parent_code", "line_type", "period", "measure", "value",
               "printed", "where"]
    return pd.DataFrame(cells, columns=columns)


def reconcile_published(published_dir: Path, computed: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The sum and ratio rules on the published figures alone (whole dollars: tolerance (n + 1) / 2 USD).
    Annex 20's years are checked with Annex 19's cumulative figures, 2021 programme and balances."""
    cells = published_cells(published_dir, computed)
    cells = cells[(cells["line_code"] != "") & ~((cells["published"] == "Annex 20")
                                                 & ~cells["period"].str.fullmatch(r"\d{4}"))]
    cells = cells[~((cells["published"] == "Annex 20") & (cells["period"] == "2021"))]  # Annex 19 prints them
    return check_cells(cells, PUBLISHED_UNIT)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


def _finding(check: str, source: str, item: str, field: str, published: object, computed: object, rule_code: str,
             note_code: str = "", **fields) -> dict:
    """An audit row (audit.AUDIT_COLUMNS); amounts shown with thousands separators, a missing one as '-'."""
    row = finding(check, source, item, field, published, computed, rule_code, note_code, **fields)
    row.update(published_value=_fmt(published), computed_value=_fmt(computed))
    return row


def _same_value(computed: pd.DataFrame, value: float, skip: tuple) -> tuple[str, dict]:
    """Where else the computed table gives a printed amount (a figure printed in the wrong place): the note
    part and its fields, or ("", {})."""
    if abs(value) < 1000:  # small numbers and percentages coincide by chance
        return "", {}
    hits = computed[(computed["value_rounded"] == value) & (computed["unit"] != "%")]
    hits = hits[[tuple(k) != skip for k in hits[["line", "period", "measure"]].to_numpy()]]
    if not len(hits):
        return "", {}
    first = hits.iloc[0]
    return "+same_value", {"line": first["line"], "period": first["period"], "measure": first["measure"]}


def audit_finance(published_dir: Path, computed: dict[str, pd.DataFrame]) -> list[dict]:
    """Every published figure of Tables 3-6, Annexes 19-20 and §172-183 that does not follow from the data,
    and every rule the published figures break among themselves; one audit row each (AUDIT_COLUMNS).
    Rules and notes are catalog codes (``audit.rule.<code>``, ``audit.note.<code>``) with their fields."""
    published = _read_published(published_dir)
    if published["budget"].empty and published["financial_execution"].empty and published["narrative"].empty:
        return []
    findings = []
    mine = pd.concat([computed["budget"].assign(table=lambda t: "budget " + t["version"]),
                      computed["financial_execution"].assign(table="financial execution")], ignore_index=True)
    tables = dict(tuple(mine.groupby("table")))
    index = {(r.table, r.line, r.period, r.measure): r for r in mine.itertuples()}
    cells = published_cells(published_dir, computed)
    for cell in cells.itertuples():
        key = (cell.table, cell.line_code, cell.period, cell.measure)
        field = f"{cell.period} {cell.measure}"
        if key not in index:
            findings.append(_finding("not_computed", cell.where, cell.line, field, cell.printed, "",
                                     "every_figure_computed", "no_match"))
            continue
        row = index[key]
        if (pd.isna(cell.value) and pd.isna(row.value_rounded)) or cell.value == row.value_rounded:
            continue
        rule = "amount_from_raw_files"
        if row.unit == "%":
            rule = ("pct_is_executed_over_programmed" if cell.measure == "execution_pct"
                    else "share_is_amount_over_total")
        if pd.isna(row.value_rounded):
            note, fields = "share_of_nothing", {"numerator": f"{row.numerator:,.0f}",
                                                "denominator": f"{row.denominator:,.0f}"}
        elif row.unit == "%":
            note, fields = "exact_share", {"exact": f"{row.value:.2f}", "numerator": f"{row.numerator:,.2f}",
                                           "denominator": f"{row.denominator:,.2f}"}
        else:
            note, fields = "difference", {"difference": f"{cell.value - row.value_rounded:+,.0f}"}
        more, more_fields = _same_value(tables[cell.table], cell.value, (cell.line_code, cell.period, cell.measure))
        is_budget = cell.table.startswith("budget")
        findings.append(_finding("budget_cell" if is_budget else "execution_cell", cell.where,
                                 f"{cell.line_code} {cell.line}" if is_budget else cell.line, field, cell.printed,
                                 row.value_rounded, rule, note + more, **fields, **more_fields))
    for check in reconcile_published(published_dir, computed).itertuples():
        if check.passed:
            continue
        if check.rule in ("pct_is_executed_over_programmed", "share_is_amount_over_total"):
            note, fields = (("printed_amounts_give", {"expected": f"{check.expected:.2f}"})
                            if not pd.isna(check.expected) else ("printed_amounts_give_nothing", {}))
        else:
            note, fields = "printed_parts_give", {"n": check.n_terms, "expected": f"{check.expected:,.2f}",
                                                  "found": f"{check.found:,.0f}", "tolerance": f"{check.tolerance:g}"}
        findings.append(_finding("published_arithmetic", check.where, check.line_name, f"{check.period} "
                                 f"{check.measure}", check.found, check.expected, check.rule, note, **fields))
    for claim in published["narrative"].to_dict("records"):
        table = "financial execution" if claim["table"] == "financial_execution" else f"budget {claim['version']}"
        candidates = mine[(mine["table"] == table) & ((mine["line"] == claim["line"])
                                                      | (mine["line_name_es"] == claim["line"]))
                          & (mine["period"] == claim["period"]) & (mine["measure"] == claim["measure"])]
        source = f"{claim['section']} L{claim['source_line']} ({claim['claim_id']})"
        if not len(candidates):
            findings.append(_finding("narrative_not_computed", source, claim["line"], claim["measure"],
                                     claim["value"], "", "every_figure_computed", "quote", quote=claim["quote"]))
            continue
        row = candidates.iloc[0]
        value = float(claim["value"])
        if value != row["value_rounded"]:
            # what the figure was read as: the measure and period of the computed table (the drop's own
            # English wording, ``reading``, stays in the drop)
            more, more_fields = _same_value(tables[table], value, (row["line"], row["period"], row["measure"]))
            findings.append(_finding("narrative_value", source, claim["line"], f"{claim['period']} {claim['measure']}",
                                     value, row["value_rounded"], "narrative_vs_computed_finance",
                                     "quote_read_as" + more, quote=claim["quote"], read_period=row["period"],
                                     read_measure=row["measure"], reading=claim["reading"], **more_fields))
        if claim["currency"] and claim["currency"] != row["currency"]:
            findings.append(_finding("narrative_currency", source, claim["line"], "currency", claim["currency"],
                                     row["currency"], "currency_of_the_tables", "quote_currency",
                                     quote=claim["quote"], currency=row["currency"]))
    return findings
