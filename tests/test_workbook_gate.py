"""The workbook gate (evalpipe/workbook_gate.py): what a raw workbook must pass before openpyxl opens it,
refused with one line naming the file; and every reader of raw workbooks goes through it."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest

from evalpipe import workbook_gate
from evalpipe.errors import InputError
from evalpipe.workbook_gate import open_workbook

from conftest import ROOT

NAME = "informe_2020T2.xlsx"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
RAW = ROOT / "data" / "raw"


def refused(path: Path, display: str = NAME) -> InputError:
    with pytest.raises(InputError) as info:
        open_workbook(path, display)
    error = info.value
    assert error.file == display and (error.sheet, error.row, error.column) == (None, None, None)
    assert str(error).startswith(f"file {display}") and f"expected {error.expected}" in str(error)
    return error


def a_workbook(tmp_path: Path, workbook_writer, name: str = NAME) -> Path:
    return workbook_writer(tmp_path / name, [["1.2.1.1", "Indicador de prueba", 100, 10, None]])


def test_a_good_workbook_opens_read_only_keeping_formulas_as_text_and_no_links(tmp_path, workbook_writer,
                                                                               monkeypatch):
    path = a_workbook(tmp_path, workbook_writer)
    calls = []
    real = __import__("openpyxl").load_workbook
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: calls.append(k) or real(*a, **k))
    workbook = open_workbook(path, NAME)
    workbook.close()
    assert calls == [{"read_only": True, "data_only": False, "keep_links": False}]


def test_an_empty_file(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"")
    error = refused(path)
    assert ".xlsx workbook" in error.expected
    assert error.found == "an empty file"


def test_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / NAME
    path.write_text("Código;Valor acumulado\n1.2.1.1;5\n", encoding="utf-8")
    error = refused(path)
    assert ".xlsx workbook" in error.expected
    assert error.found == "a file that is not an .xlsx workbook"


def test_an_encrypted_or_legacy_office_file(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(OLE_MAGIC + b"\x00" * 1024)
    error = refused(path)
    assert "not password-protected" in error.expected
    assert error.found == "an encrypted or legacy Office file"


@pytest.mark.parametrize("suffix", [".xlsm", ".xls", ".xlsb"])
def test_a_macro_enabled_or_legacy_name_is_refused_before_opening(tmp_path, workbook_writer, suffix):
    path = a_workbook(tmp_path, workbook_writer, f"informe_2020T2{suffix}")
    error = refused(path, path.name)
    assert "without macros" in error.expected
    assert suffix in error.found


def test_a_zip_with_a_macro_project_inside(tmp_path, workbook_writer):
    path = a_workbook(tmp_path, workbook_writer)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00" * 16)
    error = refused(path)
    assert "without macros" in error.expected
    assert error.found == "a macro project inside"


def test_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / NAME
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hola")
    assert refused(path).found == "a zip archive that is not a workbook"


def test_a_zip_bomb_is_refused_from_the_archive_directory_before_openpyxl_opens_it(tmp_path, workbook_writer,
                                                                                  monkeypatch):
    path = a_workbook(tmp_path, workbook_writer)
    with zipfile.ZipFile(path) as archive:
        total = sum(info.file_size for info in archive.infolist())
    monkeypatch.setattr(workbook_gate, "MAX_UNCOMPRESSED_BYTES", total - 1)
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(a))
    error = refused(path)
    assert "unpacks to under" in error.expected
    assert "uncompressed" in error.found
    assert opened == []  # refused before openpyxl was asked to open it


def test_a_zip_at_the_uncompressed_limit_opens(tmp_path, workbook_writer, monkeypatch):
    path = a_workbook(tmp_path, workbook_writer)
    with zipfile.ZipFile(path) as archive:
        total = sum(info.file_size for info in archive.infolist())
    monkeypatch.setattr(workbook_gate, "MAX_UNCOMPRESSED_BYTES", total)
    open_workbook(path, NAME).close()


def test_a_file_larger_than_the_workbook_limit(tmp_path, workbook_writer, monkeypatch):
    path = a_workbook(tmp_path, workbook_writer)
    monkeypatch.setattr(workbook_gate, "MAX_WORKBOOK_BYTES", path.stat().st_size - 1)
    assert refused(path).expected.startswith("a workbook under")
    monkeypatch.setattr(workbook_gate, "MAX_WORKBOOK_BYTES", path.stat().st_size)
    open_workbook(path, NAME).close()


def test_a_damaged_workbook_is_one_line_not_a_traceback(tmp_path, workbook_writer):
    path = a_workbook(tmp_path, workbook_writer)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/workbook.xml"] = b"<not xml"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    error = refused(path)
    assert error.expected == "an .xlsx workbook that opens"


# ------------------------------------------------------------------ every reader goes through the gate

def test_only_the_gate_asks_openpyxl_to_load_a_workbook():
    """No other module of the package opens a workbook itself (which would skip the gate)."""
    callers = []
    for path in sorted((ROOT / "evalpipe").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "load_workbook" or \
                    isinstance(node, ast.Name) and node.id == "load_workbook" or \
                    isinstance(node, ast.alias) and node.name == "load_workbook":
                callers.append(path.name)
    assert set(callers) == {"workbook_gate.py"}


def test_the_progress_finance_and_microdata_readers_refuse_what_the_gate_refuses(monkeypatch, lfm):
    """With the size limit lowered to one byte, each reader of the shipped drop's workbooks says the gate's
    line: it opened its workbook through the gate."""
    from evalpipe import finance_read, microdata
    from evalpipe.quarters import parse_quarter
    from evalpipe.readers import read_progress_report

    monkeypatch.setattr(workbook_gate, "MAX_WORKBOOK_BYTES", 1)
    report = sorted((RAW / "progress_reports").glob("*.xlsx"))[0]
    xlsx_source = next(s for s in microdata.load_sources(RAW, ROOT).values() if s.file.lower().endswith(".xlsx"))
    readers = {"progress": lambda: read_progress_report(report),
               "finance": lambda: finance_read.load_finance(RAW, lfm, parse_quarter("2020Q2"), ROOT),
               "microdata": lambda: microdata.read_source(RAW, xlsx_source, ROOT)}
    for name, read in readers.items():
        with pytest.raises(InputError) as info:
            read()
        assert info.value.expected.startswith("a workbook under"), name
        assert info.value.file.endswith(".xlsx"), name
