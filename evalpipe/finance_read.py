"""The finance folder of a drop read: its declaration (``finance/finance.yaml``), the budget narratives and
the ILO financial reports at or before the cut-off (``load_finance``).

The declaration is checked against ``schema_base.FinanceSpec``; each workbook is read by ``finance_workbooks``;
the stated totals of the files are reconciled (``finance_reconcile.reconcile``) before the data are used.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError
from .finance import DECLARATION, FINANCE_DIR, FinanceData
from .finance_reconcile import RULES, reconcile
from .finance_workbooks import read_budget_narrative, read_financial_report
from .quarters import Quarter, find_quarter


# ------------------------------------------------------------------ declaration and catalogue

def _display(path: Path, project_root: Path | None) -> str:
    from .paths import display_path

    return display_path(path, project_root) if project_root else Path(path).name


def load_declaration(folder: Path, project_root: Path | None = None, *, raw_dir: Path | None = None,
                     allow_outside: bool = False) -> dict:
    """finance/finance.yaml, read safely and checked against ``schema_base.FinanceSpec``; every file and
    folder it names must lie inside the drop (after links) unless ``allow_outside``."""
    from .paths import inside_drop
    from .safeyaml import read_yaml
    from .schema_base import FinanceSpec, validate

    folder = Path(folder)
    raw_dir = Path(raw_dir) if raw_dir is not None else folder.parent
    path = folder / DECLARATION
    display = _display(path, project_root)
    inside_drop(folder, raw_dir, _display(folder, project_root), allow_outside=allow_outside, what="folder")
    if not path.exists():
        raise InputError(display, "a finance.yaml that declares the currency, the budget narratives and the report "
                         "lines (see data/raw/finance/README.md)", found="missing file")
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    document = read_yaml(path, display)
    spec = validate(FinanceSpec, document.data, display, document=document)
    for version, narrative in spec.budget_narratives.items():
        target = folder / narrative.file
        inside_drop(target, raw_dir, f"{display}: budget_narratives.{version}.file {narrative.file}",
                    allow_outside=allow_outside)
    reports = folder / spec.financial_reports
    inside_drop(reports, raw_dir, f"{display}: financial_reports {spec.financial_reports}",
                allow_outside=allow_outside, what="folder")
    for report in sorted(reports.glob("*.xlsx")) if reports.is_dir() else []:
        inside_drop(report, raw_dir, _display(report, project_root), allow_outside=allow_outside)
    return document.data


def _project_life(raw_dir: Path, project_root: Path | None = None, allow_outside: bool = False
                  ) -> tuple[Quarter, Quarter]:
    from .lfm import load_project

    project = load_project(raw_dir, project_root, allow_outside=allow_outside)
    return project.first_quarter, project.last_quarter


def _items(declaration: dict) -> pd.DataFrame:
    items = declaration["budget_items"]
    parents = {spec.get("parent") for spec in items.values()}
    root = next(code for code, spec in items.items() if not spec.get("parent"))
    kinds = {code: ("total_cost" if code == root else "direct_total" if code in parents else
                    "indirect" if spec.get("parent") == root else "direct") for code, spec in items.items()}
    return pd.DataFrame([{"item_code": code, "item": spec["name_en"], "item_es": spec.get("name_es", spec["name_en"]),
                          "line_type": kinds[code], "parent_code": spec.get("parent") or ""}
                         for code, spec in items.items()])


def _lines(declaration: dict, lfm) -> pd.DataFrame:
    """Report lines in print order: each component, its LFM outputs and declared lines; then the rest."""
    declared = declaration["report_lines"]

    def label(template: dict, code: str) -> dict:
        return {lang: template[lang].replace("{id}", code) for lang in ("es", "en")}

    def row(code: str, names: dict, kind: str, parent: str, component: str, output: str | None) -> dict:
        return {"line_code": code, "line": names["es"], "line_en": names.get("en", names["es"]), "line_type": kind,
                "parent_code": parent, "component_id": component, "output_id": output}

    rows = []
    for cid in lfm.components["component_id"]:
        rows.append(row(f"C{cid}", label(declaration["component_label"], cid), "component", "TOTAL", cid, None))
        rows += [row(oid, label(declaration["output_label"], oid), "output", f"C{cid}", cid, oid)
                 for oid in lfm.outputs.loc[lfm.outputs["component_id"] == cid, "output_id"]]
        rows += [row(code, spec, spec["type"], spec["parent"], cid, None)
                 for code, spec in declared.items() if spec.get("parent") == f"C{cid}"]
    rows += [row(code, spec, spec["type"], spec.get("parent") or "", "", None)
             for code, spec in declared.items() if not str(spec.get("parent", "")).startswith("C")]
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the folder

def load_finance(raw_dir: Path, lfm, cutoff: Quarter, project_root: Path | None = None, *,
                 allow_outside: bool = False) -> FinanceData:
    """Read the finance folder of a drop: budget narratives, and the reports at or before the cut-off.

    Bad input raises InputError naming file, sheet, row and column, including stated totals that do
    not add up to their rows (see ``reconcile``).
    """
    raw_dir = Path(raw_dir)
    folder = raw_dir / FINANCE_DIR
    declaration = load_declaration(folder, project_root, raw_dir=raw_dir, allow_outside=allow_outside)
    currency = str(declaration["currency"]).upper()
    first_quarter, last_quarter = _project_life(raw_dir, project_root, allow_outside)
    years = first_quarter.year, last_quarter.year
    items, lines = _items(declaration), _lines(declaration, lfm)
    budget = []
    for version, spec in declaration["budget_narratives"].items():
        path = folder / spec["file"]
        display = _display(path, project_root)
        if not path.exists():
            raise InputError(display, f"the budget narrative '{version}' declared in finance/finance.yaml",
                             found="missing file")
        budget.append(read_budget_narrative(path, display, version, items, currency, years))
    inventory, reports = [], []
    for path in sorted((folder / declaration["financial_reports"]).glob("*.xlsx")):
        if path.name.startswith("~$"):
            continue
        display = _display(path, project_root)
        quarter = find_quarter(path.stem)
        if quarter is None:
            raise InputError(display, "a file name that contains the report's quarter, e.g. "
                             "'Informe financiero OIT 2020T2.xlsx'", found=path.name)
        if not first_quarter <= quarter <= last_quarter:
            raise InputError(display, f"a report quarter within the project's life ({first_quarter}-{last_quarter}, "
                             "lfm/project.yaml)", found=str(quarter))
        if quarter > cutoff:
            inventory.append({"file": display, "quarter": str(quarter), "status": "after_cutoff", "period_text": ""})
            continue
        if str(quarter) in [r["quarter"] for r in inventory]:
            raise InputError(display, f"one financial report per quarter ({quarter} has two)", found=path.name)
        cells, period_text = read_financial_report(path, display, quarter, lines, currency, years)
        reports.append(cells)
        inventory.append({"file": display, "quarter": str(quarter), "status": "used", "period_text": period_text})
    used = [r for r in inventory if r["status"] == "used"]
    if not used:
        raise InputError(_display(folder / declaration["financial_reports"], project_root),
                         f"at least one ILO financial report at or before the cut-off {cutoff}",
                         found=f"{len(inventory)} report(s), all after it")
    finance = FinanceData(
        currency=currency, cutoff=cutoff, first_quarter=first_quarter, last_quarter=last_quarter, items=items,
        lines=lines,
        budget=pd.concat(budget, ignore_index=True), reports=pd.concat(reports, ignore_index=True),
        inventory=pd.DataFrame(inventory).sort_values("quarter", kind="stable").reset_index(drop=True),
        labels={version: spec.get("label", version) for version, spec in declaration["budget_narratives"].items()})
    checks = reconcile(finance)
    failed = checks[~checks["passed"]]
    if len(failed):
        first = failed.iloc[0]
        raise InputError(first["source_file"], f"a total equal to the sum of its parts ({RULES[first['rule']]}): "
                         f"{first['expected']:,.2f} within {first['tolerance']:.2f}", sheet=first["source_sheet"],
                         row=int(first["source_row"]), column=first["source_column"], found=f"{first['found']:,.2f}")
    return finance

