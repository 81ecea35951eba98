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
from .column_types import COLUMN_TYPES, CellProblem
from .errors import InputError, require_stage_output
from .workbook_gate import open_workbook

MICRODATA_DIR = "microdata"
SOURCES_FILE = "sources.yaml"
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
    encoding: str | None = None  # CSV only; None: detected
    delimiter: str | None = None
    decimal: str | None = None

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
    read_as: str = ""  # how the file was read: "CSV Windows-1252 (detected), ';' (detected), decimal ','"
    categories_normalised: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    # column -> {(written, suite value): count}

    @property
    def n_categories_normalised(self) -> int:
        return sum(sum(counts.values()) for counts in self.categories_normalised.values())


def load_sources(raw_dir: Path, project_root: Path | None = None, *, allow_outside: bool = False
                 ) -> dict[str, Source]:
    """microdata/sources.yaml, read safely and checked against ``schema_base.SOURCES`` (an empty dict when
    the drop has no microdata)."""
    from .paths import display_path, inside_drop
    from .safeyaml import read_yaml
    from .schema_base import SOURCES, validate

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
                        suite=spec.suite or key, sensitive=spec.sensitive, encoding=spec.encoding,
                        delimiter=spec.delimiter, decimal=spec.decimal,
                        columns=tuple(Column(name, column.type, column.description)
                                      for name, column in spec.columns.items()))
            for key, spec in specs.items()}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", cleaning.normalize_text(text))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252", "utf-16": "UTF-16"}
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab"}
# Characters a Spanish or English text may hold besides letters, digits and ASCII punctuation: a Windows-1252
# decoding that yields anything else (control characters, box-drawing, stray symbols) is not plausible.
_PLAUSIBLE_EXTRA = set("¿¡°ºª€£§·«»“”‘’–—…•´¨ ")


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written, and which of it was declared in sources.yaml rather than detected."""

    encoding: str
    delimiter: str
    decimal: str
    declared: frozenset[str] = frozenset()

    def describe(self) -> str:
        def how(key: str) -> str:
            return "declared" if key in self.declared else "detected"

        text = (f"CSV {ENCODING_NAMES.get(self.encoding, self.encoding)} ({how('encoding')}), "
                f"separator {DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))} ({how('delimiter')})")
        if self.decimal == ",":
            text += f", decimal comma ({how('decimal')})"
        return text


def _plausible(text: str) -> bool:
    for ch in set(text):
        if ch.isascii():
            if not ch.isprintable() and ch not in "\r\n\t":
                return False
        elif not (ch.isalpha() or ch in _PLAUSIBLE_EXTRA):
            return False
    return True


def decode_csv(raw_bytes: bytes, display: str, declared: str | None = None) -> tuple[str, str]:
    """The file's text and its encoding: as declared, else UTF-8 (with or without BOM), UTF-16 with a BOM,
    else Windows-1252 when it decodes to plausible text (what Excel writes for 'CSV (delimitado por comas)')."""
    def located(exc: UnicodeDecodeError, expected: str) -> InputError:
        line = raw_bytes[:exc.start].count(b"\n") + 1
        return InputError(display, expected, row=line, found=f"byte 0x{raw_bytes[exc.start]:02x}")

    if declared:
        try:
            return raw_bytes.decode(declared), declared
        except UnicodeDecodeError as exc:
            raise located(exc, f"a CSV file in the encoding declared in {MICRODATA_DIR}/{SOURCES_FILE} "
                          f"({declared})") from None
    if raw_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw_bytes.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise located(exc, "a UTF-16 CSV file (it starts with a UTF-16 mark)") from None
    if raw_bytes.startswith(b"\xef\xbb\xbf"):
        try:
            return raw_bytes.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise located(exc, "a UTF-8 CSV file (it starts with a UTF-8 mark)") from None
    try:
        return raw_bytes.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = raw_bytes.decode("cp1252")
        except UnicodeDecodeError:
            text = None
        if text is not None and _plausible(text):
            return text, "cp1252"
        raise located(utf8_error, "a CSV file encoded in UTF-8 or Windows-1252 (save as 'CSV UTF-8'), or its "
                      f"encoding declared in {MICRODATA_DIR}/{SOURCES_FILE} (encoding: ...)") from None


def sniff_delimiter(text: str) -> str:
    """The separator among ',', ';' and tab: the one that splits the header into the most fields and every
    other line of the first ones into as many; else the one most frequent in the header."""
    import csv

    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    best, best_fields = None, 1
    for delimiter in DELIMITERS:
        counts = [len(fields) for fields in csv.reader(lines, delimiter=delimiter)]
        if counts[0] > best_fields and all(n == counts[0] for n in counts):
            best, best_fields = delimiter, counts[0]
    if best is not None:
        return best
    header = lines[0]
    return max(DELIMITERS, key=lambda d: (header.count(d), d == ","))


def _read_csv(path: Path, source: Source, display: str) -> tuple[pd.DataFrame, CsvFormat]:
    from io import StringIO

    text, encoding = decode_csv(path.read_bytes(), display, source.encoding)
    delimiter = source.delimiter or sniff_delimiter(text)
    decimal = source.decimal or ("," if delimiter == ";" else ".")
    declared = frozenset(key for key in ("encoding", "delimiter", "decimal") if getattr(source, key))
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, sep=delimiter)
    except pd.errors.ParserError as exc:
        raise InputError(display, f"a well-formed CSV table (one header row, fields separated by "
                         f"{DELIMITER_NAMES[delimiter]})", found=str(exc)) from None
    return frame, CsvFormat(encoding, delimiter, decimal, declared)


def _read_raw(path: Path, source: Source, display: str) -> tuple[pd.DataFrame, str | None, int, CsvFormat | None]:
    """The file's cells as text, its sheet name, the 1-based row of its header, and how a CSV was read."""
    if path.suffix.lower() == ".csv":
        frame, csv_format = _read_csv(path, source, display)
        return frame, None, 1, csv_format
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".xlsb"):
        from .readers import merged_ranges, range_text

        workbook = open_workbook(path, display)
        try:
            sheet_name = source.sheet or workbook.sheetnames[0]
            if sheet_name not in workbook.sheetnames:
                raise InputError(display, f"a sheet named '{sheet_name}'",
                                 found=f"sheets {', '.join(workbook.sheetnames)}")
            rows = [list(r) for r in workbook[sheet_name].iter_rows(min_row=1, values_only=True)]
            merged = merged_ranges(workbook[sheet_name])
        finally:
            workbook.close()
        if not rows:
            raise InputError(display, "a header row", sheet=sheet_name, row=1, found="an empty sheet")
        header = [cleaning.normalize_text(c) for c in rows[0]]
        body = rows[1:]
        types = {_fold(c.name): c.type for c in source.columns}
        for bounds in merged:
            min_row, min_col, max_row, max_col = bounds
            declared = [header[c - 1] for c in range(min_col, max_col + 1)
                        if c - 1 < len(header) and _fold(header[c - 1]) in types]
            if max_row >= 2 and declared:
                raise InputError(display, "one value per cell in the declared columns (merged cells give their "
                                 "content to the first row only: unmerge them and repeat the value in each row)",
                                 sheet=sheet_name, row=max(min_row, 2), column=declared[0],
                                 found=f"merged cells {range_text(bounds)}")
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
        return frame, sheet_name, 1, None
    raise InputError(display, "a .csv or .xlsx file", found=path.suffix or "no extension")


