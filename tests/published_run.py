"""A published run folder built from the shipped drop without notebooks (for the annex, figure and
package tests): the same library calls the stage notebooks make, the tables written by write_table."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd

from evalpipe import audit, cleaning, outputs, validation
from evalpipe.drop import load_drop
from evalpipe.export import write_table
from evalpipe.fichas import load_fichas
from evalpipe.lfm import load_logframe
from evalpipe.microdata import load_sources
from evalpipe.privacy import suppress_where
from evalpipe.progress import build_progress_table
from evalpipe.quarters import parse_quarter, quarter_range
from evalpipe.runner import RunParameters, StageReport, build_manifest

from conftest import ROOT, compute_outcomes

RAW = ROOT / "data" / "raw"
CUTOFF = "2020Q2"
STAGES = [("clean", "01_clean.ipynb"), ("validate", "02_validate.ipynb")]


@functools.lru_cache(maxsize=1)
def computed_tables() -> dict[str, pd.DataFrame]:
    """The run's tables, computed once per test session (the GX suite takes seconds)."""
    lfm = load_logframe(RAW / "lfm", ROOT)
    quarter = parse_quarter(CUTOFF)
    progress, _, _ = build_progress_table(RAW, lfm, quarter, ROOT)
    output_indicators = outputs.compute_output_indicators(progress, lfm, quarter)
    output_status = outputs.compute_output_status(output_indicators, lfm)
    outcome_indicators, exclusions, _, outcome_status = compute_outcomes(RAW, lfm, CUTOFF)
    # As the outcome stage publishes them: small counts about victims and residents shown as "<5".
    sources = load_sources(RAW)
    sensitive = {i for i, f in load_fichas(RAW, sources, lfm.outcome_indicators).items()
                 if f.source_key and sources[f.source_key].sensitive}
    exclusions, _ = suppress_where(exclusions, exclusions["indicator_id"].isin(sensitive), "n")
    counts = {"outputs": len(lfm.outputs), "output_indicators": len(lfm.output_indicators),
              "outcomes": len(lfm.outcomes), "outcome_indicators": len(lfm.outcome_indicators)}
    findings = audit.consistency_audit(RAW, output_indicators, output_status, counts, outcome_indicators,
                                       outcome_status)
    suite = validation.load_suite_json(ROOT / "expectations", "progress_indicators")
    parameters = {"known_indicator_ids": lfm.output_indicator_ids,
                  "project_quarters": [str(q) for q in quarter_range(parse_quarter("2017Q4"), parse_quarter("2021Q4"))],
                  "value_flags": list(cleaning.VALUE_FLAGS)}
    summary = validation.run_suite(progress, suite, parameters).summary
    return {"progress": progress, "output_indicators": output_indicators, "output_status": output_status,
            "outcome_indicators": outcome_indicators, "outcome_status": outcome_status,
            "outcome_exclusions": exclusions, "consistency_audit": findings, "validation_summary": summary}


def build_run(base: Path, label: str = f"midterm-{CUTOFF}") -> tuple[Path, Path]:
    """Write ``<base>/reports/<label>/`` (tables, validation, manifest, stand-in notebooks and Data Docs)
    and ``<base>/processed/<label>/progress_indicators.csv``; returns (run_dir, processed_dir)."""
    tables = computed_tables()
    drop = load_drop(RAW)
    run_dir = Path(base) / "reports" / label
    processed = Path(base) / "processed" / label
    processed.mkdir(parents=True)
    tables["progress"].to_csv(processed / "progress_indicators.csv", index=False, lineterminator="\n")
    for name in ("output_indicators", "output_status", "outcome_indicators", "outcome_status", "outcome_exclusions",
                 "consistency_audit"):
        write_table(tables[name], run_dir / "tables" / f"{name}.csv", drop)
    (run_dir / "validation").mkdir()
    tables["validation_summary"].to_csv(run_dir / "validation" / "summary.csv", index=False, lineterminator="\n")
    (run_dir / "validation" / "problems.csv").write_text("\n", encoding="utf-8")
    (run_dir / "notebooks").mkdir()
    for _, notebook in STAGES:  # stand-ins for the executed notebooks and their HTML
        (run_dir / "notebooks" / notebook).write_text("{}\n", encoding="utf-8")
        (run_dir / "notebooks" / notebook.replace(".ipynb", ".html")).write_text("<html></html>\n", encoding="utf-8")
    (run_dir / "data_docs").mkdir()
    (run_dir / "data_docs" / "index.html").write_text("<html>Data Docs</html>\n", encoding="utf-8")
    params = RunParameters(evaluation="midterm", cutoff=CUTOFF, lang="es", raw_dir="data/raw",
                           processed_dir=f"data/processed/{label}", run_dir=f"reports/{label}",
                           expectations_dirs=["expectations"])
    reports = [StageReport(stage, "ran", "no earlier run", seconds) for (stage, _), seconds in zip(STAGES, (2.64, 8.7))]
    manifest = build_manifest(params, ROOT, drop, reports)
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return run_dir, processed


@functools.lru_cache(maxsize=1)
def finance_tables() -> dict[str, pd.DataFrame]:
    """Tables 3-6 and Annexes 19-20 computed by the finance stage's library from the shipped drop."""
    from evalpipe.finance_read import load_finance
    from evalpipe.finance_tables import compute_tables

    lfm = load_logframe(RAW / "lfm", ROOT)
    return compute_tables(load_finance(RAW, lfm, parse_quarter(CUTOFF), ROOT))


def write_finance(run_dir: Path) -> None:
    """Add the finance stage's tables to a run folder, as the finance notebook writes them."""
    from evalpipe.finance_claims import with_execution_to_cutoff

    drop = load_drop(RAW)
    for name, frame in finance_tables().items():
        if name == "financial_execution":  # the notebook adds the programme to the cut-off beside the whole-life one
            frame = with_execution_to_cutoff(frame)
        write_table(frame, Path(run_dir) / "tables" / f"{name}.csv", drop)
