"""Issue 13 (first half): the SMART analysis (Annexes 12-13), the narrative's claims against their own arithmetic
and the narrative's named statuses against the status tables. Unit level: small tables, no pipeline run; each
check family has an input where it must fire and one where it must not."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evalpipe import audit, claims, i18n, smart
from evalpipe.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "data" / "raw" / "published_report"


def _smart_row(indicator="1.1.1.1", level="output", marks="SMART", met="SMART", **extra) -> dict:
    row = {c: "" for c in smart.COLUMNS}
    row.update(indicator_id=indicator, level=level, annex=smart.LEVELS[level], source_line="1516",
               met_per_comment=met, smart_class=smart.smart_class(met),
               comment_verdict="Este indicador cumple con todos los criterios SMART.")
    row.update({c: "X" if c in marks else "" for c in smart.CRITERIA})
    row.update(extra)
    return row


def _claim(claim_id, subject, item, measure, value, section="§117", line="646", quote="q") -> dict:
    return {"claim_id": claim_id, "section": section, "source_line": line, "subject": subject, "item_id": item,
            "measure": measure, "value": str(value), "quote": quote}


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


# ----------------------------------------------------------------------------------------- SMART: the data --

def test_class_follows_the_annexes_note():
    assert smart.smart_class("SMART") == "good"
    assert smart.smart_class("SMRT") == "acceptable" and smart.smart_class("SMR") == "acceptable"
    assert smart.smart_class("SMAT") == "not_functional" and smart.smart_class("") == "not_functional"


def test_shipped_table_one_row_per_indicator_and_counts_by_the_comments():
    table = smart.load(PUBLISHED)
    assert (table["level"] == "output").sum() == 48 and (table["level"] == "outcome").sum() == 38
    counts = smart.summary(table).set_index(["level", "smart_class"])
    assert counts.loc[("output", "good"), "n"] == 28 and counts.loc[("output", "not_functional"), "n"] == 18
    assert counts.loc[("outcome", "good"), "n"] == 17 and counts.loc[("outcome", "not_functional"), "n"] == 19
    assert counts.loc[("all", "not_good"), "n"] == 41 and counts.loc[("all", "not_good"), "total"] == 86
    assert counts.loc[("outcome", "unmarked"), "n_by_marks"] == 6 and counts.loc[("outcome", "unmarked"), "n"] == 0
    assert counts.loc[("output", "good"), "share_pct"] == 58.3


def test_the_reading_by_comment_is_what_each_verdict_sentence_says():
    """``met_per_comment`` was read by hand: it is exactly what the printed verdict sentence says."""
    table = smart.load(PUBLISHED)
    for row in table.itertuples():
        verdict = row.comment_verdict
        if "solo" in verdict:
            said = "".join(c for c in smart.CRITERIA if f"({c})" in verdict)
        elif "exceptuando" in verdict:
            said = "".join(c for c in smart.CRITERIA if f"({c})" not in verdict)
        else:
            said = smart.CRITERIA
        assert row.met_per_comment == said, (row.level, row.indicator_id, verdict)
        assert verdict in row.comment or row.comment_shared_group, row.indicator_id


def test_a_class_that_is_not_the_notes_is_refused_naming_row_and_column(tmp_path):
    rows = [_smart_row(), _smart_row("1.1.1.2", met="SMAT")]
    rows[1]["smart_class"] = "good"
    _frame(rows, smart.COLUMNS).to_csv(tmp_path / smart.SMART_FILE, index=False)
    with pytest.raises(InputError) as error:
        smart.load(tmp_path)
    message = str(error.value)
    assert "annex12_13_smart.csv" in message and "row 3" in message and "smart_class" in message
    assert "not_functional" in message and "good" in message
    assert smart.load(tmp_path / "none") is None


# -------------------------------------------------------------------------- SMART: marks against comment --

def test_marks_against_comment_fires_on_a_contradiction_and_on_a_row_without_marks():
    table = _frame([_smart_row("1.1.1.1", marks="SMAR", met="SMAT"), _smart_row("1.1.1.2", marks="", met="SMART"),
                    _smart_row("1.1.2.1", marks="SMART", met="SMART")], smart.COLUMNS)
    rows = smart.audit_marks(table)
    assert [r["item_id"] for r in rows] == ["1.1.1.1", "1.1.1.2"]
    assert rows[0]["note_code"] == "smart.marks_contradict" and rows[0]["published_value"] == "S M A R"
    assert rows[0]["computed_value"] == "S M A T" and rows[0]["source"] == "Annex 12 L1516"
    fields = json.loads(rows[0]["note_fields"])
    assert fields["marks_class"] == "acceptable" and fields["comment_class"] == "not_functional"
    assert rows[1]["note_code"] == "smart.no_marks" and rows[1]["published_value"] == "(no mark)"


def test_marks_against_comment_silent_when_they_agree():
    table = _frame([_smart_row(marks="SMAT", met="SMAT"), _smart_row("1.1.1.2", level="outcome")], smart.COLUMNS)
    assert smart.audit_marks(table) == []


# ------------------------------------------------------------------------- SMART: narrative's figures --

def _four_outputs() -> pd.DataFrame:
    """Four output indicators: 2 good, 1 acceptable, 1 not functional (by the comments)."""
    return _frame([_smart_row("1", met="SMART"), _smart_row("2", met="SMART"), _smart_row("3", met="SMRT"),
                   _smart_row("4", met="SAT")], smart.COLUMNS)


def test_narrative_smart_counts_fire_when_they_differ_from_the_table():
    claims_ = _frame([_claim("a", "smart_output_indicators", "good", "n", 3),
                      _claim("b", "smart_output_indicators", "good", "pct", 75),
                      _claim("c", "smart_output_indicators", "not_good", "fraction", "1/3")], smart.CLAIM_COLUMNS)
    rows = smart.audit_claims(claims_, _four_outputs())
    assert [r["check"] for r in rows] == ["smart.narrative_n", "smart.narrative_pct", "smart.narrative_fraction"]
    assert [r["computed_value"] for r in rows] == ["2", "50", "1/2"]
    assert rows[0]["source"] == "§117 L646 (a)" and rows[0]["item_id"] == "smart.output_indicators:good"


def test_narrative_smart_counts_silent_when_they_agree():
    claims_ = _frame([_claim("a", "smart_output_indicators", "good", "n", 2),
                      _claim("b", "smart_output_indicators", "good", "pct", 50),
                      _claim("c", "smart_output_indicators", "not_good", "fraction", "1/2"),
                      _claim("d", "smart_output_indicators", "not_functional", "pct", 25),
                      _claim("e", "smart_indicators", "acceptable", "n", 1)], smart.CLAIM_COLUMNS)
    assert smart.audit_claims(claims_, _four_outputs()) == []


def test_a_third_is_the_nearest_simple_fraction():
    assert str(smart.nearest_fraction(35.4)) == "1/3" and str(smart.nearest_fraction(47.7)) == "1/2"
    assert str(smart.nearest_fraction(27.0)) == "1/4"


def test_shipped_narrative_smart_claims_against_the_shipped_table():
    rows = smart.audit_claims(smart.load_claims(PUBLISHED), smart.load(PUBLISHED))
    by_claim = {re.search(r"\((\w+)\)$", r["source"]).group(1): r for r in rows}
    assert by_claim["s117_good_n"]["computed_value"] == "28" and by_claim["s118_good_n"]["computed_value"] == "17"
    assert {"s116_not_good_fraction", "f8_not_good_fraction", "c2_not_good_fraction"} <= set(by_claim)
    assert "s117_acceptable_n" not in by_claim  # 2 acceptable: the text agrees


# -------------------------------------------------------------------------------- claims: own arithmetic --

def _set(members, total, adds="yes", set_id="s", section="§154", line="809") -> pd.DataFrame:
    return _frame([{"set_id": set_id, "section": section, "source_line": line, "total": str(total),
                    "members": " ".join(members), "adds_to_100": adds, "quote": "the sentence"}], claims.SET_COLUMNS)


def _pairs(*pairs, subject="output_indicators") -> pd.DataFrame:
    rows = []
    for item, n, pct in pairs:
        rows.append(_claim(f"{item}_n", subject, item, "n", n, section="§154"))
        if pct is not None:
            rows.append(_claim(f"{item}_pct", subject, item, "pct", pct, section="§154"))
    return _frame(rows, smart.CLAIM_COLUMNS)


def test_a_pair_whose_percentage_is_not_its_count_fires():
    """§154's "14 are in progress (20%)" of 48: 14/48 is 29%, whatever our own count is."""
    found = _pairs(("achieved", 18, 38), ("in_progress", 14, 20), ("no_progress", 16, 33))
    rows = claims.audit_sets(_set([f"{i}_{m}" for i in ("achieved", "in_progress", "no_progress")
                                   for m in ("n", "pct")], 48), found)
    pair = [r for r in rows if r["check"] == "claims.pair_arithmetic"]
    assert [(r["item_id"], r["published_value"], r["computed_value"]) for r in pair] == [
        ("output_indicators:in_progress", "20", "29")]
    assert pair[0]["source"] == "§154 L809 (s)" and json.loads(pair[0]["note_fields"])["exact"] == "29.2"
    sums = [r for r in rows if r["check"] == "claims.shares_add_up"]
    assert len(sums) == 1 and sums[0]["published_value"] == "91"


