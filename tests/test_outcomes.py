"""Outcome indicators: the fichas reproduce Annex 17 from the shipped microdata; each rule changes the
result; statuses follow §158; Table 2's differences are explained."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from evalpipe import outcomes
from evalpipe.outputs import round_half_up

from conftest import ROOT, compute_outcomes


@pytest.fixture(scope="module")
def computed(lfm):
    return compute_outcomes(ROOT / "data" / "raw", lfm)


def test_all_38_fichas_are_computed_with_their_origin(computed):
    indicators = computed[0]
    assert len(indicators) == 38
    assert indicators["origin"].value_counts().to_dict() == {"reconstructed": 23, "annex_14": 15}


def test_every_measured_value_equals_annex_17_as_rounded_in_print(computed, annex17):
    indicators = computed[0].set_index("indicator_id")
    checked = 0
    for row in annex17.itertuples():
        if row.current_raw in ("¿?", "NA"):
            continue
        published = float(re.sub(r"[%,]", "", row.current_raw))
        assert round_half_up(indicators.loc[row.indicator_id, "current"]) == published, row.indicator_id
        checked += 1
    assert checked == 26


def test_every_indicator_published_as_unknown_is_not_measured_with_a_reason(computed, annex17):
    indicators = computed[0].set_index("indicator_id")
    unknown = annex17.loc[annex17["current_raw"] == "¿?", "indicator_id"]
    assert len(unknown) == 7
    # 2.4.2.1 is "¿?" but waits for output 2.4.2 (§157 L907; Annex 17 and Table 2 say "no progress" too)
    assert indicators.loc["2.4.2.1", "status"] == "no_progress"
    assert indicators.loc["2.4.2.1", "value_note"] == "not_applicable"
    assert "2.4.2" in indicators.loc["2.4.2.1", "reason"]
    for indicator_id in unknown[unknown != "2.4.2.1"]:
        assert indicators.loc[indicator_id, "status"] == "not_measured"
        assert pd.isna(indicators.loc[indicator_id, "current"])
        assert len(indicators.loc[indicator_id, "reason"]) > 10


def test_indicators_published_as_na_wait_for_their_output(computed, annex17):
    indicators = computed[0].set_index("indicator_id")
    for indicator_id in annex17.loc[annex17["current_raw"] == "NA", "indicator_id"]:
        assert indicators.loc[indicator_id, "value_note"] == "not_applicable"
        assert indicators.loc[indicator_id, "status"] == "no_progress"
        assert "producto" in indicators.loc[indicator_id, "reason"]
    assert bool(indicators.loc["1.1.2.1", "scheduled_after_cutoff"])  # output 1.1.2 is scheduled for 2020Q4


def test_numerator_denominator_and_n_are_kept(computed):
    indicators = computed[0].set_index("indicator_id")
    assert (indicators.loc["1.1.1.1", ["numerator", "denominator", "n"]].tolist()) == [9, 20, 20]
    assert (indicators.loc["2.2.1.1", ["numerator", "denominator"]].tolist()) == [5, 13]
    assert indicators.loc["2.2.1.4", "denominator"] == 2  # residents whose real problem was trafficking
    assert indicators.loc["3.2.1.1", "current"] == 42


@pytest.mark.parametrize("indicator_id, reason_words", [
    ("1.1.1.1", "general"),                      # only specific recommendations
    ("1.2.1.2", "posterior al corte"),           # 2020Q4 course evaluations
    ("2.1.1.2", "una de las dos pruebas"),       # participants with one test only
    ("2.2.1.2", "sin CAR"),                      # participants with no CAR
    ("2.2.1.2", "posterior al corte"),           # trainings after the cut-off
    ("2.2.1.4", "problemática"),                 # baseline rule of Gracia I
    ("2.2.1.4", "línea de base cero"),           # baseline rule of Gracia II
    ("2.5.1.2", "sin resultados"),               # workshops without results
    ("3.1.1.2", "sin asistencia"),               # actions without the Project's assistance
])
def test_each_rule_of_the_fichas_visibly_excludes_rows(computed, indicator_id, reason_words):
    exclusions = computed[1]
    rows = exclusions[(exclusions["indicator_id"] == indicator_id) & exclusions["reason"].str.contains(reason_words)]
    assert len(rows) == 1 and rows["n"].iloc[0] > 0


def test_in_progress_recommendations_do_not_count_for_1111_but_do_for_2211(computed):
    results = computed[2]
    by_state_1111 = results["1.1.1.1"].detail.set_index(["estado", "counted_in_numerator"])["n"]
    assert ("en proceso", False) in by_state_1111.index and ("en proceso", True) not in by_state_1111.index
    by_state_2211 = results["2.2.1.1"].detail.set_index(["estado", "counted_in_numerator"])["n"]
    assert by_state_2211[("en proceso", True)] == 2


def test_the_cutoff_changes_the_result(lfm):
    later = compute_outcomes(ROOT / "data" / "raw", lfm, "2020Q4")[0].set_index("indicator_id")
    assert later.loc["1.1.1.1", "current"] == 50  # a recommendation fulfilled in November 2020
    assert later.loc["1.2.2.1", "current"] == 2   # the judges' course approved in July 2020
    assert later.loc["1.2.1.2", "n"] > 10         # the 2020Q4 course evaluations now count
    # Output 1.1.2 is no longer scheduled after the cut-off, but not delivered yet: still waiting, unmarked.
    assert later.loc["1.1.2.1", "value_note"] == "not_applicable"
    assert not bool(later.loc["1.1.2.1", "scheduled_after_cutoff"])


def test_outcome_status_rule_of_section_158():
    assert outcomes.outcome_status(["no_progress", "achieved"]) == "in_progress"
    assert outcomes.outcome_status(["no_progress", "not_measured"]) == "not_measured"
    assert outcomes.outcome_status(["no_progress", "no_progress"]) == "no_progress"
    assert outcomes.outcome_status(["not_measured"]) == "not_measured"


def test_outcome_statuses_match_table_2_once_section_157_prerequisites_are_declared(computed, table2):
    status = computed[3].set_index("outcome_id")["status"]
    assert len(status) == 20
    labels = {"In progress": "in_progress", "No progress": "no_progress", "Not measured": "not_measured"}
    differs = [r.outcome_id for r in table2.itertuples() if labels[r.status_published_en] != status[r.outcome_id]]
    # 2.4.2 ("No progress" though 2.4.2.1 was published as "¿?") follows from §157: output 2.4.2 not delivered
    assert differs == []


def test_audit_lists_the_annex_17_and_narrative_differences(lfm, computed):
    from evalpipe import audit, outputs
    from evalpipe.progress import build_progress_table
    from evalpipe.quarters import parse_quarter

    quarter = parse_quarter("2020Q2")
    progress, _, _ = build_progress_table(ROOT / "data" / "raw", lfm, quarter, ROOT)
    output_indicators = outputs.compute_output_indicators(progress, lfm, quarter)
    output_status = outputs.compute_output_status(output_indicators, lfm)
    counts = {"outputs": 18, "output_indicators": 48, "outcomes": 20, "outcome_indicators": 38}
    findings = audit.consistency_audit(ROOT / "data" / "raw", output_indicators, output_status, counts,
                                       computed[0], computed[3]).set_index("source")
    assert findings.loc["Annex 17 L2188", "item_id"] == "3.1.1.1"  # 2 of 2 printed as "Avanzando"
    assert "Table 2 L934" not in findings.index  # 2.4.2: §157's prerequisite gives Table 2's "No progress"
    waits = findings[(findings["item_id"] == "2.4.2.1") & (findings["check"] == "outcome_value")].iloc[0]
    assert (waits["published_value"], waits["computed_value"]) == ("¿?", "NA")
    assert waits["note_code"] == "published_unknown_waits_for_output"
    assert findings.loc["§158 (s158_in_progress_n)", "published_value"] == "10"
    assert findings.loc["§158 (s158_in_progress_n)", "computed_value"] == "11"
    assert findings.loc["§157 (s157_no_progress_pct)", "published_value"] == "50"
    assert "§157 Outcome 1.1.1 (s157_1111_current)" not in findings.index  # 45% agrees


# ------------------------------------------------------------------ reference periods (issue 13)


@pytest.mark.parametrize("text, differs", [
    ("Al corte de la evaluación", False), ("Al segundo trimestre de 2020", False),
    ("Al cuarto trimestre de 2020", True), ("2019 – Cuarto trimestre", True),
    ("2019 – segundo y cuarto trimestre", True), ("2019 – cuarto trimestre y 2020 – primer trimestre", True),
    ("Hasta 2018 (estudio de casos)", True), ("Se presume que corresponde al 2020.", True), ("", None),
])
def test_a_fichas_reference_period_is_read_against_the_cutoff(text, differs):
    from evalpipe.fichas import period_differs_from_cutoff
    from evalpipe.quarters import parse_quarter

    assert period_differs_from_cutoff(text, parse_quarter("2020Q2")) is differs


def test_the_two_quarters_of_a_period_go_with_their_own_years():
    from evalpipe.fichas import ficha_period_quarters
    from evalpipe.quarters import Quarter

    assert ficha_period_quarters("2019 – cuarto trimestre y 2020 – primer trimestre") == (
        False, {Quarter(2019, 4), Quarter(2020, 1)}, set())


def test_the_outcome_table_records_each_fichas_period_with_its_line(computed):
    table = computed[0].set_index("indicator_id")
    assert table.loc["2.2.1.4", "ficha_period"] == "Al cuarto trimestre de 2020"
    assert bool(table.loc["2.2.1.4", "period_differs"])
    assert re.search(r"fichas/2\.2\.1\.4\.yaml L\d+ \(Annex 14, L1908-1922\)$", table.loc["2.2.1.4",
                                                                                        "ficha_period_source"])
    assert table.loc["1.1.1.1", "ficha_period"] == "Al segundo trimestre de 2020"
    assert not table.loc["1.1.1.1", "period_differs"]
    assert set(table.index[table["period_differs"]]) == {"1.2.1.2", "1.2.1.3", "1.3.1.2", "2.1.1.2", "2.2.1.4",
                                                         "2.5.1.2", "3.2.1.1", "3.2.1.2"}


def _periods(rows):
    return pd.DataFrame(rows, columns=["indicator_id", "ficha_period", "ficha_period_source", "period_differs"])


def test_the_audit_flags_a_period_other_than_the_cutoff_citing_the_ficha():
    from evalpipe import audit

    published = pd.DataFrame({"indicator_id": ["9.9.9.1", "9.9.9.2"], "source_line": [100, 101]})
    indicators = _periods([["9.9.9.1", "2019 – tercer trimestre", "fichas/9.9.9.1.yaml L33 (Annex 14, L10-12)", True],
                           ["9.9.9.2", "Al corte de la evaluación", "fichas/9.9.9.2.yaml L20", False]])
    rows = audit.audit_reference_periods(published, indicators, "2020Q2")
    assert len(rows) == 1
    row = rows[0]
    assert (row["check"], row["source"], row["item_id"]) == ("reference_period", "Annex 17 L100", "9.9.9.1")
    assert (row["published_value"], row["computed_value"]) == ("2020Q2", "2019 – tercer trimestre")
    assert "fichas/9.9.9.1.yaml line 33 (Annex 14, line 10-12)" in row["note"]
    shown = audit.in_words(pd.DataFrame(rows), "es").iloc[0]
    assert "Anexo 17" in shown["source"] and "ficha" in shown["note"] and "periodo" in shown["check"]


def test_the_audit_is_silent_when_every_ficha_dates_its_value_to_the_cutoff():
    from evalpipe import audit

    published = pd.DataFrame({"indicator_id": ["9.9.9.1"], "source_line": [100]})
    indicators = _periods([["9.9.9.1", "Al segundo trimestre de 2020", "fichas/9.9.9.1.yaml L20", False]])
    assert audit.audit_reference_periods(published, indicators, "2020Q2") == []


# ------------------------------------------------------------------ §157 prerequisites (issue 13)


def _table2_case(mine_status, n_not_measured, waits):
    published = pd.DataFrame({"outcome_id": ["9.9.9"], "status_en": ["Not measured"], "source_line": [930]})
    outcomes_table = pd.DataFrame({"outcome_id": ["9.9.9"], "status": [mine_status], "n_indicators": [2],
                                   "n_not_measured": [n_not_measured]})
    indicators = pd.DataFrame({"outcome_id": ["9.9.9", "9.9.9"], "indicator_id": ["9.9.9.1", "9.9.9.2"],
                               "waits_for_output": waits})
    return published, outcomes_table, indicators


def test_a_table_2_difference_from_a_prerequisite_cites_section_157():
    from evalpipe import audit

    rows = audit.audit_table2(*_table2_case("no_progress", 0, ["9.9.9", ""]))
    assert len(rows) == 1 and rows[0]["note_code"] == "outcome_waits_for_output_157"
    assert "§157" in rows[0]["note"] and "9.9.9.1" in rows[0]["note"] and "9.9.9.2" not in rows[0]["note"]
    assert "§157" in audit.note_text(rows[0]["note_code"], {"indicators": "9.9.9.1", "outputs": "9.9.9"}, "es")


def test_a_table_2_difference_from_missing_data_cites_section_158():
    from evalpipe import audit

    published, outcomes_table, indicators = _table2_case("not_measured", 2, ["", ""])
    published["status_en"] = ["No progress"]
    rows = audit.audit_table2(published, outcomes_table, indicators)
    assert len(rows) == 1 and "§158" in rows[0]["note"]


def test_no_table_2_row_when_the_statuses_agree():
    from evalpipe import audit

    published, outcomes_table, indicators = _table2_case("not_measured", 2, ["", ""])
    assert audit.audit_table2(published, outcomes_table, indicators) == []


SECTION_157_PREREQUISITES = {"1.1.2.1": "1.1.2", "2.2.2.1": "2.2.2", "2.2.2.2": "2.2.2", "2.3.1.1": "2.3.1",
                             "2.3.1.2": "2.3.1", "2.4.2.1": "2.4.2", "2.4.2.2": "2.4.2", "3.3.2.1": "3.3.2",
                             "3.3.2.2": "3.3.2"}


def test_every_prerequisite_section_157_states_is_declared_with_its_sentence(lfm):
    """§157 says outcomes 1.1.2, 2.2.2, 2.3.1, 2.4.2 and 3.3.2 show no progress because their output was not
    delivered: each indicator's ficha declares it and quotes the sentence, which is in the report."""
    from pathlib import Path

    from evalpipe import fichas, microdata

    seeds = [folder / "shared" / "seed" for folder in (ROOT.parent, ROOT.parent.parent)]
    seed = next((folder for folder in seeds if folder.is_dir()), None)
    report = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seed.glob("*.txt"))) if seed else ""
    specs = fichas.load_fichas(ROOT / "data" / "raw", microdata.load_sources(ROOT / "data" / "raw"),
                               lfm.outcome_indicators, ROOT)
    declared = {i: f.calculation["requires_output"] for i, f in specs.items() if f.calculation.get("requires_output")}
    assert declared == SECTION_157_PREREQUISITES
    for indicator_id in declared:
        basis = specs[indicator_id].calculation.get("requires_output_basis") or ""
        match = re.fullmatch(r"§157 Outcome [\d.]+ \(L(\d+)\): «(.+)»", basis)
        assert match, (indicator_id, basis)
        if report:
            line = report.splitlines()[int(match[1]) - 1]
            assert match[2] in line, indicator_id


