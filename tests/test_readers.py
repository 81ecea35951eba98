"""The quarterly progress report reader: finding the table, provenance, and refusals that name the place."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import evalpipe.readers as readers
from evalpipe.cleaning import BLANK, NOT_APPLICABLE, REPORTED, UNKNOWN
from evalpipe.errors import InputError
from evalpipe.quarters import Quarter, parse_quarter
from evalpipe.readers import read_progress_report

NAME = "informe_2020T2.xlsx"  # the default title of workbook_writer says "Periodo: abril - junio 2020"
# With the default title (3 lines) the header is on Excel row 4 and the first data row is row 5.
FIRST_ROW = 5
ALIASES = ["Cód. indicador", "Descripción del indicador", "Meta total", "Avance acumulado", "Observaciones"]


def indicator(code="1.2.1.1", value=10, comment=None):
    return [code, "Indicador de prueba", 100, value, comment]


def read_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        read_progress_report(path)
    return info.value


def assert_place(error: InputError, file: str, sheet=None, row=None, column=None):
    """The error's fields and its one-line message name the same place."""
    assert error.file == file
    assert error.sheet == sheet
    assert error.row == row
    assert error.column == column
    message = str(error)
    assert message.startswith(f"file {file}")
    if sheet is not None:
        assert f"sheet '{sheet}'" in message
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert f"column '{column}'" in message
    assert f"expected {error.expected}" in message


# --------------------------------------------------------------------------- what is read


def test_finds_the_header_under_a_title_block(tmp_path, workbook_writer):
    title = ["Organización Internacional del Trabajo (OIT)", "Proyecto PER/17/51/USA",
             "Informe de progreso trimestral", "Periodo: abril - junio 2020", "DATOS SINTÉTICOS", ""]
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 40), indicator("1.2.1.2", 7)], title=title)
    report = read_progress_report(path)
    assert report.header_row == 7
    assert report.sheet == "Indicadores"
    assert report.quarter == Quarter(2020, 2)
    assert [(r.indicator_id, r.value, r.source_row) for r in report.records] == [("1.2.1.1", 40.0, 8),
                                                                              ("1.2.1.2", 7.0, 9)]


def test_header_found_on_row_30_but_not_on_row_31(tmp_path, workbook_writer):
    title = ["Periodo: abril - junio 2020"] + [f"nota {i}" for i in range(28)]
    report = read_progress_report(workbook_writer(tmp_path / NAME, [indicator()], title=title))
    assert report.header_row == 30 == readers.HEADER_SEARCH_ROWS

    deeper = workbook_writer(tmp_path / "informe_2020T2_b.xlsx", [indicator()], title=title + ["una más"])
    error = read_error(deeper)
    assert "within its first 30 rows" in error.expected


@pytest.mark.parametrize(
    "header",
    [
        ["Cód. indicador", "Descripción del indicador", "Meta total", "Avance acumulado", "Observaciones"],
        ["N° indicador", "Indicador", "Meta final", "Logro acumulado", "Comentarios / observaciones"],
        ["CÓDIGO", "INDICADOR", "META", "VALOR ACUMULADO", "COMENTARIOS"],
    ],
)
def test_accepts_header_aliases(tmp_path, workbook_writer, header):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 12, "una nota")], header=header)
    report = read_progress_report(path)
    (record,) = report.records
    assert record.indicator_id == "1.2.1.1"
    assert record.value == 12.0
    assert record.comment == "una nota"
    assert record.source_column == header[3]
    assert record.source_code_column == header[0]


def test_columns_are_found_by_header_not_by_position(tmp_path, workbook_writer):
    header = ["Valor acumulado", "Comentarios", "Código"]
    path = workbook_writer(tmp_path / NAME, [[5, "nota", "1.2.1.1"]], header=header)
    (record,) = read_progress_report(path).records
    assert (record.indicator_id, record.value, record.comment) == ("1.2.1.1", 5.0, "nota")


def test_skips_heading_rows(tmp_path, workbook_writer):
    rows = [
        ["Objetivo 1"],
        ["1.2.1", "Programa de capacitación"],
        indicator("1.2.1.1", 40),
        ["Producto 1.2.2"],
        ["1.2.2", "Otro producto", None, None],
        indicator("1.2.2.1", 3),
        [],
    ]
    report = read_progress_report(workbook_writer(tmp_path / NAME, rows))
    assert [r.indicator_id for r in report.records] == ["1.2.1.1", "1.2.2.1"]
    assert [r.source_row for r in report.records] == [FIRST_ROW + 2, FIRST_ROW + 5]
    assert report.heading_rows == 4