def test_pairs_that_are_their_counts_and_add_to_100_are_silent():
    """§155: 3, 9, 4, 2 of 18 printed as 17, 50, 22, 11 (37.5 -> 38 rounds half up)."""
    found = _pairs(("delivered", 3, 17), ("in_progress", 9, 50), ("in_progress_at_risk", 4, 22),
                   ("not_delivered", 2, 11), subject="outputs")
    members = [f"{i}_{m}" for i in ("delivered", "in_progress", "in_progress_at_risk", "not_delivered")
               for m in ("n", "pct")]
    assert claims.audit_sets(_set(members, 18), found) == []
    half = _pairs(("achieved", 18, 38), ("rest", 30, 63))
    assert claims.audit_sets(_set(["achieved_n", "achieved_pct", "rest_n", "rest_pct"], 48), half) == []


def test_counts_that_do_not_cover_their_total_fire_and_unprinted_shares_count():
    found = _pairs(("achieved", 5, 13), ("in_progress", 12, 32), ("no_progress", 16, 50), ("not_measured", 5, None))
    rows = claims.audit_sets(_set(["achieved_n", "achieved_pct", "in_progress_n", "in_progress_pct",
                                   "no_progress_n", "no_progress_pct", "not_measured_n"], 38), found)
    sums = [r for r in rows if r["check"] == "claims.shares_add_up"][0]
    assert sums["note_code"] == "claims.shares_sum+claims.unprinted_shares" and sums["published_value"] == "108.2"
    assert not [r for r in rows if r["check"] == "claims.counts_add_up"]  # 5 + 12 + 16 + 5 = 38
    short = claims.audit_sets(_set(["achieved_n", "in_progress_n"], 38, adds="yes"), found)
    assert [r["check"] for r in short] == ["claims.counts_add_up"]
    assert claims.audit_sets(_set(["achieved_n", "in_progress_n"], 38, adds="no"), found) == []


