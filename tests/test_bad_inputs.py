"""The bad-input corpus: each case is the good drop with one mutation. Every case must stop the run
with a non-zero exit and one message naming file (and sheet, row, column where they exist) and what
was expected, with no traceback; raw files stay as they were and the last good reports are untouched.

Where each case fails is explicit (``PATHS`` below): before any kernel starts (the pre-flight: the drop's
declaration and ``check_drop``), inside the clean notebook (the workbook and microdata readers), or inside the
validate notebook (a Great Expectations suite). Every case is checked in-process: the same code the run executes
for that path (``load_drop`` and ``check_drop`` as ``run_pipeline`` calls them, then the code cells of
``notebooks/01_clean.ipynb`` and ``02_validate.ipynb`` executed in order with the parameters the runner injects,
cell numbers counted as Papermill counts them), the failure turned into the line the CLI prints
(``StageFailed`` for a stage, ``error: ...``). One representative case of each path (and of each notebook cell
that can fail) also runs end to end with ``pipeline.py run``: its first stderr line must equal the in-process one,
with exit code 1, no traceback, raw files byte-identical and the last good reports untouched; ``--debug`` shows
the traceback. So no check of the former all-subprocess corpus is lost: a pre-flight case takes milliseconds, a
notebook case a second or two (the suites that validate a table identical to the good drop's are not run again:
``_suites_reused``), instead of 10-50 s each as a subprocess run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable
from unittest import mock

import openpyxl
import pytest
import yaml

from conftest import ROOT, project_copy, tree_hashes

Q2 = "progress_reports/Informe_progreso_2020T2 (v2).xlsx"
Q1 = "progress_reports/Informe_progreso_2020T1.xlsx"
MD = "microdata"


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
    # rows 2 and 3 share a count date: the same resident twice at one date (the key is resident x count date)
    Case("microdata: same id twice", edit_csv(f"{MD}/Registro de residentes CARE.csv",
                                              lambda rows: (cell(rows, "residente_id", 3, rows[1][0]), [])[1]),
         f"{MD}/Registro de residentes CARE.csv",
         ["column 'residente_id, fecha_corte'", "one row per residente_id + fecha_corte"]),
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


# ---------------------------------------------------------------- where each case fails

PREFLIGHT = "pre-flight"  # refused by run_pipeline before any kernel starts (load_drop, check_drop)
CLEAN = "clean notebook"  # raised inside notebooks/01_clean.ipynb (workbook and microdata readers)
VALIDATE = "validate notebook"  # raised inside notebooks/02_validate.ipynb (a Great Expectations suite failed)

PATHS = {
    PREFLIGHT: [
        "two files for one quarter", "file name without a quarter",
        "lfm: missing column", "lfm: target not a number", "lfm: duplicated indicator", "lfm: covid risk not yes/no",
        "lfm: csv not in UTF-8", "microdata: missing file",
        "ficha: unknown method", "ficha: unknown column", "ficha: unknown source", "ficha: missing field",
        "ficha: not YAML", "drop: unknown origin",
    ],
    CLEAN: [
        "unreadable workbook", "empty workbook", "encrypted workbook", "macro-enabled workbook",
        "workbook far too large", "compressed bomb", "missing indicator table", "renamed code column",
        "two indicator tables", "five-part code", "code typed as a number", "non-numeric value", "fractional value",
        "formula cell", "value without a code", "title period against file name",
        "microdata: csv not in UTF-8", "microdata: missing column", "microdata: unreadable date",
        "microdata: formula cell", "microdata: missing sheet",
    ],
    VALIDATE: [
        "unknown indicator code", "duplicated row", "negative value", "cumulative value going down",
        "quarter outside the project",
        "microdata: unknown category", "microdata: date after the drop", "microdata: same id twice",
        "microdata: score of 35 on a 0-20 test", "microdata: participant twice in one test",
        "microdata: negative count",
    ],
}
PATH_OF = {name: path for path, names in PATHS.items() for name in names}
BY_NAME = {case.name: case for case in CASES}

# The cases also run end to end: one per failure path, and one per notebook cell of a path that can fail.
END_TO_END = {
    "drop: unknown origin": PREFLIGHT,  # load_drop, before the run lock is taken
    "lfm: target not a number": PREFLIGHT,  # check_drop
    "non-numeric value": CLEAN,  # the progress-report cell
    "microdata: missing column": CLEAN,  # the microdata cell
    "cumulative value going down": VALIDATE,  # the validation cell that raises on a failed suite
}

LABEL = "midterm-2020Q2"
STAGING_RUN = f"reports/.staging/{LABEL}"
FAILED_RUN = f"reports/_failed/{LABEL}"


def test_the_corpus_covers_every_raw_format():
    assert len(CASES) >= 40
    kinds = {case.file.split("/")[0] for case in CASES}
    assert {"progress_reports", "lfm", "microdata", "fichas", "drop.yaml"} <= kinds


def test_every_case_has_exactly_one_failure_path_and_every_path_runs_end_to_end():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    listed = [name for group in PATHS.values() for name in group]
    assert sorted(listed) == sorted(names)  # nothing dropped, nothing listed twice
    assert set(END_TO_END.values()) == set(PATHS)
    assert all(PATH_OF[name] == path for name, path in END_TO_END.items())


# ---------------------------------------------------------------- the run, in-process

def _code_cells(notebook: str) -> list[tuple[int, str, bool]]:
    """(execution count, source, is the parameters cell) of each code cell, as Papermill executes the
    notebook: the injected-parameters cell follows the cell tagged ``parameters`` and takes a number too."""
    import nbformat

    cells, count = [], 0
    for cell in nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        count += 1
        parameters = "parameters" in cell.metadata.get("tags", [])
        cells.append((count, cell.source, parameters))
        if parameters:
            count += 1
    return cells


def _execute_stage(stage: str, notebook: str, injected: dict) -> None:
    """Execute the stage notebook's code cells in this process, as the kernel would, and raise what the
    runner raises when a cell fails (``StageFailed`` naming stage, notebook, cell, exception and message)."""
    from evalpipe.runner import StageFailed

    namespace: dict = {"__name__": "__main__"}
    for count, source, parameters in _code_cells(notebook):
        try:
            exec(compile(source, f"{notebook}[{count}]", "exec"), namespace)  # noqa: S102 - our own notebooks
            if parameters:
                namespace.update(injected)  # Papermill's injected-parameters cell
        except Exception as exc:  # noqa: BLE001 - any exception stops a Papermill run
            cell = count + 1 if parameters else count
            failed = StageFailed(stage, f"notebooks/{notebook}", cell, type(exc).__name__, str(exc), "")
            failed.evalue = failed.evalue.replace(STAGING_RUN, FAILED_RUN)  # as the runner reports it
            raise failed from exc


@contextlib.contextmanager
def _suites_reused(good: dict | None, record: dict | None = None):
    """While the validate notebook runs in-process: a suite whose table (values, dtypes, column roles) and
    parameters are those of the good drop's run gives that run's outcome instead of validating again
    (Great Expectations takes seconds per run of the 26 suites; the result is a function of table and
    parameters), and the Data Docs (never part of a failure's message) are not built. ``record`` collects
    each suite's (table, parameters, outcome) of a run made in full."""
    from evalpipe import validation

    real = validation.run_suite

    def run_suite(table, suite_json, parameters, data_docs_dir=None, context=None):
        name = suite_json["name"]
        if good is not None and name in good:
            good_suite, good_table, good_parameters, good_outcome = good[name]
            if (suite_json == good_suite and parameters == good_parameters and table.attrs == good_table.attrs
                    and list(table.dtypes) == list(good_table.dtypes) and table.equals(good_table)):
                return good_outcome
        outcome = real(table, suite_json, parameters, data_docs_dir=data_docs_dir, context=context)
        if record is not None:
            record[name] = (suite_json, table.copy(), parameters, outcome)
        return outcome

    with mock.patch.object(validation, "run_suite", run_suite), \
            mock.patch.object(validation, "build_data_docs", lambda context: None):
        yield


def run_stages(project: Path, good: dict | None = None, record: dict | None = None) -> tuple[str, str] | None:
    """The failure path and the first line ``pipeline.py run`` prints for the drop in ``project/data/raw``
    (None if nothing failed): the pre-flight of ``run_pipeline``, then the clean and validate stages (the
    later stages read only what these two have checked)."""
    from evalpipe.drop import load_drop
    from evalpipe.errors import PipelineError
    from evalpipe.runner import RunParameters
    from evalpipe.schemas import check_drop

    params = RunParameters(evaluation="midterm", cutoff="2020Q2", lang="es", raw_dir="data/raw",
                           processed_dir=f"data/processed/{LABEL}", run_dir=f"reports/{LABEL}",
                           expectations_dirs=["expectations"])
    injected = asdict(params) | {"run_dir": STAGING_RUN, "processed_dir": f"data/processed/.staging/{LABEL}"}
    try:
        load_drop(project / "data" / "raw", project)
        checked = check_drop(project / "data" / "raw", project)
    except PipelineError as exc:
        return PREFLIGHT, f"error: {exc}"
    # The clean notebook checks the drop again, as the runner just did: the same call gives the same answer.
    with _suites_reused(good, record), mock.patch("evalpipe.schemas.check_drop", lambda *a, **k: checked):
        for path, stage, notebook in ((CLEAN, "clean", "01_clean.ipynb"), (VALIDATE, "validate", "02_validate.ipynb")):
            try:
                _execute_stage(stage, notebook, injected)
            except PipelineError as exc:  # StageFailed
                return path, f"error: {exc}"
    return None


def run_in_process(project: Path, good: dict) -> tuple[str, str]:
    failure = run_stages(project, good)
    assert failure is not None, "the run did not fail"
    return failure


def bare_project(folder: Path, raw: Path) -> Path:
    """A project holding the drop ``raw``, the suites and the root markers, the working directory in it."""
    shutil.copytree(raw, folder / "data" / "raw")
    (folder / "expectations").symlink_to(ROOT / "expectations")
    (folder / "notebooks").mkdir()
    (folder / "pipeline.py").write_text("# the project's root marker\n", encoding="utf-8")
    os.chdir(folder)
    return folder


@pytest.fixture(scope="module")
def good_suites(tmp_path_factory) -> dict:
    """Each suite's table, parameters and outcome in a full in-process run of the good drop (which passes)."""
    record: dict = {}
    previous = os.getcwd()
    try:
        assert run_stages(bare_project(tmp_path_factory.mktemp("good"), ROOT / "data" / "raw"), record=record) is None
    finally:
        os.chdir(previous)
    assert len(record) == 26 and all(outcome.success for *_, outcome in record.values())
    return record


@pytest.fixture
def drop_project(tmp_path: Path, monkeypatch) -> Path:
    """A bare project with the shipped drop; the working directory in it for the test."""
    monkeypatch.chdir(tmp_path)
    return bare_project(tmp_path / "project", ROOT / "data" / "raw")


def check_message(case: Case, message: str, places: list[str]) -> None:
    """One line naming the file, the places the mutation touched and what was expected."""
    assert message.startswith("error: ")
    assert "\n" not in message
    assert case.file.split("/")[-1] in message, message
    for words in case.expected + places:
        assert words in message, (words, message)
    assert "expected" in message and ".staging" not in message


def _tiered(case: Case):
    # make test-fast keeps the pre-flight cases (milliseconds) and, of the notebook paths, the cases that also
    # run end to end; the other notebook cases execute the clean notebook's code (about a second each) or the
    # Great Expectations suites (seconds) and run in make test.
    slow = PATH_OF[case.name] != PREFLIGHT and case.name not in END_TO_END or PATH_OF[case.name] == VALIDATE
    return pytest.param(case, id=case.name, marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("case", [_tiered(c) for c in CASES])
def test_bad_input_stops_with_one_clear_message(request, drop_project, case):
    raw = drop_project / "data" / "raw"
    places = case.mutate(raw)
    raw_before = tree_hashes(raw)
    # Only the validate path reaches the suites: only it needs the good run's outcomes.
    good = request.getfixturevalue("good_suites") if PATH_OF[case.name] == VALIDATE else None
    path, message = run_in_process(drop_project, good)
    assert path == PATH_OF[case.name], message
    check_message(case, message, places)
    assert tree_hashes(raw) == raw_before  # the readers never write to the drop


# ---------------------------------------------------------------- end to end, one case per path

@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("corpus"))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(END_TO_END))
def test_end_to_end_the_cli_prints_the_in_process_message(project, good_suites, tmp_path, monkeypatch, name):
    case = BY_NAME[name]
    raw = project / "data" / "raw"
    backup = project / "raw_backup"
    shutil.copytree(raw, backup)
    reports = project / "reports" / LABEL
    reports_before = tree_hashes(reports)
    try:
        places = case.mutate(raw)
        raw_before = tree_hashes(raw)
        result = subprocess.run([sys.executable, "pipeline.py", "run"], cwd=project, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == case.exit_code, result.stdout + result.stderr
        message = result.stderr.splitlines()[0]
        assert "Traceback" not in result.stderr
        check_message(case, message, places)
        assert tree_hashes(raw) == raw_before  # raw files byte-identical before and after the run
        assert tree_hashes(reports) == reports_before  # the last good reports untouched
        # The same drop, in-process: the same path and the very same line.
        monkeypatch.chdir(tmp_path)
        bare = bare_project(tmp_path / "bare", raw)
        assert run_in_process(bare, good_suites) == (END_TO_END[name], message)
    finally:
        shutil.rmtree(raw)
        shutil.move(backup, raw)


@pytest.mark.slow
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
