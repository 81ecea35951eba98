"""Six bugs that once escaped the suite (issue 15, "Tests that kill"), each with a case that fails when the
bug is planted again: a progress tie at one decimal, an output indicator not measured at the cut-off, an
output only partly scheduled after the cut-off, a CSV cell that starts with a formula character read back,
the small-count threshold itself, and the outcome notebook as executed (exclusions of victims suppressed)."""

from __future__ import annotations

import csv
import dataclasses
import json
import re

import pandas as pd
import pytest

from conftest import ROOT
from evalpipe import outputs, privacy
from evalpipe.drop import DataDrop
from evalpipe.export import restore_cell, write_table
from evalpipe.outputs import (ACHIEVED, DELIVERED, IN_PROGRESS, NO_PROGRESS, NOT_DELIVERED, NOT_MEASURED,
                              OUTPUT_IN_PROGRESS, OUTPUT_NOT_MEASURED)
from evalpipe.quarters import parse_quarter

Q2 = parse_quarter("2020Q2")


def _progress(values: dict[str, float | None], quarter: str = "2020Q2") -> pd.DataFrame:
    """A tidy progress table: each indicator's cumulative value in the cut-off report (None: left empty)."""
    return pd.DataFrame([[i, quarter, float("nan") if v is None else float(v), "reported", "r.xlsx", "S", 5 + n]
                         for n, (i, v) in enumerate(values.items())],
                        columns=["indicator_id", "quarter", "value", "value_flag", "source_file", "source_sheet",
                                 "source_row"])


def _logframe(lfm, targets: dict[str, float] | None = None, starts: dict[str, str] | None = None):
    """The shipped logframe with some output indicators' targets or planned starts changed (nothing written)."""
    table = lfm.output_indicators.copy()
    for column, changes in (("target", targets or {}), ("planned_start", starts or {})):
        for indicator, value in changes.items():
            table.loc[table["indicator_id"] == indicator, column] = value
    return dataclasses.replace(lfm, output_indicators=table)


# -------------------------------------------------------------- (a) progress rounded half up, ties included --

@pytest.mark.parametrize("current, target, expected", [
    (49, 400, 12.3),   # 12.25 exactly (a binary tie): round() gives 12.2
    (1, 80, 1.3),      # 1.25 exactly: round() gives 1.2
    (247, 2000, 12.4),  # 12.35 (just below in binary): round() gives 12.3
    (3, 2000, 0.2),    # 0.15 (just below in binary): round() gives 0.1
    (1, 8, 12.5),      # no tie at one decimal: unchanged
    (5, 400, 1.3),     # 1.25
])
def test_progress_ties_at_one_decimal_round_half_up_through_the_output_table(lfm, current, target, expected):
    indicator = "1.2.1.1"
    table = outputs.compute_output_indicators(_progress({indicator: current}), _logframe(lfm, {indicator: target}),
                                              Q2).set_index("indicator_id")
    assert table.loc[indicator, "progress_pct"] == expected


def test_status_count_shares_round_half_up_on_a_tie():
    # 1 of 8 = 12.5 %, 1 of 16 = 6.25 % -> 6.3 (round() gives 6.2)
    table = pd.DataFrame({"status": [ACHIEVED] + [NO_PROGRESS] * 15})
    counts = outputs.status_counts(table, outputs.INDICATOR_STATUSES).set_index("status")
    assert counts.loc[ACHIEVED, "pct"] == 6.3 and counts.loc[NO_PROGRESS, "pct"] == 93.8


# -------------------------------------------------- (b) an output indicator not measured at the cut-off --

