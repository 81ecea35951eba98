"""Issue 13, the narrative against the finance data: what §177, §180-183 and Finding 13 say about outputs and
the budget (largest budget, execution ranks, fully executed, not begun, "around", share remaining), checked
against the computed Annexes 19-20; and execution against the programme to the cut-off beside the whole-life
programme. Unit level: small in-memory tables where each check must fire and where it must not; the shipped
drop's claims against the tables computed from its raw files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evalpipe import audit, finance, finance_claims, finance_tables, i18n
from evalpipe.errors import InputError
from evalpipe.quarters import parse_quarter
from evalpipe.finance_read import load_finance
from evalpipe.finance_tables import compute_tables

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "data" / "raw" / "published_report"

# line -> (component, {year: (programmed, executed)}); 2021 is a later year (programme only)
LINES = {
    "1.1.1": ("1", {2019: (60.0, 60.0), 2020: (40.0, 40.0), 2021: (0.0, None)}),
    "1.1.2": ("1", {2019: (0.0, 0.0), 2020: (50.0, 0.0), 2021: (30.0, None)}),
    "1.2.1": ("1", {2019: (100.0, 80.0), 2020: (100.0, 20.0), 2021: (200.0, None)}),
    "2.1.1": ("2", {2019: (300.0, 100.0), 2020: (100.0, 50.0), 2021: (100.0, None)}),
}


def _execution(lines=LINES) -> pd.DataFrame:
    """A financial_execution table as the finance stage writes it (the columns and measures the claims read)."""
    rows = []

    def add(line, kind, component, period, measure, value, unit="USD"):
        rows.append({"line": line, "line_name_es": f"Producto {line}", "line_name_en": f"Output {line}",
                     "line_type": kind, "parent_code": f"C{component}" if kind == "output" else "",
                     "is_total": kind != "output", "component_id": component if kind == "output" else "",
                     "output_id": line if kind == "output" else "", "period": period, "measure": measure,
                     "value": value, "value_rounded": finance_tables._rounded(value, unit), "unit": unit,
                     "currency": "USD" if unit == "USD" else "", "numerator": None, "denominator": None,
                     "source": "report.xlsx"})

    totals = {}
    for line, (component, years) in lines.items():
        whole = sum(p for p, _ in years.values())
        done = sum(e for _, e in years.values() if e is not None)
        own = sum(p for p, e in years.values() if e is not None)
        for year, (programmed, executed) in years.items():
            add(line, "output", component, str(year), "programado", programmed)
            if executed is not None:
                add(line, "output", component, str(year), "ejecutado", executed)
        add(line, "output", component, "acumulado", "programado", whole)
        add(line, "output", component, "acumulado", "ejecutado", done)
        add(line, "output", component, "acumulado", "execution_pct", 100 * done / whole if whole else float("nan"),
            "%")
        add(line, "output", component, "acumulado", "saldos_anteriores", own - done)
        for key, value in (("whole", whole), ("done", done), ("own", own)):
            totals[key] = totals.get(key, 0.0) + value
        for year, (programmed, _) in years.items():
            totals[year] = totals.get(year, 0.0) + programmed
    add("TOTAL", "total", "", "acumulado", "programado", totals["whole"])
    add("TOTAL", "total", "", "acumulado", "ejecutado", totals["done"])
    add("TOTAL", "total", "", "acumulado", "execution_pct", 100 * totals["done"] / totals["whole"], "%")
    add("TOTAL", "total", "", "acumulado", "saldos_anteriores", totals["own"] - totals["done"])
    add("TOTAL", "total", "", "acumulado", "saldos_share_pct", 100 * (totals["own"] - totals["done"]) / totals["whole"],
        "%")
    add("TOTAL", "total", "", "2021", "programado", totals[2021])
    add("TOTAL", "total", "", "2021", "programado_share_pct", 100 * totals[2021] / totals["whole"], "%")
    for year in (2019, 2020):
        add("TOTAL", "total", "", str(year), "programado", totals[year])
        add("TOTAL", "total", "", str(year), "ejecutado", sum(LINES[k][1][year][1] for k in lines))
    return pd.DataFrame(rows)


def _claim(kind, item, scope="1", value="", tolerance="", claim_id="c", section="§180", line="1085",
           quote="q") -> dict:
    return {"claim_id": claim_id, "section": section, "source_line": line, "kind": kind, "item_id": item,
            "scope": scope, "value": value, "tolerance": tolerance, "quote": quote}


def _audit(*claims) -> list[dict]:
    return finance_claims.audit_claims(pd.DataFrame(list(claims), columns=finance_claims.COLUMNS), _execution())


# -------------------------------------------------------------------------- execution to the cut-off --

def test_programme_to_the_cutoff_is_the_years_with_executed_amounts():
    table = finance_tables.with_execution_to_cutoff(_execution())
    rows = table[table["measure"].isin(finance_tables.TO_CUTOFF)].set_index(["line", "measure"])["value"]
    # 1.2.1: whole-life 400 (2021 included), executed 100; programmed 2019-2020 = 200 -> 50 % (not 25 %)
    assert rows[("1.2.1", "programado_to_cutoff")] == 200
    assert rows[("1.2.1", "execution_pct_to_cutoff")] == pytest.approx(50)
    assert rows[("TOTAL", "programado_to_cutoff")] == 750  # 100 + 50 + 200 + 400
    # idempotent, and the whole-life figures are untouched
    again = finance_tables.with_execution_to_cutoff(table)
    assert len(again) == len(table)
    wide = finance_tables.side_by_side(table).set_index("line")
    assert list(wide.columns[1:]) == list(finance_tables.SIDE_BY_SIDE)
    assert wide.loc["1.2.1", "execution_pct"] == 25 and wide.loc["1.2.1", "execution_pct_to_cutoff"] == 50


def test_programme_to_the_cutoff_equals_executed_plus_balance_on_the_shipped_drop(lfm):
    fin = load_finance(ROOT / "data" / "raw", lfm, parse_quarter("2020Q2"), ROOT)
    table = finance_tables.with_execution_to_cutoff(compute_tables(fin)["financial_execution"])
    cumulative = table[table["period"] == "acumulado"].pivot_table(index="line", columns="measure", values="value")
    assert (cumulative["programado_to_cutoff"] - cumulative["ejecutado"]
            - cumulative["saldos_anteriores"]).abs().max() < 0.02
    total = table[(table["line"] == "TOTAL") & (table["period"] == "acumulado")].set_index("measure")["value_rounded"]
    assert total["execution_pct"] == 53 and total["execution_pct_to_cutoff"] == 66


# ------------------------------------------------------------------------------------ each claim kind --

@pytest.mark.parametrize("item, scope, largest", [
    ("1.2.1", "1", None),  # 400: the largest of component 1
    ("2.1.1", "all", None),  # 500: the largest of all
    ("1.2.1", "all", "2.1.1"),
    ("1.1.1", "1", "1.2.1"),
])
def test_largest_budget(item, scope, largest):
    rows = _audit(_claim("largest_budget", item, scope=scope))
    assert [r["computed_value"] for r in rows] == ([largest] if largest else [])
    assert all(r["check"] == "finclaims.largest_budget" and r["published_value"] == item for r in rows)


def test_execution_ranks_from_the_top_and_from_the_bottom():
    # component 1: 1.1.1 100 %, 1.2.1 25 %, 1.1.2 0 %
    assert _audit(_claim("highest_execution", "1.1.1", value="1"), _claim("highest_execution", "1.2.1", value="2"),
                  _claim("lowest_execution", "1.1.2", value="1")) == []
    rows = _audit(_claim("highest_execution", "1.2.1", value="1"), _claim("lowest_execution", "1.2.1", value="1"))
    assert [(r["published_value"], r["computed_value"]) for r in rows] == [("1.2.1", "1.1.1"), ("1.2.1", "1.1.2")]
    assert "1.1.1 (100 %), 1.2.1 (25 %), 1.1.2 (0 %)" in rows[0]["note"]


def test_fully_executed_and_only_one():
    assert _audit(_claim("fully_executed", "1.1.1")) == []
    rows = _audit(_claim("fully_executed", "1.2.1"))
    assert rows and rows[0]["computed_value"] == "25" and "USD 300 unspent" in rows[0]["note"]


def test_not_begun_fires_on_any_executed_amount():
    assert _audit(_claim("not_begun", "1.1.2")) == []
    rows = _audit(_claim("not_begun", "1.2.1", section="§181", line="1087"))
    assert rows[0]["source"] == "§181 L1087 (c)" and rows[0]["computed_value"] == "100"
    assert rows[0]["published_value"] == "0" and "25 %" in rows[0]["note"]


def test_execution_around_a_figure():
    assert _audit(_claim("execution_around", "1.2.1", value="30", tolerance="5")) == []
    rows = _audit(_claim("execution_around", "1.2.1", value="40", tolerance="5"))
    assert rows and rows[0]["published_value"] == "40 ± 5" and rows[0]["computed_value"] == "25"


def test_share_remaining_is_what_is_left_of_the_whole_life_programme():
    # whole-life 1,080, executed 350: 68 % remains; the 2021 programme alone is 31 %
    assert _audit(_claim("share_remaining", "TOTAL", scope="all", value="68")) == []
    rows = _audit(_claim("share_remaining", "TOTAL", scope="all", value="31", section="Finding 13", line="244"))
    assert rows[0]["computed_value"] == "68" and "2021: 31 %" in rows[0]["note"]


def test_an_output_the_tables_do_not_have_is_named():
    rows = _audit(_claim("not_begun", "9.9.9"))
    assert rows and rows[0]["note_code"] == "finclaims.unknown_output"


# ---------------------------------------------------------------------------------------- the drop --

def test_a_claim_of_an_unknown_kind_is_refused_naming_row_and_column(tmp_path):
    shutil.copy(PUBLISHED / finance_claims.CLAIMS_FILE, tmp_path / finance_claims.CLAIMS_FILE)
    path = tmp_path / finance_claims.CLAIMS_FILE
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[2, "kind"] = "biggest"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as caught:
        finance_claims.load_claims(tmp_path)
    message = str(caught.value)
    assert "finance_claims.csv" in message and "row 4" in message and "kind" in message and "biggest" in message


def test_a_drop_without_finance_claims_audits_nothing_new(tmp_path):
    assert finance_claims.findings(tmp_path, {"financial_execution": _execution()}) == []


def test_shipped_claims_against_the_computed_tables(lfm):
    fin = load_finance(ROOT / "data" / "raw", lfm, parse_quarter("2020Q2"), ROOT)
    rows = finance_claims.findings(PUBLISHED, compute_tables(fin))
    found = {(r["source"].split(" (")[1].rstrip(")"), r["published_value"], r["computed_value"]) for r in rows}
    assert found == {
        ("s177_largest_budget", "2.1.1", "2.2.1"),  # 2.2.1's programme (743,088) is the largest, 2.1.1 third
        ("s180_111_fully_executed", "100", "99"),  # 35,234 of 35,415
        ("s181_222_not_begun", "0", "10,962"),  # "had not yet begun" beside 14 % executed
        ("f13_share_remaining", "20", "47"),  # 20 % is the 2021 programme alone
        ("s183_share_remaining", "20", "47"),
    }
    for row in rows:
        assert re.fullmatch(r"(§\d+|Finding \d+) L\d+ \(\w+\)", row["source"]), row["source"]


def test_the_finance_claims_read_in_both_languages_without_codes():
    rows = _audit(_claim("largest_budget", "1.1.1"), _claim("highest_execution", "1.2.1", value="1"),
                  _claim("fully_executed", "1.2.1"), _claim("not_begun", "1.2.1"),
                  _claim("execution_around", "1.2.1", value="40", tolerance="5"),
                  _claim("share_remaining", "TOTAL", scope="all", value="20", section="Finding 13", line="244"))
    found = pd.DataFrame(rows, columns=audit.AUDIT_COLUMNS)
    assert len(found) == 6
    for lang in i18n.LANGUAGES:
        shown = audit.in_words(found, lang)
        for column in ("check", "source", "field", "rule", "note"):
            text = " ".join(shown[column])
            assert "finclaims" not in text and not re.findall(r"\b[a-z]+_[a-z_]+\b", text), (lang, column, text)
    assert audit.in_words(found, "es")["source"].iloc[-1] == "Hallazgo 13 línea 244"


def test_every_finclaims_key_has_both_languages():
    assert i18n.keys("es", "finclaims.") == i18n.keys("en", "finclaims.") and i18n.keys("es", "finclaims.")


def test_the_annex_shows_both_execution_figures_side_by_side():
    from evalpipe import annex

    table = finance_tables.with_execution_to_cutoff(_execution())
    for lang in i18n.LANGUAGES:
        block = annex._finance({"financial_execution": table}, lang)["tables"]
        measures = [b["title"] for b in block]
        assert not any("cut-off" in t or "al corte" in t for t in measures[:-1])  # no separate block per measure
        side = block[-1]
        assert side["title"] == i18n.t("annex.finance_to_cutoff_title", lang) and side["note"]
        assert len(side["periods"]) == 5
        row = next(r for r in side["rows"] if r["line"].startswith("1.2.1"))
        assert row["values"] == ["400", "100", "25", "200", "50"]
