"""The finance audit: every published figure of Tables 3-6, Annexes 19-20 and §172-183 against the
computed finance tables, and the published figures' own arithmetic.

Beside the other audit checks (``audit``, ``smart``, ``claims``); run by the audit stage
(``consistency.findings``) on the tables the finance stage wrote (``finance.read_tables``).
The published figures (``published_report/budget_tables.csv``, ``financial_execution.csv``,
``finance_narrative.csv``) are read here only, as the claims under audit.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .audit import finding
from .codes import ACUMULADO
from .finance import PUBLISHED_UNIT
from .finance_reconcile import check_cells

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