def test_an_unmeasured_output_indicator_is_never_zero_through_the_status_rules(lfm):
    """1.1.1.1 achieved, 1.1.1.2 left empty in every report: output 1.1.1 is in progress, not delivered; output
    2.1.2 (one indicator, never reported) is not measured, not "not delivered"; 1.2.1.1 reported as 0 is
    no progress. Treating the empty value as 0 would give 1.1.1.2 no_progress and 2.1.2 not_delivered."""
    table = outputs.compute_output_indicators(
        _progress({"1.1.1.1": 1, "1.1.1.2": None, "1.2.1.1": 0}), lfm, Q2).set_index("indicator_id")
    assert table.loc["1.1.1.2", "status"] == NOT_MEASURED
    assert pd.isna(table.loc["1.1.1.2", "current"]) and pd.isna(table.loc["1.1.1.2", "progress_pct"])
    assert table.loc["1.2.1.1", "status"] == NO_PROGRESS and table.loc["1.2.1.1", "progress_pct"] == 0
    assert table.loc["1.1.1.1", "status"] == ACHIEVED
    status = outputs.compute_output_status(table.reset_index(), lfm).set_index("output_id")
    assert status.loc["1.1.1", "status"] == OUTPUT_IN_PROGRESS
    assert status.loc["1.1.1", ["n_achieved", "n_no_progress", "n_not_measured"]].tolist() == [1, 0, 1]
    only = lfm.output_indicators.groupby("output_id").size()
    single = only[only == 1].index[0]
    assert status.loc[single, "status"] == OUTPUT_NOT_MEASURED and status.loc[single, "n_not_measured"] == 1
    assert status.loc["1.2.1", "status"] == NOT_DELIVERED  # 0, and two not measured: no indicator progresses
    assert not status["scheduled_after_cutoff"].loc[[single, "1.1.1"]].any()


def test_an_output_delivered_only_when_every_indicator_is_measured_and_achieved(lfm):
    both = outputs.compute_output_indicators(_progress({"1.1.1.1": 1, "1.1.1.2": 4}), lfm, Q2)
    assert outputs.compute_output_status(both, lfm).set_index("output_id").loc["1.1.1", "status"] == DELIVERED
    one = outputs.compute_output_indicators(_progress({"1.1.1.1": 1}), lfm, Q2)
    assert outputs.compute_output_status(one, lfm).set_index("output_id").loc["1.1.1", "status"] == OUTPUT_IN_PROGRESS


# -------------------------------------------------------- (c) Table 1's mark: every indicator scheduled later --

@pytest.mark.parametrize("starts, marked", [
    ({"1.1.1.1": "2020Q4", "1.1.1.2": "2020Q4"}, True),   # all scheduled after the cut-off
    ({"1.1.1.1": "2020Q4", "1.1.1.2": ""}, False),        # partly scheduled: the mark needs all
    ({"1.1.1.1": "", "1.1.1.2": "2020Q3"}, False),
    ({"1.1.1.1": "2020Q2", "1.1.1.2": "2020Q4"}, False),  # the cut-off quarter itself is not after it
    ({"1.1.1.1": "", "1.1.1.2": ""}, False),
])
def test_table_1_marks_an_output_only_when_all_its_indicators_are_scheduled_after_the_cutoff(lfm, starts, marked):
    frame = _logframe(lfm, starts=starts)
    table = outputs.compute_output_indicators(_progress({"1.1.1.1": 0, "1.1.1.2": 0}), frame, Q2)
    status = outputs.compute_output_status(table, frame).set_index("output_id")
    assert status.loc["1.1.1", "status"] == NOT_DELIVERED
    assert bool(status.loc["1.1.1", "scheduled_after_cutoff"]) is marked


def test_table_1_mark_is_for_outputs_not_delivered_only(lfm):
    frame = _logframe(lfm, starts={"1.1.1.1": "2020Q4", "1.1.1.2": "2020Q4"})
    table = outputs.compute_output_indicators(_progress({"1.1.1.1": 1, "1.1.1.2": 1}), frame, Q2)
    status = outputs.compute_output_status(table, frame).set_index("output_id")
    assert status.loc["1.1.1", "status"] == OUTPUT_IN_PROGRESS and not status.loc["1.1.1", "scheduled_after_cutoff"]


# ------------------------------------------------------------ (d) CSV cells neutralised, read back --

CELLS = ["=1+1", "+34 999", "-x", "@SUM(A1)", "\tuno", "texto", "a - b", "-"]


