"""What a stage notebook shows a reviewer: its opening (parameters, folders, data drop) and tables shown whole,
in the run's language.

The package decides, the notebook tells: a stage notebook calls ``start`` first, then shows every table with
``show``. ``show`` never cuts a text with "..." (no column width, no row limit), writes "—" with the reason
where a number is missing ("no medido" / "not measured", "no aplica" / "not applicable", "sin dato" / "no
data", as the row's data say), puts the logframe's names beside its codes, labels codes in words, and
heads each column with a word of the run's language (``labels.workbook_label`` where the workbook has one,
otherwise the catalog key ``notebook.col.<column>``). Only aggregated tables are shown; counts about victims
or residents below the suppression threshold are shown as ``<threshold`` (``privacy.suppress_where``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import i18n
from .labels import label, workbook_label

DASH = "—"
# Columns whose header is a workbook word under another name than ``col_<column>``.
HEADER_KEYS = {"output_id": "col_output", "outcome_id": "col_outcome", "component_id": "col_component",
               "indicator_id": "col_indicator", "item_id": "col_item", "source_place": "col_report_place"}
# Columns holding codes, and the workbook prefix of their words (status codes through labels.label).
CODE_PREFIXES = {"unit": "unit_", "origin": "origin_", "method": "method_", "check": "check_", "field": "field_",
                 "value_flag": "flag_", "flag": "flag_"}
# Columns with a logframe name beside them: code column -> (logframe table, header key of the name).
NAMED = {"component_id": ("components", "col_component_name"), "output_id": ("outputs", "col_output_name"),
         "outcome_id": ("outcomes", "col_outcome_name"), "indicator_id": (None, "col_indicator_name")}
MISSING_REASONS = ("not_measured", "not_applicable", "no_data")


@dataclass
class StageRun:
    """Where a notebook reads and writes, the data drop it reads, and the run's language."""

    evaluation: str
    cutoff: str
    lang: str
    raw_dir: str
    processed_dir: str
    run_dir: str
    drop: object
    allow_outside_paths: bool = False

    def t(self, key: str, **fields) -> str:
        """A keyed message of the catalog in the run's language."""
        return i18n.t(key, self.lang, **fields)


def start(evaluation: str, cutoff: str, lang: str, raw_dir: str, processed_dir: str | None, run_dir: str | None,
          allow_outside_paths: bool = False, **other) -> StageRun:
    """Find the project's folders, read the drop's declaration and show the notebook's opening: the data's
    origin, the parameters and the folders read and written."""
    from IPython.display import Markdown, display

    from .drop import load_drop
    from .htmlsafe import escape_markdown
    from .workspace import locate

    paths = locate(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir)
    drop = load_drop(Path(paths.raw_dir), Path("."), allow_outside=allow_outside_paths)
    run = StageRun(evaluation, cutoff, lang, paths.raw_dir, paths.processed_dir, paths.run_dir, drop,
                   allow_outside_paths)
    display(Markdown(f"**{escape_markdown(drop.banner(lang))}**" if drop.synthetic
                     else escape_markdown(run.t("notebook.drop", drop=drop.drop_id))))
    parameters = {"evaluation": label(evaluation, lang), "cutoff": cutoff, "lang": lang,
                  "drop": f"{drop.drop_id} ({drop.drop_date})", "raw_dir": paths.raw_dir,
                  "processed_dir": paths.processed_dir, "run_dir": paths.run_dir} | {
        name: value for name, value in other.items() if not name.startswith("_")}
    show(pd.DataFrame({"parameter": [run.t(f"notebook.parameter.{name}") for name in parameters],
                       "value": [_text(value, lang) for value in parameters.values()]}), lang)
    print(paths.describe(lang))  # run by pipeline.py, or by hand into scratch folders
    return run


def header(column: str, lang: str, strict: bool = True) -> str:
    """The words heading ``column`` in ``lang``."""
    key = HEADER_KEYS.get(column, f"col_{column}")
    try:
        return workbook_label(key, lang)
    except KeyError:
        pass
    try:
        return i18n.t(f"notebook.col.{column}", lang)
    except i18n.MissingTranslation:
        if not strict:  # a column named by the data (a ficha's detail table): its own words
            return str(column).replace("_", " ")
        raise i18n.MissingTranslation(
            f"column {column!r} has no header in {lang}: add notebook.col.{column} to "
            f"evalpipe/locale/{lang}/LC_MESSAGES/evalpipe.po") from None


def code_text(column: str, code: object, lang: str) -> object:
    """The word for a code of ``column`` (the code itself where the catalog has none)."""
    if not isinstance(code, str) or not code:
        return code
    if column == "status" or column.endswith("_status"):
        return label(code, lang)
    if column in CODE_PREFIXES:
        try:
            return workbook_label(CODE_PREFIXES[column] + code, lang)
        except KeyError:
            return code
    return code


def missing_text(reason: str, lang: str) -> str:
    """"—" and the reason a value is missing, in words: ``not_measured``, ``not_applicable`` or ``no_data``."""
    return f"{DASH} {workbook_label(reason, lang)}"


def row_reasons(frame: pd.DataFrame) -> pd.Series:
    """Why a row's numbers are missing, from the row's own data: ``not_applicable`` where the table says so
    (``value_note``), otherwise ``not_measured`` (no value up to the cut-off)."""
    reasons = pd.Series("not_measured", index=frame.index)
    if "value_note" in frame.columns:
        reasons = reasons.where(frame["value_note"].ne("not_applicable"), "not_applicable")
    return reasons


