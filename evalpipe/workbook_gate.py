"""The workbook gate: the checks every raw workbook passes before openpyxl is asked to open it.

A data drop comes from partners; a workbook is an untrusted zip archive. ``open_workbook`` is the one way
the pipeline opens a raw workbook (progress reports, microdata, finance): it refuses, with one line naming
the file,

- an empty file, or one larger than ``MAX_WORKBOOK_BYTES``;
- a macro-enabled or legacy file by its name (``.xlsm``, ``.xls``, ``.xlsb``), an encrypted or legacy
  Office file (OLE) or anything else that is not a zip archive;
- a zip bomb: an archive that unpacks to more than ``MAX_UNCOMPRESSED_BYTES`` (from the archive's own
  directory, before anything is decompressed);
- a macro project inside (``vbaProject.bin``), and a zip archive that is not a workbook;

and then opens it with openpyxl in read-only mode, keeping formulas as text (``data_only=False``: the
readers refuse a formula in a data cell, never evaluate it) and without external links
(``keep_links=False``). A file openpyxl cannot open is one clear error, not a traceback.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .errors import InputError

MAX_WORKBOOK_BYTES = 25 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 250 * 1024 * 1024


def check_workbook_container(path: Path, display: str) -> None:
    """Refuse what openpyxl should never be asked to open: not a zip, too large, a bomb, macros."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(display, "an .xlsx workbook", found="an empty file")
    if size > MAX_WORKBOOK_BYTES:
        raise InputError(display, f"a workbook under {MAX_WORKBOOK_BYTES // 2**20} MiB", found=f"{size / 2**20:.0f} MiB")
    if path.suffix.lower() in (".xlsm", ".xls", ".xlsb"):
        raise InputError(display, "an .xlsx workbook without macros (save it as 'Excel Workbook (.xlsx)')",
                         found=f"a {path.suffix} file")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as handle:
            magic = handle.read(8)
        found = ("an encrypted or legacy Office file" if magic.startswith(b"\xd0\xcf\x11\xe0")
                 else "a file that is not an .xlsx workbook")
        raise InputError(display, "an .xlsx workbook (not password-protected)", found=found)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        total = sum(info.file_size for info in archive.infolist())
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputError(display, f"a workbook that unpacks to under {MAX_UNCOMPRESSED_BYTES // 2**20} MiB",
                         found=f"{total / 2**20:.0f} MiB uncompressed")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise InputError(display, "an .xlsx workbook without macros", found="a macro project inside")
    if "xl/workbook.xml" not in names:
        raise InputError(display, "an .xlsx workbook", found="a zip archive that is not a workbook")


def open_workbook(path: Path, display: str):
    """Every raw workbook is opened the same way: the container checks first
    (``check_workbook_container``), then openpyxl in read-only mode without evaluating formulas or
    following external links; a damaged file is one clear error."""
    import openpyxl  # imported here: only the stages that read workbooks need it

    check_workbook_container(path, display)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InputError(display, "an .xlsx workbook that opens", found=f"{type(exc).__name__}: {exc}") from None
