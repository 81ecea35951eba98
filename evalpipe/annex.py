"""The PDF evaluation annex: the run's tables typeset by Typst as an archival PDF/A-2b.

``annex_data`` gathers what the annex shows (aggregated tables of the run, the fichas técnicas,
the manifest) into one JSON document; ``build_annex`` writes it to ``<run_dir>/annex/``, copies the
template ``templates/annex.typ`` beside it and compiles ``<run_dir>/annex.pdf`` (``annex_en.pdf`` in
English) with the fonts that ship inside the typst wheel. The annex reads no microdata and no
timing: the same run folder and data drop give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from importlib import metadata, resources
from pathlib import Path

import pandas as pd
import yaml

from . import __version__, i18n
from .audit import in_words as audit_in_words
from .smart import annex_block as smart_annex_block
from .codes import INDICATOR_STATUSES, NOT_APPLICABLE, OUTCOME_STATUSES, OUTPUT_STATUSES
from .drop import banner_text, sha256_file
from .export import restore_cell
from .fichas import Ficha, load_fichas, period_text
from .figures import FIGURES, caption, figure_path
from .finance import GROUPINGS
from .finance_tables import SIDE_BY_SIDE, TO_CUTOFF, pivot_blocks, side_by_side
from .labels import label, workbook_words
from .lfm import Logframe, id_key, load_logframe, load_project
from .microdata import load_sources
from .outcomes import formula_line, reason_text
from .progress import warnings_in_words
from .validation import description_text
from .outputs import round_half_up, status_counts
from .runfolder import (FINANCE_TABLES, TABLES, fixed_timestamp, lang_suffix, read_finance, read_manifest, read_tables,
                        run_lang)
from .style import STATUS_COLOURS, UNKNOWN_STATUS_COLOUR, format_number

ANNEX_DIR = "annex"
TEMPLATE = "annex.typ"
COMMON = "common.typ"  # the annexes' shared look, imported by annex.typ and compare.typ
PDF_STANDARD = "a-2b"
# The fonts of the typst wheel (Libertinus Serif, New Computer Modern, DejaVu Sans Mono): no system
# font is looked at, so the PDF is the same on every machine.
FONTS = ("Libertinus Serif", "DejaVu Sans Mono")

FICHA_FIELDS = ("resultado", "proposito", "unidad_de_medida", "metodo_de_calculo", "observaciones",
                "nivel_de_desagregacion", "procedencia_de_los_datos", "periodo_de_referencia", "responsable",
                "documentos_utilizados", "notas_al_pie")
# First characters export.neutralise_cell prefixes with an apostrophe in the CSV tables.
# How the annex is rebuilt, as commands that work from the project folder of a machine set up with the
# README (`make install`); {placeholders} come from the manifest. The typst package is a Python binding
# (no `typst` executable): `pipeline.py typeset` compiles the run folder's annex/annex.typ with the same
# settings as the run (typeset_annex) and checks that the PDF is byte for byte the published one.
RUN_COMMAND = ".venv/bin/python pipeline.py run --evaluation {evaluation} --cutoff {cutoff} --lang {lang}{extra}"
TYPESET_COMMAND = "SOURCE_DATE_EPOCH={epoch} .venv/bin/python pipeline.py typeset {run}"


def _t(lang: str) -> i18n.CatalogView:
    """The annex's words in ``lang``: the catalog's ``annex.*`` keys without the prefix (``t["title"]``);
    ``t["finance_codes"]`` and ``t["finance_titles"]`` are the sub-mappings ``annex.finance_codes.*`` and
    ``annex.finance_titles.*``. {placeholders} are filled in by the caller."""
    return i18n.view("annex.", lang)


def annex_text(lang: str) -> i18n.CatalogView:
    """The annex's words in ``lang`` (the workbook reuses the finance codes' words)."""
    return _t(lang)


def annex_pdf_path(run_dir: Path, lang: str = "es") -> Path:
    """``<run_dir>/annex.pdf`` in Spanish, ``annex_en.pdf`` in English."""
    return Path(run_dir) / f"annex{lang_suffix(lang)}.pdf"


def annex_data_path(run_dir: Path, lang: str = "es") -> Path:
    return Path(run_dir) / ANNEX_DIR / f"annex_data{lang_suffix(lang)}.json"


def _text(value: object) -> str:
    """A cell as text; NaN and None are empty. The apostrophe the CSV export puts before text a
    spreadsheet would run as a formula (export.neutralise_cell) is not printed: a PDF runs nothing."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return restore_cell(str(value))


