"""The finance tables computed from the leaf amounts (never from the totals a file states), and pivoted
as the report prints them.

``compute_tables`` gives the long-form tables ``budget`` (Tables 3-6) and ``financial_execution``
(Annexes 19-20, §177, Finding 13), written by notebook 05 as ``tables/budget.csv`` and
``tables/financial_execution.csv`` (columns ``finance.TABLE_COLUMNS``, ``finance.EXECUTION_COLUMNS``);
``pivot_blocks`` lays them out for the PDF annex and the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .codes import ACUMULADO, TOTAL
from .finance import EXECUTION_COLUMNS, GROUPINGS, TABLE_COLUMNS, FinanceData
from .outputs import round_half_up
from .quarters import parse_quarter


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


def years_used(finance: FinanceData) -> tuple[dict[int, str], dict[int, str]]:
    """For each year, the report its executed amounts come from (the last one of that year), and for the
    years after, the report whose programme counts (the last report)."""
    used = finance.inventory[finance.inventory["status"] == "used"]
    own = {parse_quarter(q).year: q for q in used["quarter"]}
    last = used["quarter"].iloc[-1]
    reports = finance.reports
    planned = reports[(reports["report_quarter"] == last) & (reports["measure"] == "programado")]
    forward = {int(y): last for y in planned["year"].dropna().unique() if int(y) not in own}
    return own, forward


def execution_table(finance: FinanceData) -> pd.DataFrame:
    """Annexes 19-20: programmed and executed by year and line, execution %, whole-life programme, balance
    carried over; the components' and the other lines' shares of the whole-life programme (§177)."""
    own, forward = years_used(finance)
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


# ------------------------------------------------------------------ execution to the cut-off
# The report's «Programado» of Annex 19 ("Acumulado a julio 2020", L2330-2333) is the whole-life programme: it
# adds the 2021 programme (Annex 20, L2366-2372), so §179's "53% of its overall budget" (L1084) is executed to
# the cut-off over the programme of 2018-2021. The ILO reports give programmes by year only (§179: "these
# reports only show the budget breakdown by year, component, and output"), so the programme *to the cut-off*
# is the programme of every year that has executed amounts (the years up to and including the cut-off's year,
# the cut-off year's programme in full); it equals executed + balance carried over («Saldos anteriores»).
# ``financial_execution`` carries it (period ``acumulado``, measures ``TO_CUTOFF``) beside the whole-life
# figures.

TO_CUTOFF = ("programado_to_cutoff", "execution_pct_to_cutoff")
# the side-by-side view: whole-life programme and programme to the cut-off, each with its execution %
SIDE_BY_SIDE = ("programado", "ejecutado", "execution_pct", "programado_to_cutoff", "execution_pct_to_cutoff")


def execution_to_cutoff(execution: pd.DataFrame) -> pd.DataFrame:
    """For each line of ``financial_execution``: the programme of the years with executed amounts (to the
    cut-off) and the executed to the cut-off over it, as rows of the same long table (period ``acumulado``)."""
    years = execution[execution["period"].astype(str).str.fullmatch(r"\d{4}")]
    reported = set(years.loc[years["measure"] == "ejecutado", "period"].astype(str))
    rows = []
    for line, group in execution.groupby("line", sort=False):
        own = group[(group["measure"] == "programado") & group["period"].astype(str).isin(reported)]
        executed = group[(group["period"] == ACUMULADO) & (group["measure"] == "ejecutado")]
        if executed.empty:
            continue
        base = executed.iloc[0].to_dict()
        programmed = round(float(own["value"].sum()), 2)
        done = float(executed["value"].iloc[0])
        sources = "; ".join(dict.fromkeys(own["source"].astype(str)))
        rows.append(_row(base, ACUMULADO, TO_CUTOFF[0], programmed, base["unit"], base["currency"], source=sources))
        rows.append(_row(base, ACUMULADO, TO_CUTOFF[1], _pct(done, programmed), "%", "", done, programmed, sources))
    return pd.DataFrame(rows, columns=execution.columns)


def with_execution_to_cutoff(execution: pd.DataFrame) -> pd.DataFrame:
    """``financial_execution`` with the programme to the cut-off and the execution % against it (idempotent)."""
    execution = execution[~execution["measure"].isin(TO_CUTOFF)]
    extra = execution_to_cutoff(execution)
    if not len(extra):
        return execution.reset_index(drop=True)
    merged = pd.concat([execution, extra.dropna(axis=1, how="all")], ignore_index=True)
    return merged.reindex(columns=execution.columns)


def side_by_side(execution: pd.DataFrame, lang: str = "es", column: str = "value_rounded") -> pd.DataFrame:
    """One row per line: whole-life programme, executed to the cut-off, execution % against it; programme to
    the cut-off, execution % against it (the table's lines in order, names in ``lang``)."""
    if not set(TO_CUTOFF) <= set(execution["measure"]):
        execution = with_execution_to_cutoff(execution)
    table = execution[(execution["period"] == ACUMULADO) & execution["measure"].isin(SIDE_BY_SIDE)]
    name = f"line_name_{lang}" if f"line_name_{lang}" in table.columns else "line_name_es"
    wide = table.pivot_table(index=["line", name], columns="measure", values=column, sort=False, aggfunc="first")
    wide = wide.reindex(columns=list(SIDE_BY_SIDE)).reset_index()
    wide.columns.name = None
    return wide


def compute_tables(finance: FinanceData) -> dict[str, pd.DataFrame]:
    """The long-form tables ``budget`` (Tables 3-6) and ``financial_execution`` (Annexes 19-20, §177,
    Finding 13), computed from the leaf amounts: ``value`` exact, ``value_rounded`` as the report prints;
    ``financial_execution`` with the programme to the cut-off beside the whole-life programme."""
    return {"budget": _budget_table(finance), "financial_execution": with_execution_to_cutoff(execution_table(finance))}


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

