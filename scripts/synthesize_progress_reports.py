"""Write the SYNTHETIC quarterly progress reports shipped in data/raw/progress_reports/.

The real reports of the project are not public. These workbooks imitate what the project team
sends the donor (title block, Spanish headers, codes and values written by hand) and follow the
narrative of the mid-term evaluation (§153-155, Annex 18). Each indicator's path is written
below as the *increments* the team reported quarter by quarter; the cumulative values in the
workbooks are their running sums. The pipeline never reads this script.

Run: python scripts/synthesize_progress_reports.py   (rewrites data/raw/progress_reports/)
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl

from synth_common import save_workbook
from openpyxl.styles import Font

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "raw" / "progress_reports"
LFM = ROOT / "data" / "raw" / "lfm"

QUARTERS = ["2018Q1", "2018Q2", "2018Q3", "2018Q4", "2019Q1", "2019Q2", "2019Q3", "2019Q4", "2020Q1", "2020Q2",
            "2020Q4"]
# Indicators added by the LFM 2019 extension (approved September 2019, §154): absent from the
# reports before 2019Q4, written "NA" in 2019Q4.
EXTENSION = {"2.2.1.4", "2.2.2.1", "2.2.2.2", "3.3.2.1", "3.3.2.2"}

# Increments reported in each quarter (the 2020Q4 report also covers 2020Q3).
INCREMENTS: dict[str, dict[str, int]] = {
    "1.1.1.1": {"2018Q2": 1},
    "1.1.1.2": {"2018Q3": 2, "2018Q4": 2},
    "1.1.2.1": {"2020Q4": 1},  # scheduled for 2020Q4 (§154)
    "1.2.1.1": {"2018Q3": 40, "2018Q4": 55, "2019Q1": 35, "2019Q2": 50, "2019Q3": 41, "2019Q4": 29, "2020Q1": 18},
    "1.2.1.2": {"2018Q4": 30, "2019Q1": 42, "2019Q2": 38, "2019Q3": 35, "2019Q4": 29, "2020Q2": 80, "2020Q4": 40},
    "1.2.1.3": {"2020Q4": 35},
    "1.2.2.1": {"2019Q2": 1, "2019Q4": 1, "2020Q1": 1},
    "1.2.2.2": {"2020Q4": 20},
    "1.2.2.3": {"2020Q4": 45},
    "1.3.1.1": {"2019Q1": 1, "2020Q1": 1},  # operations protocol concluded March 2019 (§154)
    "1.3.1.2": {"2019Q4": 12, "2020Q1": 19},
    "2.1.1.1": {"2019Q1": 1},  # internal report concluded 2019Q1 (§154)
    "2.1.1.2": {"2018Q4": 2, "2019Q1": 2, "2019Q2": 2, "2019Q3": 2, "2019Q4": 2, "2020Q1": 1, "2020Q4": 1},
    "2.1.1.3": {"2019Q3": 2, "2019Q4": 2, "2020Q2": 3},
    "2.1.2.1": {"2018Q3": 120, "2018Q4": 160, "2019Q1": 150, "2019Q2": 170, "2019Q3": 140, "2019Q4": 136,
                "2020Q1": 70, "2020Q2": 100, "2020Q4": 154},
    "2.2.1.1": {"2019Q1": 1},  # concluded 2019Q1 (§154)
    "2.2.1.2": {"2018Q4": 80, "2019Q1": 120, "2019Q2": 110, "2019Q3": 150, "2019Q4": 130, "2020Q1": 60,
                "2020Q2": 108, "2020Q4": 42},
    "2.2.1.3": {"2019Q2": 2, "2019Q3": 1, "2019Q4": 2, "2020Q1": 1},
    "2.2.1.4": {"2020Q4": 2},  # scheduled for 2020Q4 (§154)
    "2.2.2.1": {"2020Q2": 1, "2020Q4": 1},
    "2.2.2.2": {"2020Q4": 30},
    "2.4.1.1": {"2018Q4": 3, "2019Q1": 5, "2019Q2": 6, "2019Q3": 5, "2019Q4": 4, "2020Q1": 2},
    "2.4.2.1": {"2020Q2": 1},
    "2.4.2.2": {"2019Q4": 2, "2020Q1": 4, "2020Q4": 3},
    "2.4.2.4": {"2019Q4": 40, "2020Q1": 46, "2020Q4": 10},
    "2.5.1.1": {"2019Q3": 1, "2019Q4": 1, "2020Q2": 1, "2020Q4": 1},
    "2.5.1.2": {"2019Q3": 35, "2019Q4": 40, "2020Q1": 24},
    "2.6.1.1": {"2020Q2": 1, "2020Q4": 1},
    "2.6.1.2": {"2020Q4": 2},
    "2.6.1.3": {"2020Q4": 60},
    "3.1.1.1": {"2019Q1": 2, "2019Q2": 2, "2019Q3": 2, "2019Q4": 1},  # regional events during 2019
    "3.1.1.2": {"2020Q1": 1},
    "3.1.1.3": {"2019Q2": 2},
    "3.1.1.4": {"2020Q1": 2},
    # radio programmes suspended from March 2020 until August 2020 (Annex 18)
    "3.2.1.1": {"2018Q4": 4, "2019Q1": 5, "2019Q2": 5, "2019Q3": 5, "2019Q4": 4, "2020Q1": 3, "2020Q4": 8},
    "3.2.1.2": {"2019Q1": 4, "2019Q2": 4, "2019Q3": 4, "2019Q4": 3, "2020Q1": 2, "2020Q2": 4, "2020Q4": 4},
    "3.2.1.3": {"2019Q4": 45},  # one three-day training with journalists
    "3.3.1.1": {"2019Q2": 1, "2019Q3": 2, "2019Q4": 2, "2020Q1": 1, "2020Q2": 1, "2020Q4": 1},
    "3.3.1.2": {"2019Q1": 2, "2019Q2": 2, "2019Q3": 2, "2019Q4": 2, "2020Q1": 1, "2020Q4": 1},
}

# How each workbook is laid out: the variation a consultant meets in practice.
LAYOUTS = {
    "2018Q1": dict(file="InformeProgreso_2018T1.xlsx", sheet="Indicadores", headers=0, title_rows=4, extra=None),
    "2018Q2": dict(file="Informe_progreso_2018-T2.xlsx", sheet="Indicadores", headers=0, title_rows=4, extra=None),
    "2018Q3": dict(file="informe_progreso_2018_T3.xlsx", sheet="Matriz de indicadores", headers=1, title_rows=5,
                   extra="Notas"),
    "2018Q4": dict(file="Informe progreso 2018T4.xlsx", sheet="Matriz de indicadores", headers=1, title_rows=5,
                   extra=None),
    "2019Q1": dict(file="Informe_progreso_2019T1.xlsx", sheet="Avance T1", headers=2, title_rows=3, extra=None),
    "2019Q2": dict(file="Informe_progreso_2019T2.xlsx", sheet="Avance T2", headers=2, title_rows=3,
                   extra="Gráfico"),
    "2019Q3": dict(file="Informe_progreso_2019T3.xlsx", sheet="Indicadores", headers=0, title_rows=6, extra=None),
    "2019Q4": dict(file="Informe_progreso_2019T4_final.xlsx", sheet="Indicadores", headers=0, title_rows=6,
                   extra="Notas"),
    "2020Q1": dict(file="Informe_progreso_2020T1.xlsx", sheet="Indicadores 2020", headers=1, title_rows=4,
                   extra=None),
    "2020Q2": dict(file="Informe_progreso_2020T2 (v2).xlsx", sheet="Indicadores 2020", headers=1, title_rows=4,
                   extra="Notas"),
    "2020Q4": dict(file="Informe_progreso_2020T4.xlsx", sheet="Indicadores", headers=2, title_rows=5, extra=None),
}
HEADER_SETS = [
    ["Código", "Indicador", "Meta", "Valor acumulado", "Comentarios"],
    ["Cód. indicador", "Descripción del indicador", "Meta total", "Avance acumulado", "Observaciones"],
    ["N° indicador", "Indicador", "Meta final", "Logro acumulado", "Comentarios / observaciones"],
]
MONTHS = {1: "enero - marzo", 2: "abril - junio", 3: "julio - setiembre", 4: "octubre - diciembre"}
# Cells written by hand in a given quarter: (quarter, indicator) -> text.
HAND_WRITTEN = {
    ("2020Q2", "2.1.2.1"): "1,046",
    ("2020Q4", "2.1.2.1"): "1.200",
    ("2020Q1", "1.2.1.1"): "268*",
    ("2020Q2", "1.2.1.1"): "268*",
    ("2020Q4", "1.2.1.1"): "268*",
    ("2020Q2", "2.1.1.2"): "11*",
    ("2020Q2", "2.1.1.3"): "7*",
    ("2019Q3", "1.3.1.2"): "¿?",
    ("2019Q4", "2.1.2.1"): "876 ",
    ("2019Q2", "2.2.1.2"): "310",
}
COMMENTS = {
    ("2020Q1", "1.2.1.1"): "* Capacitaciones con la PNP postergadas por el Estado de Emergencia.",
    ("2020Q2", "1.2.1.1"): "* Sin nuevas sesiones con la PNP: requieren modalidad presencial.",
    ("2020Q2", "2.1.1.2"): "* Incluye propuestas en revisión por las instituciones.",
    ("2020Q2", "2.1.1.3"): "* 3 listas para el IMLCF y 4 para operadores de justicia.",
    ("2019Q1", "1.3.1.1"): "Protocolo de operaciones concluido en marzo 2019.",
    ("2020Q1", "3.2.1.1"): "Programas radiales suspendidos desde marzo por el Estado de Emergencia.",
    ("2020Q2", "3.2.1.1"): "Programas suspendidos hasta agosto 2020.",
    ("2019Q3", "1.3.1.2"): "Pendiente confirmar número de usuarios con MININTER.",
    ("2020Q2", "1.1.2.1"): "Programado para el cuarto trimestre de 2020.",
    ("2020Q2", "2.2.1.4"): "Programado para el cuarto trimestre de 2020.",
}
# Code spellings seen in the reports (leading space, trailing dot, no-break space).
CODE_STYLES = [lambda c: c, lambda c: c + ".", lambda c: " " + c, lambda c: c + "\u00a0"]
FIXED_TIME = dt.datetime(2021, 2, 15, 12, 0, 0)


def _order(quarter: str) -> int:
    return int(quarter[:4]) * 4 + int(quarter[-1])


def cumulative(indicator: str, upto: str, increments: dict | None = None) -> int:
    steps = (increments or INCREMENTS).get(indicator, {})
    return sum(n for q, n in steps.items() if _order(q) <= _order(upto))


def cell_value(indicator: str, quarter: str, position: int, increments: dict | None = None) -> object:
    qi = _order(quarter) - _order(QUARTERS[0])
    if indicator in EXTENSION:
        if _order(quarter) < _order("2019Q4"):
            return None  # not in the report at all
        if quarter == "2019Q4":
            return "NA"
    if (quarter, indicator) in HAND_WRITTEN:
        return HAND_WRITTEN[(quarter, indicator)]
    value = cumulative(indicator, quarter, increments)
    if value == 0 and _order(quarter) < _order("2019Q1") and indicator.startswith("2.3"):
        return ""  # early reports left the mental-health indicators blank
    return str(value) if (position + qi) % 5 == 0 else value  # some numbers typed as text


def write_report(quarter: str, outputs: list[dict], indicators: list[dict], out: Path = OUT,
                 increments: dict | None = None) -> Path:
    layout = LAYOUTS.get(quarter) or dict(file=f"Informe_progreso_{quarter[:4]}T{quarter[-1]}.xlsx",
                                          sheet="Indicadores", headers=_order(quarter) % 3, title_rows=4,
                                          extra="Notas" if _order(quarter) % 2 else None)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = layout["sheet"]
    year, q = int(quarter[:4]), int(quarter[-1])
    title = [
        "Organización Internacional del Trabajo (OIT)",
        "Proyecto \"Alianzas en Acción para Terminar con la Trata de Niñas, Niños y Adolescentes en el Perú\"",
        "Informe de progreso trimestral al donante - matriz de indicadores de producto",
        f"Periodo: {MONTHS[q]} {year}",
        "DATOS SINTÉTICOS de demostración (no son datos del proyecto)",
        "",
    ][-layout["title_rows"]:] if layout["title_rows"] < 6 else None
    if title is None:
        title = ["Organización Internacional del Trabajo (OIT)", "Proyecto PER/17/51/USA",
                 "Informe de progreso trimestral", f"Trimestre: {year}-T{q}",
                 "DATOS SINTÉTICOS de demostración (no son datos del proyecto)", ""]
    if not any("Periodo" in line or "Trimestre" in line for line in title):
        title.insert(0, f"Periodo: {MONTHS[q]} {year}")
    for line in title:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    headers = HEADER_SETS[layout["headers"]]
    sheet.append(headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    by_output: dict[str, list[dict]] = {}
    for row in indicators:
        by_output.setdefault(row["output_id"], []).append(row)
    component = None
    position = 0
    for output in outputs:
        if output["component_id"] != component:
            component = output["component_id"]
            sheet.append([f"Objetivo {component}"])
        sheet.append([output["output_id"], output["name_es"]])
        for row in by_output[output["output_id"]]:
            indicator = row["indicator_id"]
            value = cell_value(indicator, quarter, position, increments)
            position += 1
            if value is None:
                continue
            code = CODE_STYLES[(position * 3 + _order(quarter)) % len(CODE_STYLES)](indicator)
            sheet.append([code, row["name_es"], int(float(row["target"])), value,
                          COMMENTS.get((quarter, indicator), "")])
    sheet.column_dimensions["B"].width = 70
    if layout["extra"]:
        extra = workbook.create_sheet(layout["extra"])
        extra.append(["Notas del equipo del proyecto"])
        extra.append(["Los valores son acumulados desde el inicio del proyecto."])
    workbook.properties.creator = "Equipo del proyecto (sintético)"
    path = save_workbook(workbook, Path(out) / layout["file"])
    return path


def main() -> None:
    with (LFM / "outputs.csv").open(encoding="utf-8") as handle:
        outputs = list(csv.DictReader(handle))
    with (LFM / "output_indicators.csv").open(encoding="utf-8") as handle:
        indicators = list(csv.DictReader(handle))
    unknown = set(INCREMENTS) - {row["indicator_id"] for row in indicators}
    assert not unknown, f"increments for indicators not in the LFM: {unknown}"
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.xlsx"):
        old.unlink()
    for quarter in QUARTERS:
        print(write_report(quarter, outputs, indicators).relative_to(ROOT))


if __name__ == "__main__":
    main()
