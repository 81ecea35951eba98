"""The narrative against the finance tables: what the text says about outputs and the budget that is not a
printed figure (§177, §180-183, Finding 13), and execution against the programme to the cut-off.

* ``published_report/finance_claims.csv`` (``claim_id, section, source_line, kind, item_id, scope, value,
  tolerance, quote``): one row per claim, ``kind`` among ``KINDS``; ``item_id`` the output the sentence names
  (``TOTAL`` for the project); ``scope`` the outputs compared (a component id, or ``all``). Checked against the
  finance stage's ``financial_execution`` table as computed (never against the published annexes):

  - ``largest_budget``: the output with the largest whole-life programme of the scope;
  - ``highest_execution`` / ``lowest_execution``: the output at rank ``value`` (1 = first) of the scope by
    execution % (executed to the cut-off / whole-life programme), from the top or from the bottom;
  - ``fully_executed``: the only output of the scope whose execution %, printed as the report prints it (whole
    per cent), is 100;
  - ``not_begun``: an output whose budget "had not yet been implemented" or whose work "had not begun":
    executed to the cut-off, in whole dollars as printed, is 0;
  - ``execution_around``: execution % within ``tolerance`` points of ``value`` ("around 40%");
  - ``share_remaining``: the share of the whole-life programme still to spend after the cut-off
    ((whole-life programme - executed) / whole-life programme, "the budget for the rest of the Project").

Execution against the programme to the cut-off (beside the whole-life programme) is part of the finance
tables: ``finance_tables.execution_to_cutoff``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .codes import ACUMULADO
from .errors import InputError
from .outputs import round_half_up

CLAIMS_FILE = "finance_claims.csv"
COLUMNS = ("claim_id", "section", "source_line", "kind", "item_id", "scope", "value", "tolerance", "quote")
KINDS = ("largest_budget", "highest_execution", "lowest_execution", "fully_executed", "not_begun",
         "execution_around", "share_remaining")


# ------------------------------------------------------------------ the claims

def load_claims(published_dir: Path) -> pd.DataFrame:
    """The drop's finance claims, checked (an empty table when the drop has none)."""
    from .audit import read_published_file

    table = read_published_file(published_dir, CLAIMS_FILE, COLUMNS)
    if table is None:
        return pd.DataFrame(columns=COLUMNS)
    name = f"published_report/{CLAIMS_FILE}"
    for index, row in table.iterrows():
        where = dict(row=index + 2)
        if row["kind"] not in KINDS:
            raise InputError(name, f"a kind among {', '.join(KINDS)}", **where, column="kind", found=row["kind"])
        for column in ("section", "source_line", "item_id", "quote"):
            if not str(row[column]).strip():
                raise InputError(name, "a value (every claim cites paragraph, line and the sentence)", **where,
                                 column=column, found="an empty cell")
        numeric = {"highest_execution": ("value",), "lowest_execution": ("value",), "share_remaining": ("value",),
                   "execution_around": ("value", "tolerance")}.get(row["kind"], ())
        for column in numeric:
            try:
                float(row[column])
            except ValueError:
                raise InputError(name, f"a number (kind {row['kind']})", **where, column=column,
                                 found=row[column] or "an empty cell") from None
    return table


