"""From the raw quarterly progress reports to one tidy table: one row per indicator x quarter."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from . import cleaning
from .errors import InputError, require_stage_output
from .lfm import Logframe
from .quarters import Quarter, find_quarter
from .readers import ProgressReport, read_progress_report

PROGRESS_DIR = "progress_reports"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb")

TIDY_COLUMNS = [
    "indicator_id", "code_raw", "output_id", "quarter", "value", "value_raw", "value_flag", "footnote_mark", "comment",
    "source_file", "source_sheet", "source_row", "source_column", "source_code_column", "change_from_previous",
]


@dataclass
class ReportInventory:
    """Which workbooks were read for this cut-off and which were left out, and why."""

    used: list[tuple[str, str]] = field(default_factory=list)  # (quarter, file)
    after_cutoff: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def as_frame(self) -> pd.DataFrame:
        rows = [{"quarter": q, "file": f, "use": "read"} for q, f in self.used]
        rows += [{"quarter": q, "file": f, "use": "ignored: after the cut-off"} for q, f in self.after_cutoff]
        rows += [{"quarter": "", "file": f, "use": f"ignored: {why}"} for f, why in self.skipped]
        return pd.DataFrame(rows, columns=["quarter", "file", "use"])


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
        reports.append(read_progress_report(path, display))
        inventory.used.append((str(quarter), display))
    if not reports:
        raise InputError(_display(Path(raw_dir) / PROGRESS_DIR, project_root),
                         f"at least one progress report at or before the cut-off {cutoff}", found="none")
    return reports, inventory


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
    columns = [c for c in TIDY_COLUMNS if c not in ("output_id", "change_from_previous")]
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
    return table[TIDY_COLUMNS].reset_index(drop=True)


def build_progress_table(raw_dir: Path, lfm: Logframe, cutoff: Quarter, project_root: Path, *,
                         allow_outside: bool = False) -> tuple[pd.DataFrame, ReportInventory, list[ProgressReport]]:
    """Clean stage in one call: read the reports up to ``cutoff`` and return the tidy table."""
    reports, inventory = read_reports(raw_dir, cutoff, project_root, allow_outside=allow_outside)
    return tidy_progress(reports, lfm), inventory, reports


def read_tidy(path: Path) -> pd.DataFrame:
    """Read the tidy table back with the dtypes the validation suite expects."""
    require_stage_output(path)
    table = pd.read_csv(path, dtype={"indicator_id": str, "code_raw": str, "output_id": str, "quarter": str, "value_raw": str,
                                     "value_flag": str, "comment": str, "source_file": str, "source_sheet": str,
                                     "source_column": str, "source_code_column": str},
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
