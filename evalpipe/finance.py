"""Budget and financial execution (§171-183): Tables 3-6, Annexes 19-20, Finding 13, §177.

What the finance data and tables are: the codes, the columns of the cells read and of the tables written
(``tables/budget.csv``, ``tables/financial_execution.csv``), the data as read (``FinanceData``) and the
written tables read back (``read_tables``). The work is done by one module per job:

- ``finance_read``: the declaration (``finance/finance.yaml``) and ``load_finance``, the whole folder;
- ``finance_workbooks``: one budget narrative or ILO financial report, every amount with its provenance
  (formats in data/raw/finance/README.md);
- ``finance_reconcile``: the sums a reviewer checks by hand, within a stated rounding tolerance;
- ``finance_tables``: the tables computed from the leaf amounts (never from the totals a file states),
  and pivoted as the annex prints them;
- ``finance_meaning``: what «programado» means in each column, in words;
- ``audit_finance``: the published figures audited against the computed tables (the audit stage).

The finance suites' parameters are ``suites.finance_parameters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .codes import ACUMULADO, TOTAL  # noqa: F401 (the period codes of the finance tables)
from .quarters import Quarter

FINANCE_DIR = "finance"
DECLARATION = "finance.yaml"
RAW_UNIT = 0.01  # the raw files give amounts to the cent
PUBLISHED_UNIT = 1.0  # the report prints whole dollars
ORDINARY, ADJUSTMENT = "ordinario", "ajuste"
GROUPINGS = {"OUTPUTS": ("Productos de los componentes", "Outputs of the components"),  # §177
             "NO_OUTPUTS": ("Acciones que no terminan en productos", "Actions that do not end in outputs")}

PROVENANCE = ["source_file", "source_sheet", "source_row", "source_column", "source_code_column"]
BUDGET_COLUMNS = ["version", "item_code", "item", "line_type", "parent_code", "period", "year", "amount", "stated",
                  "currency", *PROVENANCE]
REPORT_COLUMNS = ["report_quarter", "report_year", "line_code", "line_name", "line_type", "parent_code", "output_id",
                  "entry", "stated", "measure", "period", "year", "amount", "currency", *PROVENANCE]
TABLE_COLUMNS = ["line", "line_name_es", "line_name_en", "line_type", "parent_code", "is_total", "period", "measure",
                 "value", "value_rounded", "unit", "currency", "numerator", "denominator", "source"]
EXECUTION_COLUMNS = [*TABLE_COLUMNS[:6], "component_id", "output_id", *TABLE_COLUMNS[6:]]


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


def read_tables(tables_dir: Path) -> dict[str, pd.DataFrame]:
    """The tables a run wrote (``tables/budget.csv``, ``tables/financial_execution.csv``) typed back as
    ``finance_tables.compute_tables`` returns them: codes and years stay text, amounts are numbers."""
    tables = {}
    for name in ("budget", "financial_execution"):
        table = pd.read_csv(Path(tables_dir) / f"{name}.csv", dtype=str, keep_default_na=False)
        for column in ("value", "value_rounded", "numerator", "denominator"):
            table[column] = pd.to_numeric(table[column].replace("", None)).astype("float64")
        table["is_total"] = table["is_total"].eq("True")
        tables[name] = table.drop(columns="data_origin", errors="ignore")
    return tables
