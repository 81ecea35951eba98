"""What «programado» (and its neighbours) means in each column of the financial execution, in words.

The ILO reports' header is ambiguous; the arithmetic supports one reading, said here from the reports used
(catalog ``finance.meaning.*``) and shown by notebook 05.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .codes import ACUMULADO
from .finance import FinanceData
from .finance_tables import execution_table, years_used
from .quarters import parse_quarter


def programmed_meaning(finance: FinanceData, lang: str = "en") -> pd.DataFrame:
    """What 'programado' (and its neighbours) means in each column, in words (catalog ``finance.meaning.*``),
    from the reports used."""
    from . import i18n

    def t(key: str, **fields) -> str:
        return i18n.t(f"finance.meaning.{key}", lang, **fields)

    own, forward = years_used(finance)
    inventory = finance.inventory.set_index("quarter")
    totals = execution_table(finance).query("line_type == 'total' and measure == 'execution_pct'")
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

