"""Write the SYNTHETIC outcome microdata shipped in data/raw/microdata/.

The real files the evaluators received (Annex 14, "documentos utilizados") are not public. These
files have the level each ficha técnica describes (one row per recommendation, participant, question,
resident, contact...), pseudonymous identifiers only, and the cases the fichas' rules exclude
(participants with one test, trainings after the cut-off, participants with no CAR, recommendations
"en proceso"...), so that every rule visibly changes the result. They are built so that the pipeline
computes the mid-term figures of Annex 17; the pipeline never reads this script.

Run: python scripts/synthesize_microdata.py   (rewrites the data files of data/raw/microdata/)
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl

from synth_common import save_workbook

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "raw" / "microdata"
FIXED_TIME = dt.datetime(2021, 2, 15, 12, 0, 0)


def write_csv(name: str, header: list[str], rows: list[list]) -> None:
    with (OUT / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"data/raw/microdata/{name}: {len(rows)} rows")


def write_xlsx(name: str, sheet: str, header: list[str], rows: list[list]) -> None:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    notes = workbook.create_sheet("Leeme")
    notes.append(["DATOS SINTÉTICOS de demostración: no son datos del proyecto."])
    workbook.properties.creator = "Proyecto (sintético)"
    save_workbook(workbook, OUT / name)
    print(f"data/raw/microdata/{name}: {len(rows)} rows")


def scores(total: float, n: int, low: float, high: float, step: int) -> list[float]:
    """n scores on the 0-20 scale, spread between low and high, summing exactly to ``total``."""
    values = [low + (high - low) * ((i * step) % n) / max(n - 1, 1) for i in range(n)]
    values = [round(v * 2) / 2 for v in values]  # half points, as teachers grade
    difference = round((total - sum(values)) * 2)
    i = 0
    while difference:
        j = i % n
        move = 1 if difference > 0 else -1
        if 0 <= values[j] + move / 2 <= 20:
            values[j] += move / 2
            difference -= move
        i += 1
    return values


def d(text: str) -> str:
    return text


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)

    # 1.1.1.1 — 20 specific recommendations: 9 fulfilled by the cut-off (45%), 1 fulfilled later,
    # the rest partly fulfilled, in progress or not started; 2 general remarks outside the denominator.
    institutions = ["Poder Judicial", "Ministerio Público", "PNP", "MINJUSDH"]
    states = (["cumplida"] * 9 + ["cumplida"] + ["en proceso"] * 4 + ["parcialmente cumplida"] * 3
              + ["no iniciada"] * 3)
    rows = []
    for i, state in enumerate(states, start=1):
        date = "" if state == "no iniciada" else f"2020-{(i % 6) + 1:02d}-15"
        if i == 10:
            date = "2020-11-20"  # fulfilled after the cut-off
        rows.append([f"REC-{i:02d}", "específica", institutions[i % 4], state, date])
    rows += [["REC-G1", "general", "Poder Judicial", "cumplida", "2019-08-01"],
             ["REC-G2", "general", "Ministerio Público", "en proceso", "2020-02-01"]]
    write_csv("Recomendaciones estudio de casos.csv",
              ["rec_id", "tipo", "institucion", "estado", "fecha_verificacion"], rows)

    # 1.2.1.2 — oral-litigation course (2019Q4), 16 prosecutors, 10 questions asked in both tests:
    # mean share of correct answers 0.5625 before, 0.675 after (+20%). Question 11 only in the exit
    # test; two courses of 2020Q4 that the cut-off leaves out.
    pre = [8, 9, 10, 7, 11, 9, 8, 10, 9, 9]
    post = [10, 11, 12, 9, 13, 11, 9, 12, 11, 10]
    rows = []
    for q, (a, b) in enumerate(zip(pre, post), start=1):
        rows.append(["Litigación oral", dt.datetime(2019, 11, 15), f"P{q:02d}", "entrada", 16, a])
        rows.append(["Litigación oral", dt.datetime(2019, 11, 15), f"P{q:02d}", "salida", 16, b])
    rows.append(["Litigación oral", dt.datetime(2019, 11, 15), "P11", "salida", 16, 12])
    for course, day, base in (("Normas internacionales", dt.datetime(2020, 10, 20), 6),
                              ("Reparación civil a las víctimas", dt.datetime(2020, 11, 10), 7)):
        for q in range(1, 6):
            rows.append([course, day, f"P{q:02d}", "entrada", 18, base + q % 3])
            rows.append([course, day, f"P{q:02d}", "salida", 18, base + 5 + q % 3])
    write_xlsx("Exámenes tabulados litigación oral.xlsx", "Resultados",
               ["curso", "fecha_curso", "pregunta", "prueba", "n_respondieron", "n_correctas"], rows)

    # 1.2.1.3 — 24 case files: 8 convictions, all ordering civil reparation (100%); 4 acquittals; 12 open.
    regions = ["Lima", "Cusco", "Loreto"]
    rows = []
    for i in range(1, 25):
        kind = "condenatoria" if i <= 8 else ("absolutoria" if i <= 12 else "sin sentencia")
        rows.append([f"CF-{i:03d}", regions[i % 3], kind, "sí" if kind == "condenatoria" else "",
                     f"{2015 + i % 4}-{(i % 12) + 1:02d}-10" if kind != "sin sentencia" else ""])
    write_csv("Estudio de casos - carpetas fiscales analizadas.csv",
              ["caso_id", "region", "tipo_sentencia", "reparacion_civil", "fecha_sentencia"], rows)

    # 1.2.2.1 / 1.2.2.2 — three courses: the prosecutors' certificate approved May 2020, the judges'
    # approved July 2020 (after the cut-off, Annex 18), the PNP course still under review.
    write_csv("Cursos de las escuelas.csv", ["curso_id", "escuela", "estado", "fecha_aprobacion"], [
        ["CUR-MP", "Escuela del Ministerio Público", "aprobado", "2020-05-04"],
        ["CUR-PJ", "Academia de la Magistratura", "aprobado", "2020-07-20"],
        ["CUR-PNP", "Escuela de la PNP", "en revisión", ""],
    ])
    rows = [[f"PCE-{i:03d}", "CUR-MP", "fiscal", "2020-07-31"] for i in range(1, 39)]
    rows += [[f"PCE-{i:03d}", "CUR-PJ", "juez", "2020-12-18"] for i in range(39, 61)]
    write_csv("Participantes cursos de las escuelas.csv",
              ["participante_id", "curso_id", "cargo", "fecha_certificacion"], rows)

    # 1.3.1.1 / 1.3.1.3 — the data system produced its first combined reports in 2021.
    write_csv("Registro de reportes del sistema de monitoreo.csv", ["reporte_id", "tipo", "fecha"], [
        ["RS-01", "reporte combinado", "2021-01-20"], ["RS-02", "reporte combinado", "2021-02-05"]])

    # 1.3.1.2 — functions verified in the consultancy report (March 2019).
    write_csv("Sistema de Monitoreo del Plan Nacional Contra Trata de Personas.csv",
              ["funcionalidad", "verificado", "fecha_verificacion"], [
                  ["registro de acciones por institución", "sí", "2019-03-15"],
                  ["reportes de avance por región", "sí", "2019-03-15"],
                  ["reportes de avance por objetivo", "sí", "2019-03-15"],
                  ["exportación de datos abiertos", "no", ""]])

    # 2.1.1.1 — eleven instruments in six institutions by the cut-off; a seventh institution later.
    rows = [["Poder Judicial", "Lista de verificación para jueces", "2019-12-10"],
            ["Poder Judicial", "Protocolo intersectorial", "2020-02-14"],
            ["Ministerio Público", "Lista de verificación para fiscales", "2019-12-10"],
            ["Ministerio Público", "Protocolo UDAVIT", "2020-05-22"],
            ["MIMP", "Lineamientos de atención en CAR", "2019-09-30"],
            ["MIMP", "Procedimiento de acreditación de CAR", "2019-10-15"],
            ["MIMP", "Guía del Plan de Reintegración Individual", "2019-11-08"],
            ["INABIF", "Manual de intervención en CAR", "2020-01-20"],
            ["PNP", "Tabla de valoración de riesgo UPE", "2020-03-02"],
            ["Serenazgo", "Manual para serenazgo e inspectores", "2020-06-01"],
            ["Serenazgo", "Lista de verificación para inspectores", "2020-06-20"],
            ["Instituto de Medicina Legal", "Listas de verificación para peritos", "2020-10-12"]]
    write_csv("Instituciones que aplican instrumentos del ECV.csv", ["institucion", "instrumento", "fecha_evidencia"],
              rows)

    # 2.1.1.2 — 30 DEMUNA/UPE officials with both tests: mean 12.5 -> 15.0 (+20%); CEM officials,
    # officials with one test only, and a 2020Q4 training are left out by the ficha's rules.
    entry = scores(375, 30, 8, 17, 7)
    exit_ = scores(450, 30, 11, 19, 11)
    rows = []
    for i in range(30):
        training = "Taller ECV Lima 2019-05" if i < 14 else "Taller ECV Cusco 2019-11"
        day = dt.datetime(2019, 5, 21) if i < 14 else dt.datetime(2019, 11, 12)
        rows.append([f"BIC-{i + 1:03d}", "DEMUNA" if i % 2 else "UPE", training, day, entry[i], exit_[i]])
    for i in range(8):
        rows.append([f"BIC-{101 + i:03d}", "CEM", "Taller ECV Lima 2019-05", dt.datetime(2019, 5, 21), 11 + i % 4,
                     14 + i % 3])
    for i in range(4):
        rows.append([f"BIC-{201 + i:03d}", "DEMUNA", "Taller ECV Cusco 2019-11", dt.datetime(2019, 11, 12),
                     10 + i, None])
    for i in range(2):
        rows.append([f"BIC-{301 + i:03d}", "UPE", "Taller ECV Lima 2019-05", dt.datetime(2019, 5, 21), None, 15 + i])
    for i in range(6):
        rows.append([f"BIC-{401 + i:03d}", "UPE", "Taller ECV Loreto 2020-11", dt.datetime(2020, 11, 24), 9 + i,
                     13 + i])
    write_xlsx("BASE INCREMENTO CONOCIMIENTO 1.xlsx", "Base",
               ["participante_id", "institucion", "capacitacion", "fecha_capacitacion", "nota_entrada",
                "nota_salida"], rows)

    # 2.2.1.1 — 13 recommendations for Gracia I and II: 3 concluded and 2 in progress by the cut-off
    # (38%), 1 started after it, 7 not started; 4 recommendations for other CAR, outside the scope.
    rows = []
    plan = (["concluida"] * 3 + ["en proceso"] * 2 + ["en proceso"] + ["no iniciada"] * 7)
    for i, state in enumerate(plan, start=1):
        date = {"concluida": f"2019-{i + 5:02d}-10", "en proceso": "2020-03-10"}.get(state, "")
        if i == 6:
            date = "2020-09-15"
        rows.append([f"RCAR-{i:02d}", "Gracia I" if i % 2 else "Gracia II", state, date])
    for i in range(14, 18):
        rows.append([f"RCAR-{i:02d}", "CAR Santa Rosa", "concluida" if i % 2 else "no iniciada",
                     "2019-12-01" if i % 2 else ""])
    write_csv("Informe práctico CAR - matriz de recomendaciones.csv", ["rec_id", "care", "estado", "fecha_accion"],
              rows)

    # 2.2.1.2 — 40 CAR staff with a CAR and both tests: 11.2 -> 14.0 (+25%); 5 with no CAR recorded,
    # 6 with one test only, 12 in a training after the cut-off.
    entry = scores(448, 40, 6, 16, 13)
    exit_ = scores(560, 40, 9, 19, 17)
    cars = ["Gracia I", "Gracia II", "ERCC Cusco", "ERCC Loreto", "ERCC Puno"]
    rows = []
    for i in range(40):
        rows.append([f"CPC-{i + 1:03d}", cars[i % 5], "Módulo atención de traumas" if i < 22 else "Manejo de crisis",
                     dt.datetime(2019, 8, 20) if i < 22 else dt.datetime(2020, 2, 18), entry[i], exit_[i]])
    for i in range(5):
        rows.append([f"CPC-{101 + i:03d}", None, "Manejo de crisis", dt.datetime(2020, 2, 18), 10 + i, 13 + i])
    for i in range(6):
        rows.append([f"CPC-{201 + i:03d}", cars[i % 5], "Módulo atención de traumas", dt.datetime(2019, 8, 20),
                     12 if i % 2 else None, None if i % 2 else 15])
    for i in range(12):
        rows.append([f"CPC-{301 + i:03d}", cars[i % 5], "Habilidades blandas (virtual)", dt.datetime(2020, 10, 6),
                     9 + i % 5, 12 + i % 5])
    write_xlsx("Base de Datos CARE CPC.xlsx", "Evaluaciones",
               ["participante_id", "car", "capacitacion", "fecha_capacitacion", "nota_entrada", "nota_salida"], rows)

    # 2.2.1.4 — residents at the internal report's count (March 2019) and in November 2020:
    # Gracia I had 2 residents whose real problem was trafficking (4 others); Gracia II, created and
    # equipped by the Project, counts zero at baseline although it had 5 residents; 29 residents now.
    rows = []
    n = 0
    for care, created, problems in (("Gracia I", "no", ["trata"] * 2 + ["otra"] * 4),
                                    ("Gracia II", "sí", ["trata"] * 3 + ["otra"] * 2)):
        for problem in problems:
            n += 1
            rows.append([f"RES-{n:03d}", care, created, "2019-03-31", problem])
    for care, created, count in (("Gracia I", "no", 12), ("Gracia II", "sí", 17)):
        for i in range(count):
            n += 1
            rows.append([f"RES-{n:03d}", care, created, "2020-11-30", "trata" if i % 3 else "otra"])
    write_csv("Registro de residentes CARE.csv",
              ["residente_id", "care", "care_creado_por_proyecto", "fecha_corte", "problematica"], rows)

    # 2.4.1.1 — victims cared for; none under the updated protocol (not approved).
    rows = [[f"AV-{i:03d}", regions[i % 3], f"{2019 + (i > 15)}-{(i % 6) + 1:02d}-0{1 + i % 9}", "no"]
            for i in range(1, 24)]
    rows += [[f"AV-{i:03d}", regions[i % 3], f"2020-{9 + i % 3:02d}-12", "no"] for i in range(24, 29)]
    write_csv("Registro de atención de víctimas NNA.csv", ["caso_id", "region", "fecha_atencion",
                                                           "protocolo_actualizado"], rows)

    # 2.4.2.2 — victims identified for the pilot; no reintegration plan under way yet.
    rows = [[f"PR-{i:02d}", regions[i % 3], f"2020-0{1 + i % 6}-1{i % 9}", "no"] for i in range(1, 10)]
    write_csv("Programa piloto de reintegración - víctimas identificadas.csv",
              ["victima_id", "region", "fecha_identificacion", "plan_en_ejecucion"], rows)

    # 2.5.1.2 — five workshops with results (weighted +14%), three without, one after the cut-off.
    write_csv("Resultados talleres regionales LGBTI.csv",
              ["taller_id", "region", "fecha", "informe", "n_ambas_pruebas", "promedio_entrada", "promedio_salida"], [
                  ["TL-1", "Madre de Dios", "2019-11-07", "PROMSEX Producto 3", 12, 10.0, 11.5],
                  ["TL-2", "Lima", "2019-11-21", "PROMSEX Producto 3", 20, 11.0, 12.4],
                  ["TL-3", "Cusco", "2019-12-05", "PROMSEX Producto 3", 15, 10.5, 12.0],
                  ["TL-4", "Loreto", "2020-01-23", "PROMSEX Producto 5", 18, 9.8, 11.2],
                  ["TL-5", "Puno", "2020-02-06", "PROMSEX Producto 5", 10, 10.2, 11.6],
                  ["TL-6", "Lima", "2019-10-10", "Reporte de progreso 2019T4", "", "", ""],
                  ["TL-7", "Cusco", "2020-01-15", "Reporte de progreso 2020T1", "", "", ""],
                  ["TL-8", "Loreto", "2020-02-27", "Reporte de progreso 2020T1", "", "", ""],
                  ["TL-9", "Lima", "2020-09-17", "PROMSEX Producto 7", 25, 10.8, 12.9],
              ])

    # 3.1.1.1 — activities with the Lima Commission: two plan actions reached before July 2020.
    write_csv("3.1.1.1 Actividades CHS - Muni Lima 2019 y 2020.csv", ["actividad_id", "fecha", "accion_plan"], [
        ["ACT-01", "2019-09-12", "OE1-A2"], ["ACT-02", "2019-10-03", "OE1-A2"], ["ACT-03", "2019-11-21", ""],
        ["ACT-04", "2020-01-16", "OE2-A1"], ["ACT-05", "2020-02-20", "OE1-A2"], ["ACT-06", "2020-05-28", "OE2-A1"],
        ["ACT-07", "2020-06-11", ""], ["ACT-08", "2020-08-13", "OE3-A1"], ["ACT-09", "2020-10-22", "OE3-A1"],
    ])

    # 3.1.1.2 — six regional plan actions with the Project's assistance by the cut-off.
    write_csv("3.1.1.2 Acciones realizadas GR - Cusco y Loreto.csv",
              ["accion_id", "region", "fuente", "con_asistencia_proyecto", "fecha"], [
                  ["CUS-1.1", "Cusco", "reporte de progreso", "sí", "2019-04-11"],
                  ["CUS-1.1", "Cusco", "CHS Alternativo", "sí", "2019-04-11"],
                  ["CUS-2.3", "Cusco", "CHS Alternativo", "sí", "2019-08-22"],
                  ["CUS-3.1", "Cusco", "reporte de progreso", "sí", "2020-02-13"],
                  ["LOR-1.2", "Loreto", "reporte de progreso", "sí", "2019-06-06"],
                  ["LOR-2.1", "Loreto", "CHS Alternativo", "sí", "2019-10-17"],
                  ["LOR-2.1", "Loreto", "reporte de progreso", "sí", "2019-10-17"],
                  ["LOR-4.2", "Loreto", "reporte de progreso", "sí", "2020-01-30"],
                  ["CUS-4.1", "Cusco", "memoria de la comisión", "no", "2019-09-05"],
                  ["CUS-5.2", "Cusco", "memoria de la comisión", "no", "2019-12-12"],
                  ["LOR-3.3", "Loreto", "memoria de la comisión", "no", "2019-11-28"],
                  ["LOR-5.1", "Loreto", "memoria de la comisión", "no", "2020-03-05"],
                  ["CUS-2.4", "Cusco", "CHS Alternativo", "sí", "2020-09-24"],
                  ["LOR-3.1", "Loreto", "reporte de progreso", "sí", "2020-11-19"],
              ])

    # 3.1.1.3 — no investment project submitted by the cut-off.
    write_csv("Proyectos de inversión CAR.csv", ["proyecto_id", "region", "estado", "fecha_presentacion"], [
        ["PIP-CUS-01", "Cusco", "presentado", "2021-02-01"], ["PIP-LOR-01", "Loreto", "en elaboración", ""]])

    # 3.2.1.1 — 42 contacts joined through the campaign up to the cut-off; others joined otherwise or later.
    rows = [[f"IDL-{i:04d}", f"2020-{1 + i % 6:02d}-{1 + i % 27:02d}", "campaña El Perú No Trata"]
            for i in range(1, 43)]
    rows += [[f"IDL-{i:04d}", f"2019-{1 + i % 12:02d}-{1 + i % 27:02d}", "otro"] for i in range(43, 58)]
    rows += [[f"IDL-{i:04d}", f"2020-{8 + i % 4:02d}-{1 + i % 27:02d}", "campaña El Perú No Trata"]
             for i in range(58, 63)]
    write_csv("Mailing list IDL 3.2.1.1.csv", ["contacto_id", "fecha_alta", "origen"], rows)

    # 3.2.1.3 — 17 of 50 participants with an answer understood the materials (34%); 3 did not answer.
    rows = [[f"VM-{i:03d}", "2020-02-19" if i < 27 else "2020-06-04", "sí" if i <= 17 else "no"]
            for i in range(1, 51)]
    rows += [[f"VM-{i:03d}", "2020-06-04", ""] for i in range(51, 54)]
    write_csv("Validación de materiales de sensibilización.csv", ["participante_id", "fecha", "comprende"], rows)

    # 3.3.1.2 — 6 of the 10 member institutions submitted a trafficking budget (as at the baseline).
    members = ["MININTER", "MIMP", "MINJUSDH", "Ministerio Público", "Poder Judicial", "MINSA", "MINEDU", "MTPE",
               "RREE", "MINCETUR"]
    rows = [[m, "sí", "sí" if i < 6 else "no", "2018-12-14" if i < 6 else ""] for i, m in enumerate(members)]
    rows.append(["Defensoría del Pueblo", "no", "sí", "2019-05-02"])
    write_csv("Presupuesto de las instituciones de la Comisión Multisectorial.csv",
              ["institucion", "miembro_comision", "presento_presupuesto", "fecha_presentacion"], rows)

    # 3.3.2.1 / 3.3.2.2 — the Repatriation Protocol is not yet applied.
    write_csv("Instituciones que aplican el Protocolo de Repatriación.csv",
              ["institucion", "fecha_inicio_aplicacion"], [["RREE", "2021-02-10"]])
    write_csv("Víctimas NNA repatriadas.csv", ["victima_id", "fecha_repatriacion", "siguio_protocolo"], [
        ["REP-01", "2019-07-19", "no"], ["REP-02", "2019-12-03", "no"], ["REP-03", "2020-02-25", "no"]])


if __name__ == "__main__":
    main()
