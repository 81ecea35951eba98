"""Outcome microdata: the files each ficha técnica cites, declared in ``microdata/sources.yaml``.

A source declares its file, its columns and their types. Reading keeps only the declared columns
(undeclared ones — names, ID numbers, e-mails a partner may have left in — are dropped and reported),
parses each value by type, and adds the provenance of every row (file, sheet, row).

Personal data: values of identifier ("id") and free-text ("text") columns are never echoed in a message
(``evalpipe.privacy.mask_value``); an id whose values look like a DNI, an e-mail or a phone number is refused
as not pseudonymous; a free-text column no ficha uses is withheld (its values replaced by neutral codes that
keep only equality: ``withheld-1``, ``withheld-2``...); kept text and category values are scanned for DNI,
e-mail and phone shapes, each hit masked (``[DNI]``, ``[EMAIL]``, ``[PHONE]``) and counted.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import cleaning, privacy
from .errors import InputError, require_stage_output
from .readers import open_workbook

MICRODATA_DIR = "microdata"
SOURCES_FILE = "sources.yaml"
COLUMN_TYPES = ("id", "text", "category", "number", "date")
PROVENANCE_COLUMNS = ["source_file", "source_sheet", "source_row"]
DIRECT_IDENTIFIER = re.compile(
    r"(?i)\b(nombres?|apellidos?|dni|documento|pasaporte|correo|e-?mail|tel[eé]fono|celular|direcci[oó]n)\b")
_NULL_TOKENS = {"", "na", "n/a", "-", "—"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class Source:
    """One microdata file as declared in sources.yaml."""

    key: str
    file: str
    columns: tuple[Column, ...]
    sheet: str | None = None
    description: str = ""
    suite: str | None = None
    sensitive: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class SourceTable:
    """A microdata table as read, with what the reader dropped."""

    source: Source
    table: pd.DataFrame
    dropped_columns: list[str] = field(default_factory=list)
    dropped_identifiers: list[str] = field(default_factory=list)
    withheld_text_columns: list[str] = field(default_factory=list)  # free text no ficha uses
    identifiers_masked: int = 0  # DNI, e-mail or phone shapes masked in kept text and category values


def load_sources(raw_dir: Path, project_root: Path | None = None, *, allow_outside: bool = False
                 ) -> dict[str, Source]:
    """microdata/sources.yaml, read safely and checked against ``schemas.SOURCES`` (an empty dict when
    the drop has no microdata)."""
    from .paths import display_path, inside_drop
    from .safeyaml import read_yaml
    from .schemas import SOURCES, validate

    path = Path(raw_dir) / MICRODATA_DIR / SOURCES_FILE
    display = display_path(path, project_root) if project_root else f"{MICRODATA_DIR}/{SOURCES_FILE}"
    if not path.exists() and not path.is_symlink():
        return {}
    inside_drop(path.parent, raw_dir, display_path(path.parent, project_root) if project_root else MICRODATA_DIR,
                allow_outside=allow_outside, what="folder")
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    document = read_yaml(path, display)
    specs = validate(SOURCES, {} if document.data is None else document.data, display, document=document)
    return {key: Source(key=key, file=spec.file, sheet=spec.sheet, description=spec.description,
                        suite=spec.suite or key, sensitive=spec.sensitive,
                        columns=tuple(Column(name, column.type, column.description)
                                      for name, column in spec.columns.items()))
            for key, spec in specs.items()}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", cleaning.normalize_text(text))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _read_raw(path: Path, source: Source, display: str) -> tuple[pd.DataFrame, str | None, int]:
    """The file's cells as text, its sheet name, and the 1-based row of its header."""
    if path.suffix.lower() == ".csv":
        raw_bytes = path.read_bytes()
        try:
            text = raw_bytes.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw_bytes[:exc.start].count(b"\n") + 1
            raise InputError(display, "a CSV file encoded in UTF-8 (save as 'CSV UTF-8')", row=line,
                             found=f"byte 0x{raw_bytes[exc.start]:02x}") from None
        from io import StringIO

        try:
            frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
        except pd.errors.ParserError as exc:
            raise InputError(display, "a well-formed CSV table (one header row)", found=str(exc)) from None
        return frame, None, 1
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".xlsb"):
        workbook = open_workbook(path, display)
        try:
            sheet_name = source.sheet or workbook.sheetnames[0]
            if sheet_name not in workbook.sheetnames:
                raise InputError(display, f"a sheet named '{sheet_name}'",
                                 found=f"sheets {', '.join(workbook.sheetnames)}")
            rows = [list(r) for r in workbook[sheet_name].iter_rows(min_row=1, values_only=True)]
        finally:
            workbook.close()
        if not rows:
            raise InputError(display, "a header row", sheet=sheet_name, row=1, found="an empty sheet")
        header = [cleaning.normalize_text(c) for c in rows[0]]
        body = rows[1:]
        types = {_fold(c.name): c.type for c in source.columns}
        for r, row in enumerate(body, start=2):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    column = header[c] if c < len(header) else f"#{c + 1}"
                    # ids, free text and undeclared columns (names, DNI...) are never echoed
                    private = types.get(_fold(str(column)), "id") in privacy.PRIVATE_TYPES
                    raise InputError(display, "a typed value, not a formula (paste values only)", sheet=sheet_name,
                                     row=r, column=column, found=value, private=private)
        frame = pd.DataFrame([[("" if v is None else v) for v in row[:len(header)]] for row in body],
                             columns=header)
        return frame, sheet_name, 1
    raise InputError(display, "a .csv or .xlsx file", found=path.suffix or "no extension")