def _parse_column(values: pd.Series, column: Column, display: str, sheet: str | None, decimal: str = ".") -> pd.Series:
    """Each cell parsed by its column's type (``column_types.COLUMN_TYPES``); a cell that is not one is refused
    with its place."""
    kind = COLUMN_TYPES[column.type]
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
        try:
            parsed.append(kind.parse(text, decimal))
        except CellProblem as problem:
            found = privacy.mask_identifiers(value)[0] if problem.masked else value
            raise InputError(display, problem.expected, sheet=sheet, row=row, column=column.name,
                             found=found) from None
    return kind.column(parsed, values.index)


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
                used_columns: set[str] | None = None, *, allow_outside: bool = False,
                suite_dirs: list | None = None) -> SourceTable:
    """Read one declared microdata file: declared columns only, typed, with provenance per row.

    ``used_columns``: the columns the fichas use (``fichas.columns_used_by_fichas``); declared free-text
    columns outside it are withheld. ``None`` reads them from the drop's fichas.
    ``suite_dirs``: the folders of the GX suites (the run's ``expectations_dirs``); category values are
    normalised to the suite's spelling (``normalise_categories``). ``None``: the project's ``expectations/``."""
    from .paths import display_path, inside_drop

    path = Path(raw_dir) / MICRODATA_DIR / source.file
    display = display_path(path, project_root) if project_root else source.file
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    if not path.exists():
        raise InputError(display, f"the file declared for source '{source.key}' in {MICRODATA_DIR}/{SOURCES_FILE}",
                         found="missing file")
    frame, sheet, header_row, csv_format = _read_raw(path, source, display)
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
    if len(table):
        table = table[~blank_rows.astype(bool)]
    if table.empty:
        # An empty file cannot support a measurement; reading it as zero rows would turn a template sent by
        # mistake into a figure of 0 (or a failure in a later stage).
        raise InputError(display, f"at least one data row under the header (source '{source.key}'; a file "
                         "with no rows is refused rather than read as a count of zero)", sheet=sheet,
                         row=header_row + 1, found="no rows")
    typed = pd.DataFrame(index=table.index)
    decimal = csv_format.decimal if csv_format is not None else "."
    for column in source.columns:
        typed[column.name] = _parse_column(table[column.name], column, display, sheet, decimal)
    if suite_dirs is None:
        suite_dirs = [Path(project_root) / "expectations" if project_root is not None
                      else Path(__file__).resolve().parents[1] / "expectations"]
    normalised = normalise_categories(typed, source, table, allowed_values(source, suite_dirs))
    if used_columns is None:
        from .fichas import columns_used_by_fichas  # fichas imports this module

        used_columns = columns_used_by_fichas(raw_dir).get(source.key, set())
    withheld, masked = _protect(typed, source, used_columns, display, sheet, header_row)
    typed["source_file"] = display
    typed["source_sheet"] = sheet or ""
    typed["source_row"] = (typed.index + header_row + 1).astype("int64")
    typed = typed.reset_index(drop=True)
    typed.attrs["column_types"] = {c.name: c.type for c in source.columns}
    read_as = csv_format.describe() if csv_format is not None else f"workbook, sheet '{sheet}'"
    return SourceTable(source, typed, dropped, identifiers, withheld, masked, read_as, normalised)