def test_returns_provenance_of_every_value(tmp_path, workbook_writer):
    rows = [["Objetivo 1"], indicator("1.2.1.1", "268*", "* postergadas")]
    path = workbook_writer(tmp_path / NAME, rows, sheet="Avance T2", header=ALIASES)
    (record,) = read_progress_report(path).records
    assert record.source_file == NAME
    assert record.source_sheet == "Avance T2"
    assert record.source_row == FIRST_ROW + 1  # the Excel row number a person sees
    assert record.source_column == "Avance acumulado"
    assert record.source_code_column == "Cód. indicador"
    assert record.quarter == "2020Q2"
    assert (record.value, record.value_raw, record.value_flag, record.footnote_mark) == (268.0, "268*", REPORTED, True)
    assert record.comment == "* postergadas"


def test_display_name_is_used_as_source_file(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator()])
    report = read_progress_report(path, display="data/raw/progress_reports/" + NAME)
    assert report.file == "data/raw/progress_reports/" + NAME
    assert report.records[0].source_file == "data/raw/progress_reports/" + NAME


def test_keeps_code_raw_as_written(tmp_path, workbook_writer):
    written = [" 1.2.1.1", "1.2.1.2.", "1.2.1.3\u00a0", "1. 2.2.1", "1.2.2.2"]
    rows = [indicator(code, n) for n, code in enumerate(written)]
    records = read_progress_report(workbook_writer(tmp_path / NAME, rows)).records
    assert [r.code_raw for r in records] == written
    assert [r.indicator_id for r in records] == ["1.2.1.1", "1.2.1.2", "1.2.1.3", "1.2.2.1", "1.2.2.2"]


def test_cleans_each_value_form(tmp_path, workbook_writer):
    rows = [indicator("1.2.1.1", "1,046"), indicator("1.2.1.2", "NA"), indicator("1.2.1.3", "¿?"),
            indicator("1.2.1.4", None), indicator("1.2.1.5", "7"), indicator("1.2.1.6", 0)]
    records = read_progress_report(workbook_writer(tmp_path / NAME, rows)).records
    assert [(r.value, r.value_flag) for r in records] == [
        (1046.0, REPORTED), (None, NOT_APPLICABLE), (None, UNKNOWN), (None, BLANK), (7.0, REPORTED), (0.0, REPORTED),
    ]
    assert [r.value_raw for r in records] == ["1,046", "NA", "¿?", "", "7", "0"]


def test_ignores_an_extra_sheet_without_an_indicator_table(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator()], sheet="Indicadores 2020",
                           extra_sheets={"Notas": [["Notas del equipo del proyecto"], ["Los valores son acumulados."]],
                                         "Gráfico": []})
    report = read_progress_report(path)
    assert report.sheet == "Indicadores 2020"
    assert report.ignored_sheets == ["Notas", "Gráfico"]
    assert len(report.records) == 1


def test_the_indicator_table_may_be_on_a_later_sheet(tmp_path, workbook_writer):
    extra = {"Indicadores": [["Periodo: abril - junio 2020"], ["Código", "Valor acumulado"], ["1.2.1.1", 9]]}
    path = workbook_writer(tmp_path / NAME, [], sheet="Portada", title=["Portada"], header=None, extra_sheets=extra)
    report = read_progress_report(path)
    assert report.sheet == "Indicadores"
    assert report.ignored_sheets == ["Portada"]
    assert report.records[0].source_row == 3


# --------------------------------------------------------------------------- refusals naming the place


def test_no_sheet_with_a_header(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator()], header=["Code", "Name", "Target", "Value"],
                           extra_sheets={"Notas": [["nada"]]})
    error = read_error(path)
    assert_place(error, NAME)
    assert "Código" in error.expected and "Valor acumulado" in error.expected
    assert error.found == "sheets Indicadores, Notas"
    assert "Indicadores, Notas" in str(error)


def test_two_sheets_with_indicator_tables(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator()],
                           extra_sheets={"Copia": [["Código", "Valor acumulado"], ["1.2.1.1", 4]]})
    error = read_error(path)
    assert_place(error, NAME)
    assert error.expected == "exactly one sheet with the indicator table"
    assert error.found == "sheets Indicadores, Copia"


def test_a_formula_in_the_value_column(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 3), indicator("1.2.1.2", "=1+1")])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW + 1, column="Valor acumulado")
    assert "not a formula" in error.expected
    assert error.found == "=1+1"


def test_a_formula_in_the_code_column(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("=A1", 3)], header=ALIASES)
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW, column="Cód. indicador")
    assert "not a formula" in error.expected


def test_a_code_typed_as_a_number(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 3), ["Objetivo 2"], indicator(1.1, 5)])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW + 2, column="Código")
    assert "written as text" in error.expected
    assert error.found == 1.1


