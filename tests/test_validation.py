"""The Great Expectations suite passes on the shipped drop and names file, sheet, row and column
for each kind of bad data it must catch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evalpipe import cleaning, validation
from evalpipe.errors import ValidationFailed
from evalpipe.progress import build_progress_table
from evalpipe.quarters import parse_quarter, quarter_range


@pytest.fixture(scope="module")
def tidy(lfm, root):
    table, _, _ = build_progress_table(root / "data" / "raw", lfm, parse_quarter("2020Q2"), root)
    return table


@pytest.fixture(scope="module")
def suite(root):
    return validation.load_suite_json(root / "expectations", "progress_indicators")


@pytest.fixture(scope="module")
def parameters(lfm):
    return {"known_indicator_ids": lfm.output_indicator_ids,
            "project_quarters": [str(q) for q in quarter_range(parse_quarter("2017Q4"), parse_quarter("2021Q4"))],
            "value_flags": list(cleaning.VALUE_FLAGS)}


def test_suite_file_is_plain_json_with_parameters_for_what_depends_on_the_drop(root):
    suite = json.loads((root / "expectations" / "progress_indicators.json").read_text(encoding="utf-8"))
    kwargs = [e["kwargs"] for e in suite["expectations"]]
    assert {"$PARAMETER": "known_indicator_ids"} in [k.get("value_set") for k in kwargs]
    assert all("expected" in e["meta"] for e in suite["expectations"])


def test_shipped_drop_passes_and_writes_data_docs(tidy, suite, parameters, tmp_path):
    outcome = validation.run_suite(tidy, suite, parameters, data_docs_dir=tmp_path / "docs")
    assert outcome.success, outcome.problems.to_string()
    assert len(outcome.summary) == len(suite["expectations"])
    assert (tmp_path / "docs" / "index.html").exists()


@pytest.fixture(scope="module")
def broken_outcome(tidy, suite, parameters):
    """One table with one mutation of each kind, validated once (GX runs take seconds)."""
    bad = tidy.copy()
    rows = bad.index[bad["value_flag"].eq("reported")]
    bad.loc[rows[0], "value"] = -3.0                       # negative value
    bad.loc[rows[1], "indicator_id"] = "9.9.9.9"           # unknown code
    bad.loc[rows[2], "change_from_previous"] = -5.0        # cumulative value going down
    bad.loc[rows[3], "quarter"] = "2016Q1"                 # quarter outside the project's life
    duplicate = bad.loc[[rows[10]]]
    bad = bad._append(duplicate, ignore_index=True)        # the same indicator twice in one report
    outcome = validation.run_suite(bad.reset_index(drop=True), suite, parameters)
    return bad, outcome, rows


def test_every_mutation_is_caught(broken_outcome):
    _, outcome, _ = broken_outcome
    assert not outcome.success
    failed = set(outcome.summary.loc[~outcome.summary["success"], "expectation"])
    assert {"expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
            "expect_compound_columns_to_be_unique"} <= failed
    found = outcome.problems
    assert "9.9.9.9" in set(found["found"])
    assert "-3.0" in set(found["found"])
    assert "2016Q1" in set(found["found"])
    assert found["expected"].str.contains("not lower than").any()
    assert found["expected"].str.contains("one value per indicator and quarter").any()


def test_problems_carry_provenance(broken_outcome, tidy):
    bad, outcome, rows = broken_outcome
    negative = outcome.problems[outcome.problems["found"] == "-3.0"].iloc[0]
    original = tidy.loc[rows[0]]
    assert negative["source_file"] == original["source_file"]
    assert negative["source_sheet"] == original["source_sheet"]
    assert int(negative["source_row"]) == int(original["source_row"])
    assert negative["source_column"] == original["source_column"]  # the value header, e.g. "Valor acumulado"
    unknown = outcome.problems[outcome.problems["found"] == "9.9.9.9"].iloc[0]
    assert unknown["source_column"] == tidy.loc[rows[1], "source_code_column"]  # the code header


def test_failure_is_one_message_naming_the_place(broken_outcome):
    _, outcome, _ = broken_outcome
    with pytest.raises(ValidationFailed) as caught:
        validation.raise_on_failure(outcome, details_path="validation/problems.csv")
    message = str(caught.value)
    assert message.startswith("data validation failed (suite progress_indicators): file data/raw/")
    assert "sheet '" in message and "row " in message and "column '" in message and "expected " in message
    assert "see validation/problems.csv" in message
    assert "\n" not in message


def test_a_missing_lfm_indicator_is_reported_by_code(tidy, suite, parameters):
    table = tidy[tidy["indicator_id"] != "1.1.1.1"].reset_index(drop=True)
    outcome = validation.run_suite(table, suite, parameters)
    assert not outcome.success
    assert "no row for indicator 1.1.1.1" in set(outcome.problems["found"])


def test_suites_of_a_shared_context_share_one_datasource_and_each_result_is_stored_once(tidy, suite, parameters,
                                                                                         tmp_path):
    """One pandas datasource per context, one dataframe asset per suite (those named up front added at once, a
    suite not named gets its asset when it runs); one stored result per suite run, which Data Docs show."""
    context = validation.new_context(tmp_path / "docs", tables=["progress_indicators"])
    other = dict(suite, name="progress_indicators_again")
    for suite_json in (suite, other):
        assert validation.run_suite(tidy, suite_json, parameters, context=context).success
    sources = context.data_sources.all()
    assert list(sources) == [validation.TABLES_SOURCE_NAME]
    assert sources[validation.TABLES_SOURCE_NAME].get_asset_names() == {"progress_indicators",
                                                                          "progress_indicators_again"}
    keys = context.validation_results_store.list_keys()
    assert sorted(key.expectation_suite_identifier.name for key in keys) == ["progress_indicators",
                                                                             "progress_indicators_again"]
    validation.build_data_docs(context)
    pages = sorted(p.parent.parent.parent.name for p in (tmp_path / "docs" / "validations").rglob("*.html"))
    assert pages == ["progress_indicators", "progress_indicators_again"]
    assert (tmp_path / "docs" / "expectations" / "progress_indicators_again.html").exists()