def _with_unit(value: object, unit: str, digits: int = 2) -> str:
    text = format_number(value, digits)
    return f"{text} %" if unit == "percent" and text != "—" else text


def _status(code: str, lang: str) -> dict[str, str]:
    return {"code": code, "label": label(code, lang)}


# ---------------------------------------------------------------------------------- sections --

def _cover(manifest: dict, project: dict, lang: str, timestamp: dt.datetime) -> dict:
    drop = manifest["data_drop"]
    software = manifest.get("software", {})
    return {
        "project_name": project.get(f"name_{lang}") or project.get("name_es", ""),
        "symbol": project.get("symbol", ""),
        "donor": project.get("donor", ""),
        "evaluation": label(manifest["evaluation"], lang),
        "cutoff": manifest["cutoff"],
        "label": manifest["label"],
        "drop_id": drop["drop_id"],
        "drop_date": drop["drop_date"],
        "data_origin": i18n.t(f"annex.data_origin_{drop['data_origin']}", lang),
        "synthetic": drop["data_origin"] == "synthetic",
        "banner": banner_text(drop["data_origin"], lang),
        "software": f"evalpipe {software.get('evalpipe', __version__)} · Python {software.get('python', '')}",
        "commit": manifest.get("git_commit", ""),
        "date": timestamp.date().isoformat(),
        "year": timestamp.year, "month": timestamp.month, "day": timestamp.day,
    }


def _counts(table: pd.DataFrame, codes: tuple[str, ...], lang: str) -> dict:
    counts = status_counts(table, codes)
    return {"total": int(counts["n"].sum()),
            "rows": [{**_status(code, lang), "n": str(int(n)),
                      "pct": "—" if pd.isna(pct) else format_number(round_half_up(pct), 0)}
                     for code, n, pct in zip(counts["status"], counts["n"], counts["pct"])]}


def _summary(tables: dict[str, pd.DataFrame], lang: str) -> list[dict]:
    t = _t(lang)
    return [
        {"title": t["group_output_indicators"], **_counts(tables["output_indicators"], INDICATOR_STATUSES, lang)},
        {"title": t["group_outputs"], **_counts(tables["output_status"], OUTPUT_STATUSES, lang)},
        {"title": t["group_outcome_indicators"], **_counts(tables["outcome_indicators"], INDICATOR_STATUSES, lang)},
        {"title": t["group_outcomes"], **_counts(tables["outcome_status"], OUTCOME_STATUSES, lang)},
    ]


def _named(frame: pd.DataFrame, key: str, lang: str) -> dict[str, tuple[str, str]]:
    """Each code's name in ``lang`` where the logframe has it (``name_en``), else in Spanish: (name, its language)."""
    column = f"name_{lang}" if f"name_{lang}" in frame.columns else "name_es"
    out = {}
    for k, name, spanish in zip(frame[key], frame[column].fillna(""), frame["name_es"].fillna("")):
        out[k] = (name, lang) if name else (spanish, "es")
    return out


