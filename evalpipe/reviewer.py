"""The reviewer's package in a run folder: ``index.html`` linking everything, and one Excel workbook.

Both hold aggregated tables and links only (never microdata rows); both are dated by the data drop,
so rebuilding them from the same run gives the same bytes.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from . import __version__, i18n
from .annex import annex_text
from .drop import banner_text
from .export import restore_cell
from .figures import FIGURES, caption, figure_path
from .labels import label, workbook_words
from .fichas import period_text
from .outcomes import reason_text
from .stages import STAGES
from .runfolder import (FINANCE_TABLES, TABLES, fixed_timestamp, read_finance, read_manifest, read_tables,
                        run_lang)

INDEX = "index.html"
WORKBOOK = "annex_tables.xlsx"
LANGS = ("es", "en")
# Files that describe single records (e.g. the validation's offending cells) are not listed for reviewers.
NOT_LISTED = ("validation/problems.csv",)

def _href(path: Path, run_dir: Path) -> str:
    return quote(path.relative_to(run_dir).as_posix())


def _link(path: Path, run_dir: Path, text: str | None = None) -> str:
    shown = html.escape(text or path.relative_to(run_dir).as_posix())
    return f'<a href="{_href(path, run_dir)}">{shown}</a>'


def _files(run_dir: Path, pattern: str) -> list[Path]:
    return sorted(p for p in run_dir.glob(pattern)
                  if p.is_file() and p.relative_to(run_dir).as_posix() not in NOT_LISTED)


def _notebook_links(run_dir: Path, lang: str) -> list[str]:
    """Every notebook the run executed, in stage order, each with what it shows a reviewer
    (``index.notebook.<stem>``). The annex notebook writes this page while it runs, before its own HTML
    exists, so a notebook is listed when its executed ``.ipynb`` or its ``.html`` is in the run folder."""
    links = []
    for stage in STAGES:
        stem = stage.notebook.removesuffix(".ipynb")
        page = run_dir / "notebooks" / f"{stem}.html"
        if not (page.exists() or page.with_suffix(".ipynb").exists()):
            continue
        links.append(f"{_link(page, run_dir)} — {html.escape(i18n.t(f'index.notebook.{stem}', lang))}")
    return links


def write_index_html(run_dir: Path, lang: str | None = None, *, manifest: dict | None = None) -> Path:
    """``<run_dir>/index.html``: links (relative) to the annex, notebooks, Data Docs, tables, figures and workbook.

    Write it last: it lists the files that exist. ``lang`` defaults to the run's language.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    t = i18n.view("index.", lang)
    drop = manifest["data_drop"]
    sections: list[tuple[str, list[str]]] = []
    annexes = _files(run_dir, "annex*.pdf")
    sections.append((t["annex"], [_link(p, run_dir) for p in annexes]))
    sections.append((t["notebooks"], _notebook_links(run_dir, lang)))
    docs = run_dir / "data_docs" / "index.html"
    sections.append((t["data_docs"], [_link(docs, run_dir)] if docs.exists() else []))
    tables = [run_dir / spec.path for spec in list(TABLES.values()) + list(FINANCE_TABLES.values())]
    table_links = [_link(p, run_dir) for p in tables if p.exists()]
    if (run_dir / WORKBOOK).exists():
        table_links.append(_link(run_dir / WORKBOOK, run_dir, f"{WORKBOOK} — {t['workbook']}"))
    sections.append((t["tables"], table_links))
    figure_items = []
    for spec in FIGURES:
        for figure_lang in LANGS:
            png = figure_path(run_dir, spec.name, figure_lang, "png")
            if not png.exists():
                continue
            svg = png.with_suffix(".svg")
            shown = html.escape(caption(spec.name, figure_lang))
            vector = f' · {_link(svg, run_dir, "SVG")}' if svg.exists() else ""
            figure_items.append(f'<figure><a href="{_href(png, run_dir)}"><img src="{_href(png, run_dir)}" '
                                f'alt="{shown}" loading="lazy"></a><figcaption>{shown} '
                                f'({_link(png, run_dir, "PNG")}{vector})</figcaption></figure>')
    sections.append((t["figures"], figure_items))
    extra = [_link(p, run_dir) for p in _files(run_dir, "annex/*")]
    sections.append((t["annex_data"], extra))
    sections.append((t["manifest"], [_link(run_dir / "manifest.json", run_dir)]))

    banner = banner_text(drop["data_origin"], lang)
    body = [f"<h1>{html.escape(t['title'])} — {html.escape(manifest['label'])}</h1>"]
    if banner:
        body.append(f'<p class="banner">{html.escape(banner)}</p>')
    body.append(f"<p>{html.escape(label(manifest['evaluation'], lang))} · {html.escape(t['cutoff'])} "
                f"{html.escape(manifest['cutoff'])} · {html.escape(t['drop'])} {html.escape(drop['drop_id'])} "
                f"({html.escape(drop['drop_date'])})</p>")
    for title, items in sections:
        if not items:
            continue
        body.append(f"<h2>{html.escape(title)}</h2>")
        if items[0].startswith("<figure"):
            body.append('<div class="figures">' + "\n".join(items) + "</div>")
        else:
            body.append("<ul>\n" + "\n".join(f"<li>{item}</li>" for item in items) + "\n</ul>")
    page = f"""<!DOCTYPE html>
<html lang="{html.escape(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(t['title'])} — {html.escape(manifest['label'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }}
.banner {{ border: 2px solid #D55E00; color: #8a3b00; padding: .6rem .8rem; font-weight: bold; }}
.figures {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }}
figure {{ margin: 0; }} figure img {{ width: 100%; border: 1px solid #ddd; }}
figcaption {{ font-size: .85rem; }}
</style>
</head>
<body>
{chr(10).join(body)}
</body>
</html>
"""
    path = run_dir / INDEX
    path.write_text(page, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ workbook --
# The workbook a reviewer opens in Excel: words for sheet names and headers (catalog keys workbook.*), names beside
# every code, numbers as numbers with a number format, a word (grey, italic) where a number is missing, the
# finance tables in the report's shape, a first sheet that says what the workbook is, and print settings.

GREY = "#595959"
# Number formats. Percentages keep the value of the tables (0-100 scale, 45 = 45 %) with one decimal shown:
# the unit is in the header ("Avance (%)") or, where rows of one column have different units, in the cell.
INTEGER = "#,##0"
AMOUNT = "#,##0"
PERCENT = "0.0"
PERCENT_IN_CELL = '0.0" %"'
DECIMAL = "#,##0.0"
FINE = "#,##0.00##"
TEXT_WIDTH = 42  # the width of a column of long text (characters); its text wraps
LINE_HEIGHT = 15  # points, one line of the default 11-point font


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide. Excel and LibreOffice
    do not grow a row to its wrapped text when they open a file, so the row is given that height."""
    return sum(max(1, math.ceil(len(part) / (width * 1.15))) for part in str(text).split("\n"))


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the table's column, its header (a workbook key (labels.workbook_label)) and how it is shown.

    kind: text, long (wrapped text), int, pct, value (unit per row), fine (numerator/denominator),
    flag (yes/no), status (labels.label), code (``prefix`` + code looked up with labels.workbook_label), shown (a
    compared value: status codes and True/False in words).
    missing: the word written where the number is missing: a workbook key (labels.workbook_label), or "row" for the row's
    own ``_missing`` (not_measured / not_applicable).
    """

    source: str
    header: str
    kind: str = "text"
    missing: str = "no_data"
    prefix: str = ""


@dataclass(frozen=True)
class Sheet:
    key: str
    table: str
    columns: tuple[Column, ...]
    source: str
    notebook: str


_STATUS_COUNTS = (Column("n_indicators", "col_n_indicators", "int"), Column("n_achieved", "col_n_achieved", "int"),
                  Column("n_in_progress", "col_n_in_progress", "int"),
                  Column("n_no_progress", "col_n_no_progress", "int"),
                  Column("n_not_measured", "col_n_not_measured", "int"))

SHEETS: tuple[Sheet, ...] = (
    Sheet("output_indicators", "output_indicators", (
        Column("output_id", "col_output"), Column("_output_name", "col_output_name", "long"),
        Column("indicator_id", "col_indicator"), Column("_indicator_name", "col_indicator_name", "long"),
        Column("unit", "col_unit", "code", prefix="unit_"),
        Column("baseline", "col_baseline", "value"), Column("current", "col_current", "value", "row"),
        Column("target", "col_target", "value"), Column("progress_pct", "col_progress_pct", "pct", "row"),
        Column("status", "col_status", "status"),
        Column("scheduled_after_cutoff", "col_scheduled_after_cutoff", "flag"),
        Column("value_quarter", "col_value_quarter"),
        Column("carried_forward", "col_carried_forward", "flag"),
        Column("value_flag", "col_value_flag", "code", prefix="flag_"),
        Column("source_file", "col_source_file", "long"), Column("source_sheet", "col_source_sheet"),
        Column("source_row", "col_source_row", "int")),
        "tables/output_indicators.csv", "notebooks/03_output_indicators.ipynb"),
    Sheet("output_status", "output_status", (
        Column("component_id", "col_component"), Column("_component_name", "col_component_name", "long"),
        Column("output_id", "col_output"), Column("_output_name", "col_output_name", "long"),
        Column("status", "col_status", "status"), *_STATUS_COUNTS, Column("covid_risk", "col_covid_risk", "flag"),
        Column("scheduled_after_cutoff", "col_scheduled_after_cutoff", "flag")),
        "tables/output_status.csv", "notebooks/03_output_indicators.ipynb"),
    Sheet("outcome_indicators", "outcome_indicators", (
        Column("outcome_id", "col_outcome"), Column("_outcome_name", "col_outcome_name", "long"),
        Column("indicator_id", "col_indicator"), Column("_indicator_name", "col_indicator_name", "long"),
        Column("unit", "col_unit", "code", prefix="unit_"),
        Column("baseline", "col_baseline", "value"), Column("current", "col_current", "value", "row"),
        Column("target", "col_target", "value"), Column("numerator", "col_numerator", "fine", "row"),
        Column("denominator", "col_denominator", "fine", "row"), Column("n", "col_n", "int"),
        Column("n_excluded", "col_n_excluded", "int"), Column("status", "col_status", "status"),
        Column("scheduled_after_cutoff", "col_scheduled_after_cutoff", "flag"),
        Column("origin", "col_origin", "code", prefix="origin_"),
        Column("method", "col_method", "code", prefix="method_"), Column("reason", "col_reason", "long"),
        Column("reference_period", "col_reference_period"), Column("source", "col_source", "long"),
        Column("ficha_period", "col_ficha_period", "long"), Column("ficha_period_source", "col_ficha_period_source",
                                                                   "long"),
        Column("period_differs", "col_period_differs", "flag"), Column("waits_for_output", "col_waits_for_output")),
        "tables/outcome_indicators.csv", "notebooks/04_outcome_indicators.ipynb"),
    Sheet("outcome_status", "outcome_status", (
        Column("component_id", "col_component"), Column("_component_name", "col_component_name", "long"),
        Column("outcome_id", "col_outcome"), Column("_outcome_name", "col_outcome_name", "long"),
        Column("status", "col_status", "status"), *_STATUS_COUNTS),
        "tables/outcome_status.csv", "notebooks/04_outcome_indicators.ipynb"),
    Sheet("outcome_exclusions", "outcome_exclusions", (
        Column("indicator_id", "col_indicator"), Column("_indicator_name", "col_indicator_name", "long"),
        Column("reason", "col_exclusion_reason", "long"), Column("n", "col_excluded", "int")),
        "tables/outcome_exclusions.csv", "notebooks/04_outcome_indicators.ipynb"),
    Sheet("consistency_audit", "consistency_audit", (
        Column("check", "col_check", "code", prefix="check_"), Column("source", "col_report_place"),
        Column("item_id", "col_item"), Column("field", "col_field", "code", prefix="field_"),
        Column("published_value", "col_published_value", "shown"),
        Column("computed_value", "col_computed_value", "shown"), Column("rule", "col_rule", "long"),
        Column("note", "col_note", "long")),
        "tables/consistency_audit.csv", "notebooks/06_consistency_audit.ipynb"),
    Sheet("validation_summary", "validation_summary", (
        Column("suite", "col_suite"), Column("expectation", "col_expectation"), Column("column", "col_column"),
        Column("description", "col_description", "long"), Column("success", "col_success", "flag"),
        Column("unexpected_count", "col_unexpected_count", "int")),
        "validation/summary.csv", "notebooks/02_validate.ipynb"),
)


@dataclass(frozen=True)
class FinanceSheet:
    """A finance table of the report: which pivot blocks (finance_tables.pivot_blocks) give its columns, as
    (period, measure) pairs; ``years`` adds one column per year of ``measure`` before the pairs, and
    ``distribution`` adds the report's "distribution by year" row (share of the total cost by year)."""

    key: str
    table: str
    version: str | None
    columns: tuple[tuple[str, str], ...]
    years: tuple[str, ...] = ()
    year_range: str = ""
    distribution: bool = False


FINANCE_SHEETS: tuple[FinanceSheet, ...] = (
    FinanceSheet("table3", "budget", "initial", (("total", "amount"), ("total", "share_of_total_pct"),
                                                 ("total", "share_of_direct_pct"))),
    FinanceSheet("table4", "budget", "initial", (("total", "amount"),), years=("amount",), distribution=True),
    FinanceSheet("table5", "budget", "expanded", (("total", "amount"), ("total", "share_of_total_pct"),
                                                  ("total", "share_of_direct_pct"))),
    FinanceSheet("table6", "budget", "expanded", (("total", "amount"),), years=("amount",), distribution=True),
    FinanceSheet("annex19", "financial_execution", None, (
        ("acumulado", "programado"), ("acumulado", "ejecutado"), ("acumulado", "execution_pct"),
        ("acumulado", "programado_to_cutoff"), ("acumulado", "execution_pct_to_cutoff"),  # beside: to the cut-off
        ("next", "programado"), ("next", "programado_share_pct"),
        ("acumulado", "saldos_anteriores"), ("acumulado", "saldos_share_pct"))),
    FinanceSheet("annex20", "financial_execution", None, (
        ("acumulado", "programado"), ("acumulado", "ejecutado"), ("acumulado", "execution_pct")),
        years=("programado", "ejecutado", "execution_pct"), year_range="ejecutado"),
)


def _with_names(table: pd.DataFrame, lfm, lang: str) -> pd.DataFrame:
    """The table with the logframe's names beside its codes and the word for each row's missing value."""
    table = table.copy()
    named = {"_component_name": ("component_id", lfm.names("components", lang)),
             "_output_name": ("output_id", lfm.names("outputs", lang)),
             "_outcome_name": ("outcome_id", lfm.names("outcomes", lang)),
             "_indicator_name": ("indicator_id", {
                 **dict(zip(lfm.output_indicators["indicator_id"], lfm.output_indicators["name_es"])),
                 **dict(zip(lfm.outcome_indicators["indicator_id"], lfm.outcome_indicators["name_es"]))})}
    for column, (key, names) in named.items():
        if key in table.columns:
            table[column] = table[key].map(lambda code, names=names: names.get(code, ""))
    if "reason" in table.columns:  # the reasons the package writes, in the workbook's language
        table["reason"] = table["reason"].map(lambda reason: reason_text(reason, lang))
    if "reference_period" in table.columns:
        table["reference_period"] = table["reference_period"].map(lambda period: period_text(period, lang))
    if "ficha_period_source" in table.columns:  # "… L24 (Annex 14, L1791-1803)" with the places in words
        from .audit import place_text

        table["ficha_period_source"] = table["ficha_period_source"].map(
            lambda place: place_text(place, lang) if isinstance(place, str) and place else place)
    missing = pd.Series("not_measured", index=table.index)
    if "value_note" in table.columns:
        missing = missing.where(table["value_note"].ne("not_applicable"), "not_applicable")
    table["_missing"] = missing
    return table


class _Formats:
    def __init__(self, workbook) -> None:
        self._workbook = workbook
        self._cache: dict[tuple, object] = {}

    def get(self, **properties):
        key = tuple(sorted(properties.items()))
        if key not in self._cache:
            self._cache[key] = self._workbook.add_format({"valign": "top", **properties})
        return self._cache[key]

    def header(self):
        return self.get(bold=True, bg_color="#E6E6E6", border=1, text_wrap=True)

    def missing(self):
        return self.get(italic=True, font_color=GREY, align="right")


def workbook_text(value: object) -> str:
    """A cell's text for the workbook: as the pipeline computed it (the apostrophe the CSV export puts
    before a formula character is taken off), with an apostrophe only before text a spreadsheet would
    really read as a formula if the cell were edited (=, @, or + / - followed by more than a number).
    The text is written as a string, so nothing is ever evaluated; a lone "-" stays "-"."""
    text = restore_cell(str(value))
    stripped = text.lstrip(' "')
    if not stripped:
        return text
    if stripped[0] in "=@" or (stripped[0] in "+-" and not _PLAIN_SIGNED.fullmatch(stripped)):
        return "'" + text
    return text


_PLAIN_SIGNED = re.compile(r"[+\-]\s*(?:[\d.,]+\s*%?)?")


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""


def _number_format(kind: str, value: float, unit: str) -> str:
    integral = float(value).is_integer()
    if kind == "int":
        return INTEGER
    if kind == "pct":
        return PERCENT
    if kind == "fine":
        return INTEGER if integral else FINE
    if unit == "percent":
        return PERCENT_IN_CELL
    return INTEGER if integral else DECIMAL


def _write_value(sheet, formats: _Formats, row: int, col: int, column: Column, value: object, record: dict,
                 lang: str) -> None:
    words = _words(lang)
    kind = column.kind
    if kind in ("int", "pct", "value", "fine"):
        if _is_missing(value):
            word = record.get("_missing", "not_measured") if column.missing == "row" else column.missing
            sheet.write_string(row, col, words[word], formats.missing())
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            unit = str(record.get("unit", ""))
            sheet.write_number(row, col, float(value), formats.get(num_format=_number_format(kind, value, unit)))
        else:  # text in a number column, e.g. a suppressed "<5": shown as published
            sheet.write_string(row, col, workbook_text(value), formats.get(align="right"))
        return
    if kind == "flag":
        sheet.write_string(row, col, words["yes"] if bool(value) else words["no"], formats.get())
        return
    if _is_missing(value):
        sheet.write_blank(row, col, None, formats.get())
        return
    text = str(value)
    if kind == "status":
        text = label(text, lang)
    elif kind == "code":
        text = words.get(column.prefix + text, text)
    elif kind == "shown":  # a value as the audit compares it: a status code or a flag in words
        text = {"True": words["yes"], "False": words["no"]}.get(text, label(text, lang))
    style = formats.get(text_wrap=True) if kind == "long" else formats.get()
    sheet.write_string(row, col, workbook_text(text), style)


def _words(lang: str) -> i18n.CatalogView:
    return workbook_words(lang)


def _print_setup(sheet, header_rows: int, lang: str, label_text: str) -> None:
    """Landscape A4, fit to the page width (as many pages down as needed), header rows on every page."""
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, header_rows - 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header("&L&A&R" + label_text.replace("&", "&&"))
    sheet.set_footer("&C" + _words(lang)["footer"])


def _finish(sheet, header_rows: int, n_rows: int, n_columns: int, long_columns: list[int], lang: str,
            label_text: str, freeze_columns: int) -> None:
    sheet.autofit()
    for col in long_columns:  # long text wraps at a readable width instead of widening the page
        sheet.set_column(col, col, TEXT_WIDTH)
    sheet.freeze_panes(header_rows, freeze_columns)
    sheet.autofilter(header_rows - 1, 0, header_rows - 1 + n_rows, max(n_columns - 1, 0))
    _print_setup(sheet, header_rows, lang, label_text)


def _table_sheet(workbook, formats: _Formats, spec: Sheet, table: pd.DataFrame, lang: str, label_text: str) -> None:
    words = _words(lang)
    sheet = workbook.add_worksheet(words[f"sheet_{spec.key}"])
    columns = [c for c in spec.columns if c.source in table.columns]
    for col, column in enumerate(columns):
        sheet.write_string(0, col, words[column.header], formats.header())
    records = table.to_dict("records")
    long_columns = [i for i, c in enumerate(columns) if c.kind == "long"]
    for row, record in enumerate(records, start=1):
        for col, column in enumerate(columns):
            _write_value(sheet, formats, row, col, column, record[column.source], record, lang)
        lines = max([_lines(record[columns[i].source], TEXT_WIDTH) for i in long_columns
                     if not _is_missing(record[columns[i].source])] or [1])
        if lines > 1:
            sheet.set_row(row, LINE_HEIGHT * lines)
    freeze = next((i + 1 for i, c in enumerate(columns) if c.source == "indicator_id"), 1 if columns else 0)
    _finish(sheet, 1, len(records), len(columns), long_columns, lang, label_text, min(freeze, 4))


def _finance_sheet(workbook, formats: _Formats, spec: FinanceSheet, blocks: list, lang: str, label_text: str,
                   codes: dict[str, str]) -> bool:
    """One of Tables 3-6 or Annexes 19-20 from the finance pivot: lines down; a header row of periods over a
    header row of measures. Returns False (no sheet) when the run has none of its blocks."""
    words = _words(lang)
    mine = {b.measure: b for b in blocks if b.table == spec.table and b.version == spec.version}
    if not mine:
        return False
    years = _years(mine.get(spec.year_range or spec.years[0])) if spec.years else []
    executed = _years(mine.get("ejecutado"))
    columns: list[tuple[str, str]] = [(year, measure) for year in years for measure in spec.years]
    for period, measure in spec.columns:
        if period == "next":  # the years programmed after the last year with executed amounts
            columns += [(p, measure) for p in _years(mine.get(measure))
                        if executed and int(p) > max(int(y) for y in executed)]
        else:
            columns.append((period, measure))
    columns = [(p, m) for p, m in columns if m in mine and p in mine[m].periods]
    lines = list(dict.fromkeys(line for b in mine.values() for line in b.lines))
    names = {k: v for b in mine.values() for k, v in b.names.items()}
    totals = set().union(*(b.totals for b in mine.values()))
    sheet = workbook.add_worksheet(words[f"sheet_{spec.key}"])
    header = formats.header()
    sheet.write_string(0, 0, "", header)
    sheet.write_string(0, 1, "", header)
    sheet.write_string(1, 0, words["col_line"], header)
    sheet.write_string(1, 1, words["col_line_name"], header)
    col = 2
    while col - 2 < len(columns):  # periods across, one merged cell over the measures of each period
        period = columns[col - 2][0]
        span = 1
        while col - 2 + span < len(columns) and columns[col - 2 + span][0] == period:
            span += 1
        text = codes.get(period, period)
        if span > 1:
            sheet.merge_range(0, col, 0, col + span - 1, text, formats.get(bold=True, bg_color="#E6E6E6", border=1,
                                                                          align="center"))
        else:
            sheet.write_string(0, col, text, formats.get(bold=True, bg_color="#E6E6E6", border=1, align="center"))
        for offset in range(span):
            measure = columns[col - 2 + offset][1]
            sheet.write_string(1, col + offset, _capitalised(codes.get(measure, measure)), header)
        col += span
    row = 2
    for line in lines:
        bold = line in totals
        sheet.write_string(row, 0, workbook_text(line), formats.get(bold=True) if bold else formats.get())
        name = names.get(line, "")
        sheet.write_string(row, 1, workbook_text("" if name == line else name),
                           formats.get(bold=True, text_wrap=True) if bold else formats.get(text_wrap=True))
        if _lines(name, TEXT_WIDTH) > 1:
            sheet.set_row(row, LINE_HEIGHT * _lines(name, TEXT_WIDTH))
        for offset, (period, measure) in enumerate(columns):
            value = mine[measure].values.get((line, period))
            if value is None:
                continue
            style = {"num_format": PERCENT if mine[measure].percent else AMOUNT}
            if bold:
                style["bold"] = True
            sheet.write_number(row, 2 + offset, value, formats.get(**style))
        row += 1
    if spec.distribution and "share_of_total_pct" in mine:
        share = mine["share_of_total_pct"]
        root = next((line for line in share.lines
                     if any((line, p) in share.values for p in share.periods if p.isdigit())), None)
        if root is not None:
            sheet.write_string(row, 1, words["distribution_by_year"], formats.get(italic=True))
            for offset, (period, _) in enumerate(columns):
                if (root, period) in share.values:
                    sheet.write_number(row, 2 + offset, share.values[(root, period)],
                                       formats.get(num_format=PERCENT, italic=True))
            row += 1
    _finish(sheet, 2, row - 2, 2 + len(columns), [1], lang, label_text, 2)
    return True


def _years(block) -> list[str]:
    return [p for p in block.periods if p.isdigit()] if block is not None else []


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


ABOUT_WIDTHS = (30, 70, 24, 46)  # the About sheet: a label column, then text that wraps


def _about_sheet(workbook, formats: _Formats, manifest: dict, project: dict, lang: str,
                 sheets: list[tuple[str, str, str]]) -> None:
    words = _words(lang)
    sheet = workbook.add_worksheet(words["sheet_about"])
    drop = manifest["data_drop"]
    software = manifest.get("software", {})
    origin = banner_text(drop["data_origin"], lang) or words["about_origin_real"]
    symbol = project.get("symbol", "")
    name = project.get(f"name_{lang}") or project.get("name_es", "")
    title = formats.get(bold=True, font_size=14)
    key_format = formats.get(bold=True)
    wrap = formats.get(text_wrap=True)
    sheet.write_string(0, 0, words["about_title"], title)
    facts = [
        ("about_project", f"{name} ({symbol})" if symbol else name),
        ("about_donor", project.get("donor", "")),
        ("about_evaluation", label(manifest["evaluation"], lang)),
        ("about_cutoff", manifest["cutoff"]),
        ("about_run", manifest["label"]),
        ("about_drop", drop["drop_id"]),
        ("about_drop_date", str(drop["drop_date"])),
        ("about_origin", origin),
        ("about_generated", words["about_generated_value"].format(
            version=software.get("evalpipe", __version__), commit=manifest.get("git_commit", "") or "—")),
        ("about_date", fixed_timestamp(manifest).date().isoformat()),
        ("about_language", words["about_language_value"]),
    ]
    row = 2
    for key, value in facts:
        sheet.write_string(row, 0, words[key], key_format)
        style = formats.get(bold=True, font_color="#8A3B00", text_wrap=True) if key == "about_origin" \
            and drop["data_origin"] == "synthetic" else wrap
        sheet.write_string(row, 1, workbook_text(value), style)
        if _lines(value, ABOUT_WIDTHS[1]) > 1:
            sheet.set_row(row, LINE_HEIGHT * _lines(value, ABOUT_WIDTHS[1]))
        row += 1
    row += 1
    sheet.write_string(row, 0, words["about_sheets"], title)
    row += 1
    for col, key in enumerate(("about_sheet", "about_contents", "about_report", "about_source")):
        sheet.write_string(row, col, words[key], formats.header())
    row += 1
    for sheet_name, key, source in sheets:
        sheet.write_string(row, 0, sheet_name, key_format)
        sheet.write_string(row, 1, words[f"about_{key}"], wrap)
        sheet.write_string(row, 2, words[f"report_{key}"], wrap)
        sheet.write_string(row, 3, source, wrap)
        lines = max(_lines(words[f"about_{key}"], ABOUT_WIDTHS[1]), _lines(words[f"report_{key}"], ABOUT_WIDTHS[2]),
                    _lines(source, ABOUT_WIDTHS[3]))
        if lines > 1:
            sheet.set_row(row, LINE_HEIGHT * lines)
        row += 1
    row += 1
    sheet.write_string(row, 0, words["about_legend"], title)
    row += 1
    for key in ("about_legend_not_measured", "about_legend_not_applicable", "about_legend_no_data",
                "about_legend_percent", "about_legend_amounts", "about_legend_suppressed", "about_legend_names"):
        if words[key]:
            sheet.merge_range(row, 0, row, 3, words[key], wrap)
            sheet.set_row(row, LINE_HEIGHT * _lines(words[key], sum(ABOUT_WIDTHS)))
            row += 1
    for col, width in enumerate(ABOUT_WIDTHS):
        sheet.set_column(col, col, width)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.set_footer("&C" + words["footer"])


def write_workbook(run_dir: Path, lang: str | None = None, *, manifest: dict | None = None,
                   raw_dir: Path | None = None) -> Path:
    """``<run_dir>/annex_tables.xlsx``, in ``lang`` (by default the run's language): a first sheet that
    says what the workbook is ("Acerca de" / "About"), one sheet per annex table with the logframe's
    names beside the codes, and the finance tables shaped as Tables 3-6 and Annexes 19-20.

    ``raw_dir`` is the data drop whose logframe names the codes (by default the run's ``raw_dir``,
    relative to the project folder). Dated by the data drop: the same run gives the same bytes.
    """
    import xlsxwriter

    from .finance_tables import pivot_blocks
    from .lfm import load_logframe, load_project
    from .workspace import find_project_root

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    if raw_dir is None:
        raw_dir = find_project_root() / manifest.get("parameters", {}).get("raw_dir", "data/raw")
    raw_dir = Path(raw_dir)
    lfm = load_logframe(raw_dir / "lfm")
    project = load_project(raw_dir).model_dump()
    words = _words(lang)
    annex_words = annex_text(lang)
    codes = annex_words["finance_codes"]
    tables = read_tables(run_dir)
    # the audit's rules and notes and the validation descriptions in the workbook's language (catalog)
    from .audit import in_words
    from .validation import summary_in_words
    tables = {**tables, "consistency_audit": in_words(tables["consistency_audit"], lang, codes),
              "validation_summary": summary_in_words(tables["validation_summary"], lang)}
    finance = read_finance(run_dir)
    path = run_dir / WORKBOOK
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "strings_to_numbers": False,
                                               "nan_inf_to_errors": False})
    workbook.set_properties({"title": f"{manifest['label']} — {words['about_title']}", "author": "evalpipe",
                             "created": fixed_timestamp(manifest).replace(tzinfo=None),
                             "comments": banner_text(manifest["data_drop"]["data_origin"], lang)})
    formats = _Formats(workbook)
    label_text = manifest["label"]
    listed = [(words[f"sheet_{s.key}"], s.key, f"{s.source} · {s.notebook}") for s in SHEETS]
    blocks = pivot_blocks(finance, lang, column="value") if finance is not None else []
    finance_listed = [(words[f"sheet_{s.key}"], s.key,
                       f"{FINANCE_TABLES[s.table].path} · notebooks/05_finance.ipynb") for s in FINANCE_SHEETS
                      if any(b.table == s.table and b.version == s.version for b in blocks)]
    _about_sheet(workbook, formats, manifest, project, lang, listed + finance_listed)
    for spec in SHEETS:
        _table_sheet(workbook, formats, spec, _with_names(tables[spec.table], lfm, lang), lang,
                     label_text)
    for spec in FINANCE_SHEETS:
        _finance_sheet(workbook, formats, spec, blocks, lang, label_text, codes)
    workbook.close()
    return path