def test_an_output_not_delivered_keeps_a_computed_value_but_shows_no_progress(computed):
    table = computed[0].set_index("indicator_id")
    assert table.loc["3.3.2.1", "current"] == 0 and table.loc["3.3.2.1", "status"] == "no_progress"
    assert table.loc["3.3.2.1", "waits_for_output"] == "3.3.2" and "3.3.2" in table.loc["3.3.2.1", "reason"]
    assert table.loc["1.1.1.1", "waits_for_output"] == ""


# ------------------------------------------------------------------ judgement inputs cite their basis (issue 13)

PLACE = re.compile(r"§(\d+) Output [\d.]+ L(\d+)")


def _report_lines() -> list[str]:
    seeds = [folder / "shared" / "seed" for folder in (ROOT.parent, ROOT.parent.parent)]
    seed = next((folder for folder in seeds if folder.is_dir()), None)
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seed.glob("*.txt"))) if seed else ""
    return text.splitlines()


def test_every_covid_risk_judgement_quotes_its_sentence_at_its_line(lfm):
    lines = _report_lines()
    table = lfm.covid_risk_outputs
    assert len(table) == 18 and set(table["supports"]) <= {"yes", "no"}
    for row in table.itertuples():
        place = PLACE.fullmatch(row.source)
        assert place and place[1] == "154", row.output_id
        assert row.basis.strip() and "¿?" not in row.basis, row.output_id
        if lines:
            assert row.basis in lines[int(place[2]) - 1], row.output_id


