"""What partners really send (issue 17): merged cells, carried values, missing quarters, hidden sheets,
empty microdata, Spanish-Excel CSV files and category values spelled differently.

All in-process and fast: small workbooks built with openpyxl, CSV bytes, copies of shipped files.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evalpipe import i18n, microdata, outputs, progress
from evalpipe.errors import InputError
from evalpipe.quarters import parse_quarter
from evalpipe import readers
from evalpipe.readers import open_workbook, read_progress_report
from evalpipe.schemas import SOURCES, validate

from conftest import HEADER, write_workbook

PERIODS = {1: "enero - marzo", 2: "abril - junio", 3: "julio - setiembre", 4: "octubre - diciembre"}


def title(quarter: str) -> list[str]:
    q = parse_quarter(quarter)
    return ["Informe de progreso trimestral", f"Periodo: {PERIODS[q.q]} {q.year}", ""]


def report(folder: Path, quarter: str, rows: list[list], **kwargs) -> Path:
    q = parse_quarter(quarter)
    folder.mkdir(parents=True, exist_ok=True)
    return write_workbook(folder / f"informe_{q.year}T{q.q}.xlsx", rows, title=title(quarter), **kwargs)


def indicator(code: str, value) -> list:
    return [code, "Indicador", None, value, None]  # «Meta» left empty: the logframe's target applies (no warning)


def edit(path: Path, change) -> Path:
    workbook = openpyxl.load_workbook(path)
    change(workbook)
    workbook.save(path)
    return path


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """A drop folder inside a project folder (tmp_path), with an empty progress_reports/."""
    raw = tmp_path / "raw"
    (raw / progress.PROGRESS_DIR).mkdir(parents=True)
    return raw


# --------------------------------------------------------------------------- merged cells, progress reports


def test_merged_value_cells_over_two_indicators_are_refused_with_the_range(tmp_path):
    # rows: 1-3 title, 4 header, 5 and 6 indicators; D5:D6 merged gives 1.1.1.2 an empty value today
    path = report(tmp_path, "2020Q2", [indicator("1.1.1.1", 12), indicator("1.1.1.2", 30)])
    edit(path, lambda wb: wb.active.merge_cells("D5:D6"))
    with pytest.raises(InputError) as caught:
        read_progress_report(path, "informe_2020T2.xlsx")
    error = caught.value
    assert (error.file, error.sheet, error.row, error.column) == ("informe_2020T2.xlsx", "Indicadores", 5,
                                                                  "Valor acumulado")
    assert error.found == "merged cells D5:D6"
    assert "one indicator per row" in error.expected


def test_merged_code_cells_are_refused(tmp_path):
    path = report(tmp_path, "2020Q2", [indicator("1.1.1.1", 12), indicator(None, None)])
    edit(path, lambda wb: wb.active.merge_cells("A5:A6"))
    with pytest.raises(InputError, match=r"column 'Código'.*merged cells A5:A6"):
        read_progress_report(path)


def test_a_row_merged_from_the_code_over_the_value_is_refused(tmp_path):
    path = report(tmp_path, "2020Q2", [indicator("1.1.1.1", 12), indicator("1.1.1.2", 30)])
    edit(path, lambda wb: wb.active.merge_cells("A6:E6"))  # 1.1.1.2's value 30 would be lost
    with pytest.raises(InputError, match=r"row 6, column 'Valor acumulado'.*merged cells A6:E6"):
        read_progress_report(path)


def test_merged_title_and_heading_rows_are_layout_and_accepted(tmp_path):
    path = report(tmp_path, "2020Q2", [["Objetivo 1", None, None, None, None], indicator("1.1.1.1", 12),
                                       ["1.1.2", "Producto", None, None, None], indicator("1.1.2.1", 4)])
    edit(path, lambda wb: (wb.active.merge_cells("A1:E1"), wb.active.merge_cells("A5:E5"),
                           wb.active.merge_cells("B7:E7"), wb.active.merge_cells("D6:E6")))
    read = read_progress_report(path)
    assert {r.indicator_id: r.value for r in read.records} == {"1.1.1.1": 12.0, "1.1.2.1": 4.0}


def test_merged_ranges_are_found_in_read_only_mode(tmp_path):
    path = report(tmp_path, "2020Q2", [indicator("1.1.1.1", 12), indicator("1.1.1.2", 30)])
    edit(path, lambda wb: (wb.active.merge_cells("D5:D6"), wb.active.merge_cells("A1:C1")))
    workbook = open_workbook(path, path.name)
    try:
        assert readers.merged_ranges(workbook["Indicadores"]) == [(1, 1, 1, 3), (5, 4, 6, 4)]
    finally:
        workbook.close()


# --------------------------------------------------------------------------- merged cells, microdata


def test_merged_category_cells_in_a_microdata_workbook_are_refused(raw_copy):
    source = microdata.load_sources(raw_copy)["base_incremento_conocimiento"]
    path = raw_copy / "microdata" / source.file
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[source.sheet]
    header = [cell.value for cell in sheet[1]]
    letter = openpyxl.utils.get_column_letter(header.index("institucion") + 1)
    sheet.merge_cells(f"{letter}3:{letter}5")
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        microdata.read_source(raw_copy, source)
    error = caught.value
    assert (error.sheet, error.row, error.column) == (source.sheet, 3, "institucion")
    assert error.found == f"merged cells {letter}3:{letter}5"
    assert source.file in error.file


# --------------------------------------------------------------------------- carried values and warnings


@pytest.mark.parametrize("written, flag", [("n.d.", "unknown"), ("N/A", "not_applicable"), ("--", "blank"),
                                           (None, "blank"), ("deleted", "not_reported")])
def test_a_value_missing_from_the_cutoff_report_is_carried_with_a_flag_and_a_warning(drop, lfm, written, flag):
    folder = drop / progress.PROGRESS_DIR
    report(folder, "2020Q1", [indicator("1.1.1.1", 12), indicator("1.1.1.2", 30)])
    last = [indicator("1.1.1.1", 15)] + ([] if written == "deleted" else [indicator("1.1.1.2", written)])
    report(folder, "2020Q2", last)
    table, inventory, _ = progress.build_progress_table(drop, lfm, parse_quarter("2020Q2"), drop.parent)

    row = table[(table["indicator_id"] == "1.1.1.2") & (table["quarter"] == "2020Q2")].iloc[0]
    assert row["value_flag"] == flag and row["carried_from"] == "2020Q1"
    assert table.loc[table["quarter"].ne("2020Q2") | table["indicator_id"].eq("1.1.1.1"), "carried_from"].eq("").all()
    # the figure is still the cumulative value of the last report that gave one (§38, §153)
    current = outputs.values_at_cutoff(table, parse_quarter("2020Q2")).set_index("indicator_id")
    assert current.loc["1.1.1.2", "current"] == 30.0 and current.loc["1.1.1.2", "value_quarter"] == "2020Q1"

    warnings = progress.input_warnings(table, inventory)
    assert list(warnings.columns) == progress.WARNING_COLUMNS
    assert warnings["kind"].tolist() == ["carried_forward"]
    warning = warnings.iloc[0]
    assert warning["file"] == "raw/progress_reports/informe_2020T2.xlsx"
    assert "1.1.1.2" in warning["message"] and "30 of the 2020Q1 report" in warning["message"]
    assert "carried forward" in warning["message"]
    if written == "deleted":
        assert "is not in the 2020Q2 report" in warning["message"] and pd.isna(warning["row"])
    else:
        assert (warning["sheet"], warning["row"], warning["column"]) == ("Indicadores", 6, "Valor acumulado")
    assert progress.warnings_line(warnings) == "1 input warning (1 carried_forward)"


def test_carried_from_survives_the_csv_round_trip_and_the_suite_lists_it(drop, lfm, tmp_path, root):
    folder = drop / progress.PROGRESS_DIR
    report(folder, "2020Q1", [indicator("1.1.1.1", 12)])
    report(folder, "2020Q2", [indicator("1.1.1.1", "n.d.")])
    table, inventory, _ = progress.build_progress_table(drop, lfm, parse_quarter("2020Q2"), drop.parent)
    table.to_csv(tmp_path / "tidy.csv", index=False)
    back = progress.read_tidy(tmp_path / "tidy.csv")
    assert back.loc[back["quarter"].eq("2020Q2") & back["indicator_id"].eq("1.1.1.1"), "carried_from"].item() == "2020Q1"
    suite = json.loads((root / "expectations" / "progress_indicators.json").read_text(encoding="utf-8"))
    columns = next(e for e in suite["expectations"] if e["type"] == "expect_table_columns_to_match_ordered_list")
    assert columns["kwargs"]["column_list"] == progress.TIDY_COLUMNS
    written = progress.write_input_warnings(progress.input_warnings(table, inventory), tmp_path)
    again = progress.read_input_warnings(tmp_path)
    assert written.name == "input_warnings.csv" and again["kind"].tolist() == ["carried_forward"]
    assert again["row"].tolist() == [5]


def test_a_missing_quarter_in_the_middle_is_a_warning(drop, lfm):
    folder = drop / progress.PROGRESS_DIR
    for quarter, value in (("2019Q1", 1), ("2019Q3", 2), ("2019Q4", 3)):
        report(folder, quarter, [indicator("1.1.1.1", value)])
    table, inventory, _ = progress.build_progress_table(drop, lfm, parse_quarter("2019Q4"), drop.parent)
    warnings = progress.input_warnings(table, inventory)
    assert warnings["kind"].tolist() == ["missing_quarter"]
    assert warnings.iloc[0]["file"] == "raw/progress_reports"
    assert warnings.iloc[0]["message"].startswith(
        "no progress report for 2019Q2 (between the reports of 2019Q1 and 2019Q3)")
    words = progress.warnings_in_words(warnings, "es")  # as notebook 01 shows it in a Spanish run
    assert list(words.columns) == ["kind", "file", "sheet", "row", "column", "message"]
    assert words.iloc[0]["kind"] == i18n.t("warning.kind.missing_quarter", "es") != "missing_quarter"
    assert "2019Q2" in words.iloc[0]["message"] and words.iloc[0]["message"] != warnings.iloc[0]["message"]


def test_a_missing_cutoff_report_is_a_warning(drop, lfm):
    folder = drop / progress.PROGRESS_DIR
    report(folder, "2020Q1", [indicator("1.1.1.1", 1)])
    table, inventory, _ = progress.build_progress_table(drop, lfm, parse_quarter("2020Q2"), drop.parent)
    warnings = progress.input_warnings(table, inventory)
    assert warnings["kind"].tolist() == ["missing_quarter"]
    assert "no progress report for 2020Q2 (the cut-off quarter" in warnings.iloc[0]["message"]


def test_the_only_indicator_table_on_a_hidden_sheet_is_read_with_a_warning(drop, lfm):
    folder = drop / progress.PROGRESS_DIR
    path = report(folder, "2020Q2", [indicator("1.1.1.1", 12)], extra_sheets={"Portada": [["Informe"]]})
    edit(path, lambda wb: setattr(wb["Indicadores"], "sheet_state", "hidden"))
    table, inventory, reports = progress.build_progress_table(drop, lfm, parse_quarter("2020Q2"), drop.parent)
    assert reports[0].hidden and table["value"].notna().sum() == 1
    warnings = progress.input_warnings(table, inventory)
    assert warnings["kind"].tolist() == ["hidden_sheet"]
    warning = warnings.iloc[0]
    assert (warning["file"], warning["sheet"], warning["row"]) == ("raw/progress_reports/informe_2020T2.xlsx",
                                                                    "Indicadores", 4)
    assert "hidden sheet 'Indicadores'" in warning["message"]


def test_the_shipped_drop_has_no_warning_at_the_midterm_cutoff(root, lfm):
    table, inventory, _ = progress.build_progress_table(root / "data" / "raw", lfm, parse_quarter("2020Q2"), root)
    assert progress.input_warnings(table, inventory).empty
    assert progress.warnings_line(progress.input_warnings(table, inventory)) == ""


# --------------------------------------------------------------------------- empty microdata


def test_a_microdata_file_with_its_header_and_no_rows_is_refused_with_its_location(raw_copy):
    source = microdata.load_sources(raw_copy)["atencion_victimas"]
    path = raw_copy / "microdata" / source.file
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        microdata.read_source(raw_copy, source, raw_copy.parent)
    error = caught.value
    assert error.file == f"raw/microdata/{source.file}" and error.row == 2 and error.found == "no rows"
    assert "at least one data row" in error.expected and "atencion_victimas" in error.expected


def test_a_microdata_workbook_with_blank_rows_only_is_refused(raw_copy):
    source = microdata.load_sources(raw_copy)["base_incremento_conocimiento"]
    path = raw_copy / "microdata" / source.file
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[source.sheet]
    sheet.delete_rows(2, sheet.max_row)
    sheet.append([None] * sheet.max_column)
    workbook.save(path)
    with pytest.raises(InputError, match=r"sheet 'Base', row 2: expected at least one data row"):
        microdata.read_source(raw_copy, source)


# --------------------------------------------------------------------------- Spanish-Excel CSV


def spanish_excel_csv(frame: pd.DataFrame, source: microdata.Source, path: Path) -> Path:
    """Write the cells as Excel in a Spanish locale saves 'CSV (delimitado por comas)': Windows-1252, ';',
    decimal comma, dates DD/MM/YYYY, CRLF."""
    types = {column.name: column.type for column in source.columns}
    out = frame.copy()
    for name in out.columns:
        def cell(value, kind=types.get(name)):
            if value is None or value == "":
                return ""
            if kind == "number":
                number = float(str(value).replace(",", "."))
                return (f"{number:.0f}" if number.is_integer() else repr(number)).replace(".", ",")
            if kind == "date":
                return pd.Timestamp(value).strftime("%d/%m/%Y")
            return str(value)
        out[name] = out[name].map(cell)
    text = out.to_csv(sep=";", index=False, lineterminator="\r\n")
    path.write_bytes(text.encode("cp1252"))
    return path


def comparable(table: microdata.SourceTable) -> pd.DataFrame:
    return table.table.drop(columns=["source_file", "source_sheet"])


@pytest.mark.parametrize("key", ["talleres_lgbti", "atencion_victimas", "residentes_care",
                                 "recomendaciones_estudio_casos", "base_incremento_conocimiento",
                                 "examenes_litigacion_oral"])
def test_a_spanish_excel_csv_gives_the_same_typed_table_as_the_clean_file(raw_copy, key):
    sources = microdata.load_sources(raw_copy)
    source = sources[key]
    original = microdata.read_source(raw_copy, source)
    path = raw_copy / "microdata" / source.file
    cells, _, _, _ = microdata._read_raw(path, source, source.file)
    converted = spanish_excel_csv(cells, source, path.with_name(f"{path.stem} excel.csv"))
    assert b"\r\n" in converted.read_bytes()
    excel = dataclasses.replace(source, file=converted.name, sheet=None)
    read = microdata.read_source(raw_copy, excel)
    pd.testing.assert_frame_equal(comparable(read), comparable(original))
    assert read.dropped_columns == original.dropped_columns
    assert read.read_as.startswith("CSV ") and "separator ';' (detected)" in read.read_as
    assert "decimal comma (detected)" in read.read_as
    if any(ord(ch) > 127 for ch in converted.read_bytes().decode("cp1252")):
        assert "Windows-1252 (detected)" in read.read_as
    summary = microdata.sources_summary({key: read})
    assert summary.loc[0, "read_as"] == read.read_as


def test_windows_1252_is_detected_and_accents_read_right(raw_copy):
    source = microdata.load_sources(raw_copy)["residentes_care"]
    path = raw_copy / "microdata" / source.file
    original = microdata.read_source(raw_copy, source)
    assert original.table["care_creado_por_proyecto"].eq("sí").any()
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    read = microdata.read_source(raw_copy, source)
    pd.testing.assert_frame_equal(comparable(read), comparable(original))
    assert read.read_as == "CSV Windows-1252 (detected), separator ',' (detected)"


def test_utf8_with_bom_and_tab_separator_are_detected(raw_copy):
    source = microdata.load_sources(raw_copy)["talleres_lgbti"]
    path = raw_copy / "microdata" / source.file
    original = microdata.read_source(raw_copy, source)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    path.write_bytes(frame.to_csv(sep="\t", index=False).encode("utf-8-sig"))
    read = microdata.read_source(raw_copy, source)
    pd.testing.assert_frame_equal(comparable(read), comparable(original))
    assert read.read_as == "CSV UTF-8 with BOM (detected), separator tab (detected)"


def test_encoding_separator_and_decimal_declared_in_sources_yaml(raw_copy):
    document = {"talleres_lgbti": {"file": "t.csv", "encoding": "cp1252", "delimiter": ";", "decimal": ",",
                                   "columns": {"taller_id": {"type": "id"}}}}
    spec = validate(SOURCES, document, "microdata/sources.yaml")["talleres_lgbti"]
    assert (spec.encoding, spec.delimiter, spec.decimal) == ("cp1252", ";", ",")
    assert validate(SOURCES, {"a": {**document["talleres_lgbti"], "delimiter": "tab"}}, "s.yaml")["a"].delimiter == "\t"
    with pytest.raises(InputError, match=r"key 'talleres_lgbti.delimiter'.*expected a CSV separator.*'\|'"):
        validate(SOURCES, {"talleres_lgbti": {**document["talleres_lgbti"], "delimiter": "|"}},
                 "microdata/sources.yaml")
    with pytest.raises(InputError, match=r"expected a text encoding"):
        validate(SOURCES, {"talleres_lgbti": {**document["talleres_lgbti"], "encoding": "klingon"}},
                 "microdata/sources.yaml")

    source = microdata.load_sources(raw_copy)["talleres_lgbti"]
    original = microdata.read_source(raw_copy, source)
    path = raw_copy / "microdata" / source.file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    spanish_excel_csv(frame, source, path)
    # declared: a decimal comma with a ',' delimiter would be refused; here all three are declared
    declared = dataclasses.replace(source, encoding="cp1252", delimiter=";", decimal=",")
    read = microdata.read_source(raw_copy, declared)
    pd.testing.assert_frame_equal(comparable(read), comparable(original))
    assert read.read_as == "CSV Windows-1252 (declared), separator ';' (declared), decimal comma (declared)"


def test_a_declared_encoding_that_does_not_decode_is_located(raw_copy):
    source = microdata.load_sources(raw_copy)["residentes_care"]
    path = raw_copy / "microdata" / source.file
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(InputError, match=r"row \d+: expected a CSV file in the encoding declared .*\(utf-8\)"):
        microdata.read_source(raw_copy, dataclasses.replace(source, encoding="utf-8"))


def test_thousands_dots_in_a_decimal_comma_file(raw_copy):
    source = microdata.load_sources(raw_copy)["talleres_lgbti"]
    path = raw_copy / "microdata" / source.file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "n_ambas_pruebas"] = "1.250"
    frame.loc[1, "promedio_entrada"] = "1.011,5"
    path.write_bytes(frame.to_csv(sep=";", index=False).encode("cp1252"))
    read = microdata.read_source(raw_copy, source).table
    assert read.loc[0, "n_ambas_pruebas"] == 1250.0 and read.loc[1, "promedio_entrada"] == 1011.5


# --------------------------------------------------------------------------- category values


def test_category_values_differing_by_case_accents_or_spaces_take_the_suite_spelling(raw_copy):
    source = microdata.load_sources(raw_copy)["residentes_care"]
    path = raw_copy / "microdata" / source.file
    original = microdata.read_source(raw_copy, source)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    yes = frame.index[frame["care_creado_por_proyecto"] == "sí"]
    no = frame.index[frame["care_creado_por_proyecto"] == "no"]
    frame.loc[yes[0], "care_creado_por_proyecto"] = " Sí "
    frame.loc[yes[1], "care_creado_por_proyecto"] = "si"
    frame.loc[no[0], "care_creado_por_proyecto"] = "No"
    frame.loc[frame.index[frame["problematica"] == "trata"][0], "problematica"] = "TRATA"
    frame.to_csv(path, index=False)
    read = microdata.read_source(raw_copy, source)
    pd.testing.assert_frame_equal(comparable(read), comparable(original))
    assert read.n_categories_normalised == 4
    assert read.categories_normalised == {
        "care_creado_por_proyecto": {(" Sí ", "sí"): 1, ("si", "sí"): 1, ("No", "no"): 1},
        "problematica": {("TRATA", "trata"): 1}}
    summary = microdata.sources_summary({"residentes_care": read}).iloc[0]
    assert summary["categories_normalised"] == 4
    assert "care_creado_por_proyecto: ' Sí '→'sí' ×1" in summary["normalisations"]
    assert "problematica: 'TRATA'→'trata' ×1" in summary["normalisations"]


def test_an_ambiguous_or_unknown_category_stays_as_written(raw_copy, tmp_path, root):
    source = microdata.load_sources(raw_copy)["atencion_victimas"]
    suites = tmp_path / "suites" / "microdata"
    suites.mkdir(parents=True)
    suite = json.loads((root / "expectations" / "microdata" / "atencion_victimas.json").read_text(encoding="utf-8"))
    for expectation in suite["expectations"]:
        if expectation["kwargs"].get("column") == "protocolo_actualizado":
            expectation["kwargs"]["value_set"] = ["sí", "SI", "no"]  # 'si' matches two values
    (suites / "atencion_victimas.json").write_text(json.dumps(suite), encoding="utf-8")
    path = raw_copy / "microdata" / source.file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "protocolo_actualizado"] = "si"
    frame.loc[1, "protocolo_actualizado"] = "quizás"
    frame.to_csv(path, index=False)
    read = microdata.read_source(raw_copy, source, suite_dirs=[tmp_path / "suites"])
    assert read.table.loc[0, "protocolo_actualizado"] == "si"
    assert read.table.loc[1, "protocolo_actualizado"] == "quizás"
    assert read.n_categories_normalised == 0


def test_the_shipped_sources_need_no_normalisation(root):
    summary = microdata.sources_summary(microdata.read_all_sources(root / "data" / "raw", root, suite_dirs=["expectations"]))
    assert list(summary.columns) == microdata.SUMMARY_COLUMNS
    assert summary["categories_normalised"].eq(0).all()
    assert summary["read_as"].str.match(r"^(CSV UTF-8 \(detected\), separator ',' \(detected\)|workbook, sheet '.+')$").all()
