"""Reproduction: the shipped (synthetic) drop gives Annex 16's current values, and every place where
the published Annex 16 and Table 1 do not follow from those values and the report's rules is in the audit."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from evalpipe import audit, outputs
from evalpipe.labels import PUBLISHED_INDICATOR_STATUS, PUBLISHED_OUTPUT_STATUS
from evalpipe.progress import build_progress_table
from evalpipe.quarters import parse_quarter


@pytest.fixture(scope="module")
def computed(lfm, root):
    cutoff = parse_quarter("2020Q2")
    table, inventory, _ = build_progress_table(root / "data" / "raw", lfm, cutoff, root)
    indicators = outputs.compute_output_indicators(table, lfm, cutoff)
    status = outputs.compute_output_status(indicators, lfm)
    findings = audit.consistency_audit(root / "data" / "raw", indicators, status,
                                       {"outputs": len(lfm.outputs), "output_indicators": len(lfm.output_indicators)})
    return indicators, status, findings, inventory


def _number(text: str) -> float:
    return float(re.sub(r"[,*%]", "", text))


def test_the_48_current_values_equal_annex_16(computed, annex16):
    indicators = computed[0].set_index("indicator_id")
    assert len(indicators) == 48
    published = annex16.set_index("indicator_id")["current_value_raw"].map(_number)
    pd.testing.assert_series_equal(indicators["current"].sort_index(), published.sort_index(), check_names=False)


def test_the_2020q4_report_is_not_read_at_the_2020q2_cutoff(computed):
    inventory = computed[3]
    assert [q for q, _ in inventory.after_cutoff] == ["2020Q4"]
    assert "2020Q4" not in [q for q, _ in inventory.used]


def test_progress_is_current_over_target(computed):
    indicators = computed[0]
    expected = (100 * indicators["current"] / indicators["target"]).round(1)
    assert (indicators["progress_pct"] - expected).abs().max() < 0.051


def test_statuses_follow_the_rules(computed):
    indicators = computed[0]
    for row in indicators.itertuples():
        if row.current >= row.target:
            assert row.status == "achieved", row.indicator_id
        elif row.current > 0:
            assert row.status == "in_progress", row.indicator_id
        else:
            assert row.status == "no_progress", row.indicator_id


def test_every_published_progress_that_is_not_current_over_target_is_in_the_audit(computed, annex16):
    indicators, _, findings, _ = computed
    progress_rows = findings[findings["check"] == "progress_arithmetic"]
    for row in annex16.itertuples():
        own = outputs.round_half_up(100 * _number(row.current_value_raw) / _number(row.target_raw))
        differs = _number(row.progress_published_raw) != own
        assert (row.indicator_id in set(progress_rows["item_id"])) == differs, row.indicator_id
    # The ones found by computing (Annex 16 prints 172% for 25 of 18, etc.).
    assert set(progress_rows["item_id"]) == {"1.2.1.1", "2.4.1.1", "2.5.1.2", "2.6.1.2", "2.6.1.3", "3.2.1.1",
                                             "3.2.1.3"}


def test_every_published_indicator_status_that_breaks_the_rule_is_in_the_audit(computed, annex16):
    indicators, _, findings, _ = computed
    mine = indicators.set_index("indicator_id")["status"]
    status_rows = set(findings.loc[findings["check"] == "indicator_status", "item_id"])
    for row in annex16.itertuples():
        label = audit.split_published_status(row.status_published_es)[0]
        differs = PUBLISHED_INDICATOR_STATUS[label] != mine[row.indicator_id]
        assert (row.indicator_id in status_rows) == differs, row.indicator_id
    assert status_rows == {"2.2.1.4", "2.5.1.2"}


def test_every_table1_status_that_breaks_section_155_is_in_the_audit(computed, table1):
    _, status, findings, _ = computed
    mine = status.set_index("output_id")["status"]
    audited = set(findings.loc[findings["check"] == "output_status", "item_id"])
    for row in table1.itertuples():
        label = audit.split_published_status(row.status_published_en)[0]
        differs = PUBLISHED_OUTPUT_STATUS[label] != mine[row.output_id]
        assert (row.output_id in audited) == differs, row.output_id
    assert audited == {"2.3.1"}
    assert mine["2.3.1"] == "not_delivered"


def test_table1_marks_are_checked_against_the_schedule(computed):
    findings = computed[2]
    marks = findings[(findings["check"] == "scheduled_mark") & findings["source"].str.startswith("Table 1")]
    assert marks["item_id"].tolist() == ["3.3.2"]  # 1.1.2's mark follows from the schedule; 3.3.2's does not


def test_narrative_counts_are_audited_against_the_computed_counts(computed):
    findings = computed[2].set_index("source")
    assert findings.loc["§154 (s154_achieved_n)", "computed_value"] == "17"
    assert findings.loc["§154 (s154_in_progress_pct)", "computed_value"] == "29"
    assert findings.loc["§155 (s155_not_delivered_n)", "computed_value"] == "3"
    assert findings.loc["§117 (s117_n_outputs)", "published_value"] == "20"
    # What agrees is not listed: 48 indicators (§38) and 3 delivered outputs (§155).
    assert "§38 (s38_n_output_indicators)" not in findings.index
    assert "§155 (s155_delivered_n)" not in findings.index


def test_computed_tables_do_not_depend_on_the_published_report(lfm, root, raw_copy):
    """The audit is the only reader of data/raw/published_report: changing it changes no computed figure."""
    import shutil

    cutoff = parse_quarter("2020Q2")
    shutil.rmtree(raw_copy / "published_report")
    table, _, _ = build_progress_table(raw_copy, lfm, cutoff, root)
    indicators = outputs.compute_output_indicators(table, lfm, cutoff)
    reference, _, _ = build_progress_table(root / "data" / "raw", lfm, cutoff, root)
    expected = outputs.compute_output_indicators(reference, lfm, cutoff)
    pd.testing.assert_frame_equal(indicators.drop(columns="source_file"), expected.drop(columns="source_file"))
