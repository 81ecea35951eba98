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

from . import __version__
from .drop import BANNER, sha256_file
from .fichas import Ficha, load_fichas
from .figures import FIGURES, figure_path
from .labels import label
from .lfm import Logframe, load_logframe
from .microdata import load_sources
from .outcomes import NOT_APPLICABLE, OUTCOME_STATUSES
from .outputs import INDICATOR_STATUSES, OUTPUT_STATUSES, round_half_up, status_counts
from .runfolder import FINANCE_TABLES, TABLES, fixed_timestamp, lang_suffix, read_finance, read_manifest, read_tables
from .style import STATUS_COLOURS, UNKNOWN_STATUS_COLOUR, format_number

ANNEX_DIR = "annex"
TEMPLATE = "annex.typ"
PDF_STANDARD = "a-2b"
# The fonts of the typst wheel (Libertinus Serif, New Computer Modern, DejaVu Sans Mono): no system
# font is looked at, so the PDF is the same on every machine.
FONTS = ("Libertinus Serif", "DejaVu Sans Mono")

TEXT: dict[str, dict[str, str]] = {
    "es": {
        "title": "Anexo de evaluación",
        "subtitle": "Indicadores del marco lógico recalculados a partir de los datos del proyecto",
        "synthetic": "Datos sintéticos de demostración",
        "project": "Proyecto",
        "symbol": "Símbolo",
        "donor": "Donante",
        "evaluation": "Evaluación",
        "cutoff": "Corte",
        "drop": "Entrega de datos",
        "drop_date": "Fecha de la entrega de datos",
        "data_origin": "Origen de los datos",
        "software": "Software",
        "commit": "Versión del código (git)",
        "contents": "Contenido",
        "summary": "Resumen de estados",
        "summary_intro": "Estados al corte {cutoff}, calculados con las reglas del informe (§154-§158). Cada cifra "
                         "de este anexo procede de las tablas del directorio de la ejecución ({label}); la sección "
                         "«Reproducibilidad» indica cómo reconstruirlas.",
        "group_output_indicators": "Indicadores de producto",
        "group_outputs": "Productos",
        "group_outcome_indicators": "Indicadores de resultado",
        "group_outcomes": "Resultados",
        "status": "Estado",
        "n": "n",
        "share": "%",
        "total": "Total",
        "outputs": "Productos",
        "outputs_intro": "Valor actual = valor acumulado del último informe de progreso en o antes del corte (§38, §153). "
                         "Progreso = valor actual / meta × 100, redondeado (Annex 16). Estado del indicador: meta "
                         "alcanzada si el valor actual ≥ meta; en proceso si supera la línea de base (0, §114); sin "
                         "avance en otro caso; no medido si no hay valor hasta el corte.",
        "annex16": "Tablero de indicadores de producto (como el Annex 16)",
        "output": "Producto",
        "indicator": "Indicador",
        "current": "Valor actual",
        "target": "Valor meta",
        "baseline": "Valor inicial",
        "progress": "Progreso",
        "table1": "Estado de los productos (como la Tabla 1, §155)",
        "table1_intro": "Entregado si todos sus indicadores alcanzaron la meta; en proceso si al menos uno muestra "
                        "avance (con riesgo si la Covid-19 puede condicionarlo significativamente); no entregado si "
                        "ninguno muestra avance (§155).",
        "n_indicators": "Indicadores",
        "n_achieved": "Alcanzados",
        "n_in_progress": "En proceso",
        "n_no_progress": "Sin avance",
        "n_not_measured": "No medidos",
        "scheduled_mark": "* programado después del corte",
        "indicator_names_note": "",
        "outcomes": "Resultados",
        "outcomes_intro": "Cada indicador de resultado se calcula con su ficha técnica (Annex 14; sección siguiente). "
                          "Un indicador cuyo cálculo requiere un producto aún no entregado no muestra avance (§157). "
                          "Estado del resultado: en proceso si al menos un indicador muestra avance; no medido si los "
                          "datos son insuficientes; sin avance en otro caso (§158).",
        "annex17": "Tablero de indicadores de resultado (como el Annex 17)",
        "outcome": "Resultado",
        "table2": "Estado de los resultados (como la Tabla 2, §158)",
        "fichas": "Fichas técnicas de los indicadores de resultado",
        "fichas_intro": "Una ficha por indicador de resultado, con el texto tal como está en los datos (Annex 14 o "
                        "reconstruida) y, debajo, el cálculo al corte: numerador, denominador, n y exclusiones.",
        "ficha": "Ficha técnica del indicador de resultado {id}",
        "ficha_origin": "Origen de la ficha",
        "origin_annex_14": "Annex 14",
        "origin_reconstructed": "Reconstruida",
        "field_descripcion": "Descripción",
        "field_resultado": "Resultado",
        "field_proposito": "Propósito",
        "field_unidad_de_medida": "Unidad de medida",
        "field_metodo_de_calculo": "Método de cálculo",
        "field_observaciones": "Observaciones al indicador",
        "field_nivel_de_desagregacion": "Nivel de desagregación",
        "field_procedencia_de_los_datos": "Procedencia de los datos",
        "field_periodo_de_referencia": "Periodo de referencia",
        "field_responsable": "Responsable del indicador",
        "field_documentos_utilizados": "Documentos utilizados",
        "field_notas_al_pie": "Notas",
        "numerator": "Numerador",
        "denominator": "Denominador",
        "formula": "Fórmula",
        "rules": "Reglas",
        "computed": "Cálculo al corte",
        "method": "Método",
        "reference_period": "Periodo",
        "source": "Fuente",
        "n_used": "n (registros usados)",
        "n_excluded": "Excluidos",
        "value": "Valor",
        "calculation": "Cálculo",
        "note": "Nota",
        "exclusions": "Exclusiones",
        "reason": "Motivo",
        "syntax": "Sintaxis de cálculo (ficha, campo «calculo»)",
        "no_value": "sin valor",
        "pre_post_note": "[numerador = (salida − entrada) × 100; denominador = entrada]",
        "finance": "Información financiera",
        "finance_absent": "La etapa financiera no produjo tablas en esta ejecución ({files}); esta sección se omite.",
        "finance_table": "{table}: {measure}",
        "line": "Partida",
        "validation": "Validación de los datos",
        "validation_intro": "Suites de Great Expectations aplicadas a las tablas limpias (validation/summary.csv): "
                            "cada expectativa y su resultado.",
        "suite": "Suite",
        "expectations": "Expectativas",
        "met": "Cumplidas",
        "failed": "No cumplidas",
        "expectation": "Expectativa",
        "column": "Columna",
        "description": "Descripción",
        "result": "Resultado",
        "unexpected": "Valores inesperados",
        "success_true": "cumple",
        "success_false": "no cumple",
        "audit": "Auditoría de consistencia con el informe publicado",
        "audit_intro": "Cada lugar donde las cifras publicadas (Annex 16 y 17, Tablas 1 y 2, narrativa) difieren de lo "
                       "que dan los datos y las reglas del propio informe (tables/consistency_audit.csv). Reglas y "
                       "notas tal como las escribe la auditoría.",
        "audit_empty": "No se encontraron diferencias.",
        "check": "Control",
        "item": "Elemento",
        "field": "Campo",
        "published": "Publicado",
        "computed_value": "Calculado",
        "rule": "Regla",
        "reproducibility": "Reproducibilidad",
        "repro_intro": "Este anexo se reconstruye byte a byte a partir de los mismos datos y parámetros. La fecha del "
                       "documento es la de la entrega de datos (o SOURCE_DATE_EPOCH), nunca la del reloj; los tiempos "
                       "registrados en los cuadernos ejecutados no intervienen.",
        "parameters": "Parámetros",
        "parameter": "Parámetro",
        "commands": "Comandos que lo reconstruyen",
        "packages": "Versiones del software",
        "package": "Paquete",
        "version": "Versión",
        "inputs": "SHA-256 de cada archivo de entrada",
        "file": "Archivo",
        "tables_hashes": "SHA-256 de las tablas de la ejecución usadas en este anexo",
        "typesetting": "Composición: Typst {typst} (paquete typst de PyPI), PDF/A-2b, fuentes del paquete "
                       "({fonts}) incrustadas; fecha del documento {date}.",
        "figures_missing": "Figura no disponible en esta ejecución: {name}.",
        "footer": "Datos sintéticos de demostración",
    },
    "en": {
        "title": "Evaluation annex",
        "subtitle": "Logframe indicators recomputed from the project's data",
        "synthetic": "Synthetic demonstration data",
        "project": "Project",
        "symbol": "Symbol",
        "donor": "Donor",
        "evaluation": "Evaluation",
        "cutoff": "Cut-off",
        "drop": "Data drop",
        "drop_date": "Date of the data drop",
        "data_origin": "Data origin",
        "software": "Software",
        "commit": "Code version (git)",
        "contents": "Contents",
        "summary": "Summary of statuses",
        "summary_intro": "Statuses at the cut-off {cutoff}, computed with the report's rules (§154-§158). Every figure "
                         "in this annex comes from the tables of the run folder ({label}); the section "
                         "\"Reproducibility\" says how to rebuild them.",
        "group_output_indicators": "Output indicators",
        "group_outputs": "Outputs",
        "group_outcome_indicators": "Outcome indicators",
        "group_outcomes": "Outcomes",
        "status": "Status",
        "n": "n",
        "share": "%",
        "total": "Total",
        "outputs": "Outputs",
        "outputs_intro": "Current value = the cumulative value of the last progress report at or before the cut-off "
                         "(§38, §153). Progress = current value / target × 100, rounded (Annex 16). Indicator status: "
                         "target reached if current ≥ target; in progress if above the baseline (0, §114); no progress "
                         "otherwise; not measured if there is no value up to the cut-off.",
        "annex16": "Output indicator dashboard (as Annex 16)",
        "output": "Output",
        "indicator": "Indicator",
        "current": "Current value",
        "target": "Target",
        "baseline": "Baseline",
        "progress": "Progress",
        "table1": "Output statuses (as Table 1, §155)",
        "table1_intro": "Delivered if all its indicators reached the target; in progress if at least one shows progress "
                        "(with risk if Covid-19 could significantly condition it); not delivered if none shows "
                        "progress (§155).",
        "n_indicators": "Indicators",
        "n_achieved": "Reached",
        "n_in_progress": "In progress",
        "n_no_progress": "No progress",
        "n_not_measured": "Not measured",
        "scheduled_mark": "* scheduled after the cut-off",
        "indicator_names_note": "Indicator names are in Spanish, as the logframe states them.",
        "outcomes": "Outcomes",
        "outcomes_intro": "Each outcome indicator is computed from its ficha técnica (Annex 14; next section). An "
                          "indicator whose calculation needs an output not delivered yet shows no progress (§157). "
                          "Outcome status: in progress if at least one indicator shows progress; not measured if the "
                          "data are insufficient; no progress otherwise (§158).",
        "annex17": "Outcome indicator dashboard (as Annex 17)",
        "outcome": "Outcome",
        "table2": "Outcome statuses (as Table 2, §158)",
        "fichas": "Fichas técnicas of the outcome indicators",
        "fichas_intro": "One ficha per outcome indicator, its text as written in the data (Annex 14 or reconstructed, "
                        "in Spanish) and, under it, the calculation at the cut-off: numerator, denominator, n and "
                        "exclusions.",
        "ficha": "Ficha técnica of outcome indicator {id}",
        "ficha_origin": "Origin of the ficha",
        "origin_annex_14": "Annex 14",
        "origin_reconstructed": "Reconstructed",
        "field_descripcion": "Description",
        "field_resultado": "Outcome",
        "field_proposito": "Purpose",
        "field_unidad_de_medida": "Unit of measure",
        "field_metodo_de_calculo": "Calculation method",
        "field_observaciones": "Remarks",
        "field_nivel_de_desagregacion": "Level of disaggregation",
        "field_procedencia_de_los_datos": "Source of the data",
        "field_periodo_de_referencia": "Reference period",
        "field_responsable": "Responsible",
        "field_documentos_utilizados": "Documents used",
        "field_notas_al_pie": "Notes",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "formula": "Formula",
        "rules": "Rules",
        "computed": "Calculation at the cut-off",
        "method": "Method",
        "reference_period": "Period",
        "source": "Source",
        "n_used": "n (records used)",
        "n_excluded": "Excluded",
        "value": "Value",
        "calculation": "Calculation",
        "note": "Note",
        "exclusions": "Exclusions",
        "reason": "Reason",
        "syntax": "Calculation syntax (ficha, field \"calculo\")",
        "no_value": "no value",
        "pre_post_note": "[numerator = (exit − entry) × 100; denominator = entry]",
        "finance": "Financial information",
        "finance_absent": "The finance stage wrote no tables in this run ({files}); this section is omitted.",
        "finance_table": "{table}: {measure}",
        "line": "Item",
        "validation": "Data validation",
        "validation_intro": "Great Expectations suites applied to the clean tables (validation/summary.csv): every "
                            "expectation and its result.",
        "suite": "Suite",
        "expectations": "Expectations",
        "met": "Met",
        "failed": "Not met",
        "expectation": "Expectation",
        "column": "Column",
        "description": "Description",
        "result": "Result",
        "unexpected": "Unexpected values",
        "success_true": "met",
        "success_false": "not met",
        "audit": "Consistency audit against the published report",
        "audit_intro": "Every place where the published figures (Annexes 16 and 17, Tables 1 and 2, narrative) differ "
                       "from what the data and the report's own rules give (tables/consistency_audit.csv).",
        "audit_empty": "No differences were found.",
        "check": "Check",
        "item": "Item",
        "field": "Field",
        "published": "Published",
        "computed_value": "Computed",
        "rule": "Rule",
        "reproducibility": "Reproducibility",
        "repro_intro": "This annex is rebuilt byte for byte from the same data and parameters. The document's date is "
                       "the data drop's (or SOURCE_DATE_EPOCH), never the clock's; the timings recorded in the "
                       "executed notebooks play no part.",
        "parameters": "Parameters",
        "parameter": "Parameter",
        "commands": "Commands that rebuild it",
        "packages": "Software versions",
        "package": "Package",
        "version": "Version",
        "inputs": "SHA-256 of every input file",
        "file": "File",
        "tables_hashes": "SHA-256 of the run's tables used in this annex",
        "typesetting": "Typeset with Typst {typst} (typst package from PyPI), PDF/A-2b, the package's fonts "
                       "({fonts}) embedded; document date {date}.",
        "figures_missing": "Figure not available in this run: {name}.",
        "footer": "Synthetic demonstration data",
    },
}

