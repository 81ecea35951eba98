"""The quarterly progress report reader, and the sheet helpers the other workbook readers share.

``read_progress_report`` finds the indicator table under whatever title block the team wrote, maps the
Spanish headers it knows, and returns every value with its provenance. Every workbook is opened through
the workbook gate (``workbook_gate.open_workbook``); the helpers here (``fold_header``, ``merged_ranges``,
``is_hidden``) are used by the microdata and finance readers too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import cleaning
from .errors import InputError
from .quarters import Quarter, find_quarter, quarter_from_period
from .workbook_gate import open_workbook

HEADER_SEARCH_ROWS = 30

# Header text (folded: lower case, no accents, no punctuation) -> canonical column.
HEADER_ALIASES: dict[str, set[str]] = {
    "code": {"codigo", "cod", "cod indicador", "codigo del indicador", "codigo indicador", "n indicador",
             "no indicador", "nro indicador", "indicador n"},
    "name": {"indicador", "descripcion", "descripcion del indicador", "nombre del indicador", "indicadores"},
    "target": {"meta", "meta total", "meta final", "meta del proyecto", "valor meta"},
    "value": {"valor acumulado", "avance acumulado", "acumulado", "logro acumulado", "valor acumulado al trimestre",
              "avance acumulado al trimestre", "acumulado a la fecha"},
    "comment": {"comentarios", "comentario", "observaciones", "notas", "comentarios observaciones"},
}
REQUIRED_HEADERS = ("code", "value")
DISPLAY_HEADER = {"code": "Código", "value": "Valor acumulado", "name": "Indicador", "target": "Meta",
                  "comment": "Comentarios"}


def fold_header(cell: object) -> str:
    text = unicodedata.normalize("NFKD", cleaning.normalize_text(cell))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_ALIAS_LOOKUP = {alias: canonical for canonical, aliases in HEADER_ALIASES.items() for alias in aliases}


@dataclass
class ProgressRecord:
    """One indicator row of one quarterly report, with where it came from."""

    indicator_id: str
    code_raw: str
    quarter: str
    value: float | None
    value_raw: str
    value_flag: str
    footnote_mark: bool
    comment: str
    source_file: str
    source_sheet: str
    source_row: int
    source_column: str
    source_code_column: str
    # The report's own «Meta» (target) cell, when the table has that column: compared with the logframe's
    # target (progress.target_warnings); not used for any figure.
    target: float | None = None
    target_raw: str = ""
    target_column: str = ""


def parse_target(cell: object) -> float | None:
    """A «Meta» cell as a number ("12", 12, "1.250", "80%", "0,5"); None when blank or not a number."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return None if cell != cell else float(cell)
    text = cleaning.normalize_text(cell).replace("%", "").replace(" ", "")
    if not text:
        return None
    try:
        return cleaning.parse_cumulative_value(text).value
    except cleaning.CellFormatError:
        pass
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


@dataclass
class ProgressReport:
    """What one workbook gave: its quarter, the sheet used, the records and what was passed over."""

    file: str
    quarter: Quarter
    sheet: str
    header_row: int
    records: list[ProgressRecord]
    ignored_sheets: list[str] = field(default_factory=list)
    heading_rows: int = 0
    hidden: bool = False  # the indicator table is on a sheet hidden in Excel (read, with a warning)


_MERGE_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]{1,3}\d+(?::[A-Za-z]{1,3}\d+)?)\"")


def merged_ranges(worksheet) -> list[tuple[int, int, int, int]]:
    """The merged cell ranges of a sheet as (min_row, min_col, max_row, max_col), 1-based.

    Workbooks are opened in read-only mode, where openpyxl does not load merged cells: the sheet's XML
    is then scanned for its ``<mergeCell ref="B3:B4"/>`` elements (streamed, in blocks)."""
    from openpyxl.utils.cell import range_boundaries

    refs: list[str] = []
    if hasattr(worksheet, "merged_cells"):
        refs = [str(cell_range) for cell_range in worksheet.merged_cells.ranges]
    else:
        tail = b""
        with worksheet._get_source() as source:
            while True:
                block = source.read(1 << 20)
                if not block:
                    break
                chunk = tail + block
                cut = chunk.rfind(b"<")
                complete, tail = (chunk[:cut], chunk[cut:]) if cut > 0 else (chunk, b"")
                if len(tail) > 4096:  # no element is that long: keep memory bounded
                    complete, tail = chunk, b""
                refs += [m.group(1).decode("ascii") for m in _MERGE_REF.finditer(complete)]
            refs += [m.group(1).decode("ascii") for m in _MERGE_REF.finditer(tail)]
    ranges = []
    for ref in refs:
        min_col, min_row, max_col, max_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        if (min_row, min_col) != (max_row, max_col):
            ranges.append((min_row, min_col, max_row, max_col))
    return sorted(ranges)


