"""From the raw quarterly progress reports to one tidy table: one row per indicator x quarter."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from . import cleaning, i18n
from .errors import InputError, require_stage_output, warnings_summary
from .lfm import Logframe
from .quarters import Quarter, find_quarter
from .readers import ProgressReport, read_progress_report

PROGRESS_DIR = "progress_reports"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb")

TIDY_COLUMNS = [
    "indicator_id", "code_raw", "output_id", "quarter", "value", "value_raw", "value_flag", "footnote_mark", "comment",
    "source_file", "source_sheet", "source_row", "source_column", "source_code_column", "change_from_previous",
    "carried_from",
]
# Input warnings: what was accepted but must not pass without a word (clean notebook, run summary, annex).
# message is English (console, notebook); message_key and message_fields (JSON) give it in any language
# (catalog key warning.<message_key>, see ``warning_text``).
WARNING_COLUMNS = ["kind", "file", "sheet", "row", "column", "message", "message_key", "message_fields"]
CARRIED_FORWARD = "carried_forward"  # the cut-off report gives no value: an earlier report's value is current
MISSING_QUARTER = "missing_quarter"  # no report for a quarter between the first report and the cut-off
HIDDEN_SHEET = "hidden_sheet"  # the indicator table is on a sheet hidden in Excel
TARGET_DIFFERS = "target_differs"  # the cut-off report's own «Meta» is not the logframe's target
WARNING_KINDS = (CARRIED_FORWARD, MISSING_QUARTER, HIDDEN_SHEET, TARGET_DIFFERS)
WARNINGS_FILE = "input_warnings.csv"


@dataclass
class ReportInventory:
    """Which workbooks were read for this cut-off and which were left out, and why."""

    used: list[tuple[str, str]] = field(default_factory=list)  # (quarter, file)
    after_cutoff: list[tuple[str, str]] = field(default_factory=list)
    # hidden sheets and missing quarters, as rows of WARNING_COLUMNS (carried values come from the table)
    warnings: list[dict] = field(default_factory=list)

    def as_frame(self, lang: str | None = None) -> pd.DataFrame:
        """One row per workbook; ``use`` is a code (``read``, ``after_cutoff``), or its words in ``lang``."""
        rows = [{"quarter": q, "file": f, "use": "read"} for q, f in self.used]
        rows += [{"quarter": q, "file": f, "use": "after_cutoff"} for q, f in self.after_cutoff]
        frame = pd.DataFrame(rows, columns=["quarter", "file", "use"])
        if lang is not None:
            from . import i18n

            frame["use"] = [i18n.t(f"progress.use.{code}", lang) for code in frame["use"]]
        return frame


def list_progress_reports(raw_dir: Path, project_root: Path, *, allow_outside: bool = False) -> dict[Quarter, Path]:
    """Workbooks in ``raw_dir/progress_reports`` keyed by the quarter in their names; the folder and
    every workbook must lie inside the drop (after links) unless ``allow_outside``."""
    from .paths import inside_drop

    folder = Path(raw_dir) / PROGRESS_DIR
    inside_drop(folder, raw_dir, _display(folder, project_root), allow_outside=allow_outside, what="folder")
    if not folder.is_dir():
        raise InputError(_display(folder, project_root), "a folder of quarterly progress report workbooks",
                         found="missing folder")
    found: dict[Quarter, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("~$", ".")) or path.suffix.lower() not in WORKBOOK_SUFFIXES:
            continue
        quarter = find_quarter(path.stem)
        display = _display(path, project_root)
        inside_drop(path, raw_dir, display, allow_outside=allow_outside)
        if quarter is None:
            raise InputError(display, "a file name that contains its quarter, e.g. informe_progreso_2020T2.xlsx",
                             found=path.name)
        if quarter in found:
            raise InputError(display, f"one progress report per quarter ({quarter} is also in "
                             f"{found[quarter].name})", found=path.name)
        found[quarter] = path
    if not found:
        raise InputError(_display(folder, project_root), "at least one progress report workbook (.xlsx)",
                         found="no workbook")
    return dict(sorted(found.items()))


def _display(path: Path, project_root: Path) -> str:
    from .paths import display_path

    shown = display_path(path, project_root)
    return shown if not Path(shown).is_absolute() else Path(path).name


def read_reports(raw_dir: Path, cutoff: Quarter, project_root: Path, *, allow_outside: bool = False
                 ) -> tuple[list[ProgressReport], ReportInventory]:
    """Read every report up to the cut-off; reports after it are listed, never opened."""
    inventory = ReportInventory()
    reports = []
    for quarter, path in list_progress_reports(raw_dir, project_root, allow_outside=allow_outside).items():
        display = _display(path, project_root)
        if quarter > cutoff:
            inventory.after_cutoff.append((str(quarter), display))
            continue
        report = read_progress_report(path, display)
        reports.append(report)
        inventory.used.append((str(quarter), display))
        if report.hidden:
            inventory.warnings.append(_warning(HIDDEN_SHEET, display, report.sheet, report.header_row, "",
                                               "hidden_sheet", {"quarter": quarter, "sheet": report.sheet}))
    folder = _display(Path(raw_dir) / PROGRESS_DIR, project_root)
    if not reports:
        raise InputError(folder, f"at least one progress report at or before the cut-off {cutoff}", found="none")
    inventory.warnings += _missing_quarters([r.quarter for r in reports], cutoff, folder)
    return reports, inventory


def warning_text(key: str, fields: dict, lang: str) -> str:
    """An input warning in ``lang`` (catalog ``warning.<key>``); a value flag is shown in words."""
    shown = dict(fields)
    if shown.get("flag"):
        shown["flag"] = i18n.t(f"workbook.flag_{shown['flag']}", lang)  # the workbook's word for the flag
    return i18n.t(f"warning.{key}", lang, **shown)


def _warning(kind: str, file: str, sheet: str = "", row: int | None = None, column: str = "", key: str = "",
             fields: dict | None = None) -> dict:
    """A warning row (WARNING_COLUMNS): its English message and, for any language, its key and fields."""
    fields = {k: str(v) for k, v in (fields or {}).items()}
    return {"kind": kind, "file": file, "sheet": sheet, "row": row, "column": column,
            "message": warning_text(key, fields, "en"), "message_key": key,
            "message_fields": json.dumps(fields, ensure_ascii=False, sort_keys=True)}


def _missing_quarters(read: list[Quarter], cutoff: Quarter, folder: str) -> list[dict]:
    """A quarter without a report between the first report read and the cut-off (both included)."""
    have = {q.index for q in read}
    first = min(read)
    warnings = []
    quarter = first
    while quarter <= cutoff:
        if quarter.index not in have:
            before = max((q for q in read if q < quarter), default=None)
            after = min((q for q in read if q > quarter), default=None)
            key = ("missing_quarter_between" if after is not None else
                   "missing_quarter_cutoff" if quarter == cutoff else "missing_quarter_before")
            warnings.append(_warning(MISSING_QUARTER, folder, key=key, fields={
                "quarter": quarter, "before": before, "after": after, "cutoff": cutoff}))
        quarter = quarter.next()
    return warnings


def tidy_progress(reports: list[ProgressReport], lfm: Logframe) -> pd.DataFrame:
    """One row per indicator x quarter read; indicators absent from a report get ``not_reported``.

    ``change_from_previous`` is the value minus the last earlier reported value of the same
    indicator: cumulative values must never go down (checked by the validation suite).
    """
    records = [asdict(record) for report in reports for record in report.records]
    quarters = sorted({str(report.quarter) for report in reports}, key=lambda q: (int(q[:4]), q[-1]))
    present = {(record["indicator_id"], record["quarter"]) for record in records}
    missing = [
        {"indicator_id": iid, "code_raw": "", "quarter": q, "value": None, "value_raw": "", "value_flag": cleaning.NOT_REPORTED,
         "footnote_mark": False, "comment": "", "source_file": "", "source_sheet": "", "source_row": None,
         "source_column": "", "source_code_column": ""}
        for iid in lfm.output_indicator_ids for q in quarters if (iid, q) not in present
    ]
    columns = [c for c in TIDY_COLUMNS if c not in ("output_id", "change_from_previous", "carried_from")]
    table = pd.DataFrame(records + missing, columns=columns)
    table["output_id"] = table["indicator_id"].str.rsplit(".", n=1).str[0]
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype("float64")
    table["source_row"] = pd.to_numeric(table["source_row"], errors="coerce").astype("Int64")
    table["footnote_mark"] = table["footnote_mark"].astype(bool)
    order = {q: i for i, q in enumerate(quarters)}
    table["_order"] = table["quarter"].map(order)
    table = table.sort_values(["indicator_id", "_order", "source_row"], kind="stable").drop(columns="_order")
    previous = table.groupby("indicator_id")["value"].transform(lambda s: s.ffill().shift())
    table["change_from_previous"] = table["value"] - previous
    table["carried_from"] = _carried_from(table, quarters[-1])
    return table[TIDY_COLUMNS].reset_index(drop=True)


def _carried_from(table: pd.DataFrame, last_quarter: str) -> pd.Series:
    """For the rows of the last report read (the values current at the cut-off): the quarter whose value
    becomes the current value because this report gives none (row deleted, or written empty, ``n.d.``,
    ``N/A``, ``--``...); empty elsewhere. Values are cumulative: the last value reported at or before the
    cut-off is the current value (§38, §153), but a carried value is always flagged and warned about."""
    carried = pd.Series("", index=table.index, dtype="object")
    quarters = list(dict.fromkeys(table["quarter"]))
    order = table["quarter"].map({q: float(i) for i, q in enumerate(quarters)}).where(table["value"].notna())
    last_order = order.groupby(table["indicator_id"]).transform(lambda s: s.ffill().shift())
    last_valued = last_order.map(lambda i: None if pd.isna(i) else quarters[int(i)])
    at_last = table["quarter"].eq(last_quarter) & table["value"].isna() & last_valued.notna()
    carried[at_last] = last_valued[at_last]
    return carried


def build_progress_table(raw_dir: Path, lfm: Logframe, cutoff: Quarter, project_root: Path, *,
                         allow_outside: bool = False) -> tuple[pd.DataFrame, ReportInventory, list[ProgressReport]]:
    """Clean stage in one call: read the reports up to ``cutoff`` and return the tidy table."""
    reports, inventory = read_reports(raw_dir, cutoff, project_root, allow_outside=allow_outside)
    inventory.warnings += target_warnings(reports, lfm)
    return tidy_progress(reports, lfm), inventory, reports


def target_warnings(reports: list[ProgressReport], lfm: Logframe) -> list[dict]:
    """The «Meta» column of the last report read (the one current at the cut-off) against the logframe's
    target of each output indicator: a difference is an input warning (``target_differs``), never a change of
    figure — progress and status use the logframe's target (the LFM 2019 the report evaluates, §38, Annex 16).
    A report without a «Meta» column, or a «Meta» cell left empty, gives no warning."""
    if not reports:
        return []
    last = max(reports, key=lambda r: r.quarter)
    targets = dict(zip(lfm.output_indicators["indicator_id"], lfm.output_indicators["target"]))
    rows = []
    for record in last.records:
        if not record.target_column or not record.target_raw or record.indicator_id not in targets:
            continue
        expected = targets[record.indicator_id]
        if record.target is not None and pd.notna(expected) and abs(record.target - float(expected)) < 1e-9:
            continue
        key = "target_differs" if record.target is not None else "target_not_a_number"
        rows.append(_warning(TARGET_DIFFERS, record.source_file, record.source_sheet, record.source_row,
                             record.target_column, key,
                             {"indicator": record.indicator_id, "quarter": record.quarter,
                              "written": record.target_raw, "target": f"{float(expected):g}"}))
    return rows


def read_tidy(path: Path) -> pd.DataFrame:
    """Read the tidy table back with the dtypes the validation suite expects."""
    require_stage_output(path)
    table = pd.read_csv(path, dtype={"indicator_id": str, "code_raw": str, "output_id": str, "quarter": str, "value_raw": str,
                                     "value_flag": str, "comment": str, "source_file": str, "source_sheet": str,
                                     "source_column": str, "source_code_column": str, "carried_from": str},
                        keep_default_na=False, na_values={"value": [""], "change_from_previous": [""],
                                                          "source_row": [""]})
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype("float64")
    table["change_from_previous"] = pd.to_numeric(table["change_from_previous"], errors="coerce").astype("float64")
    table["source_row"] = pd.to_numeric(table["source_row"], errors="coerce").astype("Int64")
    table["footnote_mark"] = table["footnote_mark"].astype(str).str.lower().eq("true")
    return table


def report_summary(reports: list[ProgressReport]) -> pd.DataFrame:
    """What each workbook gave: the sheet used, the header row, indicator and heading rows, other sheets."""
    return pd.DataFrame([{
        "quarter": str(report.quarter), "file": Path(report.file).name, "sheet": report.sheet,
        "header_row": report.header_row, "indicator_rows": len(report.records), "heading_rows": report.heading_rows,
        "sheets_ignored": ", ".join(report.ignored_sheets),
    } for report in reports])


def flag_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Count of values by quarter and flag, plus the footnote marks cut: the cleaning at a glance."""
    pivot = pd.crosstab(table["quarter"], table["value_flag"]).reindex(columns=list(cleaning.VALUE_FLAGS),
                                                                       fill_value=0)
    pivot["footnote_marks"] = table.groupby("quarter")["footnote_mark"].sum().astype(int)
    respelled = table["value_flag"].ne(cleaning.NOT_REPORTED) & table["code_raw"].ne(table["indicator_id"])
    pivot["codes_respelled"] = respelled.groupby(table["quarter"]).sum().astype(int)
    return pivot