def _text(value: object, lang: str) -> object:
    if isinstance(value, bool):
        return workbook_label("yes" if value else "no", lang)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        # numbers as the run's language writes them (CLDR rules through Babel: 1.234,5 / 1,234.5)
        from babel.numbers import format_decimal

        return format_decimal(value, format="#,##0.##", locale=lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == ""


def with_names(frame: pd.DataFrame, lfm, lang: str, indicators: str | None = None) -> pd.DataFrame:
    """``frame`` with the logframe's name right after each code column it has (English names for ``en``
    where the logframe has them; indicators have Spanish names only). Output and outcome indicators share
    codes: ``indicators`` ("output" or "outcome") says which; by default outcome where the table has
    ``outcome_id``."""
    frame = frame.copy()
    indicators = indicators or ("outcome" if "outcome_id" in frame.columns else "output")
    for code_column, (table, _) in NAMED.items():
        if code_column in frame.columns and lfm is not None:
            names = lfm.names(table or f"{indicators}_indicators", lang)
            position = frame.columns.get_loc(code_column) + 1
            frame.insert(position, f"_{code_column}_name", frame[code_column].map(lambda c: names.get(c, "")))
    return frame


def prepare(frame: pd.DataFrame, lang: str, *, lfm=None, missing: str | dict | pd.Series | None = None,
            suppress: str | None = None, sensitive: pd.Series | None = None, threshold: int | None = None,
            headers: dict[str, str] | None = None, indicators: str | None = None,
            max_rows: int = 400, strict_headers: bool = True) -> pd.DataFrame:
    """The table as ``show`` displays it: names beside codes, codes in words, "—" with the reason where a
    value is missing, numbers as text in the run's language, headers in words.

    ``missing``: the reason for every missing value (a code of ``MISSING_REASONS``), a dict column -> reason,
    or a Series of reasons per row (``row_reasons``); default: the row's own reason where the table gives
    one, else "no data". ``suppress``: a count column whose values below ``threshold`` are shown as
    ``<threshold`` in the rows where ``sensitive`` is true (all rows when ``sensitive`` is None).
    """
    from .privacy import DEFAULT_THRESHOLD, suppress_where

    if len(frame) > max_rows:  # a reviewer's table is aggregated: never a dump of rows
        raise ValueError(f"a table of {len(frame)} rows is not shown to reviewers (at most {max_rows}): "
                         "aggregate it first")
    named_index = isinstance(frame.index, pd.MultiIndex) or frame.index.name is not None
    frame = frame.reset_index(drop=not named_index)
    if isinstance(frame.columns, pd.MultiIndex):  # a pivot: one header per level, joined ("2019 · Ejecutado")
        frame.columns = [" · ".join(str(p) if str(p).isdigit() else header(str(p), lang) for p in column if p != "")
                         if isinstance(column, tuple) else header(str(column), lang) for column in frame.columns]
        headers = {column: column for column in frame.columns} | (headers or {})
    if suppress is not None:
        mask = pd.Series(True, index=frame.index) if sensitive is None else pd.Series(sensitive.values,
                                                                                     index=frame.index)
        frame, _ = suppress_where(frame, mask, suppress, threshold or DEFAULT_THRESHOLD)
    frame = with_names(frame, lfm, lang, indicators)
    per_row = row_reasons(frame) if "value_note" in frame.columns or "status" in frame.columns else None
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column == "value_note":
            continue
        if isinstance(missing, pd.Series):
            reasons = missing.reindex(frame.index)
        elif isinstance(missing, dict):
            reasons = pd.Series(missing.get(column, "no_data"), index=frame.index)
        elif isinstance(missing, str):
            reasons = pd.Series(missing, index=frame.index)
        else:
            reasons = per_row if per_row is not None and column not in ("baseline",) else \
                pd.Series("no_data", index=frame.index)
        values = []
        for value, reason in zip(frame[column], reasons):
            if _is_missing(value):
                values.append(missing_text(reason, lang))
            else:
                values.append(_text(code_text(column, value, lang), lang))
        if column.startswith("_") and column.endswith("_name"):
            title = header_name(column.removeprefix("_").removesuffix("_name"), lang)
        else:
            title = (headers or {}).get(column) or header(str(column), lang, strict_headers)
        shown[title] = values
    return shown


def header_name(code_column: str, lang: str) -> str:
    return workbook_label(NAMED[code_column][1], lang)


def show(frame: pd.DataFrame, lang: str, **options) -> None:
    """Display ``frame`` for a reviewer (see ``prepare``): every row, every column, every text in full."""
    from IPython.display import display

    table = prepare(frame, lang, **options)
    with pd.option_context("display.max_colwidth", None, "display.max_rows", None, "display.max_columns", None,
                           "display.width", None):
        # escape="html": a drop's text (a name, a file name, a ficha) is shown as text, never as markup
        display(table.style.hide(axis="index").format(escape="html") if len(table.columns) else table)


def say(lang: str, key: str, **fields) -> None:
    """Print a keyed message of the catalog in ``lang`` (prose printed by a notebook's code)."""
    print(i18n.t(key, lang, **{k: _text(v, lang) for k, v in fields.items()}))