def test_a_set_naming_an_unknown_claim_is_refused():
    with pytest.raises(InputError) as error:
        claims.audit_sets(_set(["nope"], 48), _pairs(("achieved", 18, 38)))
    assert "claim_sets.csv" in str(error.value) and "members" in str(error.value) and "nope" in str(error.value)


def test_shipped_sets_find_the_reports_own_arithmetic_slips():
    rows = claims.audit_sets(claims.load_sets(PUBLISHED), claims.all_claims(PUBLISHED))
    pairs = {(r["source"].split(" (")[0], r["item_id"]) for r in rows if r["check"] == "claims.pair_arithmetic"}
    assert ("§154 L809", "output_indicators:in_progress") in pairs
    assert ("§118 L647", "smart.outcome_indicators:acceptable") in pairs
    assert not any(s.startswith("§155") for s, _ in pairs)
    sums = {r["source"].split(" (")[0] for r in rows if r["check"] == "claims.shares_add_up"}
    assert {"§154 L809", "§157 L891", "§118 L647"} <= sums and "§155 L862" not in sums


# ---------------------------------------------------------------------------- claims: named statuses --

def _outputs() -> pd.DataFrame:
    return pd.DataFrame({"output_id": ["2.3.1", "2.4.1", "2.5.1", "1.3.1"],
                         "status": ["in_progress_at_risk", "delivered", "in_progress", "in_progress_at_risk"]})