FICHA_FIELDS = ("resultado", "proposito", "unidad_de_medida", "metodo_de_calculo", "observaciones",
                "nivel_de_desagregacion", "procedencia_de_los_datos", "periodo_de_referencia", "responsable",
                "documentos_utilizados", "notas_al_pie")
FINANCE_TITLES = {"budget": {"es": "Presupuesto", "en": "Budget"},
                  "financial_execution": {"es": "Ejecución financiera", "en": "Financial execution"}}
# How the annex is rebuilt; {placeholders} come from the manifest.
RUN_COMMAND = "python pipeline.py run --evaluation {evaluation} --cutoff {cutoff} --lang {lang}{extra}"
TYPST_COMMAND = ("SOURCE_DATE_EPOCH={epoch} typst compile --root {run_dir} --input data={data} "
                 "--pdf-standard a-2b --ignore-system-fonts {run_dir}/annex/annex.typ {run_dir}/{pdf}")


def _t(lang: str) -> dict[str, str]:
    return TEXT.get(lang, TEXT["es"])


def annex_pdf_path(run_dir: Path, lang: str = "es") -> Path:
    """``<run_dir>/annex.pdf`` in Spanish, ``annex_en.pdf`` in English."""
    return Path(run_dir) / f"annex{lang_suffix(lang)}.pdf"