def input_warnings(table: pd.DataFrame, inventory: ReportInventory) -> pd.DataFrame:
    """Every input warning of the progress reports, one row each (``WARNING_COLUMNS``): values carried from
    an earlier report (from the tidy table's ``carried_from``), missing quarters and hidden sheets (from the
    inventory). A warning never stops a run; it is shown in the clean notebook, the run's summary and the annex."""
    files = dict(inventory.used)
    rows = []
    carried = table[table["carried_from"].fillna("").ne("")] if "carried_from" in table else table.iloc[0:0]
    for _, row in carried.iterrows():
        source = table[(table["indicator_id"] == row["indicator_id"]) & (table["quarter"] == row["carried_from"])]
        earlier = source.iloc[0] if len(source) else None
        if row["value_flag"] == cleaning.NOT_REPORTED:
            key = "carried_forward_not_in_report"
        elif row["value_raw"]:
            key = "carried_forward_written"
        else:
            key = "carried_forward_empty"
        fields = {"indicator": row["indicator_id"], "quarter": row["quarter"], "written": row["value_raw"],
                  "flag": row["value_flag"], "earlier": row["carried_from"]}
        if earlier is not None:
            key += "_from"
            fields.update(value=f"{earlier['value']:g}", file=earlier["source_file"], row=earlier["source_row"])
        rows.append(_warning(
            CARRIED_FORWARD, row["source_file"] or files.get(row["quarter"], ""), row["source_sheet"],
            None if pd.isna(row["source_row"]) else int(row["source_row"]), row["source_column"], key, fields))
    frame = pd.DataFrame(list(inventory.warnings) + rows, columns=WARNING_COLUMNS)
    frame["row"] = pd.to_numeric(frame["row"], errors="coerce").astype("Int64")
    return frame


