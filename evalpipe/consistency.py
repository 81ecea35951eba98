"""The audit stage's work: every difference between the published report and the run's tables, the
indicator and status checks (``audit``) and, when the run has finance tables, the finance checks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


OUTPUT_TABLES = ("output_indicators", "output_status")
INDICATOR_TABLES = (*OUTPUT_TABLES, "outcome_indicators", "outcome_status")


def read_indicator_tables(tables_dir: Path, names: tuple[str, ...] = INDICATOR_TABLES) -> dict[str, pd.DataFrame]:
    """The output and outcome tables of a run named in ``names``, codes kept as text."""
    tables_dir = Path(tables_dir)
    codes = {"output_indicators": {"output_id": str, "indicator_id": str},
             "output_status": {"output_id": str, "component_id": str},
             "outcome_indicators": {"outcome_id": str, "indicator_id": str, "waits_for_output": str},
             "outcome_status": {"outcome_id": str, "component_id": str}}
    return {name: pd.read_csv(tables_dir / f"{name}.csv", dtype=codes[name]) for name in names}


def findings(raw_dir: Path, tables_dir: Path, lfm, cutoff: str | None = None) -> pd.DataFrame:
    """One row per difference (``audit.AUDIT_COLUMNS``): indicators and statuses, then finance."""
    from . import audit

    tables = read_indicator_tables(tables_dir)
    counts = {"outputs": len(lfm.outputs), "output_indicators": len(lfm.output_indicators),
              "outcomes": len(lfm.outcomes), "outcome_indicators": len(lfm.outcome_indicators)}
    found = audit.consistency_audit(Path(raw_dir), tables["output_indicators"], tables["output_status"], counts,
                                    tables["outcome_indicators"], tables["outcome_status"], cutoff)
    found = pd.concat([found, pd.DataFrame(_judgements(Path(raw_dir), lfm), columns=found.columns)],
                      ignore_index=True)
    from . import claims, smart

    extra = smart.findings(Path(raw_dir) / audit.PUBLISHED_DIR)  # Annexes 12-13 and the narrative's SMART figures
    extra += claims.findings(Path(raw_dir) / audit.PUBLISHED_DIR, tables, counts)  # own arithmetic, named statuses
    found = pd.concat([found, pd.DataFrame(extra, columns=found.columns)], ignore_index=True)
    if (Path(tables_dir) / "financial_execution.csv").exists():
        from .audit_finance import audit_finance
        from . import finance_claims
        from .finance import read_tables

        finance_tables = read_tables(Path(tables_dir))
        rows = audit_finance(Path(raw_dir) / "published_report", finance_tables)
        rows += finance_claims.findings(Path(raw_dir) / "published_report", finance_tables)  # §177, §180-183, F13
        found = pd.concat([found, pd.DataFrame(rows, columns=found.columns)], ignore_index=True)
    return found


def _judgements(raw_dir: Path, lfm) -> list[dict]:
    """The judgement inputs whose quoted sentence does not support them (``audit.audit_judgement_bases``)."""
    from . import audit, fichas, microdata

    specs = fichas.load_fichas(raw_dir, microdata.load_sources(raw_dir), lfm.outcome_indicators)
    return audit.audit_judgement_bases(lfm.covid_risk_outputs, specs)