def test_a_named_status_that_is_not_ours_fires_and_one_that_is_does_not():
    statuses = _frame([_claim("a", "outputs", "2.4.1", "status", "delivered", section="§154 Output 2.4.1", line="843"),
                       _claim("b", "outputs", "2.5.1", "status", "delivered", section="§154", line="849")],
                      smart.CLAIM_COLUMNS)
    shown = {"outputs": pd.Series(["delivered"], index=["2.5.1"])}
    rows = claims.audit_status(statuses, {"output_status": _outputs()}, shown)
    assert len(rows) == 1 and rows[0]["item_id"] == "2.5.1" and rows[0]["computed_value"] == "in_progress"
    assert rows[0]["source"] == "§154 L849 (b)" and rows[0]["note_code"] == "quote_sentence+claims.table_status"


def test_a_list_of_ids_fires_when_it_is_not_our_list_or_not_as_long_as_its_count():
    """Conclusion 4: "Only four outputs could present some delay": 2.3.1, 2.4.1, 2.5.1."""
    statuses = _frame([_claim("n", "outputs", "in_progress_at_risk", "n", 4, section="Conclusion 4", line="257"),
                       _claim("ids", "outputs", "in_progress_at_risk", "ids", "2.3.1 2.4.1 2.5.1",
                              section="Conclusion 4", line="257")], smart.CLAIM_COLUMNS)
    rows = claims.audit_status(statuses, {"output_status": _outputs()})
    assert [r["check"] for r in rows] == ["claims.named_ids", "claims.names_vs_count"]
    fields = json.loads(rows[0]["note_fields"])
    assert fields["missing"] == "1.3.1" and fields["extra"] == "2.4.1 2.5.1"
    assert json.loads(rows[1]["note_fields"])["named"] == "3"


def test_a_list_of_ids_that_is_ours_and_as_long_as_its_count_is_silent():
    statuses = _frame([_claim("n", "outputs", "in_progress_at_risk", "n", 2, section="C"),
                       _claim("ids", "outputs", "in_progress_at_risk", "ids", "1.3.1 2.3.1", section="C")],
                      smart.CLAIM_COLUMNS)
    assert claims.audit_status(statuses, {"output_status": _outputs()}) == []


def test_status_counts_cite_paragraph_and_line():
    statuses = _frame([_claim("f11_n", "outputs", "in_progress_at_risk", "n", 5, section="Finding 11", line="239"),
                       _claim("c4_n", "outputs", "in_progress_at_risk", "n", 2, section="Conclusion 4", line="257")],
                      smart.CLAIM_COLUMNS)
    rows = claims.audit_counts(statuses, {"outputs": _outputs()}, {}, {"outputs": 4})
    assert [r["source"] for r in rows] == ["Finding 11 L239 (f11_n)"] and rows[0]["computed_value"] == "2"


# ------------------------------------------------------------------------------------------ in words --

def test_new_rows_read_in_both_languages_without_codes():
    table = _frame([_smart_row("1", marks="SMAR", met="SMAT")], smart.COLUMNS)
    rows = smart.audit_marks(table) + smart.audit_claims(
        _frame([_claim("c", "smart_indicators", "not_good", "fraction", "1/3", section="Conclusion 2", line="1131")],
               smart.CLAIM_COLUMNS), table)
    statuses = _frame([_claim("ids", "outputs", "in_progress_at_risk", "ids", "2.3.1", section="Conclusion 4")],
                      smart.CLAIM_COLUMNS)
    rows += claims.audit_status(statuses, {"output_status": _outputs()})
    found = pd.DataFrame(rows, columns=audit.AUDIT_COLUMNS)
    for lang in i18n.LANGUAGES:
        shown = audit.in_words(found, lang)
        for column in ("check", "source", "item_id", "field", "rule", "note", "published_value", "computed_value"):
            text = " ".join(shown[column])
            assert not re.findall(r"\b[a-z]+_[a-z_]+\b", text), (lang, column, text)
            assert "smart." not in text and "claims." not in text, (lang, column, text)
    spanish = audit.in_words(found, "es")
    assert spanish["source"].iloc[1] == "Conclusión 2 línea 1131"
    assert "no funcional" in spanish["note"].iloc[0] and "aceptable" in spanish["note"].iloc[0]