def test_a_value_without_a_code(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 3), indicator(None, 8)])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW + 1, column="Código")
    assert error.expected == "an indicator code in the same row as the value"


def test_a_value_beside_text_that_is_not_a_code(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 3), indicator("Total", 30)])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW + 1, column="Código")
    assert "1.2.3.4" in error.expected
    assert error.found == "Total"


def test_a_malformed_value(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", "abc")], header=ALIASES)
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW, column="Avance acumulado")
    assert "a count such as 37" in error.expected
    assert error.found == "abc"
    assert str(error).endswith("found 'abc'")


def test_a_decimal_comma_value(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", "2,5")])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW, column="Valor acumulado")
    assert error.found == "2,5"


def test_a_five_part_code(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [indicator("1.2.1.1", 1), indicator("1.2.1.1.1", 4)])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW + 1, column="Código")
    assert "four parts" in error.expected
    assert error.found == "1.2.1.1.1"


def test_a_value_on_an_output_heading_row(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [["1.2.1", "Producto", None, 40]])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=FIRST_ROW, column="Valor acumulado")
    assert "four-part codes" in error.expected


def test_a_title_period_that_disagrees_with_the_file_name(tmp_path, workbook_writer):
    title = ["Informe de progreso trimestral", "Periodo: julio - setiembre 2020", ""]
    path = workbook_writer(tmp_path / NAME, [indicator()], title=title)
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=2, column="A")
    assert "2020Q2" in error.expected and "file name" in error.expected
    assert error.found == "Periodo: julio - setiembre 2020"


def test_a_title_quarter_code_that_disagrees_with_the_file_name(tmp_path, workbook_writer):
    title = ["OIT", "Proyecto", "Informe de progreso trimestral", "Trimestre: 2019-T3", ""]
    path = workbook_writer(tmp_path / "Informe_progreso_2019T4_final.xlsx", [indicator()], title=title)
    error = read_error(path)
    assert_place(error, "Informe_progreso_2019T4_final.xlsx", sheet="Indicadores", row=4, column="A")
    assert "2019Q4" in error.expected


def test_a_title_period_in_the_cell_beside_its_label_is_checked_too(tmp_path, workbook_writer):
    # A common form layout: the label "Periodo:" in A2 and the period itself in B2. The reader only
    # reads a period from a cell that also holds the word "Periodo", so here it checks nothing and
    # reads a July-September report as 2020Q2 without a word (data/raw/README.md: the title's
    # period "must agree with the quarter in the file name").
    path = workbook_writer(tmp_path / NAME, [indicator()],
                           title=["Informe de progreso trimestral", "Periodo:", ""])
    workbook = openpyxl.load_workbook(path)
    workbook["Indicadores"]["B2"] = "julio - setiembre 2020"
    workbook.save(path)
    error = read_error(path)
    assert error.sheet == "Indicadores" and error.row == 2
    assert "2020Q2" in error.expected


def test_a_title_quarter_code_that_agrees_is_accepted(tmp_path, workbook_writer):
    title = ["Informe de progreso trimestral", "Trimestre: 2019-T3", ""]
    path = workbook_writer(tmp_path / "Informe_progreso_2019T3.xlsx", [indicator()], title=title)
    assert read_progress_report(path).quarter == Quarter(2019, 3)


def test_a_file_name_without_a_quarter(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / "informe_progreso_final.xlsx", [indicator()])
    error = read_error(path)
    assert_place(error, "informe_progreso_final.xlsx")
    assert "file name that contains its quarter" in error.expected
    assert error.found == "informe_progreso_final.xlsx"


def test_a_sheet_with_a_header_but_no_indicator_rows(tmp_path, workbook_writer):
    path = workbook_writer(tmp_path / NAME, [["Objetivo 1"], ["1.2.1", "Producto"]])
    error = read_error(path)
    assert_place(error, NAME, sheet="Indicadores", row=4)
    assert "at least one indicator row" in error.expected


# --------------------------------------------------------------------------- the shipped workbooks


SHIPPED = sorted((Path(__file__).resolve().parents[1] / "data" / "raw" / "progress_reports").glob("*.xlsx"))


def test_the_shipped_workbooks_are_there():
    assert len(SHIPPED) == 11


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_workbook_reads(path):
    report = read_progress_report(path)
    quarter = parse_quarter(path.stem)
    assert report.quarter == quarter
    assert len(report.records) >= 40
    assert {r.quarter for r in report.records} == {str(quarter)}
    assert all(r.source_file == path.name for r in report.records)
    assert all(r.source_row > report.header_row for r in report.records)
    ids = [r.indicator_id for r in report.records]
    assert len(ids) == len(set(ids))
    assert all(len(i.split(".")) == 4 for i in ids)