def range_text(bounds: tuple[int, int, int, int]) -> str:
    min_row, min_col, max_row, max_col = bounds
    return f"{_column_letter(min_col - 1)}{min_row}:{_column_letter(max_col - 1)}{max_row}"


def is_hidden(worksheet) -> bool:
    """True for a sheet hidden in Excel (state 'hidden' or 'veryHidden')."""
    return getattr(worksheet, "sheet_state", "visible") in ("hidden", "veryHidden")


def _find_header(rows: list[tuple], display: str, sheet: str) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            canonical = _ALIAS_LOOKUP.get(fold_header(cell))
            if canonical and canonical not in columns:
                columns[canonical] = position
        if all(key in columns for key in REQUIRED_HEADERS):
            return index, columns
    return None


def _title_quarter(rows: list[tuple], header_index: int) -> tuple[Quarter, int, int] | None:
    """The period written in the title block (above the header), with its row and column.

    The period may share the cell with its label ("Periodo: abril - junio 2020") or follow it in the
    next cells of the row ("Periodo:" | "abril - junio 2020").
    """
    for index, row in enumerate(rows[:header_index]):
        for position, cell in enumerate(row):
            text = cleaning.normalize_text(cell)
            if not re.search(r"(?i)peri[oó]do|trimestre\b", text):
                continue
            for offset, candidate in enumerate(row[position:position + 4]):
                quarter = quarter_from_period(cleaning.normalize_text(candidate))
                if quarter is not None:
                    return quarter, index, position + offset
    return None


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_progress_report(path: Path, display: str | None = None) -> ProgressReport:
    """Read one quarterly progress report workbook (format documented in data/raw/README.md)."""
    path = Path(path)
    display = display or path.name
    quarter = find_quarter(path.stem)
    if quarter is None:
        raise InputError(display, "a file name that contains its quarter, e.g. informe_progreso_2020T2.xlsx",
                         found=path.name)
    workbook = open_workbook(path, display)
    try:
        candidates = []
        ignored = []
        for sheet_name in workbook.sheetnames:
            rows = [tuple(row) for row in workbook[sheet_name].iter_rows(min_row=1, values_only=True)]
            header = _find_header(rows, display, sheet_name)
            if header is None:
                ignored.append(sheet_name)
            else:
                worksheet = workbook[sheet_name]
                candidates.append((sheet_name, rows, header, merged_ranges(worksheet), is_hidden(worksheet)))
    finally:
        workbook.close()
    if not candidates:
        raise InputError(display, f"a sheet with a header row holding '{DISPLAY_HEADER['code']}' and "
                         f"'{DISPLAY_HEADER['value']}' within its first {HEADER_SEARCH_ROWS} rows",
                         found=f"sheets {', '.join(ignored) or '(none)'}")
    if len(candidates) > 1:
        raise InputError(display, "exactly one sheet with the indicator table",
                         found=f"sheets {', '.join(candidate[0] for candidate in candidates)}")
    sheet_name, rows, (header_index, columns), merged, hidden = candidates[0]
    header_row = rows[header_index]

    title = _title_quarter(rows, header_index)
    if title is not None and title[0] != quarter:
        _, title_row, title_col = title
        raise InputError(display, f"the period of the title block to match the quarter in the file name ({quarter})",
                         sheet=sheet_name, row=title_row + 1, column=_column_letter(title_col),
                         found=cleaning.normalize_text(rows[title_row][title_col]))

    def header_name(key: str) -> str:
        return cleaning.normalize_text(header_row[columns[key]]) or DISPLAY_HEADER[key]

    _refuse_merged_values(merged, rows, header_index, columns, display, sheet_name, header_name)

    records: list[ProgressRecord] = []
    heading_rows = 0
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        excel_row = index + 1

        def cell(key: str) -> object:
            position = columns.get(key)
            return row[position] if position is not None and position < len(row) else None

        code_cell, value_cell = cell("code"), cell("value")
        for key in ("code", "value"):
            raw = cell(key)
            if isinstance(raw, str) and raw.startswith("="):
                raise InputError(display, "a typed value, not a formula (paste values only)", sheet=sheet_name,
                                 row=excel_row, column=header_name(key), found=raw)
        code_text = cleaning.normalize_text(code_cell)
        value_text = cleaning.normalize_text(value_cell)
        if not code_text:
            if value_text:
                raise InputError(display, "an indicator code in the same row as the value", sheet=sheet_name,
                                 row=excel_row, column=header_name("code"), found=code_cell)
            continue
        if not cleaning.looks_like_code(code_text):
            if value_text:
                raise InputError(display, "an indicator code such as 1.2.3.4", sheet=sheet_name, row=excel_row,
                                 column=header_name("code"), found=code_cell)
            heading_rows += 1  # a section heading such as "Objetivo 1" or "Producto 4.3.2"
            continue
        if isinstance(code_cell, (int, float)):
            raise InputError(display, "an indicator code written as text, e.g. 1.2.3.4 (Excel turned it into a "
                             "number; format the column as Text)", sheet=sheet_name, row=excel_row,
                             column=header_name("code"), found=code_cell)
        code = cleaning.normalize_code(code_text)
        depth = cleaning.code_depth(code)
        if depth < 4:
            heading_rows += 1  # an output or outcome heading row, e.g. "1.2.3"
            if value_text:
                raise InputError(display, "values only on indicator rows (four-part codes such as 1.2.3.4)",
                                 sheet=sheet_name, row=excel_row, column=header_name("value"), found=value_cell)
            continue
        if depth > 4:
            raise InputError(display, "an indicator code with four parts, such as 1.2.3.4", sheet=sheet_name,
                             row=excel_row, column=header_name("code"), found=code_cell)
        try:
            clean = cleaning.parse_cumulative_value(value_cell)
        except cleaning.CellFormatError as exc:
            raise InputError(display, exc.expected, sheet=sheet_name, row=excel_row, column=header_name("value"),
                             found=value_cell) from None
        records.append(ProgressRecord(
            indicator_id=code,
            code_raw=str(code_cell),
            quarter=str(quarter),
            value=clean.value,
            value_raw="" if value_cell is None else str(value_cell),
            value_flag=clean.flag,
            footnote_mark=clean.footnote_mark,
            comment=cleaning.normalize_text(cell("comment")),
            source_file=display,
            source_sheet=sheet_name,
            source_row=excel_row,
            source_column=header_name("value"),
            source_code_column=header_name("code"),
            target=parse_target(cell("target")),
            target_raw="" if cell("target") is None else cleaning.normalize_text(cell("target")),
            target_column=header_name("target") if "target" in columns else "",
        ))
    if not records:
        raise InputError(display, "at least one indicator row under the header", sheet=sheet_name,
                         row=header_index + 1, found="no indicator rows")
    return ProgressReport(display, quarter, sheet_name, header_index + 1, records, ignored, heading_rows, hidden)


