"""Status rules of the output indicators and outputs (§154, §155), and the value at the cut-off."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalpipe import outputs
from evalpipe.outputs import (ACHIEVED, DELIVERED, IN_PROGRESS, IN_PROGRESS_AT_RISK, NO_PROGRESS, NOT_DELIVERED,
                              NOT_MEASURED, OUTPUT_IN_PROGRESS, OUTPUT_NOT_MEASURED)
from evalpipe.quarters import parse_quarter


@pytest.mark.parametrize("current, expected", [
    (4, ACHIEVED), (5, ACHIEVED), (3.9, IN_PROGRESS), (1, IN_PROGRESS), (0, NO_PROGRESS),
    (None, NOT_MEASURED), (float("nan"), NOT_MEASURED),
])
def test_indicator_status(current, expected):
    assert outputs.indicator_status(current, baseline=0, target=4) == expected


def test_indicator_status_respects_a_non_zero_baseline():
    assert outputs.indicator_status(4, baseline=4, target=10) == NO_PROGRESS
    assert outputs.indicator_status(5, baseline=4, target=10) == IN_PROGRESS


@pytest.mark.parametrize("statuses, risk, expected", [
    ([ACHIEVED, ACHIEVED], False, DELIVERED),
    ([ACHIEVED, ACHIEVED], True, DELIVERED),  # delivered outputs are not "at risk"
    ([ACHIEVED, NO_PROGRESS], False, OUTPUT_IN_PROGRESS),
    ([IN_PROGRESS, NO_PROGRESS], True, IN_PROGRESS_AT_RISK),
    ([NO_PROGRESS, NO_PROGRESS], False, NOT_DELIVERED),
    ([NO_PROGRESS, NO_PROGRESS, NO_PROGRESS], True, NOT_DELIVERED),  # risk needs progress first (2.3.1)
    ([ACHIEVED, NOT_MEASURED], False, OUTPUT_IN_PROGRESS),  # not delivered until every indicator is measured
    ([NOT_MEASURED, NOT_MEASURED], False, OUTPUT_NOT_MEASURED),
])
def test_output_status_rules_of_section_155(statuses, risk, expected):
    assert outputs.output_status(statuses, risk) == expected


@pytest.mark.parametrize("value, digits, expected", [(76.5, 0, 77), (76.49, 0, 76), (2.5, 0, 3), (65.625, 1, 65.6),
                                                     (0.05, 1, 0.1)])
def test_round_half_up_rounds_as_people_do(value, digits, expected):
    assert outputs.round_half_up(value, digits) == expected


def test_round_half_up_keeps_missing_values_missing():
    assert math.isnan(outputs.round_half_up(float("nan")))


def _progress(rows):
    return pd.DataFrame(rows, columns=["indicator_id", "quarter", "value", "value_flag", "source_file",
                                       "source_sheet", "source_row"])


def test_value_at_cutoff_is_the_last_reported_value_up_to_the_cutoff():
    table = _progress([
        ["1.1.1.1", "2020Q1", 3.0, "reported", "a.xlsx", "S", 5],
        ["1.1.1.1", "2020Q2", float("nan"), "unknown", "b.xlsx", "S", 6],
        ["1.1.1.1", "2020Q4", 9.0, "reported", "c.xlsx", "S", 7],
        ["1.1.1.2", "2020Q4", 1.0, "reported", "c.xlsx", "S", 8],
    ])
    result = outputs.values_at_cutoff(table, parse_quarter("2020Q2")).set_index("indicator_id")
    assert result.loc["1.1.1.1", "current"] == 3.0  # the "¿?" of 2020Q2 carries 2020Q1's value
    assert result.loc["1.1.1.1", "value_quarter"] == "2020Q1"
    assert "1.1.1.2" not in result.index  # only reported after the cut-off: not measured


def test_shipped_drop_gives_eighteen_outputs_and_marks_only_work_scheduled_after_the_cutoff(lfm, root):
    from evalpipe.progress import build_progress_table

    cutoff = parse_quarter("2020Q2")
    table, _, _ = build_progress_table(root / "data" / "raw", lfm, cutoff, root)
    indicators = outputs.compute_output_indicators(table, lfm, cutoff)
    status = outputs.compute_output_status(indicators, lfm).set_index("output_id")
    assert len(status) == 18
    assert status["scheduled_after_cutoff"][status["scheduled_after_cutoff"]].index.tolist() == ["1.1.2"]
    # A later cut-off lifts the mark: 2020Q4 is no longer after it.
    later = outputs.compute_output_indicators(table, lfm, parse_quarter("2020Q4"))
    assert not later["scheduled_after_cutoff"].any()


def test_status_counts_share_of_total():
    table = pd.DataFrame({"status": [ACHIEVED, ACHIEVED, NO_PROGRESS]})
    counts = outputs.status_counts(table, outputs.INDICATOR_STATUSES).set_index("status")
    assert counts.loc[ACHIEVED, "n"] == 2 and counts.loc[ACHIEVED, "pct"] == 66.7
    assert counts.loc[IN_PROGRESS, "n"] == 0


def test_a_value_carried_from_an_earlier_report_is_flagged_in_the_output_table(lfm):
    """Issue 13: the cut-off report leaves 1.1.1.1 empty; the 2020Q1 value is carried forward (§38, §153:
    values are cumulative) and the output table says so (``carried_forward``), not only the input warnings."""
    first = lfm.output_indicators["indicator_id"].iloc[0]
    second = lfm.output_indicators["indicator_id"].iloc[1]
    table = _progress([
        [first, "2020Q1", 3.0, "reported", "a.xlsx", "S", 5],
        [first, "2020Q2", float("nan"), "blank", "b.xlsx", "S", 6],
        [second, "2020Q1", 1.0, "reported", "a.xlsx", "S", 7],
        [second, "2020Q2", 2.0, "reported", "b.xlsx", "S", 8],
    ])
    result = outputs.compute_output_indicators(table, lfm, parse_quarter("2020Q2")).set_index("indicator_id")
    assert "carried_forward" in outputs.OUTPUT_INDICATOR_COLUMNS
    assert result.loc[first, "carried_forward"] is True or result.loc[first, "carried_forward"] == True  # noqa: E712
    assert result.loc[first, "value_quarter"] == "2020Q1" and result.loc[first, "current"] == 3.0
    assert not result.loc[second, "carried_forward"]
    others = result.drop(index=[first, second])
    assert not others["carried_forward"].any()  # not measured is not carried


def test_a_carried_value_is_marked_in_annex_16_with_its_quarter_and_explained(lfm):
    from evalpipe import annex

    first = lfm.output_indicators["indicator_id"].iloc[0]
    table = _progress([[first, "2020Q1", 3.0, "reported", "a.xlsx", "S", 5],
                       [first, "2020Q2", float("nan"), "blank", "b.xlsx", "S", 6]])
    indicators = outputs.compute_output_indicators(table, lfm, parse_quarter("2020Q2"))
    tables = {"output_indicators": indicators}
    shown = {i["id"]: i["current"] for o in annex._output_dashboard(tables, lfm, "en") for i in o["indicators"]}
    assert shown[first].endswith("† (2020Q1)")
    assert sum("†" in v for v in shown.values()) == 1
    assert "†" in annex._carried_note(tables, "en") and "§38" in annex._carried_note(tables, "es")
    none = {"output_indicators": indicators.assign(carried_forward=False)}
    assert annex._carried_note(none, "en") == ""


def test_status_counts_of_an_empty_table_have_no_share():
    counts = outputs.status_counts(pd.DataFrame({"status": []}), outputs.INDICATOR_STATUSES)
    assert counts["n"].tolist() == [0, 0, 0, 0] and counts["pct"].isna().all()


def test_round_half_up_of_no_value_is_missing():
    assert math.isnan(outputs.round_half_up(None, 1))