def _output_dashboard(tables: dict[str, pd.DataFrame], lfm: Logframe, lang: str) -> list[dict]:
    """Annex 16: per output, its indicators with current value, target, progress and status."""
    output_names = _named(lfm.outputs, "output_id", lang)
    indicator_names = dict(zip(lfm.output_indicators["indicator_id"], lfm.output_indicators["name_es"]))
    indicators = tables["output_indicators"]
    rows = []
    for output_id in sorted(indicators["output_id"].unique(), key=id_key):
        group = indicators[indicators["output_id"] == output_id].sort_values(
            "indicator_id", key=lambda s: s.map(id_key), kind="stable")
        name, name_lang = output_names.get(output_id, ("", lang))
        rows.append({"id": output_id, "name": name, "name_lang": name_lang, "indicators": [{
            "id": r.indicator_id, "name": indicator_names.get(r.indicator_id, ""),
            "current": _current_output(r), "target": format_number(r.target),
            "progress": "—" if pd.isna(r.progress_pct) else f"{format_number(round_half_up(r.progress_pct), 0)} %",
            "status": _status(r.status, lang), "mark": bool(r.scheduled_after_cutoff),
        } for r in group.itertuples()]})
    return rows


def _current_output(r) -> str:
    """The current value; a value carried from an earlier report (§38, §153) is marked † with its quarter."""
    shown = format_number(r.current)
    if bool(getattr(r, "carried_forward", False)) and pd.notna(r.current):
        shown += f" † ({r.value_quarter})"
    return shown


def _carried_note(tables: dict[str, pd.DataFrame], lang: str) -> str:
    """Under Annex 16: what † means, when a value is marked (empty otherwise)."""
    indicators = tables["output_indicators"]
    if "carried_forward" not in indicators or not indicators["carried_forward"].astype(str).str.lower().eq(
            "true").any():
        return ""
    return i18n.t("rules.carried_forward_mark", lang)


def _status_table(table: pd.DataFrame, key: str, names: dict[str, tuple[str, str]], lang: str) -> list[dict]:
    """Table 1 / Table 2: each output or outcome, its status and the counts of its indicators' statuses."""
    rows = []
    for r in table.sort_values(key, key=lambda s: s.map(id_key), kind="stable").to_dict("records"):
        name, name_lang = names.get(r[key], ("", lang))
        rows.append({"id": r[key], "name": name, "name_lang": name_lang, "status": _status(r["status"], lang),
                     "mark": bool(r.get("scheduled_after_cutoff", False)),
                     "counts": [format_number(r[c], 0) for c in
                                ("n_indicators", "n_achieved", "n_in_progress", "n_no_progress", "n_not_measured")]})
    return rows


def _outcome_dashboard(tables: dict[str, pd.DataFrame], lfm: Logframe, lang: str) -> list[dict]:
    """Annex 17: per outcome, its indicators with baseline, current value, target and status."""
    outcome_names = _named(lfm.outcomes, "outcome_id", lang)
    indicator_names = dict(zip(lfm.outcome_indicators["indicator_id"], lfm.outcome_indicators["name_es"]))
    indicators = tables["outcome_indicators"]
    rows = []
    for outcome_id in sorted(indicators["outcome_id"].unique(), key=id_key):
        group = indicators[indicators["outcome_id"] == outcome_id].sort_values(
            "indicator_id", key=lambda s: s.map(id_key), kind="stable")
        name, name_lang = outcome_names.get(outcome_id, ("", lang))
        rows.append({"id": outcome_id, "name": name, "name_lang": name_lang, "indicators": [{
            "id": r.indicator_id, "name": indicator_names.get(r.indicator_id, ""),
            "baseline": _with_unit(r.baseline, r.unit), "current": _with_unit(r.current, r.unit),
            "target": _with_unit(r.target, r.unit), "status": _status(r.status, lang),
            "mark": bool(r.scheduled_after_cutoff),
        } for r in group.itertuples()]})
    return rows