def _outputs(execution: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The LFM outputs of the scope at the cut-off: whole-life programme, executed, execution % (exact and as
    printed)."""
    rows = execution[(execution["line_type"] == "output") & (execution["period"] == ACUMULADO)]
    if scope not in ("", "all"):
        rows = rows[rows["component_id"].astype(str) == str(scope)]
    wide = rows.pivot_table(index="line", columns="measure", values="value", sort=False, aggfunc="first")
    printed = rows.pivot_table(index="line", columns="measure", values="value_rounded", sort=False, aggfunc="first")
    wide["pct_printed"] = printed["execution_pct"]
    wide["executed_printed"] = printed["ejecutado"]
    return wide


def _money(value: float) -> str:
    return f"{round_half_up(value, 0):,.0f}"


def _pct(value: float) -> str:
    return "—" if pd.isna(value) else f"{round_half_up(value, 0):g}"


def audit_claims(claims: pd.DataFrame, execution: pd.DataFrame) -> list[dict]:
    """Each claim against the computed ``financial_execution`` table: one audit row where it does not hold,
    citing paragraph and line (``audit.AUDIT_COLUMNS``; codes ``finclaims.*`` of the catalog)."""
    from .audit import finding

    rows = []
    for claim in claims.to_dict("records"):
        source = f"{claim['section']} L{claim['source_line']} ({claim['claim_id']})"
        kind, item, scope = claim["kind"], claim["item_id"], claim["scope"] or "all"
        scope_words = scope if scope != "all" else ", ".join(
            sorted(set(execution.loc[execution["line_type"] == "output", "component_id"].astype(str))))
        quote = claim["quote"]

        def add(field, published, computed, note, **fields):
            rows.append(finding(f"finclaims.{kind}", source, item, f"finclaims.{field}", published, computed,
                                f"finclaims.{kind}", note, quote=quote, **fields))

        if kind == "share_remaining":
            total = execution[(execution["line_type"] == "total") & (execution["period"] == ACUMULADO)]
            values = dict(zip(total["measure"], total["value"]))
            whole, done = values.get("programado", float("nan")), values.get("ejecutado", float("nan"))
            if not whole or pd.isna(whole):
                continue
            remaining = 100 * (whole - done) / whole
            if float(claim["value"]) != round_half_up(remaining, 0):
                later = execution[(execution["line_type"] == "total") & (execution["measure"] == "programado_share_pct")
                                  & execution["period"].astype(str).str.fullmatch(r"\d{4}")]
                add("share", claim["value"], _pct(remaining), "finclaims.share_remaining",
                    remaining=_money(whole - done), whole=_money(whole), executed=_money(done),
                    later=" + ".join(f"{p}: {_pct(v)} %" for p, v in zip(later["period"], later["value"])) or "—",
                    balance=_pct(values.get("saldos_share_pct", float("nan"))))
            continue
        outputs = _outputs(execution, scope)
        if item not in outputs.index:
            add("output", item, "", "finclaims.unknown_output", scope=scope_words)
            continue
        mine = outputs.loc[item]
        if kind == "largest_budget":
            ranked = outputs["programado"].sort_values(ascending=False, kind="stable")
            largest = ranked.index[0]
            if largest != item:
                add("output", item, largest, "finclaims.largest_budget", scope=scope_words,
                    named_amount=_money(mine["programado"]), rank=list(ranked.index).index(item) + 1,
                    largest_amount=_money(ranked.iloc[0]), n=len(ranked))
        elif kind in ("highest_execution", "lowest_execution"):
            ranked = outputs["execution_pct"].dropna().sort_values(ascending=kind == "lowest_execution", kind="stable")
            rank = int(float(claim["value"]))
            at_rank = ranked.index[rank - 1] if 0 < rank <= len(ranked) else ""
            if at_rank != item:
                order = ", ".join(f"{i} ({_pct(v)} %)" for i, v in ranked.items())
                add("output", item, at_rank, "finclaims.rank", scope=scope_words, rank=rank, order=order,
                    named_pct=_pct(mine["execution_pct"]))
        elif kind == "fully_executed":
            full = [i for i, v in outputs["pct_printed"].items() if v == 100]
            if full != [item]:
                add("execution_pct", "100", _pct(mine["execution_pct"]), "finclaims.fully_executed",
                    scope=scope_words, executed=_money(mine["ejecutado"]), programmed=_money(mine["programado"]),
                    unspent=_money(mine["programado"] - mine["ejecutado"]), full=" ".join(full) or "—")
        elif kind == "not_begun":
            if mine["executed_printed"] != 0:
                add("executed", "0", _money(mine["ejecutado"]), "finclaims.not_begun",
                    pct=_pct(mine["execution_pct"]), programmed=_money(mine["programado"]))
        elif kind == "execution_around":
            value, tolerance = float(claim["value"]), float(claim["tolerance"])
            if pd.isna(mine["execution_pct"]) or abs(mine["execution_pct"] - value) > tolerance:
                add("execution_pct", f"{value:g} ± {tolerance:g}", _pct(mine["execution_pct"]), "finclaims.around",
                    value=f"{value:g}", tolerance=f"{tolerance:g}")
    return rows


def findings(published_dir: Path, finance_tables: dict[str, pd.DataFrame]) -> list[dict]:
    """The finance claims' audit rows (nothing when the drop has no claims or the run no finance tables)."""
    claims = load_claims(published_dir)
    if claims.empty or "financial_execution" not in finance_tables:
        return []
    return audit_claims(claims, finance_tables["financial_execution"])