def _refuse_merged_values(merged: list[tuple[int, int, int, int]], rows: list[tuple], header_index: int,
                          columns: dict[str, int], display: str, sheet: str, header_name: Callable[[str], str]) -> None:
    """Merged cells over the codes or values of indicator rows change a figure (only the first cell of a
    merged range keeps its content; the others read as empty): refuse them, naming the range.

    A merged range that stays within one row and covers only a heading (``Objetivo 1``, an output's
    heading row, a title) is layout and accepted; so is a range whose first cell is the value itself and that
    only extends into the columns to its right other than the code."""
    guarded = {key: columns[key] + 1 for key in ("code", "value")}  # 1-based columns
    first_data_row = header_index + 2
    for bounds in merged:
        min_row, min_col, max_row, max_col = bounds
        if max_row < first_data_row:
            continue  # title block or header
        covered = [key for key, col in guarded.items() if min_col <= col <= max_col]
        if not covered:
            continue
        if min_row == max_row:
            row = rows[min_row - 1] if min_row - 1 < len(rows) else ()
            indicator_row = any(cleaning.looks_like_code(cell) and
                                cleaning.code_depth(cleaning.normalize_code(cleaning.normalize_text(cell))) >= 4
                                for cell in row if isinstance(cell, str))
            top_left_only = covered == ["value"] and min_col == guarded["value"]
            if not indicator_row or top_left_only:
                continue
        key = "value" if "value" in covered else "code"
        raise InputError(display, "one indicator per row, with its code and its value each in a cell of their own "
                         "(merged cells would give their content to the first row or column only: unmerge them "
                         "and write each indicator's value in its own row)", sheet=sheet,
                         row=max(min_row, first_data_row), column=header_name(key),
                         found=f"merged cells {range_text(bounds)}")