def annex_data_path(run_dir: Path, lang: str = "es") -> Path:
    return Path(run_dir) / ANNEX_DIR / f"annex_data{lang_suffix(lang)}.json"


def _text(value: object) -> str:
    """A cell as text; NaN and None are empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _with_unit(value: object, unit: str, digits: int = 2) -> str:
    text = format_number(value, digits)
    return f"{text} %" if unit == "percent" and text != "—" else text


def _status(code: str, lang: str) -> dict[str, str]:
    return {"code": code, "label": label(code, lang)}


def _id_key(identifier: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in str(identifier).split("."))


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
        "data_origin": drop["data_origin"],
        "synthetic": drop["data_origin"] == "synthetic",
        "banner": BANNER.get(drop["data_origin"], {}).get(lang, ""),
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


def _name(frame: pd.DataFrame, key: str, lang: str) -> dict[str, str]:
    column = f"name_{lang}" if f"name_{lang}" in frame.columns else "name_es"
    return {k: (n or fallback) for k, n, fallback in zip(frame[key], frame[column], frame["name_es"])}


def _output_dashboard(tables: dict[str, pd.DataFrame], lfm: Logframe, lang: str) -> list[dict]:
    """Annex 16: per output, its indicators with current value, target, progress and status."""
    output_names = _name(lfm.outputs, "output_id", lang)
    indicator_names = dict(zip(lfm.output_indicators["indicator_id"], lfm.output_indicators["name_es"]))
    indicators = tables["output_indicators"]
    rows = []
    for output_id in sorted(indicators["output_id"].unique(), key=_id_key):
        group = indicators[indicators["output_id"] == output_id].sort_values(
            "indicator_id", key=lambda s: s.map(_id_key), kind="stable")
        rows.append({"id": output_id, "name": output_names.get(output_id, ""), "indicators": [{
            "id": r.indicator_id, "name": indicator_names.get(r.indicator_id, ""),
            "current": format_number(r.current), "target": format_number(r.target),
            "progress": "—" if pd.isna(r.progress_pct) else f"{format_number(round_half_up(r.progress_pct), 0)} %",
            "status": _status(r.status, lang), "mark": bool(r.scheduled_after_cutoff),
        } for r in group.itertuples()]})
    return rows


def _status_table(table: pd.DataFrame, key: str, names: dict[str, str], lang: str) -> list[dict]:
    """Table 1 / Table 2: each output or outcome, its status and the counts of its indicators' statuses."""
    rows = []
    for r in table.sort_values(key, key=lambda s: s.map(_id_key), kind="stable").to_dict("records"):
        rows.append({"id": r[key], "name": names.get(r[key], ""), "status": _status(r["status"], lang),
                     "mark": bool(r.get("scheduled_after_cutoff", False)),
                     "counts": [format_number(r[c], 0) for c in
                                ("n_indicators", "n_achieved", "n_in_progress", "n_no_progress", "n_not_measured")]})
    return rows