def fold_category(value: object) -> str:
    """A category value up to case, accents and spaces: ' Sí ' -> 'si'."""
    return re.sub(r"\s+", " ", _fold(str(value))).strip().casefold()


def allowed_values(source: Source, suite_dirs: list | None) -> dict[str, list]:
    """The allowed values of each category column, from the source's suite
    (``expect_column_values_to_be_in_set`` with a literal value set); {} when the suite is not found."""
    from .validation import find_suite

    if not suite_dirs:
        return {}
    try:
        suite = find_suite(source.suite or source.key, [str(d) for d in suite_dirs], "microdata")
    except Exception:  # no suite, or one that does not parse: validation reports it in its own stage
        return {}
    allowed: dict[str, list] = {}
    for expectation in suite.get("expectations", []):
        kwargs = expectation.get("kwargs", {})
        if (expectation.get("type") == "expect_column_values_to_be_in_set" and isinstance(kwargs.get("value_set"), list)
                and "row_condition" not in kwargs):
            allowed.setdefault(str(kwargs.get("column")), []).extend(kwargs["value_set"])
    return allowed


def normalise_categories(typed: pd.DataFrame, source: Source, written: pd.DataFrame, allowed: dict[str, list]
                         ) -> dict[str, dict[tuple[str, str], int]]:
    """Category values equal to one of the suite's values up to case, accents and spaces take the suite's
    spelling (``si``, `` Sí `` -> ``Sí``); an ambiguous or absent match is left as written (validation refuses
    it). Returns, per column, how many values each (written form, suite value) pair changed (spaces trimmed
    while reading count too)."""
    done: dict[str, dict[tuple[str, str], int]] = {}
    for column in source.columns:
        if column.type != "category" or column.name not in typed:
            continue
        texts = [v for v in allowed.get(column.name, []) if isinstance(v, str)]
        by_fold: dict[str, set[str]] = {}
        for value in texts:
            by_fold.setdefault(fold_category(value), set()).add(value)
        exact = set(texts)
        counts: dict[tuple[str, str], int] = {}
        values = list(typed[column.name])
        for position, (value, raw) in enumerate(zip(values, written[column.name])):
            if value is None:
                continue
            target = value
            if value not in exact:
                matches = by_fold.get(fold_category(value), set())
                if len(matches) == 1:
                    target = next(iter(matches))
            raw_text = raw if isinstance(raw, str) else str(raw)
            if target != raw_text:
                counts[(raw_text, target)] = counts.get((raw_text, target), 0) + 1
                values[position] = target
        if counts:
            typed[column.name] = pd.Series(values, index=typed.index, dtype="object")
            done[column.name] = counts
    return done


