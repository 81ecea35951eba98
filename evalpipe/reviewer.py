"""The reviewer's package in a run folder: ``index.html`` linking everything, and one Excel workbook.

Both hold aggregated tables and links only (never microdata rows); both are dated by the data drop,
so rebuilding them from the same run gives the same bytes.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from .drop import BANNER
from .export import neutralise_cell
from .figures import FIGURES, figure_path
from .labels import label
from .runfolder import FINANCE_TABLES, TABLES, fixed_timestamp, read_manifest, read_table, run_lang

INDEX = "index.html"
WORKBOOK = "annex_tables.xlsx"
LANGS = ("es", "en")
# Files that describe single records (e.g. the validation's offending cells) are not listed for reviewers.
NOT_LISTED = ("validation/problems.csv",)

PAGE_TEXT = {
    "es": {"title": "Paquete del revisor", "annex": "Anexo de evaluación (PDF/A)", "notebooks": "Cuadernos ejecutados",
           "data_docs": "Data Docs (validación de los datos)", "tables": "Tablas", "figures": "Figuras",
           "workbook": "Todas las tablas del anexo en un libro Excel", "manifest": "Manifiesto de la ejecución",
           "cutoff": "Corte", "drop": "Entrega de datos",
           "annex_data": "Datos y plantilla del anexo"},
    "en": {"title": "Reviewer's package", "annex": "Evaluation annex (PDF/A)", "notebooks": "Executed notebooks",
           "data_docs": "Data Docs (data validation)", "tables": "Tables", "figures": "Figures",
           "workbook": "All annex tables in one Excel workbook", "manifest": "Run manifest",
           "cutoff": "Cut-off", "drop": "Data drop", "annex_data": "Annex data and template"},
}


def _href(path: Path, run_dir: Path) -> str:
    return quote(path.relative_to(run_dir).as_posix())


def _link(path: Path, run_dir: Path, text: str | None = None) -> str:
    shown = html.escape(text or path.relative_to(run_dir).as_posix())
    return f'<a href="{_href(path, run_dir)}">{shown}</a>'


def _files(run_dir: Path, pattern: str) -> list[Path]:
    return sorted(p for p in run_dir.glob(pattern)
                  if p.is_file() and p.relative_to(run_dir).as_posix() not in NOT_LISTED)


def write_index_html(run_dir: Path, lang: str | None = None, *, manifest: dict | None = None) -> Path:
    """``<run_dir>/index.html``: links (relative) to the annex, notebooks, Data Docs, tables, figures and workbook.

    Write it last: it lists the files that exist. ``lang`` defaults to the run's language.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    t = PAGE_TEXT.get(lang, PAGE_TEXT["es"])
    drop = manifest["data_drop"]
    sections: list[tuple[str, list[str]]] = []
    annexes = _files(run_dir, "annex*.pdf")
    sections.append((t["annex"], [_link(p, run_dir) for p in annexes]))
    sections.append((t["notebooks"], [_link(p, run_dir) for p in _files(run_dir, "notebooks/*.html")]))
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
            caption = html.escape(spec.caption.get(figure_lang, spec.caption["es"]))
            vector = f' · {_link(svg, run_dir, "SVG")}' if svg.exists() else ""
            figure_items.append(f'<figure><a href="{_href(png, run_dir)}"><img src="{_href(png, run_dir)}" '
                                f'alt="{caption}" loading="lazy"></a><figcaption>{caption} '
                                f'({_link(png, run_dir, "PNG")}{vector})</figcaption></figure>')
    sections.append((t["figures"], figure_items))
    extra = [_link(p, run_dir) for p in _files(run_dir, "annex/*")]
    sections.append((t["annex_data"], extra))
    sections.append((t["manifest"], [_link(run_dir / "manifest.json", run_dir)]))

    banner = BANNER.get(drop["data_origin"], {}).get(lang, "")
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


def _sheet_tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    specs = dict(TABLES)
    specs.update({name: spec for name, spec in FINANCE_TABLES.items() if (Path(run_dir) / spec.path).exists()})
    return {name: read_table(run_dir, spec) for name, spec in specs.items()}


def write_workbook(run_dir: Path, lang: str | None = None, *, manifest: dict | None = None) -> Path:
    """``<run_dir>/annex_tables.xlsx``: one sheet per annex table, numbers as numbers, text never run as formula.

    A ``status_label`` column (in ``lang``, by default the run's language) follows each ``status`` column.
    """
    import xlsxwriter

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    path = run_dir / WORKBOOK
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "nan_inf_to_errors": False})
    workbook.set_properties({"title": f"{manifest['label']} — annex tables", "author": "evalpipe",
                             "created": fixed_timestamp(manifest).replace(tzinfo=None),
                             "comments": BANNER.get(manifest["data_drop"]["data_origin"], {}).get(lang, "")})
    bold = workbook.add_format({"bold": True, "bg_color": "#E6E6E6", "border": 1})
    for name, table in _sheet_tables(run_dir).items():
        if "status" in table.columns:
            at = table.columns.get_loc("status") + 1
            table.insert(at, "status_label", table["status"].map(lambda code: label(code, lang)))
        sheet = workbook.add_worksheet(name[:31])
        for col, column in enumerate(table.columns):
            sheet.write_string(0, col, str(column), bold)
            width = max([len(str(column))] + [len(str(v)) for v in table[column].head(200)])
            sheet.set_column(col, col, min(max(width + 2, 8), 60))
        for row, record in enumerate(table.itertuples(index=False), start=1):
            for col, value in enumerate(record):
                _write_cell(sheet, row, col, value)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(table), max(len(table.columns) - 1, 0))
    workbook.close()
    return path


def _write_cell(sheet, row: int, col: int, value: object) -> None:
    if isinstance(value, (bool, np.bool_)):
        sheet.write_boolean(row, col, bool(value))
    elif isinstance(value, (int, float, np.integer, np.floating)):
        if value != value:  # NaN: an empty cell, never zero
            sheet.write_blank(row, col, None)
        else:
            sheet.write_number(row, col, float(value))
    elif value is None or value == "":
        sheet.write_blank(row, col, None)
    else:
        sheet.write_string(row, col, str(neutralise_cell(str(value))))