def formula_text(row: dict, lang: str) -> str:
    """The computation with its numbers, e.g. "9 / 20 × 100 = 45 %", for a reviewer to redo by hand: the
    method's registered formula and note (``outcomes.formula_line``), numbers written as the annex writes them."""
    return formula_line(row, lang, number=format_number)


def _ficha(ficha: Ficha, row: dict, exclusions: pd.DataFrame, lang: str) -> dict:
    t = _t(lang)
    fields = ficha.fields
    method_text = fields.get("metodo_de_calculo") or {}
    described = []
    for name in FICHA_FIELDS:
        if name == "metodo_de_calculo":
            items = [[t["numerator"], _text(method_text.get("numerador"))],
                     [t["denominator"], _text(method_text.get("denominador"))]]
            if method_text.get("formula_sin_etiquetas"):
                items.append([t["formula"], _text(method_text["formula_sin_etiquetas"])])
            described.append({"label": t["field_metodo_de_calculo"], "method": items,
                              "rules": [_text(rule) for rule in method_text.get("reglas") or []]})
            continue
        value = fields.get(name)
        if isinstance(value, list):
            described.append({"label": t[f"field_{name}"], "list": [_text(v) for v in value]})
        else:
            paragraphs = [p.strip() for p in _text(value).split("\n\n") if p.strip()]
            described.append({"label": t[f"field_{name}"], "paragraphs": paragraphs})
    origin = t[f"origin_{ficha.origin}"] if f"origin_{ficha.origin}" in t else ficha.origin
    computed = [
        [t["method"], workbook_words(lang).get(f"method_{row['method']}", row["method"])],
        [t["reference_period"], period_text(row["reference_period"], lang)],
        [t["source"], _text(row["source"]) or "—"],
        [t["numerator"], format_number(row["numerator"], 4)],
        [t["denominator"], format_number(row["denominator"], 4)],
        [t["n_used"], format_number(row["n"], 0)],
        [t["n_excluded"], format_number(row["n_excluded"], 0)],
        [t["baseline"], _with_unit(row["baseline"], row["unit"])],
        [t["current"], _with_unit(row["current"], row["unit"])],
        [t["target"], _with_unit(row["target"], row["unit"])],
        [t["calculation"], formula_text(row, lang)],
    ]
    if _text(row["reason"]) and row["value_note"] == "":
        computed.append([t["note"], reason_text(row["reason"], lang)])
    excluded = exclusions[exclusions["indicator_id"] == ficha.indicator_id]
    return {
        "id": ficha.indicator_id,
        "title": t["ficha"].format(id=ficha.indicator_id),
        "description": _text(fields.get("descripcion")),
        "origin": f"{origin} · {_text(fields.get('fuente'))}".strip(" ·"),
        "fields": described,
        "status": _status(row["status"], lang),
        "computed": computed,
        "exclusions": [{"reason": reason_text(_text(r.reason), lang), "n": format_number(r.n, 0)}
                       for r in excluded.itertuples()],
        "syntax": yaml.safe_dump(ficha.calculation, allow_unicode=True, sort_keys=False, width=88).rstrip(),
    }


def _fichas(fichas: dict[str, Ficha], tables: dict[str, pd.DataFrame], lang: str) -> list[dict]:
    indicators = tables["outcome_indicators"].set_index("indicator_id", drop=False)
    return [_ficha(ficha, indicators.loc[indicator_id].to_dict(), tables["outcome_exclusions"], lang)
            for indicator_id, ficha in fichas.items() if indicator_id in indicators.index]