def write_processed(table: SourceTable, processed_dir: Path) -> Path:
    out = Path(processed_dir) / MICRODATA_DIR / f"{table.source.key}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = table.table.copy()
    for column in table.source.columns:
        frame[column.name] = COLUMN_TYPES[column.type].write(frame[column.name])
    frame.to_csv(out, index=False, lineterminator="\n")
    return out


def read_processed(processed_dir: Path, source: Source) -> pd.DataFrame:
    path = Path(processed_dir) / MICRODATA_DIR / f"{source.key}.csv"
    require_stage_output(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in source.columns:
        frame[column.name] = COLUMN_TYPES[column.type].read(frame[column.name].replace("", None))
    frame["source_row"] = pd.to_numeric(frame["source_row"]).astype("int64")
    # Column roles travel with the table: validation masks id and text values and keeps no samples of them.
    frame.attrs["column_types"] = {c.name: c.type for c in source.columns}
    return frame


def read_all_sources(raw_dir: Path, project_root: Path | None = None, *, allow_outside: bool = False,
                     suite_dirs: list | None = None) -> dict[str, SourceTable]:
    """Every declared source of the drop, read and typed (an empty dict when the drop has none).
    ``suite_dirs``: the run's ``expectations_dirs`` (resolved against the project root), for the category
    values of each source's suite."""
    from .fichas import columns_used_by_fichas  # fichas imports this module

    used = columns_used_by_fichas(raw_dir)
    if suite_dirs is not None and project_root is not None:
        suite_dirs = [Path(project_root) / d for d in suite_dirs]
    return {key: read_source(raw_dir, source, project_root, used.get(key, set()), allow_outside=allow_outside,
                             suite_dirs=suite_dirs)
            for key, source in load_sources(raw_dir, project_root, allow_outside=allow_outside).items()}


def sources_summary(tables: dict[str, SourceTable]) -> pd.DataFrame:
    """One line per source: how the file was read (CSV encoding, separator and decimal mark, detected or
    declared), rows read, what was dropped or withheld (column names only, never values), how many DNI,
    e-mail or phone shapes were masked in the kept text and category values, and the category values
    normalised to the suite's spelling (count, and each written form with its suite value)."""
    def normalisations(t: SourceTable) -> str:
        return "; ".join(f"{column}: " + ", ".join(f"{written!r}→{value!r} ×{n}" for (written, value), n in
                                                   sorted(counts.items(), key=lambda item: str(item[0])))
                         for column, counts in t.categories_normalised.items())

    return pd.DataFrame([{
        "source": key, "file": Path(t.source.file).name, "read_as": t.read_as, "rows": len(t.table),
        "columns": len(t.source.columns),
        "columns_dropped": ", ".join(t.dropped_columns), "direct_identifiers_dropped": ", ".join(t.dropped_identifiers),
        "text_columns_withheld": ", ".join(t.withheld_text_columns), "identifiers_masked": t.identifiers_masked,
        "categories_normalised": t.n_categories_normalised, "normalisations": normalisations(t),
        "sensitive": t.source.sensitive,
    } for key, t in tables.items()], columns=SUMMARY_COLUMNS)


SUMMARY_COLUMNS = ["source", "file", "read_as", "rows", "columns", "columns_dropped", "direct_identifiers_dropped",
                   "text_columns_withheld", "identifiers_masked", "categories_normalised", "normalisations",
                   "sensitive"]