def test_every_ficha_declared_not_measurable_quotes_its_sentence(lfm):
    from evalpipe import fichas, microdata

    lines = _report_lines()
    specs = fichas.load_fichas(ROOT / "data" / "raw", microdata.load_sources(ROOT / "data" / "raw"),
                               lfm.outcome_indicators, ROOT)
    declared = [i for i, f in specs.items() if f.method == "not_measured" and not f.calculation.get("requires_output")]
    assert sorted(declared) == ["1.2.1.1", "2.1.2.1", "2.1.2.2", "2.6.1.1", "3.2.1.2", "3.3.1.1"]
    for indicator_id in declared:
        basis = specs[indicator_id].calculation["basis"]
        match = re.fullmatch(r"(§157 Outcome [\d.]+ \(L(\d+)\)): «(.+)»", basis)
        assert match, indicator_id
        if lines:
            assert match[3] in lines[int(match[2]) - 1], indicator_id


def test_a_covid_row_without_a_supporting_sentence_is_an_audit_row_and_a_supported_one_is_not():
    from evalpipe import audit

    covid = pd.DataFrame({"output_id": ["9.9.1", "9.9.2"], "covid_risk": ["yes", "no"],
                          "basis": ["a risk of delay for other reasons", "no important warning signs"],
                          "source": ["§154 Output 9.9.1 L825", "§154 Output 9.9.2 L813"],
                          "supports": ["no", "yes"]})
    rows = audit.audit_judgement_bases(covid)
    assert [(r["item_id"], r["source"], r["check"]) for r in rows] == [("9.9.1", "§154 Output 9.9.1 L825",
                                                                      "judgement_basis")]
    assert "a risk of delay for other reasons" in rows[0]["note"]
    shown = audit.in_words(pd.DataFrame(rows), "es").iloc[0]
    assert "línea 825" in shown["source"] and shown["computed_value"] == "Sí"