def _parse_column(values: pd.Series, column: Column, display: str, sheet: str | None) -> pd.Series:
    parsed = []
    for position, value in enumerate(values):
        row = int(values.index[position]) + 2
        if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            text = value
        else:
            text = cleaning.normalize_text(value)
        if isinstance(text, str) and text.lower() in _NULL_TOKENS:
            parsed.append(None)
            continue
        if column.type == "number":
            if isinstance(text, (int, float)) and not isinstance(text, bool):
                parsed.append(float(text))
                continue
            candidate = str(text).replace(",", ".") if re.fullmatch(r"-?\d+,\d+", str(text)) else str(text)
            try:
                parsed.append(float(candidate))
            except ValueError:
                raise InputError(display, "a number", sheet=sheet, row=row, column=column.name,
                                 found=privacy.mask_identifiers(value)[0]) from None
        elif column.type == "date":
            if hasattr(text, "year"):
                parsed.append(pd.Timestamp(text).normalize())
                continue
            match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4})", str(text))
            if not match:
                raise InputError(display, "a date written YYYY-MM-DD or DD/MM/YYYY", sheet=sheet, row=row,
                                 column=column.name, found=privacy.mask_identifiers(value)[0])
            try:
                if match.group(1):
                    parsed.append(pd.Timestamp(int(match.group(1)), int(match.group(2)), int(match.group(3))))
                else:
                    parsed.append(pd.Timestamp(int(match.group(6)), int(match.group(5)), int(match.group(4))))
            except ValueError:
                raise InputError(display, "a calendar date", sheet=sheet, row=row, column=column.name,
                                 found=value) from None
        else:
            parsed.append(str(text))
    if column.type == "number":
        return pd.Series(parsed, dtype="float64", index=values.index)
    if column.type == "date":
        return pd.to_datetime(pd.Series(parsed, index=values.index, dtype="object"))
    return pd.Series(parsed, dtype="object", index=values.index)


def _protect(typed: pd.DataFrame, source: Source, used_columns: set[str] | None, display: str, sheet: str | None,
             header_row: int) -> tuple[list[str], int]:
    """Refuse ids shaped like direct identifiers; withhold unused free text; mask identifiers in kept text."""
    withheld, masked = [], 0
    for column in source.columns:
        values = typed[column.name]
        if column.type == "id":
            for index, value in values.items():
                kind = privacy.identifier_kind(value)
                if kind:
                    raise InputError(display, f"a pseudonymous identifier (a project code such as VR-001), not a "
                                     f"personal {kind}: replace the column's values with codes", sheet=sheet,
                                     row=int(index) + header_row + 1, column=column.name, found=value, private=True)
        elif column.type == "text" and used_columns is not None and column.name not in used_columns:
            codes: dict[str, str] = {}
            typed[column.name] = [None if v is None else codes.setdefault(v, f"withheld-{len(codes) + 1}")
                                  for v in values]
            withheld.append(column.name)
        elif column.type in ("text", "category"):
            scanned = [privacy.mask_identifiers(v) for v in values]
            masked += sum(hits for _, hits in scanned)
            typed[column.name] = pd.Series([v for v, _ in scanned], index=values.index, dtype="object")
    return withheld, masked