def _finance(finance: dict[str, pd.DataFrame] | None, lang: str) -> dict:
    """The finance stage's tables as the report prints them: one table per budget version (Tables 3-6) or
    per measure (Annexes 19-20), lines down and periods across, rounded values (``value_rounded``)."""
    t = _t(lang)
    files = ", ".join(spec.path for spec in FINANCE_TABLES.values())
    if finance is None:
        return {"present": False, "note": t["finance_absent"].format(files=files), "tables": []}
    words = t["finance_codes"]
    blocks = []
    for block in pivot_blocks(finance, lang):
        if block.measure in TO_CUTOFF:  # shown beside the whole-life figures below
            continue
        title = t["finance_titles"].get(block.table, block.table)
        if block.version is not None:
            title += " " + words.get(block.version, block.version)
        blocks.append({
            "title": t["finance_table"].format(table=title, measure=words.get(block.measure, block.measure)),
            "periods": [words.get(p, p) for p in block.periods],
            "rows": [{"line": _line_label(line, block.names.get(line, "")), "total": line in block.totals,
                      "values": [format_number(block.values[(line, p)], 1 if block.percent else 0)
                                 if (line, p) in block.values else "" for p in block.periods]}
                     for line in block.lines],
        })
    if "financial_execution" in finance:
        wide = side_by_side(finance["financial_execution"], lang)
        name = next(c for c in wide.columns if str(c).startswith("line_name"))
        totals = set(finance["financial_execution"].loc[finance["financial_execution"]["is_total"].astype(bool),
                                                        "line"])
        blocks.append({
            "title": t["finance_to_cutoff_title"], "note": t["finance_to_cutoff_note"], "even": True,
            "periods": [words.get(m, m) for m in SIDE_BY_SIDE],
            "rows": [{"line": _line_label(r["line"], str(r[name])),
                      "total": r["line"] in totals,
                      "values": [format_number(r[m], 1 if m.startswith("execution_pct") else 0)
                                 for m in SIDE_BY_SIDE]}
                     for r in wide.to_dict("records")],
        })
    return {"present": True, "note": "", "tables": blocks}


def _line_label(code: str, name: str) -> str:
    """"A Personal"; a line whose name is its code (e.g. TOTAL) is named once, and a grouping of lines
    (finance.GROUPINGS: OUTPUTS, NO_OUTPUTS) by its name alone."""
    if code in GROUPINGS and name:
        return name
    return code if name in ("", code) else f"{code} {name}"


def _validation(summary: pd.DataFrame, lang: str) -> dict:
    t = _t(lang)
    suites = []
    for suite, group in summary.groupby("suite", sort=False):
        met = int(group["success"].sum())
        suites.append({"suite": suite, "n": str(len(group)), "met": str(met), "failed": str(len(group) - met)})
    return {"suites": suites, "rows": [{
        "suite": r.suite, "expectation": r.expectation, "column": _text(r.column),
        "description": description_text(r.description, lang),
        "success": bool(r.success), "result": t["success_true"] if r.success else t["success_false"],
        "unexpected": format_number(r.unexpected_count, 0)} for r in summary.itertuples()]}


def _input_warnings(path: Path, lang: str) -> list[dict]:
    """The clean stage's warnings (values carried from an earlier report, missing quarters, hidden sheets), in
    ``lang`` (``progress.warnings_in_words``)."""
    if not path.exists():
        return []
    shown = warnings_in_words(pd.read_csv(path, dtype=str, keep_default_na=False), lang)
    return [{"kind": _text(r["kind"]), "file": _text(r["file"]), "message": _text(r["message"])}
            for r in shown.to_dict("records")]


def _audit(findings: pd.DataFrame, lang: str) -> list[dict]:
    """Section 7: every audit row in ``lang`` (audit.in_words): rules, notes, places, fields and values in words."""
    columns = ("check", "source", "item_id", "field", "published_value", "computed_value", "rule", "note")
    shown = audit_in_words(findings, lang, _t(lang)["finance_codes"])
    return [{c: _text(r[c]) for c in columns} for r in shown.to_dict("records")]