def test_a_ficha_declared_not_measurable_without_a_sentence_is_an_audit_row():
    from types import SimpleNamespace

    from evalpipe import audit

    specs = {"9.9.9.1": SimpleNamespace(path="fichas/9.9.9.1.yaml", calculation={
                 "method": "not_measured", "basis": "none: Annex 17 publishes «¿?»"}),
             "9.9.9.2": SimpleNamespace(path="fichas/9.9.9.2.yaml", calculation={
                 "method": "not_measured", "basis": "§157 Outcome 9.9.9 (L10): «no data»"}),
             "9.9.9.3": SimpleNamespace(path="fichas/9.9.9.3.yaml", calculation={
                 "method": "not_measured", "requires_output": "9.9.9"})}
    rows = audit.audit_judgement_bases(None, specs)
    assert [r["item_id"] for r in rows] == ["9.9.9.1"]
    assert "fichas/9.9.9.1.yaml" in rows[0]["note"] and "Annex 17 publishes" in rows[0]["note"]


# ------------------------------------------------------------- the formula with numbers (notebook and PDF) --

FORMULA_ROW = {"method": "pre_post_participant", "numerator": 312.5, "denominator": 12.5, "current": 25.0,
               "unit": "percent", "value_note": "", "reason": ""}


def test_formula_line_writes_the_registered_formula_then_its_note_in_the_language():
    from evalpipe import i18n

    for lang in ("es", "en"):
        assert outcomes.formula_line(FORMULA_ROW, lang) == (
            f"(312.5) / 12.5 = 25 %  {i18n.t('outcome.pre_post_note', lang)}")
    assert outcomes.formula_line(FORMULA_ROW) == outcomes.formula_line(FORMULA_ROW, "es")
    share = FORMULA_ROW | {"method": "share", "numerator": 9.0, "denominator": 20.0, "current": 45.0}
    assert outcomes.formula_line(share, "en") == "9 / 20 × 100 = 45 %"
    assert outcomes.formula_line(share, "en", number=lambda v, d: f"[{v:g}]") == "[9] / [20] × 100 = [45] %"