def _outcome_dashboard(tables: dict[str, pd.DataFrame], lfm: Logframe, lang: str) -> list[dict]:
    """Annex 17: per outcome, its indicators with baseline, current value, target and status."""
    outcome_names = _name(lfm.outcomes, "outcome_id", lang)
    indicator_names = dict(zip(lfm.outcome_indicators["indicator_id"], lfm.outcome_indicators["name_es"]))
    indicators = tables["outcome_indicators"]
    rows = []
    for outcome_id in sorted(indicators["outcome_id"].unique(), key=_id_key):
        group = indicators[indicators["outcome_id"] == outcome_id].sort_values(
            "indicator_id", key=lambda s: s.map(_id_key), kind="stable")
        rows.append({"id": outcome_id, "name": outcome_names.get(outcome_id, ""), "indicators": [{
            "id": r.indicator_id, "name": indicator_names.get(r.indicator_id, ""),
            "baseline": _with_unit(r.baseline, r.unit), "current": _with_unit(r.current, r.unit),
            "target": _with_unit(r.target, r.unit), "status": _status(r.status, lang),
            "mark": bool(r.scheduled_after_cutoff),
        } for r in group.itertuples()]})
    return rows


def formula_text(row: dict, lang: str) -> str:
    """The computation with its numbers, e.g. "9 / 20 × 100 = 45 %", for a reviewer to redo by hand."""
    t = _t(lang)
    value, method, unit = row["current"], row["method"], row["unit"]
    if row["value_note"] == NOT_APPLICABLE or value is None or pd.isna(value):
        return f"{t['no_value']}: {_text(row['reason'])}".rstrip(": ")
    shown = _with_unit(value, unit)
    if method == "share":
        return f"{format_number(row['numerator'])} / {format_number(row['denominator'])} × 100 = {shown}"
    if method.startswith("pre_post") or method == "percent_change_count":
        return (f"({format_number(row['numerator'], 4)}) / {format_number(row['denominator'], 4)} = {shown}  "
                f"{t['pre_post_note']}")
    return shown


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
        [t["method"], row["method"]],
        [t["reference_period"], _text(row["reference_period"])],
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
        computed.append([t["note"], _text(row["reason"])])
    excluded = exclusions[exclusions["indicator_id"] == ficha.indicator_id]
    return {
        "id": ficha.indicator_id,
        "title": t["ficha"].format(id=ficha.indicator_id),
        "description": _text(fields.get("descripcion")),
        "origin": f"{origin} · {_text(fields.get('fuente'))}".strip(" ·"),
        "fields": described,
        "status": _status(row["status"], lang),
        "computed": computed,
        "exclusions": [{"reason": _text(r.reason), "n": format_number(r.n, 0)} for r in excluded.itertuples()],
        "syntax": yaml.safe_dump(ficha.calculation, allow_unicode=True, sort_keys=False, width=88).rstrip(),
    }


