"""Reading the outcome microdata: declared columns only, types, provenance, and the suites' checks."""

from __future__ import annotations

import pandas as pd
import pytest

from evalpipe import microdata, validation
from evalpipe.errors import InputError, ValidationFailed

from conftest import ROOT

PARAMETERS = {"project_start": "2017-10-01", "drop_date": "2021-02-15"}


def test_every_shipped_source_reads_with_provenance():
    tables = microdata.read_all_sources(ROOT / "data" / "raw", ROOT)
    assert len(tables) == 23
    scores = tables["base_incremento_conocimiento"].table
    assert scores["nota_entrada"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(scores["fecha_capacitacion"])
    assert scores["source_sheet"].iloc[0] == "Base" and scores["source_row"].iloc[0] == 2
    recs = tables["recomendaciones_estudio_casos"].table
    assert recs["source_file"].iloc[0] == "data/raw/microdata/Recomendaciones estudio de casos.csv"
    assert recs["source_sheet"].iloc[0] == "" and recs["source_row"].iloc[-1] == len(recs) + 1


def test_undeclared_columns_are_dropped_and_direct_identifiers_named(raw_copy):
    path = raw_copy / "microdata" / "Víctimas NNA repatriadas.csv"
    frame = pd.read_csv(path, dtype=str)
    frame["Nombres y apellidos"] = ["Nombre Inventado Uno", "Nombre Inventado Dos", "Nombre Inventado Tres"]
    frame["DNI"] = ["40000001", "40000002", "40000003"]
    frame["observación"] = "x"
    frame.to_csv(path, index=False)
    source = microdata.load_sources(raw_copy)["victimas_repatriadas"]
    table = microdata.read_source(raw_copy, source)
    assert set(table.dropped_columns) == {"Nombres y apellidos", "DNI", "observación"}
    assert set(table.dropped_identifiers) == {"Nombres y apellidos", "DNI"}
    assert "Nombre Inventado Uno" not in table.table.to_csv()


@pytest.mark.parametrize("change, expected", [
    (lambda text: text.replace("siguio_protocolo", "protocolo"), "a column 'siguio_protocolo'"),
    (lambda text: text.replace("2019-07-19", "19 de julio"), "a date written YYYY-MM-DD"),
    (lambda text: text.replace("2019-07-19", "2019-02-30"), "a calendar date"),
])
def test_a_malformed_file_names_file_row_and_column(raw_copy, change, expected):
    path = raw_copy / "microdata" / "Víctimas NNA repatriadas.csv"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    source = microdata.load_sources(raw_copy)["victimas_repatriadas"]
    with pytest.raises(InputError) as caught:
        microdata.read_source(raw_copy, source)
    assert expected in caught.value.expected
    assert caught.value.file.endswith("Víctimas NNA repatriadas.csv") and caught.value.column


def test_a_csv_in_no_plausible_encoding_is_refused_with_its_line(raw_copy):
    # Windows-1252 is accepted now (tests/test_readers_partners.py); bytes that are neither UTF-8 nor
    # Windows-1252 (0x81 is undefined in it) are still refused with their line.
    path = raw_copy / "microdata" / "Víctimas NNA repatriadas.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_bytes("\n".join(lines[:1]).encode() + b"\n" + lines[1].encode() + b"\x81\n"
                     + "\n".join(lines[2:]).encode())
    source = microdata.load_sources(raw_copy)["victimas_repatriadas"]
    with pytest.raises(InputError, match="UTF-8 or Windows-1252") as caught:
        microdata.read_source(raw_copy, source)
    assert caught.value.row == 2


def test_a_missing_file_is_named(raw_copy):
    (raw_copy / "microdata" / "Víctimas NNA repatriadas.csv").unlink()
    source = microdata.load_sources(raw_copy)["victimas_repatriadas"]
    with pytest.raises(InputError, match="missing file"):
        microdata.read_source(raw_copy, source)


@pytest.fixture(scope="module")
def scores_table():
    source = microdata.load_sources(ROOT / "data" / "raw")["base_incremento_conocimiento"]
    return microdata.read_source(ROOT / "data" / "raw", source, ROOT).table


def _validate(table):
    suite = validation.find_suite("base_incremento_conocimiento", [ROOT / "expectations"], "microdata")
    return validation.run_suite(table, suite, PARAMETERS)


def test_the_shipped_scores_pass_their_suite(scores_table):
    assert _validate(scores_table).success


def test_a_score_of_35_on_a_0_to_20_test_is_caught_with_its_place(scores_table):
    bad = scores_table.copy()
    bad.loc[3, "nota_salida"] = 35.0
    outcome = _validate(bad)
    with pytest.raises(ValidationFailed) as caught:
        validation.raise_on_failure(outcome)
    message = str(caught.value)
    assert "BASE INCREMENTO CONOCIMIENTO 1.xlsx" in message and "sheet 'Base'" in message
    assert "row 5" in message and "column 'nota_salida'" in message and "0-20 scale" in message


def test_a_participant_twice_in_one_test_and_a_date_after_the_drop_are_caught(scores_table):
    bad = pd.concat([scores_table, scores_table.iloc[[0]]], ignore_index=True)
    bad.loc[1, "fecha_capacitacion"] = pd.Timestamp("2022-01-10")
    outcome = _validate(bad)
    found = outcome.problems.set_index("expectation")
    assert "expect_compound_columns_to_be_unique" in found.index
    assert "2022-01-10" in set(outcome.problems["found"])


def _residents(raw_dir):
    source = microdata.load_sources(raw_dir)["residentes_care"]
    table = microdata.read_source(raw_dir, source).table
    suite = validation.find_suite("residentes_care", [ROOT / "expectations"], "microdata")
    return table, suite


def test_a_resident_present_at_both_count_dates_passes_its_suite(raw_copy):
    """Issue 13: residentes_care is one row per resident × count date (data/raw/README.md), so the
    key is the pair; a resident counted in March 2019 and again in November 2020 is not a duplicate."""
    path = raw_copy / "microdata" / "Registro de residentes CARE.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    assert first[3] == "2019-03-31"
    lines.append(",".join([first[0], first[1], first[2], "2020-11-30", first[4]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table, suite = _residents(raw_copy)
    assert table["residente_id"].duplicated().any()
    outcome = validation.run_suite(table, suite, PARAMETERS)
    assert outcome.success, outcome.problems.to_dict("records")


def test_a_resident_twice_at_one_count_date_is_caught(raw_copy):
    path = raw_copy / "microdata" / "Registro de residentes CARE.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table, suite = _residents(raw_copy)
    outcome = validation.run_suite(table, suite, PARAMETERS)
    assert not outcome.success
    failed = set(outcome.problems["expectation"])
    assert "expect_compound_columns_to_be_unique" in failed