def warnings_line(warnings: pd.DataFrame) -> str:
    """One line for the run's summary: '3 input warnings (2 carried_forward, 1 missing_quarter)' or ''."""
    if warnings is None or warnings.empty:
        return ""
    return warnings_summary({kind: int(n) for kind, n in warnings["kind"].value_counts().items()})


def warnings_in_words(warnings: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The input warnings for a reader (notebook 01, the annex): kind, place and the message in ``lang`` (codes
    and fields dropped). A file written before warnings had keys keeps its English message."""
    import json

    out = warnings[["kind", "file", "sheet", "row", "column"]].copy()
    out["kind"] = [i18n.t(f"warning.kind.{kind}", lang) if i18n.has(f"warning.kind.{kind}", lang) else kind
                   for kind in out["kind"]]
    keys = warnings.get("message_key", pd.Series("", index=warnings.index)).fillna("")
    fields = warnings.get("message_fields", pd.Series("", index=warnings.index)).fillna("")
    out["message"] = [warning_text(key, json.loads(field or "{}"), lang) if key else message
                      for key, field, message in zip(keys, fields, warnings["message"])]
    return out


def write_input_warnings(warnings: pd.DataFrame, processed_dir: Path) -> Path:
    """``<processed>/input_warnings.csv``: the warnings for the later stages (annex, run summary)."""
    out = Path(processed_dir) / WARNINGS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    warnings.reindex(columns=WARNING_COLUMNS).to_csv(out, index=False, lineterminator="\n")
    return out


def read_input_warnings(processed_dir: Path) -> pd.DataFrame:
    """The warnings written by the clean stage (an empty table when the file is absent: older runs)."""
    path = Path(processed_dir) / WARNINGS_FILE
    if not path.exists():
        return pd.DataFrame(columns=WARNING_COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["row"] = pd.to_numeric(frame["row"].replace("", None), errors="coerce").astype("Int64")
    return frame.reindex(columns=WARNING_COLUMNS)
