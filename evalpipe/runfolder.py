"""A published run folder as the annex, the figures and the reviewer's package read it.

Everything downstream of the notebooks reads the run's aggregated tables from here (never the
microdata), with ids kept as text, numbers as numbers and "NA" as the text the report printed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError


@dataclass(frozen=True)
class TableSpec:
    """Where a table of the run lives and how its columns are typed (the rest stay text)."""

    path: str
    numbers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


# The tables the notebooks publish (stages 02-05), in the order a reviewer reads them.
TABLES: dict[str, TableSpec] = {
    "output_indicators": TableSpec("tables/output_indicators.csv",
                                   ("baseline", "current", "target", "progress_pct", "source_row"),
                                   ("scheduled_after_cutoff", "carried_forward")),
    "output_status": TableSpec("tables/output_status.csv",
                               ("n_indicators", "n_achieved", "n_in_progress", "n_no_progress", "n_not_measured"),
                               ("covid_risk", "scheduled_after_cutoff")),
    "outcome_indicators": TableSpec("tables/outcome_indicators.csv",
                                    ("baseline", "current", "target", "numerator", "denominator", "n", "n_excluded"),
                                    ("scheduled_after_cutoff", "period_differs")),
    "outcome_status": TableSpec("tables/outcome_status.csv",
                                ("n_indicators", "n_achieved", "n_in_progress", "n_no_progress", "n_not_measured")),
    "outcome_exclusions": TableSpec("tables/outcome_exclusions.csv", ("n",)),
    "consistency_audit": TableSpec("tables/consistency_audit.csv"),
    "validation_summary": TableSpec("validation/summary.csv", ("unexpected_count",), ("success",)),
}
# Written by the finance stage (evalpipe.finance_tables) when the drop has finance data (long form: line, period,
# measure, value, ...).
FINANCE_TABLES: dict[str, TableSpec] = {
    "budget": TableSpec("tables/budget.csv", ("value", "value_rounded", "numerator", "denominator"), ("is_total",)),
    "financial_execution": TableSpec("tables/financial_execution.csv",
                                     ("value", "value_rounded", "numerator", "denominator"), ("is_total",)),
}
FINANCE_COLUMNS = ("line", "period", "measure", "value")
MANIFEST = "manifest.json"


def read_table(run_dir: Path, spec: TableSpec) -> pd.DataFrame:
    """One table of the run: text as written (so "NA" stays "NA"), numbers and flags typed."""
    path = Path(run_dir) / spec.path
    if not path.exists():
        raise InputError(spec.path, "a table written by the pipeline's notebooks (run the stages first)",
                         found="missing file")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in spec.numbers:
        if column in table.columns:
            table[column] = _numbers(table[column])
    for column in spec.flags:
        if column in table.columns:
            table[column] = table[column].str.lower().eq("true")
    return table


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers as floats (empty = NaN); a column that also holds text such as a suppressed "<5" keeps
    that text in its cells, so it is shown as published and never turned into a number."""
    parsed = pd.to_numeric(values.replace("", None), errors="coerce").astype("float64")
    text = parsed.isna() & values.ne("")
    if not text.any():
        return parsed
    return parsed.astype(object).where(~text, values)


def read_tables(run_dir: Path, names: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """Every table the annex presents (or only ``names``), keyed by the names of ``TABLES``."""
    return {name: read_table(run_dir, spec) for name, spec in TABLES.items() if names is None or name in names}


def read_finance(run_dir: Path) -> dict[str, pd.DataFrame] | None:
    """The finance tables, or None when the finance stage has not written both of them."""
    if not all((Path(run_dir) / spec.path).exists() for spec in FINANCE_TABLES.values()):
        return None
    tables = {name: read_table(run_dir, spec) for name, spec in FINANCE_TABLES.items()}
    for name, table in tables.items():
        missing = [c for c in FINANCE_COLUMNS if c not in table.columns]
        if missing:
            raise InputError(FINANCE_TABLES[name].path, f"the long-form columns {', '.join(FINANCE_COLUMNS)}",
                             row=1, column=missing[0], found="missing column")
    return tables


def read_manifest(run_dir: Path, manifest: dict | None = None) -> dict:
    """The run's manifest: ``manifest`` when given (a stage that runs before the runner writes
    manifest.json passes it), else ``<run_dir>/manifest.json``."""
    if manifest is not None:
        return manifest
    path = Path(run_dir) / MANIFEST
    if not path.exists():
        raise InputError(MANIFEST, "the run's manifest.json (written when a run is published)", found="missing file")
    return json.loads(path.read_text(encoding="utf-8"))


def fixed_timestamp(manifest: dict) -> dt.datetime:
    """The one date every archival output carries: SOURCE_DATE_EPOCH when set, else the data drop's date.

    Never the clock, so that two builds from the same inputs are byte-identical.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    drop_date = dt.date.fromisoformat(str(manifest["data_drop"]["drop_date"]))
    return dt.datetime(drop_date.year, drop_date.month, drop_date.day, tzinfo=dt.timezone.utc)


def run_lang(manifest: dict) -> str:
    """The language the run was made in (its notebooks' ``lang`` parameter)."""
    return str(manifest.get("parameters", {}).get("lang", "es"))


def lang_suffix(lang: str) -> str:
    """File-name suffix of a language: Spanish (the report's language) has none, English is ``_en``."""
    return "" if lang == "es" else f"_{lang}"