def _fichas(fichas: dict[str, Ficha], tables: dict[str, pd.DataFrame], lang: str) -> list[dict]:
    indicators = tables["outcome_indicators"].set_index("indicator_id", drop=False)
    return [_ficha(ficha, indicators.loc[indicator_id].to_dict(), tables["outcome_exclusions"], lang)
            for indicator_id, ficha in fichas.items() if indicator_id in indicators.index]


def _finance(finance: dict[str, pd.DataFrame] | None, lang: str) -> dict:
    """Each finance table pivoted by measure: lines down, periods across (long form as the stage writes it)."""
    t = _t(lang)
    files = ", ".join(spec.path for spec in FINANCE_TABLES.values())
    if finance is None:
        return {"present": False, "note": t["finance_absent"].format(files=files), "tables": []}
    blocks = []
    for name, table in finance.items():
        line_names = next((c for c in (f"line_name_{lang}", f"name_{lang}", "line_name", "name")
                           if c in table.columns), None)
        for measure in dict.fromkeys(table["measure"]):
            rows = table[table["measure"] == measure]
            periods = list(dict.fromkeys(rows["period"]))
            lines = list(dict.fromkeys(rows["line"]))
            values = rows.groupby(["line", "period"], sort=False)["value"].sum()
            names = dict(zip(rows["line"], rows[line_names])) if line_names else {}
            blocks.append({
                "title": t["finance_table"].format(table=FINANCE_TITLES[name][lang if lang in ("es", "en") else "es"],
                                                   measure=measure),
                "periods": periods,
                "rows": [{"line": f"{line} {names.get(line, '')}".strip(),
                          "values": [format_number(values.get((line, p))) if (line, p) in values.index else "—"
                                     for p in periods]} for line in lines],
            })
    return {"present": True, "note": "", "tables": blocks}


