"""The sums a reviewer checks by hand (Tables 3-6, Annexes 19-20), on the raw files and on printed figures.

Each total is checked against the sum of its parts within a stated rounding tolerance: a total may differ
from the sum of its n parts by up to (n + 1) / 2 units of rounding (``finance.RAW_UNIT``, 0.01 USD for the
raw files; ``finance.PUBLISHED_UNIT``, 1 USD for the published whole dollars). ``load_finance`` refuses raw
files whose stated totals fail (``reconcile``); the audit lists printed figures that fail
(``audit_finance.reconcile_published``).
"""

from __future__ import annotations

import pandas as pd

from .codes import ACUMULADO, TOTAL
from .finance import RAW_UNIT, FinanceData
from .quarters import parse_quarter

CHECK_COLUMNS = ["rule", "table", "line", "line_name", "period", "measure", "expected", "found", "difference",
                 "tolerance", "passed", "n_terms", "where", "source_file", "source_sheet", "source_row",
                 "source_column"]
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