def test_formula_line_without_a_value_says_why():
    from evalpipe import i18n

    none = FORMULA_ROW | {"current": None, "reason": "sin datos"}
    assert outcomes.formula_line(none, "en") == f"{i18n.t('outcome.no_value', 'en')}: sin datos"
    assert outcomes.formula_line(none | {"current": float("nan")}, "es") == f"{i18n.t('outcome.no_value', 'es')}: sin datos"
    assert outcomes.formula_line(none | {"reason": ""}, "en") == i18n.t("outcome.no_value", "en")
    waiting = FORMULA_ROW | {"value_note": outcomes.NOT_APPLICABLE, "reason": outcomes.requires_output_reason(
        "1.1.2", "not_delivered")}
    assert outcomes.formula_line(waiting, "en") == (
        f"{i18n.t('outcome.no_value', 'en')}: {outcomes.requires_output_reason('1.1.2', 'not_delivered', 'en')}")


def test_compute_outcome_status_counts_each_indicator_status_per_outcome():
    indicators = pd.DataFrame({"outcome_id": ["1.1", "1.1", "1.1", "1.1", "1.1", "2.1", "2.1"],
                               "status": ["achieved", "in_progress", "in_progress", "no_progress", "not_measured",
                                          "no_progress", "no_progress"]})
    outcomes_table = pd.DataFrame({"outcome_id": ["1.1", "2.1", "3.1"], "component_id": ["1", "2", "3"]})
    table = outcomes.compute_outcome_status(indicators, outcomes_table)
    assert list(table.columns) == outcomes.OUTCOME_STATUS_COLUMNS
    assert table.to_dict("records") == [
        {"outcome_id": "1.1", "component_id": "1", "status": "in_progress", "n_indicators": 5, "n_achieved": 1,
         "n_in_progress": 2, "n_no_progress": 1, "n_not_measured": 1},
        {"outcome_id": "2.1", "component_id": "2", "status": "no_progress", "n_indicators": 2, "n_achieved": 0,
         "n_in_progress": 0, "n_no_progress": 2, "n_not_measured": 0},
        {"outcome_id": "3.1", "component_id": "3", "status": "not_measured", "n_indicators": 0, "n_achieved": 0,
         "n_in_progress": 0, "n_no_progress": 0, "n_not_measured": 0},
    ]


def test_compute_outcome_status_of_no_outcome_keeps_its_columns():
    empty = outcomes.compute_outcome_status(pd.DataFrame({"outcome_id": [], "status": []}),
                                            pd.DataFrame({"outcome_id": [], "component_id": []}))
    assert list(empty.columns) == outcomes.OUTCOME_STATUS_COLUMNS and empty.empty