@pytest.mark.parametrize("dtype", ["object", "string", "category"])
def test_a_csv_cell_starting_with_a_formula_character_reads_back_with_an_apostrophe(tmp_path, dtype):
    table = pd.DataFrame({"reason": pd.Series(CELLS, dtype=dtype), "n": range(len(CELLS))})
    path = write_table(table, tmp_path / "t.csv", DataDrop("d", "synthetic", "2021-01-01", ""))
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for original, row in zip(CELLS, rows):
        read = row["reason"]
        if original[0] in "=+-@\t":
            assert read == "'" + original, (original, read)
        else:
            assert read == original
        assert restore_cell(read) == original
        assert row["data_origin"] == "synthetic"
    assert [int(r["n"]) for r in rows] == list(range(len(CELLS)))


# --------------------------------------------------------------------- (e) the threshold boundary --

def test_small_counts_are_suppressed_below_the_threshold_and_not_at_it():
    table = pd.DataFrame({"n": [0, 1, 4, 5, 6, 10]})
    out, hidden = privacy.suppress_small_counts(table, 5)
    assert out["n"].tolist() == [0, "<5", "<5", 5, 6, 10] and hidden == 2
    out, hidden = privacy.suppress_small_counts(pd.DataFrame({"n": [2, 3, 4]}), 3)
    assert out["n"].tolist() == ["<3", 3, 4] and hidden == 1


def test_suppression_of_selected_rows_at_the_threshold():
    table = pd.DataFrame({"n": [4, 5, 6, 4, 0]})
    rows = pd.Series([True, True, True, False, True])
    out, hidden = privacy.suppress_where(table, rows, "n", 5)
    assert out["n"].tolist() == ["<5", 5, 6, 4, 0] and hidden == 1


def test_public_exclusions_at_the_threshold():
    from types import SimpleNamespace

    exclusions = pd.DataFrame({"indicator_id": ["a", "a", "a", "b"], "reason": ["r1", "r2", "r3", "r4"],
                               "n": [4, 5, 6, 1]})
    fichas = {"a": SimpleNamespace(source_key="victims"), "b": SimpleNamespace(source_key="plans")}
    sources = {"victims": SimpleNamespace(sensitive=True), "plans": SimpleNamespace(sensitive=False)}
    out, hidden = privacy.public_exclusions(exclusions, fichas, sources, 5)
    assert out["n"].tolist() == ["<5", 5, 6, 1] and hidden == 1


# ------------------------------------------ (f) the executed outcome notebook suppresses victims' exclusions --

def _small_sensitive_exclusions(lfm, threshold: int) -> pd.DataFrame:
    """The shipped drop's exclusions of indicators drawn from files about victims with 0 < n < threshold,
    computed in memory (the published table is already suppressed)."""
    from conftest import compute_outcomes
    from evalpipe import fichas, microdata

    _, exclusions, _, _ = compute_outcomes(ROOT / "data" / "raw", lfm)
    sources = microdata.load_sources(ROOT / "data" / "raw", ROOT)
    specs = fichas.load_fichas(ROOT / "data" / "raw", sources, lfm.outcome_indicators, ROOT)
    sensitive = privacy.sensitive_indicators(specs, sources)
    small = exclusions[exclusions["indicator_id"].isin(sensitive) & (exclusions["n"] > 0)
                       & (exclusions["n"] < threshold)]
    return small


def _outputs_text(notebook: dict) -> list[str]:
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in ("text/html", "text/markdown", "text/plain"):
                if kind in data:
                    texts.append("".join(data[kind]) if isinstance(data[kind], list) else data[kind])
            if "text" in output:
                texts.append("".join(output["text"]) if isinstance(output["text"], list) else output["text"])
    return texts


@pytest.mark.slow
def test_the_executed_outcome_notebook_suppresses_small_exclusions_of_victims(lfm):
    """Notebook 04 as the pipeline executed it (the session's shared run): under each ficha drawn from a file
    about victims, its exclusions table shows "<5" for a count below the threshold, never the count."""
    from conftest import shared_run

    threshold = 5
    small = _small_sensitive_exclusions(lfm, threshold)
    assert len(small), "the shipped drop has small exclusions of victims (else this test shows nothing)"
    run = shared_run()
    notebook = json.loads((run / "reports" / "midterm-2020Q2" / "notebooks" / "04_outcome_indicators.ipynb"
                           ).read_text(encoding="utf-8"))
    texts = _outputs_text(notebook)
    tables = [t for t in texts if "<table" in t]
    for row in small.itertuples():
        # the ficha's section is a Markdown output starting with its id; the exclusions table follows it
        start = next(i for i, t in enumerate(texts) if t.lstrip().startswith(f"### {row.indicator_id} "))
        table = next(t for t in texts[start + 1:] if "<table" in t)
        assert table in tables
        cells = re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)
        assert f"&lt;{threshold}" in cells, (row.indicator_id, cells)
        assert str(row.n) not in [c.strip() for c in cells], (row.indicator_id, row.n, cells)
    published = pd.read_csv(run / "reports" / "midterm-2020Q2" / "tables" / "outcome_exclusions.csv", dtype=str)
    shown = published.merge(small[["indicator_id", "reason"]], on=["indicator_id", "reason"])
    assert len(shown) == len(small) and set(shown["n"]) == {f"<{threshold}"}


