"""The validation stage's work: every Great Expectations suite of a run, with the parameters each one takes
from the drop (the LFM's codes, the project's quarters, the drop's date, the finance catalogue)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def progress_parameters(lfm, project) -> dict:
    """The values the suite of the tidy progress table takes from the drop."""
    from . import cleaning
    from .quarters import quarter_range

    return {"known_indicator_ids": lfm.output_indicator_ids,
            "project_quarters": [str(q) for q in quarter_range(project.first_quarter, project.last_quarter)],
            "value_flags": list(cleaning.VALUE_FLAGS)}


def finance_parameters(finance, lfm) -> dict:
    """The values the finance suites (expectations/finance/*.json) take from the drop (``finance``: the
    ``finance.FinanceData`` of ``finance_read.load_finance``)."""
    from .quarters import quarter_range

    return {"currencies": [finance.currency], "known_item_codes": finance.items["item_code"].tolist(),
            "known_line_codes": finance.lines["line_code"].tolist(),
            "lfm_output_ids": lfm.outputs["output_id"].tolist(),
            "first_year": finance.first_year, "last_year": finance.last_year,
            "project_quarters": [str(q) for q in quarter_range(finance.first_quarter, finance.last_quarter)]}


def run_all(raw_dir: Path, processed_dir: Path, run_dir: Path, expectations_dirs: list[str], lfm, project, drop,
            cutoff: str, *, allow_outside: bool = False) -> dict:
    """Run every suite of the run (progress table, each microdata file, the finance data when the drop has
    them), build the Data Docs, and return each suite's outcome by suite name (progress table first)."""
    from . import microdata, progress, validation
    from .quarters import parse_quarter

    sources = list(microdata.load_sources(Path(raw_dir), Path("."), allow_outside=allow_outside).values())
    finance = (Path(raw_dir) / "finance").is_dir()  # the budget and the ILO financial reports
    finance_suites = ("finance_budget", "finance_reports") if finance else ()
    context = validation.new_context(data_docs_dir=Path(run_dir) / "data_docs", tables=[
        "progress_indicators", *(source.suite for source in sources), *finance_suites])
    table = progress.read_tidy(Path(processed_dir) / "progress_indicators.csv")
    suite = validation.find_suite("progress_indicators", expectations_dirs)
    outcomes = {"progress_indicators": validation.run_suite(table, suite, progress_parameters(lfm, project),
                                                            context=context)}
    drop_parameters = {"project_start": str(project.first_quarter.start_date), "drop_date": drop.drop_date}
    for source in sources:
        frame = microdata.read_processed(Path(processed_dir), source)
        suite_json = validation.find_suite(source.suite, expectations_dirs, "microdata")
        outcomes[source.suite] = validation.run_suite(frame, suite_json, drop_parameters, context=context)
    if finance:
        from .finance_read import load_finance

        fin = load_finance(Path(raw_dir), lfm, parse_quarter(cutoff), Path("."), allow_outside=allow_outside)
        parameters = finance_parameters(fin, lfm)
        for name, frame in zip(finance_suites, (fin.budget, fin.reports)):
            outcomes[name] = validation.run_suite(frame, validation.find_suite(name, expectations_dirs, "finance"),
                                                  parameters, context=context)
    validation.build_data_docs(context)
    return outcomes


def write_results(outcomes: dict, out_dir: Path, processed_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write each suite's GX result, the summary of every expectation, the input warnings and the problems
    found to ``out_dir`` (``validation/`` of the run); returns (summary, problems)."""
    import json

    from . import progress

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    first = outcomes["progress_indicators"]
    (out_dir / f"{first.suite}_result.json").write_text(json.dumps(first.result_json, indent=1, default=str),
                                                        encoding="utf-8")
    summary = pd.concat([o.summary for o in outcomes.values()], ignore_index=True)
    problems = pd.concat([o.problems for o in outcomes.values()], ignore_index=True)
    summary.to_csv(out_dir / "summary.csv", index=False, lineterminator="\n")
    progress.read_input_warnings(Path(processed_dir)).to_csv(out_dir / "input_warnings.csv", index=False,
                                                             lineterminator="\n")
    problems.to_csv(out_dir / "problems.csv", index=False, lineterminator="\n")
    return summary, problems
