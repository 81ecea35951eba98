"""Personal data on the failure path and in text columns (issue 17).

Values of identifier and free-text columns are never echoed (messages, problems.csv, GX results, Data Docs);
an id shaped like a DNI, an e-mail or a phone is refused as not pseudonymous; free text no ficha uses is
withheld from data/processed/, and kept text is scanned for identifier shapes, each hit masked and counted."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evalpipe import fichas, microdata, privacy, validation
from evalpipe.errors import InputError, ValidationFailed

from conftest import ROOT

DNI = "71234561"
PHONE = "987654321"
EMAIL = "ana.perez@correo.pe"
PLANTED = (DNI, PHONE, EMAIL, "Ana Pérez")
PARAMETERS = {"project_start": "2017-10-01", "drop_date": "2021-02-15"}
VICTIMS = "Víctimas NNA repatriadas.csv"
WORKSHOPS = "Resultados talleres regionales LGBTI.csv"


def _edit(raw_copy, file, change):
    path = raw_copy / "microdata" / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(path, index=False)


def _read(raw_copy, key):
    return microdata.read_source(raw_copy, microdata.load_sources(raw_copy)[key])


# --- masking -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [
    (DNI, "DNI"), (71234561.0, "DNI"), ("7123 4561", "DNI"), (PHONE, "phone"), ("+51 987 654 321", "phone"),
    ("987-654-321", "phone"), (EMAIL, "e-mail"), ("REP-01", None), ("P-20190001", None), ("AV-001", None),
    ("123456789", None),  # 9 digits not starting with 9: not a Peruvian mobile
])
def test_identifier_shapes(value, kind):
    assert privacy.identifier_kind(value) == kind


def test_mask_value_keeps_shape_not_value():
    assert privacy.mask_value(DNI) == "7******1 (8 digits)"
    masked = privacy.mask_value(EMAIL)
    assert EMAIL not in masked and "@" not in masked and "e-mail" in masked
    assert privacy.mask_value(None) == "(blank)"


def test_mask_identifiers_in_text_counts_each_hit():
    text, hits = privacy.mask_identifiers(f"Taller; contacto {EMAIL}, DNI {DNI}, cel. +51 987 654 321.")
    assert hits == 3 and "[EMAIL]" in text and "[DNI]" in text and "[PHONE]" in text
    assert not any(p in text for p in (DNI, EMAIL, "987 654 321"))
    assert privacy.mask_identifiers("PROMSEX Producto 3") == ("PROMSEX Producto 3", 0)


def test_input_error_with_private_value_keeps_only_the_masked_form():
    error = InputError("microdata/x.csv", "a pseudonymous identifier", row=3, column="victima_id", found=DNI,
                       private=True)
    assert DNI not in str(error) and DNI not in repr(error) and error.found == "7******1 (8 digits)"
    assert "row 3" in str(error) and "victima_id" in str(error)


# --- reading microdata ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("planted", [DNI, PHONE, EMAIL, "+51 987 654 321"])
def test_an_id_shaped_like_a_personal_identifier_is_refused_masked(raw_copy, planted):
    def change(frame):
        frame.loc[1, "victima_id"] = planted
        frame.loc[2, "victima_id"] = planted  # typed twice: refused as not pseudonymous, not as a duplicate
    _edit(raw_copy, VICTIMS, change)
    with pytest.raises(InputError) as caught:
        _read(raw_copy, "victimas_repatriadas")
    message = str(caught.value)
    assert "pseudonymous" in message and "not a personal" in message
    assert caught.value.row == 3 and caught.value.column == "victima_id" and VICTIMS in caught.value.file
    assert planted not in message and planted.replace(" ", "") not in message.replace(" ", "")


def test_a_formula_in_an_id_cell_is_refused_without_echoing_it(raw_copy, workbook_writer):
    path = raw_copy / "microdata" / "BASE INCREMENTO CONOCIMIENTO 1.xlsx"
    frame = pd.read_excel(path, sheet_name="Base", dtype=str)
    rows = [list(frame.columns)] + frame.values.tolist()
    rows[1][0] = f'=HYPERLINK("http://x/{DNI}")'
    workbook_writer(path, rows, sheet="Base", title=[], header=None)
    with pytest.raises(InputError, match="formula") as caught:
        _read(raw_copy, "base_incremento_conocimiento")
    assert DNI not in str(caught.value) and "HYPERLINK" not in str(caught.value)


def test_a_dni_in_a_date_column_is_masked_in_the_message(raw_copy):
    _edit(raw_copy, VICTIMS, lambda frame: frame.__setitem__("fecha_repatriacion",
                                                            [f"DNI {DNI}"] + list(frame["fecha_repatriacion"][1:])))
    with pytest.raises(InputError, match="a date") as caught:
        _read(raw_copy, "victimas_repatriadas")
    assert DNI not in str(caught.value) and "[DNI]" in str(caught.value)


def test_free_text_no_ficha_uses_is_withheld_from_processed_data(raw_copy, tmp_path):
    assert "informe" not in fichas.columns_used_by_fichas(raw_copy)["talleres_lgbti"]
    _edit(raw_copy, WORKSHOPS, lambda frame: frame.__setitem__(
        "informe", [f"Ana Pérez, DNI {DNI}"] + list(frame["informe"][1:])))
    table = _read(raw_copy, "talleres_lgbti")
    assert table.withheld_text_columns == ["informe"]
    out = microdata.write_processed(table, tmp_path)
    written = out.read_text(encoding="utf-8")
    assert "Ana Pérez" not in written and DNI not in written and "PROMSEX" not in written
    processed = microdata.read_processed(tmp_path, table.source)
    # equality is kept (the suite's uniqueness checks still work), the text is not
    original = pd.read_csv(raw_copy / "microdata" / WORKSHOPS, dtype=str)["informe"]
    assert processed["informe"].nunique() == original.nunique()
    assert processed["informe"].str.fullmatch(r"withheld-\d+").all()
    summary = microdata.sources_summary({"talleres_lgbti": table})
    assert summary.loc[0, "text_columns_withheld"] == "informe"


def test_free_text_a_ficha_uses_is_kept_and_scanned(raw_copy):
    _edit(raw_copy, WORKSHOPS, lambda frame: frame.__setitem__(
        "informe", [f"Ana Pérez, DNI {DNI}, {EMAIL}"] + list(frame["informe"][1:])))
    source = microdata.load_sources(raw_copy)["talleres_lgbti"]
    table = microdata.read_source(raw_copy, source, used_columns={"informe", "region"})
    assert table.withheld_text_columns == [] and table.identifiers_masked == 2
    assert table.table.loc[0, "informe"] == "Ana Pérez, DNI [DNI], [EMAIL]"
    assert table.table.loc[1, "informe"] == "PROMSEX Producto 3"
    assert microdata.sources_summary({"talleres_lgbti": table}).loc[0, "identifiers_masked"] == 2


def test_identifier_shapes_in_a_category_column_are_masked_and_counted(raw_copy):
    _edit(raw_copy, VICTIMS, lambda frame: frame.__setitem__(
        "siguio_protocolo", [f"sí {PHONE}"] + list(frame["siguio_protocolo"][1:])))
    table = _read(raw_copy, "victimas_repatriadas")
    assert table.identifiers_masked == 1 and PHONE not in table.table.to_csv()


def test_shipped_drop_keeps_every_figure_input():
    tables = microdata.read_all_sources(ROOT / "data" / "raw", ROOT)
    summary = microdata.sources_summary(tables).set_index("source")
    assert summary["identifiers_masked"].sum() == 0
    assert set(summary.loc[summary["text_columns_withheld"] != "", "text_columns_withheld"]) == {"instrumento",
                                                                                                "informe"}


# --- validation: problems.csv, messages, GX results, Data Docs -------------------------------------------------

@pytest.fixture(scope="module")
def dni_outcome(tmp_path_factory):
    """A processed table whose pseudonymous id holds a DNI twice (past the reader: e.g. an old processed
    folder) and whose category holds a phone: validated once, with Data Docs."""
    folder = tmp_path_factory.mktemp("processed")
    source = microdata.load_sources(ROOT / "data" / "raw")["victimas_repatriadas"]
    table = microdata.read_source(ROOT / "data" / "raw", source, ROOT)
    table.table.loc[[0, 1], "victima_id"] = DNI
    table.table.loc[2, "siguio_protocolo"] = f"sí {PHONE}"
    microdata.write_processed(table, folder)
    frame = microdata.read_processed(folder, source)
    suite = validation.find_suite("victimas_repatriadas", [ROOT / "expectations"], "microdata")
    docs = tmp_path_factory.mktemp("docs")
    outcome = validation.run_suite(frame, suite, PARAMETERS, data_docs_dir=docs)
    return outcome, docs


def test_problem_rows_and_message_mask_id_values(dni_outcome):
    outcome, _ = dni_outcome
    assert not outcome.success
    problems = outcome.problems.to_csv()
    assert DNI not in problems and PHONE not in problems
    ids = outcome.problems[outcome.problems["source_column"] == "victima_id"]
    assert len(ids) >= 2 and set(ids["found"]) == {"7******1 (8 digits)"}
    assert set(ids["source_row"]) >= {2, 3}
    with pytest.raises(ValidationFailed) as caught:
        validation.raise_on_failure(outcome, "validation/problems.csv")
    assert DNI not in str(caught.value) and "victima_id" in str(caught.value)


def test_gx_results_keep_no_sample_of_id_values(dni_outcome):
    outcome, _ = dni_outcome
    text = json.dumps(outcome.result_json, default=str)
    assert DNI not in text and PHONE not in text
    unique = [r for r in outcome.result_json["expectations"]
              if r["expectation_type"] == "expect_column_values_to_be_unique"]
    assert unique and unique[0]["result"]["unexpected_count"] == 2
    assert unique[0]["result"].get("partial_unexpected_list") in ([], None)


def test_data_docs_hold_no_id_value(dni_outcome):
    _, docs = dni_outcome
    pages = [p for p in docs.rglob("*.html")]
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        assert DNI not in text and PHONE not in text, page