def read_source(raw_dir: Path, source: Source, project_root: Path | None = None,
                used_columns: set[str] | None = None, *, allow_outside: bool = False) -> SourceTable:
    """Read one declared microdata file: declared columns only, typed, with provenance per row.

    ``used_columns``: the columns the fichas use (``fichas.columns_used_by_fichas``); declared free-text
    columns outside it are withheld. ``None`` reads them from the drop's fichas."""
    from .paths import display_path, inside_drop

    path = Path(raw_dir) / MICRODATA_DIR / source.file
    display = display_path(path, project_root) if project_root else source.file
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    if not path.exists():
        raise InputError(display, f"the file declared for source '{source.key}' in {MICRODATA_DIR}/{SOURCES_FILE}",
                         found="missing file")
    frame, sheet, header_row = _read_raw(path, source, display)
    folded = {_fold(name): name for name in frame.columns}
    rename = {}
    for column in source.columns:
        actual = folded.get(_fold(column.name))
        if actual is None:
            raise InputError(display, f"a column '{column.name}' ({column.type})", sheet=sheet, row=header_row,
                             column=column.name, found=f"columns {', '.join(map(str, frame.columns))}")
        rename[actual] = column.name
    dropped = [str(c) for c in frame.columns if c not in rename]
    identifiers = [c for c in dropped if DIRECT_IDENTIFIER.search(c)]
    table = frame[list(rename)].rename(columns=rename)
    blank_rows = table.apply(lambda r: all(cleaning.normalize_text(v) == "" for v in r), axis=1)
    table = table[~blank_rows]
    typed = pd.DataFrame(index=table.index)
    for column in source.columns:
        typed[column.name] = _parse_column(table[column.name], column, display, sheet)
    if used_columns is None:
        from .fichas import columns_used_by_fichas  # fichas imports this module

        used_columns = columns_used_by_fichas(raw_dir).get(source.key, set())
    withheld, masked = _protect(typed, source, used_columns, display, sheet, header_row)
    typed["source_file"] = display
    typed["source_sheet"] = sheet or ""
    typed["source_row"] = (typed.index + header_row + 1).astype("int64")
    typed = typed.reset_index(drop=True)
    typed.attrs["column_types"] = {c.name: c.type for c in source.columns}
    return SourceTable(source, typed, dropped, identifiers, withheld, masked)


def write_processed(table: SourceTable, processed_dir: Path) -> Path:
    out = Path(processed_dir) / MICRODATA_DIR / f"{table.source.key}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = table.table.copy()
    for column in table.source.columns:
        if column.type == "date":
            frame[column.name] = frame[column.name].dt.strftime("%Y-%m-%d")
    frame.to_csv(out, index=False, lineterminator="\n")
    return out


def read_processed(processed_dir: Path, source: Source) -> pd.DataFrame:
    path = Path(processed_dir) / MICRODATA_DIR / f"{source.key}.csv"
    require_stage_output(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in source.columns:
        values = frame[column.name].replace("", None)
        if column.type == "number":
            frame[column.name] = pd.to_numeric(values).astype("float64")
        elif column.type == "date":
            frame[column.name] = pd.to_datetime(values)
        else:
            frame[column.name] = values.astype("object")
    frame["source_row"] = pd.to_numeric(frame["source_row"]).astype("int64")
    # Column roles travel with the table: validation masks id and text values and keeps no samples of them.
    frame.attrs["column_types"] = {c.name: c.type for c in source.columns}
    return frame


def read_all_sources(raw_dir: Path, project_root: Path | None = None, *, allow_outside: bool = False
                     ) -> dict[str, SourceTable]:
    """Every declared source of the drop, read and typed (an empty dict when the drop has none)."""
    from .fichas import columns_used_by_fichas  # fichas imports this module

    used = columns_used_by_fichas(raw_dir)
    return {key: read_source(raw_dir, source, project_root, used.get(key, set()), allow_outside=allow_outside)
            for key, source in load_sources(raw_dir, project_root, allow_outside=allow_outside).items()}


def sources_summary(tables: dict[str, SourceTable]) -> pd.DataFrame:
    """One line per source: rows read, what was dropped or withheld (column names only, never values) and
    how many DNI, e-mail or phone shapes were masked in the kept text and category values."""
    return pd.DataFrame([{
        "source": key, "file": Path(t.source.file).name, "rows": len(t.table), "columns": len(t.source.columns),
        "columns_dropped": ", ".join(t.dropped_columns), "direct_identifiers_dropped": ", ".join(t.dropped_identifiers),
        "text_columns_withheld": ", ".join(t.withheld_text_columns), "identifiers_masked": t.identifiers_masked,
        "sensitive": t.source.sensitive,
    } for key, t in tables.items()], columns=["source", "file", "rows", "columns", "columns_dropped",
                                              "direct_identifiers_dropped", "text_columns_withheld",
                                              "identifiers_masked", "sensitive"])
