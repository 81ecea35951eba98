"""The workbook for Excel users (annex_tables.xlsx), read back with openpyxl: sheet names and headers as words in
the run's language, the logframe's names beside the codes, number formats, "no medido" / "no aplica" as grey
italic words (never 0 or empty), the finance tables in the report's shape, a first "Acerca de" sheet, frozen
panes, filters and print settings; a lone "-" stays "-". The LibreOffice render is a slow test that skips only
where soffice is absent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from evalpipe import reviewer
from evalpipe.labels import label, workbook_words
from evalpipe.lfm import load_logframe
from evalpipe.outputs import round_half_up
from evalpipe.runfolder import TABLES

from conftest import RAW, published_copy

ES, EN = workbook_words("es"), workbook_words("en")


@pytest.fixture(autouse=True)
def _dated_by_the_drop(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_project):
    """A run folder with the finance tables, an audit row whose published value is a lone "-" and one that
    would run as a formula, and its Spanish workbook."""
    run_dir, _ = published_copy(tmp_path_factory.mktemp("workbook"), finance=True)  # the session's shared run
    path = run_dir / TABLES["consistency_audit"].path
    audit = pd.read_csv(path, dtype=str, keep_default_na=False)
    audit.loc[0, "published_value"] = "'-"  # as export.neutralise_cell writes a lone "-"
    audit.loc[1, "note"] = "'=HYPERLINK(\"http://example.org\",\"x\")"
    audit.loc[1, ["rule_code", "note_code", "note_fields"]] = ""  # a note without catalog codes is shown as written
    audit.to_csv(path, index=False, lineterminator="\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        reviewer.write_workbook(run_dir, raw_dir=RAW)
    return run_dir


@pytest.fixture(scope="module")
def book(run):
    return openpyxl.load_workbook(run / reviewer.WORKBOOK)


@pytest.fixture(scope="module")
def english(run, tmp_path_factory):
    copy = tmp_path_factory.mktemp("english") / run.name
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["parameters"]["lang"] = "en"
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        reviewer.write_workbook(copy, raw_dir=RAW)
    return openpyxl.load_workbook(copy / reviewer.WORKBOOK)


def _header(sheet, row: int = 1) -> list:
    return [c.value for c in sheet[row]]


def _row_of(sheet, column: str, value: str) -> dict:
    header = _header(sheet)
    for cells in sheet.iter_rows(min_row=2):
        record = dict(zip(header, cells))
        if record[column].value == value:
            return record
    raise AssertionError(f"{value} not in {sheet.title}")


def test_sheets_are_named_in_words_with_about_first(book, english):
    assert book.sheetnames == [ES[f"sheet_{k}"] for k in (
        "about", "output_indicators", "output_status", "outcome_indicators", "outcome_status", "outcome_exclusions",
        "consistency_audit", "validation_summary", "table3", "table4", "table5", "table6", "annex19", "annex20")]
    assert book.sheetnames[:2] == ["Acerca de", "Indicadores de producto"]
    assert english.sheetnames[:2] == ["About", "Output indicators"]
    assert all(len(name) <= 31 for name in book.sheetnames + english.sheetnames)


def test_headers_are_words_never_snake_case_ids(book, english):
    for workbook in (book, english):
        for sheet in workbook.worksheets[1:]:
            rows = 2 if sheet.freeze_panes in ("C3",) else 1
            words = [c.value for r in range(1, rows + 1) for c in sheet[r] if c.value]
            assert words, sheet.title
            assert not [w for w in words if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", str(w))], sheet.title
    assert _header(book["Indicadores de producto"])[:5] == ["Producto", "Nombre del producto", "Indicador",
                                                            "Nombre del indicador", "Unidad"]
    assert "Avance (%)" in _header(book["Indicadores de producto"])
    assert "Progress (%)" in _header(english["Output indicators"])


def test_names_from_the_logframe_stand_beside_every_code(book, english):
    lfm = load_logframe(RAW / "lfm")
    indicator = _row_of(book["Indicadores de producto"], "Indicador", "1.1.1.2")
    expected = lfm.output_indicators.set_index("indicator_id").loc["1.1.1.2", "name_es"]
    assert indicator["Nombre del indicador"].value == expected
    output = lfm.outputs.set_index("output_id").loc["1.1.1"]
    assert indicator["Nombre del producto"].value == output["name_es"]
    assert _row_of(english["Output status"], "Output", "1.1.1")["Output name"].value == output["name_en"]
    outcome = _row_of(book["Indicadores de resultado"], "Indicador", "1.1.1.1")
    assert outcome["Nombre del resultado"].value == lfm.outcomes.set_index("outcome_id").loc["1.1.1", "name_es"]
    component = _row_of(book["Estado de los productos"], "Producto", "1.1.1")
    assert component["Nombre del componente"].value == lfm.components.set_index("component_id").loc["1", "name_es"]
    for workbook in (book, english):
        for sheet in workbook.worksheets[1:8]:
            header = _header(sheet)
            for code, name in (("Indicador", "Nombre del indicador"), ("Indicator", "Indicator name"),
                               ("Producto", "Nombre del producto"), ("Output", "Output name")):
                if code in header:
                    assert header[header.index(code) + 1] == name
                    column = header.index(name) + 1
                    assert all(sheet.cell(r, column).value for r in range(2, sheet.max_row + 1)), sheet.title


def test_numbers_carry_number_formats(book):
    indicator = _row_of(book["Indicadores de producto"], "Indicador", "1.1.1.2")
    assert indicator["Meta"].value == 4 and indicator["Meta"].number_format == "#,##0"
    assert isinstance(indicator["Avance (%)"].value, (int, float)) and indicator["Avance (%)"].number_format == "0.0"
    assert indicator["Estado"].value == label("achieved", "es")
    share = _row_of(book["Indicadores de resultado"], "Indicador", "1.1.1.1")
    assert share["Valor actual"].value == 45 and share["Valor actual"].number_format == '0.0" %"'
    assert share["Numerador"].value == 9 and share["Numerador"].number_format == "#,##0"
    counts = _row_of(book["Estado de los productos"], "Producto", "1.1.1")
    assert counts["Indicadores"].value == 2 and counts["Indicadores"].number_format == "#,##0"
    assert counts["Riesgo por Covid-19"].value in ("Sí", "No")
    excluded = [c for c in book["Exclusiones"]["D"][1:]]
    assert {c.number_format for c in excluded if isinstance(c.value, (int, float))} == {"#,##0"}
    assert "<5" in [c.value for c in excluded]  # suppressed as published, never a number


def test_not_measured_and_not_applicable_are_grey_italic_words_distinct_from_zero(book, english):
    sheet = book["Indicadores de resultado"]
    not_measured = _row_of(sheet, "Indicador", "1.2.1.1")["Valor actual"]
    not_applicable = _row_of(sheet, "Indicador", "1.1.2.1")["Valor actual"]
    zero = [r["Valor actual"] for r in (dict(zip(_header(sheet), cells)) for cells in sheet.iter_rows(min_row=2))
            if r["Valor actual"].value == 0]
    assert not_measured.value == "no medido" and not_applicable.value == "no aplica"
    for cell in (not_measured, not_applicable):
        assert cell.data_type == "s" and cell.font.i and cell.font.color.rgb.endswith("595959")
    assert zero and all(c.data_type == "n" and not c.font.i for c in zero)
    assert _row_of(sheet, "Indicador", "1.1.1.1")["Línea de base"].value == "sin dato"
    assert _row_of(english["Outcome indicators"], "Indicator", "1.2.1.1")["Current value"].value == "not measured"
    for workbook in (book, english):  # no empty cell and no NaN where an indicator's value belongs
        for name in ("Indicadores de producto", "Indicadores de resultado", "Output indicators", "Outcome indicators"):
            if name in workbook.sheetnames:
                sheet = workbook[name]
                column = _header(sheet).index(ES["col_current"] if name.startswith("Ind") else EN["col_current"]) + 1
                values = [sheet.cell(r, column).value for r in range(2, sheet.max_row + 1)]
                assert all(v is not None and v != "" and str(v).lower() != "nan" for v in values)


def test_finance_sheets_are_shaped_like_tables_3_to_6_and_annexes_19_20(book, run):
    table4 = book["Tabla 4 Inicial por año"]
    assert [c.value for c in table4[1]][2:] == ["2017", "2018", "2019", "2020", "Total"]
    assert [c.value for c in table4[2]][:3] == ["Código", "Línea", "Monto (USD)"]
    rows = {r[0].value: r for r in table4.iter_rows(min_row=3)}
    assert rows["A"][1].value == "Personal" and rows["K"][6].value == 4_000_000
    assert rows["K"][6].number_format == "#,##0" and rows["K"][6].font.b
    distribution = [r for r in table4.iter_rows(min_row=3) if r[1].value == ES["distribution_by_year"]]
    assert distribution and distribution[0][3].number_format == "0.0"
    table3 = book["Tabla 3 Presupuesto inicial"]
    assert [c.value for c in table3[2]][2:4] == ["Monto (USD)", "% del costo total"]
    annex19 = book["Anexo 19 Ejecución acumulada"]
    assert [c.value for c in annex19[1]][2] == "Acumulado" and "2021" in [c.value for c in annex19[1]]
    executed = pd.read_csv(run / "tables" / "financial_execution.csv", dtype=str, keep_default_na=False)
    published = executed.query("line == 'TOTAL' and period == 'acumulado'").set_index("measure")["value_rounded"]
    total = {c.value: v for c, v in zip(annex19[2], next(r for r in annex19.iter_rows(min_row=3)
                                                         if r[0].value == "TOTAL"))}
    # Excel shows #,##0 rounded half up, as the report prints it
    assert round_half_up(total["Ejecutado (USD)"].value) == float(published["ejecutado"])
    assert round_half_up(total["% de ejecución"].value) == float(published["execution_pct"])
    assert total["% de ejecución"].number_format == "0.0"
    annex20 = book["Anexo 20 Ejecución por año"]
    assert [c.value for c in annex20[1]][2::3][:3] == ["2018", "2019", "2020"]
    assert annex20.max_row - 2 == len(executed["line"].unique())  # one row per line, not one per value


def test_the_about_sheet_says_what_the_workbook_is(book, english, run):
    manifest = json.loads((run / "manifest.json").read_text())
    about = book["Acerca de"]
    cells = {str(c.value) for row in about.iter_rows() for c in row if c.value is not None}
    text = "\n".join(cells)
    facts = {row[0].value: row[1].value for row in about.iter_rows(min_row=2) if row[0].value}
    assert "PER/17/51/USA" in facts["Proyecto"]
    assert facts["Evaluación"] == label("midterm", "es") and facts["Corte"] == "2020Q2"
    assert facts["Entrega de datos"] == manifest["data_drop"]["drop_id"]
    assert facts["Fecha de la entrega"] == manifest["data_drop"]["drop_date"]
    assert facts["Origen de los datos"].startswith("DATOS SINTÉTICOS DE DEMOSTRACIÓN")
    assert manifest["software"]["evalpipe"] in facts["Generado por"]
    assert (manifest["git_commit"] or "—") in facts["Generado por"]
    for name in book.sheetnames[1:]:
        assert name in cells, name
    assert "tables/output_indicators.csv · notebooks/03_output_indicators.ipynb" in cells
    assert "tables/financial_execution.csv · notebooks/05_finance.ipynb" in cells
    assert "«no medido»" in text and "«no aplica»" in text
    english_facts = {row[0].value: row[1].value for row in english["About"].iter_rows(min_row=2) if row[0].value}
    assert english_facts["Data origin"].startswith("SYNTHETIC DEMONSTRATION DATA")


def test_frozen_panes_filters_and_print_settings(book):
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes and sheet.freeze_panes != "A1", sheet.title
        assert sheet.auto_filter.ref, sheet.title
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        # fit to 1 page wide (1 is the OOXML default, so the file may omit it), as many pages down as needed
        assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.print_title_rows in ("$1:$1", "$1:$2"), sheet.title
    assert book["Indicadores de producto"].freeze_panes == "D2"  # header and the indicator's code stay in view
    assert book["Anexo 20 Ejecución por año"].print_title_rows == "$1:$2"
    assert book["Acerca de"].page_setup.orientation == "landscape"


def test_a_lone_dash_stays_a_dash_and_formulas_are_never_run(book):
    sheet = book["Auditoría de coherencia"]
    header = _header(sheet)
    published = sheet.cell(2, header.index("Valor publicado") + 1)
    note = sheet.cell(3, header.index("Nota") + 1)
    assert published.value == "-" and published.data_type == "s"
    assert note.value == "'=HYPERLINK(\"http://example.org\",\"x\")" and note.data_type == "s"
    assert reviewer.workbook_text("-") == "-" and reviewer.workbook_text("-5 %") == "-5 %"
    assert reviewer.workbook_text("'@SUM(A1:A2)") == "'@SUM(A1:A2)"
    assert reviewer.workbook_text("-A1+1") == "'-A1+1"


def test_every_workbook_word_exists_in_both_languages():
    assert set(ES) == set(EN) and len(ES) > 100
    assert all(isinstance(v, str) and v for words in (ES, EN) for v in words.values())
    for spec in reviewer.SHEETS + reviewer.FINANCE_SHEETS:  # Excel: sheet names of at most 31 characters, no []:*?/\
        for words in (ES, EN):
            name = words[f"sheet_{spec.key}"]
            assert len(name) <= 31 and not set(name) & set("[]:*?/\\"), name


@pytest.mark.slow
def test_libreoffice_renders_the_workbook_in_a_few_landscape_pages(run, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    pdftotext = shutil.which("pdftotext")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(run / reviewer.WORKBOOK)], check=True, capture_output=True,
                   timeout=180)
    pdf = tmp_path / "annex_tables.pdf"
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 14 <= pages <= 40, pages  # one sheet is at least a page; 152 pages before
    if pdftotext:
        text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Tablas del anexo de evaluación" in text and "Indicadores de producto" in text and "no medido" in text
        assert "'-" not in text