def _reproducibility(manifest: dict, run_dir: Path, lang: str, timestamp: dt.datetime) -> dict:
    t = _t(lang)
    params = manifest.get("parameters", {})
    extra = ""
    if params.get("raw_dir", "data/raw") != "data/raw":
        extra += f" --raw {params['raw_dir']}"
    for folder in params.get("expectations_dirs", [])[:-1]:
        extra += f" --expectations {folder}"
    software = dict(manifest.get("software", {}))
    software["typst"] = metadata.version("typst")
    run_folder = params.get("run_dir", str(run_dir))
    commands = [RUN_COMMAND.format(evaluation=manifest["evaluation"], cutoff=manifest["cutoff"], lang=lang,
                                   extra=extra),
                TYPESET_COMMAND.format(epoch=int(timestamp.timestamp()), run=Path(run_folder).name)]
    table_hashes = [[spec.path, sha256_file(Path(run_dir) / spec.path)]
                    for spec in list(TABLES.values()) + list(FINANCE_TABLES.values())
                    if (Path(run_dir) / spec.path).exists()]
    return {
        "parameters": [[k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)]
                       for k, v in params.items()],
        "drop": [[k, _text(v)] for k, v in manifest["data_drop"].items()],
        "commit": manifest.get("git_commit", ""),
        "software": [[k, _text(v)] for k, v in software.items()],
        "inputs": [[path, digest] for path, digest in sorted(manifest.get("inputs_sha256", {}).items())],
        "tables": table_hashes,
        "commands": commands,
        "typesetting": t["typesetting"].format(typst=software["typst"], fonts=", ".join(FONTS),
                                               date=timestamp.date().isoformat()),
    }


def _figures(run_dir: Path, finance_present: bool, lang: str) -> dict[str, dict]:
    """Each figure's path (root-relative, for Typst), caption and width, or why it is missing."""
    out = {}
    for spec in FIGURES:
        path = figure_path(run_dir, spec.name, lang, "svg")
        if spec.finance and not finance_present:
            continue
        entry = {"caption": caption(spec.name, lang), "path": None,
                 "missing": _t(lang)["figures_missing"].format(name=path.name)}
        if path.exists():
            entry.update(path="/" + path.relative_to(run_dir).as_posix(), width=_svg_width(path), missing="")
        out[spec.name] = entry
    return out


def _svg_width(path: Path, max_height_cm: float = 21.0, text_width_cm: float = 17.0) -> int:
    """The width (in % of the text width) at which a figure fits the page: tall figures are narrowed."""
    head = path.read_text(encoding="utf-8")[:2000]
    width = re.search(r'width="([\d.]+)pt"', head)
    height = re.search(r'height="([\d.]+)pt"', head)
    if not (width and height):
        return 100
    ratio = float(height.group(1)) / float(width.group(1))
    return round(100 * min(1.0, max_height_cm / (ratio * text_width_cm)))


# ------------------------------------------------------------------------------------ build --