def _validation(summary: pd.DataFrame, lang: str) -> dict:
    t = _t(lang)
    suites = []
    for suite, group in summary.groupby("suite", sort=False):
        met = int(group["success"].sum())
        suites.append({"suite": suite, "n": str(len(group)), "met": str(met), "failed": str(len(group) - met)})
    return {"suites": suites, "rows": [{
        "suite": r.suite, "expectation": r.expectation, "column": _text(r.column), "description": _text(r.description),
        "success": bool(r.success), "result": t["success_true"] if r.success else t["success_false"],
        "unexpected": format_number(r.unexpected_count, 0)} for r in summary.itertuples()]}


def _audit(findings: pd.DataFrame) -> list[dict]:
    columns = ("check", "source", "item_id", "field", "published_value", "computed_value", "rule", "note")
    return [{c: _text(r[c]) for c in columns} for r in findings.to_dict("records")]


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
    pdf = annex_pdf_path(Path(params.get("run_dir", "run")), lang).name
    run_folder = params.get("run_dir", str(run_dir))
    commands = [RUN_COMMAND.format(evaluation=manifest["evaluation"], cutoff=manifest["cutoff"], lang=lang, extra=extra),
                TYPST_COMMAND.format(epoch=int(timestamp.timestamp()), run_dir=run_folder, pdf=pdf,
                                     data=annex_data_path(Path("."), lang).name)]
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
        entry = {"caption": spec.caption.get(lang, spec.caption["es"]), "path": None,
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

def annex_data(run_dir: Path, raw_dir: Path, lang: str = "es", timestamp: dt.datetime | None = None) -> dict:
    """Everything the template shows, as JSON-ready data: aggregated tables only, numbers already formatted."""
    run_dir, raw_dir = Path(run_dir), Path(raw_dir)
    manifest = read_manifest(run_dir)
    timestamp = timestamp or fixed_timestamp(manifest)
    tables = read_tables(run_dir)
    finance = read_finance(run_dir)
    lfm = load_logframe(raw_dir / "lfm")
    fichas = load_fichas(raw_dir, load_sources(raw_dir), lfm.outcome_indicators)
    project = yaml.safe_load((raw_dir / "lfm" / "project.yaml").read_text(encoding="utf-8")) or {}
    text = dict(_t(lang))
    text["summary_intro"] = text["summary_intro"].format(cutoff=manifest["cutoff"], label=manifest["label"])
    return {
        "lang": lang,
        "text": text,
        "colours": {**STATUS_COLOURS, "unknown": UNKNOWN_STATUS_COLOUR},
        "cover": _cover(manifest, project, lang, timestamp),
        "summary": _summary(tables, lang),
        "outputs": _output_dashboard(tables, lfm, lang),
        "output_status": _status_table(tables["output_status"], "output_id", _name(lfm.outputs, "output_id", lang),
                                       lang),
        "outcomes": _outcome_dashboard(tables, lfm, lang),
        "outcome_status": _status_table(tables["outcome_status"], "outcome_id",
                                        _name(lfm.outcomes, "outcome_id", lang), lang),
        "fichas": _fichas(fichas, tables, lang),
        "finance": _finance(finance, lang),
        "validation": _validation(tables["validation_summary"], lang),
        "audit": _audit(tables["consistency_audit"]),
        "reproducibility": _reproducibility(manifest, run_dir, lang, timestamp),
        "figures": _figures(run_dir, finance is not None, lang),
    }


def write_annex_data(run_dir: Path, raw_dir: Path, lang: str = "es", timestamp: dt.datetime | None = None) -> Path:
    """``<run_dir>/annex/annex_data[_en].json`` beside a copy of the template (both go into the archive)."""
    path = annex_data_path(run_dir, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = annex_data(run_dir, raw_dir, lang, timestamp)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    with resources.as_file(resources.files("evalpipe") / "templates" / TEMPLATE) as template:
        shutil.copyfile(template, path.parent / TEMPLATE)
    return path


def build_annex(run_dir: Path, raw_dir: Path, lang: str = "es", timestamp: dt.datetime | None = None) -> Path:
    """Compile ``<run_dir>/annex[_en].pdf`` (PDF/A-2b, fonts embedded, dated by the data drop); returns its path.

    Draw the figures first (``evalpipe.figures.make_all_figures``): the annex includes those it finds.
    """
    import typst

    run_dir = Path(run_dir).resolve()
    manifest = read_manifest(run_dir)
    timestamp = timestamp or fixed_timestamp(manifest)
    data_path = write_annex_data(run_dir, raw_dir, lang, timestamp)
    output = annex_pdf_path(run_dir, lang)
    typst.compile(str(data_path.parent / TEMPLATE), output=str(output), root=str(run_dir), font_paths=[],
                  ignore_system_fonts=True, format="pdf", sys_inputs={"data": data_path.name},
                  pdf_standards=[PDF_STANDARD], timestamp=timestamp)
    return output