def test_every_smart_and_claims_key_has_both_languages():
    for prefix in ("smart.", "claims."):
        assert i18n.keys("es", prefix) == i18n.keys("en", prefix) and i18n.keys("es", prefix)


def test_a_drop_without_the_new_files_audits_nothing_new(tmp_path):
    published = tmp_path / "published_report"
    shutil.copytree(PUBLISHED, published)
    for name in (smart.SMART_FILE, smart.CLAIMS_FILE, claims.SETS_FILE, claims.STATUS_FILE):
        (published / name).unlink()
    assert smart.findings(published) == []
    assert claims.findings(published, {"output_status": _outputs()}, {"outputs": 4}) == []


def test_the_annex_block_counts_by_class_in_the_annex_language(tmp_path):
    assert smart.annex_block(tmp_path, "es")["rows"] == []
    smart.summary(smart.load(PUBLISHED)).to_csv(tmp_path / "smart_summary.csv", index=False)
    spanish, english = smart.annex_block(tmp_path, "es"), smart.annex_block(tmp_path, "en")
    assert len(spanish["rows"]) == 15 and len(spanish["headers"]) == 7
    assert spanish["rows"][0] == ["indicadores de producto (Anexo 12)", "bueno", "28", "48", "58.3", "27", "56.3"]
    assert english["rows"][2][:3] == ["output indicators (Annex 12)", "not functional", "18"]


def test_every_shipped_percentage_claim_is_in_a_printed_set():
    """A percentage outside every set would escape the check against its own count."""
    members = {m for ms in claims.load_sets(PUBLISHED)["members"] for m in ms.split()}
    found = claims.all_claims(PUBLISHED)
    pct = set(found.loc[found["measure"] == "pct", "claim_id"])
    assert pct and pct <= members, sorted(pct - members)
    assert set(found["claim_id"]).issuperset(members)


def test_the_annex_shows_the_smart_table_row_by_row_in_the_annex_language(tmp_path):
    table = smart.load(PUBLISHED)
    smart.summary(table).to_csv(tmp_path / "smart_summary.csv", index=False)
    assert smart.annex_block(tmp_path, "es")["indicators"] == []  # no per-indicator table written: none shown
    smart.indicator_table(table).to_csv(tmp_path / smart.INDICATORS_FILE, index=False)
    spanish, english = smart.annex_block(tmp_path, "es"), smart.annex_block(tmp_path, "en")
    assert [len(b["rows"]) for b in spanish["indicators"]] == [48, 38]
    assert spanish["indicators"][0]["title"].startswith("Anexo 12") and english["indicators"][1]["title"].startswith(
        "Annex 13")
    assert english["indicators"][0]["headers"] == ["indicator", "S", "M", "A", "R", "T", "class (annexes' note)",
                                                   "the evaluators' comment (as printed)"]
    first = english["indicators"][0]["rows"][0]
    printed = table.iloc[0]
    assert first["id"] == "1.1.1.1" and first["marks"] == [printed[c] for c in smart.CRITERIA] == ["X"] * 4 + [""]
    assert first["class"] == "not functional" and spanish["indicators"][0]["rows"][0]["class"] == "no funcional"
    assert first["comment"] == printed["comment"] and english["indicators"][0]["comment_lang"] == "es"
    # a row whose comment is printed once for its group carries the group's verdict sentence, as written
    shared = next(r for r in spanish["indicators"][0]["rows"] if r["id"] == "1.2.1.3")
    assert shared["comment"] == "Los tres indicadores del producto 1.2.1. cumplen con todos los criterios SMART."
