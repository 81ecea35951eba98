"""The bad-input corpus: each case is the good drop with one mutation. Every case must stop the run
with a non-zero exit and one message naming file (and sheet, row, column where they exist) and what
was expected, with no traceback; raw files stay as they were and the last good reports are untouched."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
import yaml

from conftest import ROOT, project_copy, tree_hashes

pytestmark = pytest.mark.slow
Q2 = "progress_reports/Informe_progreso_2020T2 (v2).xlsx"
Q1 = "progress_reports/Informe_progreso_2020T1.xlsx"
MD = "microdata"




@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("corpus"))


# ---------------------------------------------------------------- mutations of the good data

def _progress_record(path: Path, code: str):
    from evalpipe.readers import read_progress_report

    report = read_progress_report(path)
    return report, next(r for r in report.records if r.indicator_id == code)


def set_value(relative: str, code: str, value, column: str = "value", places: bool = True
              ) -> Callable[[Path], list[str]]:
    def mutate(raw: Path) -> list[str]:
        path = raw / relative
        report, record = _progress_record(path, code)
        workbook = openpyxl.load_workbook(path)
        sheet = workbook[record.source_sheet]
        headers = [c.value for c in sheet[report.header_row]]
        header = record.source_column if column == "value" else record.source_code_column
        sheet.cell(row=record.source_row, column=headers.index(header) + 1).value = value  # None too
        workbook.save(path)
        if not places:  # the message may name either of two rows (e.g. a duplicate): check the sheet only
            return [f"sheet '{record.source_sheet}'"]
        return [f"sheet '{record.source_sheet}'", f"row {record.source_row}", f"column '{header}'"]
    return mutate


def edit_workbook(relative: str, change: Callable) -> Callable[[Path], list[str]]:
    def mutate(raw: Path) -> list[str]:
        path = raw / relative
        workbook = openpyxl.load_workbook(path)
        extra = change(workbook) or []
        workbook.save(path)
        return extra
    return mutate


def write_bytes(relative: str, data: bytes, rename: str | None = None) -> Callable[[Path], list[str]]:
    def mutate(raw: Path) -> list[str]:
        path = raw / relative
        path.write_bytes(data)
        if rename:
            path.rename(path.with_name(rename))
        return []
    return mutate


def edit_csv(relative: str, change: Callable[[list[list[str]]], list[str] | None]) -> Callable[[Path], list[str]]:
    def mutate(raw: Path) -> list[str]:
        path = raw / relative
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        extra = change(rows) or []
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        return extra
    return mutate


def edit_text(relative: str, old: str, new: str) -> Callable[[Path], list[str]]:
    def mutate(raw: Path) -> list[str]:
        path = raw / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return []
    return mutate


def edit_yaml(relative: str, change: Callable[[dict], None]) -> Callable[[Path], list[str]]:
    def mutate(raw: Path) -> list[str]:
        path = raw / relative
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(content)
        path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
        return []
    return mutate


def cell(rows, column: str, row: int, value: str) -> list[str]:
    rows[row - 1][rows[0].index(column)] = value
    return [f"row {row}", f"column '{column}'"]


def bomb(raw: Path) -> list[str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 2**20))
    (raw / Q2).write_bytes(buffer.getvalue())
    return []


def duplicate_quarter(raw: Path) -> list[str]:
    shutil.copy(raw / Q2, raw / "progress_reports" / "Informe_progreso_2020T2_copia.xlsx")
    return []


def quarter_outside(raw: Path) -> list[str]:
    target = raw / "progress_reports" / "Informe_progreso_2016T4.xlsx"
    shutil.copy(raw / "progress_reports" / "Informe_progreso_2019T4_final.xlsx", target)
    workbook = openpyxl.load_workbook(target)
    sheet = workbook.active
    for row in sheet.iter_rows(max_row=8):
        for c in row:
            if isinstance(c.value, str) and "Trimestre" in c.value:
                c.value = "Trimestre: 2016-T4"
    workbook.save(target)
    return []


def xlsx_score(relative: str, sheet: str, column: str, value) -> Callable[[Path], list[str]]:
    def change(workbook):
        ws = workbook[sheet]
        headers = [c.value for c in ws[1]]
        ws.cell(row=5, column=headers.index(column) + 1, value=value)
        return [f"sheet '{sheet}'", "row 5", f"column '{column}'"]
    return edit_workbook(relative, change)


@dataclass
class Case:
    name: str
    mutate: Callable[[Path], list[str]]
    file: str
    expected: list[str] = field(default_factory=list)
    exit_code: int = 1


def _drop_header(workbook):
    for row in workbook.worksheets[0].iter_rows(max_row=10):
        for c in row:
            if isinstance(c.value, str) and ("acumulad" in c.value.lower() or "logro" in c.value.lower()):
                c.value = "Valor"


def _drop_code_header(workbook):
    for row in workbook.worksheets[0].iter_rows(max_row=10):
        for c in row:
            if isinstance(c.value, str) and c.value.startswith(("Código", "Cód", "N°")):
                c.value = "Ref."


def _second_table_sheet(workbook):
    copy = workbook.copy_worksheet(workbook.worksheets[0])
    copy.title = "Copia"


def _shift_title(workbook):
    for row in workbook.worksheets[0].iter_rows(max_row=8):
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("Periodo"):
                c.value = "Periodo: julio - setiembre 2020"
                return [f"row {c.row}"]


CASES = [
    # quarterly progress reports (.xlsx)
    Case("unreadable workbook", write_bytes(Q2, b"PK\x03\x04 this is not a workbook" * 20), Q2, ["an .xlsx workbook"]),
    Case("empty workbook", write_bytes(Q2, b""), Q2, ["an empty file"]),
    Case("encrypted workbook", write_bytes(Q2, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512), Q2,
         ["not password-protected"]),
    Case("macro-enabled workbook", write_bytes(Q2, (ROOT / "data/raw" / Q2).read_bytes(), "Informe_progreso_2020T2.xlsm"),
         "progress_reports/Informe_progreso_2020T2.xlsm", ["without macros"]),
    Case("workbook far too large", write_bytes(Q2, b"\0" * (26 * 2**20)), Q2, ["under 25 MiB"]),
    Case("compressed bomb", bomb, Q2, ["unpacks to under 250 MiB"]),
    Case("missing indicator table", edit_workbook(Q2, _drop_header), Q2, ["a sheet with a header row"]),
    Case("renamed code column", edit_workbook(Q2, _drop_code_header), Q2, ["'Código'"]),
    Case("two indicator tables", edit_workbook(Q2, _second_table_sheet), Q2, ["exactly one sheet"]),
    Case("unknown indicator code", set_value(Q2, "2.1.2.1", "9.9.9.9", column="code"), Q2,
         ["an output indicator code of the LFM"]),
    Case("five-part code", set_value(Q2, "2.1.2.1", "2.1.2.1.1", column="code"), Q2, ["four parts"]),
    Case("code typed as a number", set_value(Q2, "2.1.2.1", 2.1, column="code"), Q2, ["written as text"]),
    Case("duplicated row", set_value(Q2, "2.1.2.1", "2.1.1.2", column="code", places=False), Q2,
         ["one value per indicator and quarter"]),
    Case("negative value", set_value(Q2, "1.2.1.2", -5), Q2, ["zero or more"]),
    Case("non-numeric value", set_value(Q2, "1.2.1.2", "doscientos"), Q2, ["a count such as"]),
    Case("fractional value", set_value(Q2, "1.2.1.2", "12.5"), Q2, ["a count such as"]),
    Case("formula cell", set_value(Q2, "1.2.1.2", "=SUM(D5:D9)"), Q2, ["not a formula"]),
    Case("cumulative value going down", set_value(Q2, "2.2.1.2", 100), Q2, ["not lower than"]),
    Case("value without a code", set_value(Q2, "2.1.2.1", None, column="code"), Q2, ["an indicator code"]),
    Case("title period against file name", edit_workbook(Q2, _shift_title), Q2, ["match the quarter in the file name"]),
    Case("quarter outside the project", quarter_outside, "progress_reports/Informe_progreso_2016T4.xlsx",
         ["within the project's life"]),
    Case("two files for one quarter", duplicate_quarter, "progress_reports/Informe_progreso_2020T2_copia.xlsx",
         ["one progress report per quarter"]),
    Case("file name without a quarter", write_bytes(Q1, (ROOT / "data/raw" / Q1).read_bytes(), "Informe_progreso.xlsx"),
         "progress_reports/Informe_progreso.xlsx", ["contains its quarter"]),
    # logframe (.csv)
    Case("lfm: missing column", edit_csv("lfm/output_indicators.csv",
                                         lambda rows: [r.__setitem__(5, "meta") for r in rows[:1]] and ["row 1"]),
         "lfm/output_indicators.csv", ["column 'target'"]),
    Case("lfm: target not a number", edit_csv("lfm/output_indicators.csv", lambda rows: cell(rows, "target", 5, "cinco")),
         "lfm/output_indicators.csv", ["a number"]),
    Case("lfm: duplicated indicator", edit_csv("lfm/output_indicators.csv",
                                               lambda rows: cell(rows, "indicator_id", 3, rows[1][0])),
         "lfm/output_indicators.csv", ["each indicator_id once"]),
    Case("lfm: covid risk not yes/no", edit_csv("lfm/covid_risk_outputs.csv",
                                                lambda rows: cell(rows, "covid_risk", 4, "maybe")),
         "lfm/covid_risk_outputs.csv", ["'yes' or 'no'"]),
    Case("lfm: csv not in UTF-8", write_bytes("lfm/outputs.csv",
                                              (ROOT / "data/raw/lfm/outputs.csv").read_text("utf-8").encode("latin-1")),
         "lfm/outputs.csv", ["encoded in UTF-8"]),
    # outcome microdata (.csv and .xlsx)
    # Windows-1252 (a Spanish Excel's CSV) is accepted; a byte neither UTF-8 nor Windows-1252 can decode is not.
    Case("microdata: csv not in UTF-8", write_bytes(f"{MD}/Víctimas NNA repatriadas.csv",
                                                    b"victima_id,fecha_repatriacion,siguio_protocolo\n"
                                                    b"REP-01,2019-07-19,s\x81\n"),
         f"{MD}/Víctimas NNA repatriadas.csv", ["UTF-8", "row 2"]),
    Case("microdata: missing column", edit_text(f"{MD}/Mailing list IDL 3.2.1.1.csv", "fecha_alta", "fecha"),
         f"{MD}/Mailing list IDL 3.2.1.1.csv", ["a column 'fecha_alta'"]),
    Case("microdata: unreadable date", edit_csv(f"{MD}/Mailing list IDL 3.2.1.1.csv",
                                                lambda rows: cell(rows, "fecha_alta", 4, "ayer")),
         f"{MD}/Mailing list IDL 3.2.1.1.csv", ["a date written YYYY-MM-DD"]),
    Case("microdata: unknown category", edit_csv(f"{MD}/Recomendaciones estudio de casos.csv",
                                                 lambda rows: cell(rows, "estado", 3, "quizás")),
         f"{MD}/Recomendaciones estudio de casos.csv", ["one of: cumplida"]),
    Case("microdata: date after the drop", edit_csv(f"{MD}/Validación de materiales de sensibilización.csv",
                                                    lambda rows: cell(rows, "fecha", 2, "2022-03-01")),
         f"{MD}/Validación de materiales de sensibilización.csv", ["not after the date of the data drop"]),
    Case("microdata: same id twice", edit_csv(f"{MD}/Registro de residentes CARE.csv",
                                              lambda rows: cell(rows, "residente_id", 3, rows[1][0])[1:]),
         f"{MD}/Registro de residentes CARE.csv", ["each residente_id once"]),
    Case("microdata: score of 35 on a 0-20 test", xlsx_score(f"{MD}/BASE INCREMENTO CONOCIMIENTO 1.xlsx", "Base",
                                                             "nota_salida", 35),
         f"{MD}/BASE INCREMENTO CONOCIMIENTO 1.xlsx", ["0-20 scale"]),
    Case("microdata: participant twice in one test", edit_workbook(
        f"{MD}/Base de Datos CARE CPC.xlsx",
        lambda wb: wb["Evaluaciones"].append([c.value for c in wb["Evaluaciones"][2]]) and None),
         f"{MD}/Base de Datos CARE CPC.xlsx", ["one row per participante_id + capacitacion"]),
    Case("microdata: negative count", edit_workbook(f"{MD}/Exámenes tabulados litigación oral.xlsx",
                                                   lambda wb: wb["Resultados"].cell(row=5, column=6).__setattr__("value", -3)
                                                   or ["sheet 'Resultados'", "row 5", "column 'n_correctas'"]),
         f"{MD}/Exámenes tabulados litigación oral.xlsx", ["a count of zero or more"]),
    Case("microdata: formula cell", xlsx_score(f"{MD}/Base de Datos CARE CPC.xlsx", "Evaluaciones", "nota_entrada",
                                               "=B2*2"),
         f"{MD}/Base de Datos CARE CPC.xlsx", ["not a formula"]),
    Case("microdata: missing sheet", edit_workbook(f"{MD}/Base de Datos CARE CPC.xlsx",
                                                   lambda wb: setattr(wb["Evaluaciones"], "title", "Hoja1")),
         f"{MD}/Base de Datos CARE CPC.xlsx", ["a sheet named 'Evaluaciones'"]),
    Case("microdata: missing file", lambda raw: (raw / MD / "Víctimas NNA repatriadas.csv").unlink() or [],
         f"{MD}/Víctimas NNA repatriadas.csv", ["missing file"]),
    # fichas técnicas (.yaml)
    Case("ficha: unknown method", edit_yaml("fichas/2.2.1.1.yaml", lambda c: c["calculo"].update(method="mean")),
         "fichas/2.2.1.1.yaml", ["key 'calculo.method': expected a method among"]),
    Case("ficha: unknown column", edit_yaml("fichas/2.2.1.1.yaml",
                                            lambda c: c["calculo"]["filters"][0].update(column="hogar")),
         "fichas/2.2.1.1.yaml", ["a column of source 'recomendaciones_car'"]),
    Case("ficha: unknown source", edit_yaml("fichas/2.2.1.1.yaml", lambda c: c["calculo"].update(source="matriz")),
         "fichas/2.2.1.1.yaml", ["key 'calculo.source': expected a source among"]),
    Case("ficha: missing field", edit_yaml("fichas/2.2.1.1.yaml", lambda c: c.pop("responsable")),
         "fichas/2.2.1.1.yaml", ["expected the key 'responsable'"]),
    Case("ficha: not YAML", write_bytes("fichas/2.2.1.1.yaml", b"indicador: [2.2.1.1\n"), "fichas/2.2.1.1.yaml",
         ["valid YAML"]),
    # the drop's declaration
    Case("drop: unknown origin", edit_text("drop.yaml", "data_origin: synthetic", "data_origin: maybe"), "drop.yaml",
         ["'synthetic' or 'real'"]),
]


def test_the_corpus_covers_every_raw_format():
    assert len(CASES) >= 40
    kinds = {case.file.split("/")[0] for case in CASES}
    assert {"progress_reports", "lfm", "microdata", "fichas", "drop.yaml"} <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_stops_with_one_clear_message(project, case):
    raw = project / "data" / "raw"
    backup = project / "raw_backup"
    shutil.copytree(raw, backup)
    reports = project / "reports" / "midterm-2020Q2"
    reports_before = tree_hashes(reports)
    try:
        places = case.mutate(raw)
        raw_before = tree_hashes(raw)
        result = subprocess.run([sys.executable, "pipeline.py", "run"], cwd=project, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == case.exit_code, result.stdout + result.stderr
        message = result.stderr.splitlines()[0]
        assert message.startswith("error: ")
        assert "Traceback" not in result.stderr
        assert case.file.split("/")[-1] in message, message
        for words in case.expected + places:
            assert words in message, (words, message)
        assert "expected" in message and ".staging" not in message
        assert tree_hashes(raw) == raw_before  # raw files byte-identical before and after the run
        assert tree_hashes(reports) == reports_before  # the last good reports untouched
    finally:
        shutil.rmtree(raw)
        shutil.move(backup, raw)


def test_debug_shows_the_traceback(project):
    raw = project / "data" / "raw"
    original = (raw / "drop.yaml").read_text(encoding="utf-8")
    try:
        (raw / "drop.yaml").write_text(original.replace("data_origin: synthetic", "data_origin: maybe", 1), encoding="utf-8")
        result = subprocess.run([sys.executable, "pipeline.py", "run", "--debug"], cwd=project, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode != 0 and "Traceback" in result.stderr
    finally:
        (raw / "drop.yaml").write_text(original, encoding="utf-8")