def annex_data(run_dir: Path, raw_dir: Path, lang: str | None = None, *, manifest: dict | None = None,
               timestamp: dt.datetime | None = None) -> dict:
    """Everything the template shows, as JSON-ready data: aggregated tables only, numbers already formatted."""
    run_dir, raw_dir = Path(run_dir), Path(raw_dir)
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    timestamp = timestamp or fixed_timestamp(manifest)
    tables = read_tables(run_dir)
    finance = read_finance(run_dir)
    lfm = load_logframe(raw_dir / "lfm")
    fichas = load_fichas(raw_dir, load_sources(raw_dir), lfm.outcome_indicators)
    project = load_project(raw_dir).model_dump()
    text = _t(lang).to_dict()
    text["summary_intro"] = text["summary_intro"].format(cutoff=manifest["cutoff"], label=manifest["label"])
    text["audit_intro"] = text["audit_intro"].format(file=TABLES["consistency_audit"].path)
    return {
        "lang": lang,
        "text": text,
        "colours": {**STATUS_COLOURS, "unknown": UNKNOWN_STATUS_COLOUR},
        "cover": _cover(manifest, project, lang, timestamp),
        "summary": _summary(tables, lang),
        "outputs": _output_dashboard(tables, lfm, lang),
        "outputs_carried_note": _carried_note(tables, lang),
        "output_status": _status_table(tables["output_status"], "output_id",
                                       _named(lfm.outputs, "output_id", lang), lang),
        "outcomes": _outcome_dashboard(tables, lfm, lang),
        "outcome_status": _status_table(tables["outcome_status"], "outcome_id",
                                        _named(lfm.outcomes, "outcome_id", lang), lang),
        "fichas": _fichas(fichas, tables, lang),
        # the fichas are written in Spanish only: an annex in another language says so once
        "fichas_language_note": "" if lang == "es" else i18n.t("annexlang.fichas_in_spanish", lang),
        "finance": _finance(finance, lang),
        "validation": _validation(tables["validation_summary"], lang) | {
            "warnings": _input_warnings(Path(run_dir) / "validation" / "input_warnings.csv", lang)},
        "audit": _audit(tables["consistency_audit"], lang),
        "smart": smart_annex_block(Path(run_dir) / "tables", lang),  # Annexes 12-13: counts by class
        "reproducibility": _reproducibility(manifest, run_dir, lang, timestamp),
        "figures": _figures(run_dir, finance is not None, lang),
    }


def write_annex_data(run_dir: Path, raw_dir: Path, lang: str | None = None, *, manifest: dict | None = None,
                     timestamp: dt.datetime | None = None) -> Path:
    """``<run_dir>/annex/annex_data[_en].json`` beside a copy of the template (both go into the archive)."""
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    path = annex_data_path(run_dir, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = annex_data(run_dir, raw_dir, lang, manifest=manifest, timestamp=timestamp)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    copy_templates(path.parent, TEMPLATE)
    return path


def copy_templates(folder: Path, template: str) -> None:
    """Copy ``template`` and the shared ``common.typ`` it imports into ``folder`` (beside its JSON), so that the
    PDF can be typeset again from the published folder alone."""
    for name in (template, COMMON):
        with resources.as_file(resources.files("evalpipe") / "templates" / name) as source:
            shutil.copyfile(source, Path(folder) / name)


def build_annex(run_dir: Path, raw_dir: Path, lang: str | None = None, *, manifest: dict | None = None,
                timestamp: dt.datetime | None = None) -> Path:
    """Compile ``<run_dir>/annex[_en].pdf`` (PDF/A-2b, fonts embedded, dated by the data drop); returns its path.

    ``lang`` defaults to the run's language; ``manifest`` to ``<run_dir>/manifest.json`` (pass it from a
    stage that runs before the runner writes it). Draw the figures first (``figures.make_all_figures``):
    the annex includes those it finds and says which are missing.
    """
    run_dir = Path(run_dir).resolve()
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    timestamp = timestamp or fixed_timestamp(manifest)
    data_path = write_annex_data(run_dir, raw_dir, lang, manifest=manifest, timestamp=timestamp)
    return typeset_annex(data_path, run_dir, annex_pdf_path(run_dir, lang), timestamp)


def typeset_annex(data_path: Path, run_dir: Path, output: Path, timestamp: dt.datetime,
                  template: str = TEMPLATE) -> Path:
    """Compile the ``template`` beside ``data_path`` (its annex data) into ``output``: PDF/A-2b, the typst
    wheel's fonts only, dated ``timestamp``, files read from ``run_dir``. The one place these settings are, for
    the annex stage, ``pipeline.py typeset`` (which re-typesets a published run) and the comparison's section."""
    import typst

    data_path = Path(data_path)
    typst.compile(str(data_path.parent / template), output=str(output), root=str(Path(run_dir).resolve()),
                  font_paths=[], ignore_system_fonts=True, format="pdf", sys_inputs={"data": data_path.name},
                  pdf_standards=[PDF_STANDARD], timestamp=timestamp)
    return Path(output)
