"""From the workbooks to the tidy table: listing, the cut-off, completing the grid, and the CSV round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalpipe import progress
from evalpipe.cleaning import NOT_APPLICABLE, NOT_REPORTED, REPORTED, UNKNOWN
from evalpipe.errors import InputError
from evalpipe.progress import (
    TIDY_COLUMNS,
    list_progress_reports,
    read_reports,
    read_tidy,
    tidy_progress,
)
from evalpipe.quarters import Quarter, parse_quarter
from evalpipe.readers import read_progress_report

SHIPPED_QUARTERS = ["2018Q1", "2018Q2", "2018Q3", "2018Q4", "2019Q1", "2019Q2", "2019Q3", "2019Q4", "2020Q1",
                    "2020Q2", "2020Q4"]
PERIODS = {1: "enero - marzo", 2: "abril - junio", 3: "julio - setiembre", 4: "octubre - diciembre"}


def report_path(folder: Path, quarter: str, rows, writer) -> Path:
    q = parse_quarter(quarter)
    title = ["Informe de progreso trimestral", f"Periodo: {PERIODS[q.q]} {q.year}", ""]
    return writer(folder / f"informe_{q.year}T{q.q}.xlsx", rows, title=title)


def row(code, value, comment=None):
    return [code, "Indicador", 100, value, comment]


# --------------------------------------------------------------------------- listing the workbooks


def test_lists_the_shipped_workbooks_by_quarter(root):
    found = list_progress_reports(root / "data" / "raw", root)
    assert [str(q) for q in found] == SHIPPED_QUARTERS
    assert found[Quarter(2019, 4)].name == "Informe_progreso_2019T4_final.xlsx"


def test_two_files_for_one_quarter_are_refused(raw_copy):
    folder = raw_copy / "progress_reports"
    shutil.copy(folder / "Informe_progreso_2020T2 (v2).xlsx", folder / "Informe_progreso_2020T2_final.xlsx")
    with pytest.raises(InputError) as info:
        list_progress_reports(raw_copy, raw_copy.parent)
    error = info.value
    assert error.file == "raw/progress_reports/Informe_progreso_2020T2_final.xlsx"
    assert "one progress report per quarter" in error.expected
    assert "2020Q2" in str(error)
    assert "Informe_progreso_2020T2 (v2).xlsx" in str(error)  # names the other file too


def test_a_workbook_name_without_a_quarter_is_refused(raw_copy):
    folder = raw_copy / "progress_reports"
    shutil.copy(folder / "Informe_progreso_2020T1.xlsx", folder / "Informe_progreso_final.xlsx")
    with pytest.raises(InputError) as info:
        list_progress_reports(raw_copy, raw_copy.parent)
    assert info.value.file == "raw/progress_reports/Informe_progreso_final.xlsx"
    assert "contains its quarter" in info.value.expected
    assert info.value.found == "Informe_progreso_final.xlsx"


def test_excel_lock_files_hidden_files_and_other_files_are_ignored(raw_copy):
    folder = raw_copy / "progress_reports"
    (folder / "~$Informe_progreso_2020T2 (v2).xlsx").write_bytes(b"lock")
    (folder / "~$Informe_progreso_2021T1.xlsx").write_bytes(b"lock")
    (folder / ".Informe_progreso_2021T2.xlsx").write_bytes(b"hidden")
    (folder / "notas.txt").write_text("sin trimestre", encoding="utf-8")
    found = list_progress_reports(raw_copy, raw_copy.parent)
    assert [str(q) for q in found] == SHIPPED_QUARTERS
    assert not any(path.name.startswith(("~$", ".")) for path in found.values())


def test_a_missing_or_empty_folder_is_refused(tmp_path):
    with pytest.raises(InputError) as info:
        list_progress_reports(tmp_path, tmp_path)
    assert info.value.file == "progress_reports"
    assert info.value.found == "missing folder"
    (tmp_path / "progress_reports").mkdir()
    with pytest.raises(InputError) as info:
        list_progress_reports(tmp_path, tmp_path)
    assert info.value.found == "no workbook"


# --------------------------------------------------------------------------- the cut-off


@pytest.fixture
def raw_with_corrupt_2021q1(raw_copy: Path) -> Path:
    (raw_copy / "progress_reports" / "informe_2021T1.xlsx").write_bytes(b"this is not a zip archive")
    return raw_copy


def test_cutoff_never_opens_later_workbooks(raw_with_corrupt_2021q1, monkeypatch):
    opened = []
    real_reader = progress.read_progress_report
    monkeypatch.setattr(progress, "read_progress_report",
                        lambda path, display=None: opened.append(Path(path).name) or real_reader(path, display))
    project = raw_with_corrupt_2021q1.parent
    reports, inventory = read_reports(raw_with_corrupt_2021q1, parse_quarter("2020Q2"), project)
    assert [str(r.quarter) for r in reports] == SHIPPED_QUARTERS[:10]
    assert [q for q, _ in inventory.used] == SHIPPED_QUARTERS[:10]
    assert inventory.after_cutoff == [
        ("2020Q4", "raw/progress_reports/Informe_progreso_2020T4.xlsx"),
        ("2021Q1", "raw/progress_reports/informe_2021T1.xlsx"),
    ]
    assert "informe_2021T1.xlsx" not in opened and "Informe_progreso_2020T4.xlsx" not in opened
    assert len(opened) == 10
    frame = inventory.as_frame()
    assert frame.loc[frame["file"].str.endswith("informe_2021T1.xlsx"), "use"].tolist() == ["after_cutoff"]
    words = inventory.as_frame("es")
    assert words.loc[words["file"].str.endswith("informe_2021T1.xlsx"), "use"].tolist() == [
        "no leído: posterior al corte"]


def test_cutoff_including_the_corrupt_workbook_names_it(raw_with_corrupt_2021q1):
    with pytest.raises(InputError) as info:
        read_reports(raw_with_corrupt_2021q1, parse_quarter("2021Q1"), raw_with_corrupt_2021q1.parent)
    assert info.value.file == "raw/progress_reports/informe_2021T1.xlsx"
    assert str(info.value).startswith("file raw/progress_reports/informe_2021T1.xlsx")
    assert info.value.found == "a file that is not an .xlsx workbook"


def test_a_cutoff_before_every_report_is_refused(root):
    with pytest.raises(InputError) as info:
        read_reports(root / "data" / "raw", parse_quarter("2017Q4"), root)
    assert "2017Q4" in info.value.expected


# --------------------------------------------------------------------------- the tidy table


@pytest.fixture
def tiny_reports(tmp_path, workbook_writer):
    """Three small reports (2020Q1, 2020Q2, 2020Q4) of a few indicators, read with the real reader."""
    folder = tmp_path / "progress_reports"
    folder.mkdir()
    contents = {
        "2020Q1": [row(" 1.2.1.1", 10, "primera"), row("1.2.1.2\u00a0", "NA"), row("1.2.2.1", 3),
                   row("2.1.2.1", 100)],
        "2020Q2": [row("1.2.1.1.", "¿?"), row("1.2.1.2", "268*"), row("2.1.2.1", "1,046")],
        "2020Q4": [row("1.2.1.1", 25), row("2.1.2.1", 1046), row("2.1.1.2", 4)],
    }
    paths = [report_path(folder, quarter, rows, workbook_writer) for quarter, rows in contents.items()]
    # given out of order on purpose: the table must order quarters itself
    return [read_progress_report(path) for path in reversed(paths)]


@pytest.fixture
def tiny_table(tiny_reports, lfm) -> pd.DataFrame:
    return tidy_progress(tiny_reports, lfm)


def cell(table: pd.DataFrame, indicator: str, quarter: str) -> pd.Series:
    rows = table[(table["indicator_id"] == indicator) & (table["quarter"] == quarter)]
    assert len(rows) == 1, f"{len(rows)} rows for {indicator} {quarter}"
    return rows.iloc[0]


def test_tidy_has_the_documented_columns_and_dtypes(tiny_table):
    assert list(tiny_table.columns) == TIDY_COLUMNS
    assert tiny_table["value"].dtype == np.float64
    assert tiny_table["change_from_previous"].dtype == np.float64
    assert tiny_table["source_row"].dtype == pd.Int64Dtype()
    assert tiny_table["footnote_mark"].dtype == np.bool_


def test_tidy_completes_the_grid_of_lfm_indicators_and_quarters(tiny_table, lfm):
    quarters = ["2020Q1", "2020Q2", "2020Q4"]
    assert len(tiny_table) == len(lfm.output_indicator_ids) * len(quarters)
    assert not tiny_table.duplicated(["indicator_id", "quarter"]).any()
    assert set(tiny_table["indicator_id"]) == set(lfm.output_indicator_ids)
    for indicator in lfm.output_indicator_ids:
        assert tiny_table.loc[tiny_table["indicator_id"] == indicator, "quarter"].tolist() == quarters


def test_indicators_absent_from_a_report_are_not_reported(tiny_table):
    absent = cell(tiny_table, "1.2.2.1", "2020Q2")
    assert absent["value_flag"] == NOT_REPORTED
    assert pd.isna(absent["value"])
    assert absent["code_raw"] == "" and absent["source_file"] == ""
    assert pd.isna(absent["source_row"])
    assert absent["output_id"] == "1.2.2"
    never = tiny_table[tiny_table["indicator_id"] == "1.1.1.1"]
    assert never["value_flag"].tolist() == [NOT_REPORTED] * 3
    present = cell(tiny_table, "1.2.2.1", "2020Q1")
    assert present["value_flag"] == REPORTED and present["value"] == 3.0


def test_tidy_keeps_the_flags_and_provenance_of_reported_rows(tiny_table):
    first = cell(tiny_table, "1.2.1.1", "2020Q1")
    assert first["code_raw"] == " 1.2.1.1"
    assert first["comment"] == "primera"
    assert first["source_file"] == "informe_2020T1.xlsx"
    assert first["source_row"] == 5  # 3 title lines, the header on row 4
    assert first["output_id"] == "1.2.1"
    assert cell(tiny_table, "1.2.1.1", "2020Q2")["value_flag"] == UNKNOWN
    assert cell(tiny_table, "1.2.1.2", "2020Q1")["value_flag"] == NOT_APPLICABLE
    marked = cell(tiny_table, "1.2.1.2", "2020Q2")
    assert bool(marked["footnote_mark"]) is True
    assert not bool(cell(tiny_table, "1.2.1.1", "2020Q1")["footnote_mark"])
    assert marked["value"] == 268.0


def test_change_from_previous_skips_missing_values(tiny_table):
    def change(indicator, quarter):
        return cell(tiny_table, indicator, quarter)["change_from_previous"]

    # 1.2.1.1: 10, unknown, 25 -> the 2020Q4 change is taken from the last known value, 10
    assert pd.isna(change("1.2.1.1", "2020Q1"))
    assert pd.isna(change("1.2.1.1", "2020Q2"))
    assert change("1.2.1.1", "2020Q4") == 15.0
    # 1.2.1.2: NA, 268, not reported -> nothing earlier to compare with, and no value later
    assert pd.isna(change("1.2.1.2", "2020Q2"))
    assert pd.isna(change("1.2.1.2", "2020Q4"))
    # 2.1.2.1: 100, "1,046", 1046
    assert change("2.1.2.1", "2020Q2") == 946.0
    assert change("2.1.2.1", "2020Q4") == 0.0
    # 2.1.1.2: reported only in 2020Q4
    assert pd.isna(change("2.1.1.2", "2020Q4"))


def expected_changes(table: pd.DataFrame) -> pd.Series:
    """An independent reference: value minus the last earlier non-null value of the same indicator."""
    order = {q: i for i, q in enumerate(sorted(set(table["quarter"]), key=parse_quarter))}
    out = pd.Series(np.nan, index=table.index)
    for _, group in table.groupby("indicator_id"):
        last = None
        for index in sorted(group.index, key=lambda i: order[group.at[i, "quarter"]]):
            value = group.at[index, "value"]
            if pd.notna(value):
                if last is not None:
                    out[index] = value - last
                last = value
    return out


def test_change_from_previous_on_the_shipped_data(root, lfm):
    reports, _ = read_reports(root / "data" / "raw", parse_quarter("2020Q2"), root)
    table = tidy_progress(reports, lfm)
    assert len(table) == len(lfm.output_indicator_ids) * 10
    pd.testing.assert_series_equal(table["change_from_previous"], expected_changes(table), check_names=False)
    # the 2019 extension indicators are absent from the early reports and "NA" in 2019Q4
    assert cell(table, "2.2.1.4", "2018Q1")["value_flag"] == NOT_REPORTED
    assert cell(table, "2.2.1.4", "2019Q4")["value_flag"] == NOT_APPLICABLE
    # 2.1.2.1 was written "1,046" in 2020Q2 after 946 in 2020Q1
    assert cell(table, "2.1.2.1", "2020Q2")["value"] == 1046.0
    assert cell(table, "2.1.2.1", "2020Q2")["change_from_previous"] == 100.0


# --------------------------------------------------------------------------- read_tidy


def write_like_the_clean_notebook(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def test_read_tidy_round_trips_the_table_with_its_dtypes(tiny_table, tmp_path):
    back = read_tidy(write_like_the_clean_notebook(tiny_table, tmp_path / "progress_indicators.csv"))
    assert back["value"].dtype == np.float64
    assert back["change_from_previous"].dtype == np.float64
    assert back["source_row"].dtype == pd.Int64Dtype()
    assert back["footnote_mark"].dtype == np.bool_
    assert dict(back.dtypes) == dict(tiny_table.dtypes)
    pd.testing.assert_frame_equal(back, tiny_table)


def test_read_tidy_keeps_code_raw_and_value_raw_as_written(tiny_table, tmp_path):
    back = read_tidy(write_like_the_clean_notebook(tiny_table, tmp_path / "progress_indicators.csv"))
    assert cell(back, "1.2.1.1", "2020Q1")["code_raw"] == " 1.2.1.1"
    assert cell(back, "1.2.1.2", "2020Q1")["code_raw"] == "1.2.1.2\u00a0"
    assert cell(back, "1.2.1.1", "2020Q2")["code_raw"] == "1.2.1.1."
    # "NA" as written must stay text, not become a missing value
    assert cell(back, "1.2.1.2", "2020Q1")["value_raw"] == "NA"
    assert cell(back, "2.1.2.1", "2020Q2")["value_raw"] == "1,046"
    assert cell(back, "1.2.2.1", "2020Q2")["code_raw"] == ""
    assert pd.isna(cell(back, "1.2.2.1", "2020Q2")["source_row"])
    assert bool(cell(back, "1.2.1.2", "2020Q2")["footnote_mark"]) is True


def test_read_tidy_round_trips_the_shipped_table(root, lfm, tmp_path):
    reports, _ = read_reports(root / "data" / "raw", parse_quarter("2020Q2"), root)
    table = tidy_progress(reports, lfm)
    back = read_tidy(write_like_the_clean_notebook(table, tmp_path / "progress_indicators.csv"))
    pd.testing.assert_frame_equal(back, table)


# --------------------------------------------------------------------------- the report's own «Meta»


def _report_with_targets(tmp_path, workbook_writer, lfm, targets: dict[str, object]):
    folder = tmp_path / "progress_reports"
    folder.mkdir(exist_ok=True)
    lfm_target = dict(zip(lfm.output_indicators["indicator_id"], lfm.output_indicators["target"]))
    rows = [[code, "Indicador", targets.get(code, lfm_target[code]), 1, None] for code in ("1.2.1.1", "1.2.1.2",
                                                                                          "2.1.2.1")]
    return read_progress_report(report_path(folder, "2020Q2", rows, workbook_writer))


def test_a_meta_that_differs_from_the_logframe_target_is_an_input_warning(tmp_path, workbook_writer, lfm):
    """Issue 13: the report's «Meta» was read but never compared; now a difference is warned with its place."""
    report = _report_with_targets(tmp_path, workbook_writer, lfm, {"1.2.1.2": 999, "2.1.2.1": "pendiente"})
    warnings = progress.target_warnings([report], lfm)
    assert [w["kind"] for w in warnings] == [progress.TARGET_DIFFERS] * 2
    by_indicator = {json.loads(w["message_fields"])["indicator"]: w for w in warnings}
    differs = by_indicator["1.2.1.2"]
    assert differs["file"].endswith("informe_2020T2.xlsx") and differs["column"] == "Meta"
    assert differs["row"] == report.records[1].source_row
    assert "999" in differs["message"] and "logframe" in differs["message"]
    assert by_indicator["2.1.2.1"]["message_key"] == "target_not_a_number"
    assert progress.warning_text(differs["message_key"], json.loads(differs["message_fields"]), "es") \
        .startswith("el indicador 1.2.1.2")


def test_a_meta_equal_to_the_logframe_target_gives_no_warning(tmp_path, workbook_writer, lfm):
    report = _report_with_targets(tmp_path, workbook_writer, lfm, {})
    assert progress.target_warnings([report], lfm) == []


def test_the_shipped_cutoff_report_agrees_with_the_logframe_targets(root, lfm):
    _, inventory, reports = progress.build_progress_table(root / "data" / "raw", lfm, parse_quarter("2020Q2"), root)
    assert any(r.target_column for r in max(reports, key=lambda r: r.quarter).records)  # the column is read
    assert not [w for w in inventory.warnings if w["kind"] == progress.TARGET_DIFFERS]