# -------------------------------------------------- what mutation testing found untested (docs/mutation.md) --

def test_the_output_tables_have_exactly_their_columns_and_count_each_status(lfm):
    table = outputs.compute_output_indicators(_progress({"1.1.1.1": 1, "1.1.1.2": 0, "1.2.1.1": None}), lfm, Q2)
    assert list(table.columns) == outputs.OUTPUT_INDICATOR_COLUMNS and list(table.index) == list(range(len(table)))
    status = outputs.compute_output_status(table, lfm)
    assert list(status.columns) == outputs.OUTPUT_STATUS_COLUMNS
    row = status.set_index("output_id").loc["1.1.1"]
    statuses = table.loc[table["output_id"] == "1.1.1", "status"].tolist()
    assert row["n_indicators"] == len(statuses) == 2
    assert [row["n_achieved"], row["n_in_progress"], row["n_no_progress"]] == [
        statuses.count(ACHIEVED), statuses.count(IN_PROGRESS), statuses.count(NO_PROGRESS)]
    assert row["n_no_progress"] == 1 and row["n_in_progress"] == 0
    components = lfm.outputs.set_index("output_id")["component_id"]
    assert status.set_index("output_id")["component_id"].to_dict() == components.to_dict()


def test_covid_risk_is_read_per_output_and_absent_means_no_risk(lfm):
    risk = lfm.output_risk()
    at_risk = sorted(o for o, flag in risk.items() if flag)
    assert at_risk, "the shipped judgement names outputs at risk"
    table = outputs.compute_output_indicators(_progress({}), lfm, Q2)
    # every indicator in progress: the output's status says whether Covid-19 puts it at risk
    table["status"] = IN_PROGRESS
    status = outputs.compute_output_status(table, lfm).set_index("output_id")
    assert status["covid_risk"].to_dict() == {o: risk.get(o, False) for o in status.index}
    assert status.loc[at_risk[0], "status"] == outputs.IN_PROGRESS_AT_RISK
    safe = next(o for o in status.index if not risk.get(o, False))
    assert status.loc[safe, "status"] == OUTPUT_IN_PROGRESS
    unjudged = dataclasses.replace(lfm, covid_risk_outputs=lfm.covid_risk_outputs.iloc[0:0])
    none = outputs.compute_output_status(table, unjudged)
    assert not none["covid_risk"].any() and set(none["status"]) == {OUTPUT_IN_PROGRESS}
    assert none["covid_risk"].map(type).eq(bool).all()


def test_output_status_counts_indicators_in_progress(lfm):
    table = outputs.compute_output_indicators(_progress({}), lfm, Q2)
    table["status"] = IN_PROGRESS
    status = outputs.compute_output_status(table, lfm).set_index("output_id")
    sizes = lfm.output_indicators.groupby("output_id").size()
    assert status["n_in_progress"].to_dict() == sizes.reindex(status.index, fill_value=0).to_dict()
    assert status["n_no_progress"].eq(0).all() and status["n_not_measured"].eq(0).all()


def test_an_output_table_without_outputs_keeps_its_columns(lfm):
    empty = dataclasses.replace(lfm, outputs=lfm.outputs.iloc[0:0])
    status = outputs.compute_output_status(outputs.compute_output_indicators(_progress({}), lfm, Q2), empty)
    assert status.empty and list(status.columns) == outputs.OUTPUT_STATUS_COLUMNS
