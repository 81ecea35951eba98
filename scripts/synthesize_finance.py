"""Write the SYNTHETIC finance workbooks shipped in data/raw/finance/.

The project's budget narratives and the ILO's financial reports are not public. These workbooks
imitate them (title block, currency line, English headers in the J/TIP budget narratives, Spanish in
the ILO reports, subtotal rows, an adjustment row where a line's net amount is negative) and are
built so that evalpipe.finance COMPUTES the figures the mid-term evaluation published: Tables 3-6
(§172-173) and Annexes 19-20 (§179).

How the amounts were chosen:

* The report prints whole dollars, and some printed sums are a dollar or two off their parts. The
  workbooks hold amounts to the cent, chosen by a small integer program (scipy's HiGHS, pinned in
  requirements.txt) so that every printed figure is the half-up rounding of the figure the pipeline
  computes: a printed sum off by a dollar is then rounding, not an error.
* The targets are the published figures in data/raw/published_report/ (read here; the pipeline reads
  them only in its audit), except the cells that the rest of the report contradicts (CONTRADICTED):
  there the data follow the arithmetic of the other tables, and the audit lists the printed value.
* Design choices, each stated: the two budgets total exactly USD 4 and 5.7 million (§172); their
  indirect costs are 13% of the direct costs (§173); a closed year's programme (2018) equals its
  expenditure unless the report prints different figures; a printed 0 is exactly 0; executed amounts
  get ordinary-looking cents, programmes whole dollars where the rounding allows.
* Rows below the published totals are synthetic: the split of the two negative net amounts into an
  ordinary row and an adjustment row (ADJUSTMENTS), the cumulative-expenditure column, the notes.

Run: python scripts/synthesize_finance.py   (rewrites the workbooks of data/raw/finance/)
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import yaml
from openpyxl.styles import Font
from scipy.optimize import Bounds, LinearConstraint, milp
from synth_common import save_workbook

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
OUT = RAW / "finance"
PUBLISHED = RAW / "published_report"
BANNER = "DATOS SINTÉTICOS DE DEMOSTRACIÓN: no son datos del proyecto; reproducen las cifras publicadas."

# Published cells that the rest of the report contradicts: not targets (the audit lists them).
CONTRADICTED = {
    ("Table 6", "A", "2021", "usd"): "printed 149,692; Table 5's Personnel total (1,303,172) and Table 6's 2021 "
                                     "direct costs (1,073,565) both need about 410,876",
    ("Table 6", "K", "2019", "pct"): "printed 34; 1,908,282 / 5,700,000 is 33.5%",
    ("Annex 20", "Producto MML 2018", "2020", "pct"): "printed 0 for 0 executed of 0 programmed",
}
# Lines whose net amount of a year is negative: an ordinary row (cents) plus an adjustment row.
ADJUSTMENTS = {
    ("OC-EQU", 2018): {"ordinary": 118640, "measures": ("programado", "ejecutado"),
                       "note": "Reversión del cargo de 2017 por equipo de oficina transferido a otro proyecto "
                               "de la OIT"},
    ("1.1.1", 2020): {"ordinary": 0, "measures": ("ejecutado",),
                      "note": "Diferencia de cambio en el pago final (2019) de la consultoría del informe de "
                              "análisis de casos"},
}
REPORTS = [  # (file, with the quarter in its name; sheet; period line; own year; forward years)
    ("Informe financiero OIT 2018T4 (anual).xlsx", "Ejecución 2018", "Periodo: enero - diciembre 2018",
     2018, ()),
    ("Informe financiero OIT 2019T4 (anual).xlsx", "Ejecución 2019", "Periodo: enero - diciembre 2019",
     2019, ()),
    ("Informe financiero OIT 2020T2 (al 31-07-2020).xlsx", "Ejecución a julio 2020",
     "Periodo: enero - julio 2020 (informe del trimestre 2020T2; cierre contable al 31/07/2020)", 2020, (2021,)),
]


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def wish_cents(key: tuple) -> int:
    """Ordinary-looking cents for an executed amount, the same on every run."""
    return int(hashlib.sha256(repr(key).encode()).hexdigest(), 16) % 91 - 45


class CentsModel:
    """Integer cents for every amount, each within half a dollar of its printed value, under the
    constraint that every printed total and percentage is the rounding of the computed one."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.low: list[float] = []
        self.high: list[float] = []
        self.wish: list[float] = []
        self.rows: list[tuple[dict, float, float]] = []

    def amount(self, key: tuple, printed: float | None, wish: int = 0, target: float | None = None) -> None:
        """A leaf amount; ``printed`` None leaves it free (a contradicted cell), near ``target``."""
        self.index[key] = len(self.low)
        if printed is None:
            self.low.append(-1e12), self.high.append(1e12), self.wish.append(round(100 * (target or 0)))
        elif printed == 0:
            self.low.append(0), self.high.append(0), self.wish.append(0)
        else:
            self.low.append(100 * printed - 49), self.high.append(100 * printed + 49)
            self.wish.append(100 * printed + wish)

    def rounds_to(self, terms: dict, printed: float) -> None:
        """sum(terms) in cents rounds half up to the printed whole dollars."""
        self.rows.append((terms, 100 * printed - 50, 100 * printed + 49))

    def equal(self, terms: dict, cents: float, slack: float = 0) -> None:
        self.rows.append((terms, cents - slack, cents + slack))

    def ratio_rounds_to(self, numerator: dict, denominator: dict, printed: float, digits: int, sign: int) -> None:
        """100 * numerator / denominator rounds half up to ``printed`` (with ``digits`` decimals)."""
        scale = 10 ** digits
        low = {k: 200 * scale * c for k, c in numerator.items()}
        high = dict(low)
        for k, c in denominator.items():
            low[k] = low.get(k, 0) - (2 * printed * scale - 1) * c
            high[k] = high.get(k, 0) - (2 * printed * scale + 1) * c
        if sign > 0:
            self.rows += [(low, 0, np.inf), (high, -np.inf, -1)]
        else:
            self.rows += [(low, -np.inf, 0), (high, 1, np.inf)]

    def solve(self) -> dict[tuple, int]:
        n = len(self.low)
        matrix = np.zeros((len(self.rows) + 2 * n, 2 * n))
        lower, upper = [], []
        for r, (terms, lo, hi) in enumerate(self.rows):
            for key, coef in terms.items():
                matrix[r, self.index[key]] += coef
            lower.append(lo), upper.append(hi)
        for i, wish in enumerate(self.wish):  # |x - wish| <= t, minimise the sum of t
            r = len(self.rows) + 2 * i
            matrix[r, i], matrix[r, n + i] = 1, -1
            matrix[r + 1, i], matrix[r + 1, n + i] = 1, 1
            lower += [-np.inf, wish]
            upper += [wish, np.inf]
        result = milp(np.concatenate([np.zeros(n), np.ones(n)]),
                      constraints=LinearConstraint(matrix, lower, upper),
                      integrality=np.concatenate([np.ones(n), np.zeros(n)]),
                      bounds=Bounds(np.concatenate([self.low, np.zeros(n)]),
                                    np.concatenate([self.high, np.full(n, np.inf)])))
        if result.x is None:
            raise SystemExit(f"no amounts satisfy the design: {result.message}")
        return {key: int(round(result.x[i])) for key, i in self.index.items()}


def number(text: str) -> float | None:
    return None if text in ("", None) else float(text)


# ---------------------------------------------------------------- budget narratives (Tables 3-6)

BUDGET_TABLES = {"initial": ("Table 3", "Table 4"), "expanded": ("Table 5", "Table 6")}


def budget_amounts(rows: list[dict], items: dict, version: str) -> tuple[list[int], dict[tuple, int]]:
    totals_table, years_table = BUDGET_TABLES[version]
    by_year = {(r["item_code"], r["year"]): r for r in rows if r["table"] == years_table}
    totals = {r["item_code"]: r for r in rows if r["table"] == totals_table}
    years = sorted({int(y) for _, y in by_year})
    leaves = [code for code, spec in items.items() if code not in {s.get("parent") for s in items.values()}]
    direct = [code for code, spec in items.items() if spec.get("parent") == "I"]
    model = CentsModel()
    for item in leaves:
        for year in years:
            printed = number(by_year[(item, str(year))]["usd"])
            if (years_table, item, str(year), "usd") in CONTRADICTED:
                other = sum(number(by_year[(item, str(y))]["usd"]) for y in years if y != year)
                model.amount((item, year), None, target=number(totals[item]["usd"]) - other)
            else:
                model.amount((item, year), printed)

    def terms(codes: list[str], years_: list[int]) -> dict:
        return {(c, y): 1 for c in codes for y in years_}

    grand = terms(leaves, years)
    for year in years:
        model.rounds_to(terms(direct, [year]), number(by_year[("I", str(year))]["usd"]))
        model.rounds_to(terms(leaves, [year]), number(by_year[("K", str(year))]["usd"]))
        pct = number(by_year[("K", str(year))]["pct"])
        if (years_table, "K", str(year), "pct") not in CONTRADICTED:
            model.ratio_rounds_to(terms(leaves, [year]), grand, pct, 1 if pct < 1 else 0, 1)
    for item in leaves:
        model.rounds_to(terms([item], years), number(totals[item]["usd"]))
        model.ratio_rounds_to(terms([item], years), grand, number(totals[item]["pct"]), 0, 1)
    model.rounds_to(terms(direct, years), number(totals["I"]["usd"]))
    model.ratio_rounds_to(terms(direct, years), grand, number(totals["I"]["pct"]), 0, 1)
    model.equal(grand, 100 * number(totals["K"]["usd"]))  # USD 4 / 5.7 million exactly (§172)
    indirect = {k: 100 for k in terms(["J"], years)} | {k: -13 for k in terms(direct, years)}
    model.equal(indirect, 0, slack=50)  # indirect costs = 13% of the direct costs, to the half cent (§173)
    return years, model.solve()


def write_budget_narrative(version: str, spec: dict, items: dict, years: list[int], cents: dict) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Budget Summary"
    extension = version == "expanded"
    sheet.append(["ILO - Budget Narrative (J/TIP format)" + (" - cost extension" if extension else "")])
    sheet.append(["Project: PER/17/51/USA - Partnerships in Action to End Child Trafficking in Peru"])
    sheet.append(["Version: " + ("cost extension of 28.08.2019 (Addendum SSJTIP17CA1022-M002), 01.10.2017 - 31.12.2021"
                                 if extension else "approved 06.04.2018, 01.10.2017 - 31.12.2020")])
    sheet.append(["Currency: USD"])
    sheet.append([BANNER])
    sheet.append([])
    sheet.append(["Item", "Budget category", *years, "Total"])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    children = {code: [c for c, s in items.items() if s.get("parent") == code] for code in items}

    def value(code: str, year: int) -> int:
        if children[code]:
            return sum(value(child, year) for child in children[code])
        return cents[(code, year)]

    for code, item in items.items():
        amounts = [value(code, year) for year in years]
        label = item["name_en"] + (" (13% of total direct costs)" if code == "J" else "")
        sheet.append([code, label, *[a / 100 for a in amounts], sum(amounts) / 100])
        if children[code]:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=header_row + 1, min_col=3):
        for cell in row:
            cell.number_format = "#,##0.00"
    notes = workbook.create_sheet("Narrative")
    for line in [
        BANNER,
        "A. Personnel: Project Coordinator, M&E Officer, Administrative and Finance Assistant"
        + ("; Technical Officer, Technical Associate and Translation Associate from 2020." if extension else "."),
        "B. Fringe benefits: pensions, health insurance and leave of the Project team.",
        "C. Travel: missions of the Project team to Lima, Cusco and Loreto"
        + (", Madre de Dios and Puno." if extension else "."),
        "D. Supplies: equipment of the Lima office and of the CAR and temporary living spaces.",
        "E. Subcontracts: implementing partners (IDL, CHS Alternativo) and consultants.",
        "F. Construction: repair and renovation of the CAR and temporary living spaces.",
        "G. Other direct costs: seminars, training, publications, printing and operations.",
        "J. Indirect costs: ILO programme support costs, 13% of total direct costs.",
    ]:
        notes.append([line])
    save(workbook, OUT / spec["file"])


# ---------------------------------------------------------------- ILO financial reports (Annexes 19-20)

def catalogue(declaration: dict) -> list[dict]:
    """The report lines in the reports' order: each component, its outputs; then the other lines."""
    outputs = read_csv(RAW / "lfm" / "outputs.csv")
    components = read_csv(RAW / "lfm" / "components.csv")
    lines = []
    for component in components:
        cid = component["component_id"]
        lines.append({"code": f"C{cid}", "label": declaration["component_label"]["es"].replace("{id}", cid),
                      "parent": "TOTAL"})
        lines += [{"code": o["output_id"], "label": declaration["output_label"]["es"].replace("{id}", o["output_id"]),
                   "parent": f"C{cid}"} for o in outputs if o["component_id"] == cid]
        lines += [{"code": code, "label": spec["es"], **spec} for code, spec in declaration["report_lines"].items()
                  if spec.get("parent") == f"C{cid}"]
    lines += [{"code": code, "label": spec["es"], **spec} for code, spec in declaration["report_lines"].items()
              if not str(spec.get("parent", "")).startswith("C")]
    return lines


def execution_amounts(rows: list[dict], lines: list[dict]) -> dict[tuple, int]:
    published = {}
    for r in rows:
        published[(r["annex"], r["line_key"], r["period"], r["measure"])] = number(r["value"])
    parents = {line["parent"] for line in lines if line.get("parent")}
    leaves = [line for line in lines if line["code"] not in parents]
    reported, forward = [2018, 2019, 2020], [2021]

    def members(code: str) -> list[str]:
        kids = [line["code"] for line in lines if line.get("parent") == code]
        return [leaf for kid in kids for leaf in members(kid)] if kids else [code]

    model = CentsModel()
    for line in leaves:
        for year in reported:
            p = published[("20", line["label"], str(year), "programado")]
            e = published[("20", line["label"], str(year), "ejecutado")]
            model.amount((line["code"], "programado", year), p)
            model.amount((line["code"], "ejecutado", year), e, wish=wish_cents((line["code"], year)))
            if year == 2018 and p == e:  # a closed year's programme is its expenditure
                model.equal({(line["code"], "programado", year): 1, (line["code"], "ejecutado", year): -1}, 0)
        for year in forward:
            model.amount((line["code"], "programado", year), published[("19", line["label"], str(year), "programado")])

    for line in lines:
        leaf_codes = members(line["code"])

        def terms(measure: str, years: list[int], sign: int = 1) -> dict:
            return {(c, measure, y): sign for c in leaf_codes for y in years}

        label = line["label"]
        for year in reported:
            p = published[("20", label, str(year), "programado")]
            if line["code"] not in [leaf["code"] for leaf in leaves]:
                model.rounds_to(terms("programado", [year]), p)
                model.rounds_to(terms("ejecutado", [year]), published[("20", label, str(year), "ejecutado")])
            pct = published[("20", label, str(year), "pct")]
            if pct is not None and ("Annex 20", label, str(year), "pct") not in CONTRADICTED:
                model.ratio_rounds_to(terms("ejecutado", [year]), terms("programado", [year]), pct, 0,
                                      1 if p > 0 else -1)
        if line["code"] not in [leaf["code"] for leaf in leaves]:
            model.rounds_to(terms("programado", forward), published[("19", label, "2021", "programado")])
        whole_life = terms("programado", reported + forward)
        executed = terms("ejecutado", reported)
        model.rounds_to(whole_life, published[("19", label, "Acumulado", "programado")])
        model.rounds_to(executed, published[("19", label, "Acumulado", "ejecutado")])
        model.rounds_to(terms("programado", reported) | terms("ejecutado", reported, -1),
                        published[("19", label, "saldos", "saldos_anteriores")])
        model.ratio_rounds_to(executed, whole_life, published[("19", label, "Acumulado", "pct")], 0, 1)
    return model.solve()


MIDTERM_NOTES = [
    "Ejecutado 2020: gasto registrado de enero al 31 de julio de 2020 (cierre contable del informe del segundo "
    "trimestre).",
    "Programado 2020: programa del año completo 2020.",
    "Programado 2021: programa del año 2021 según el plan vigente al cierre de este informe."]


def write_report(file: str, sheet_name: str, period: str, year: int, forward: tuple,
                 lines: list[dict], cents: dict, *, out: Path = OUT, adjustments: dict | None = None,
                 notes: list[str] | None = None) -> None:
    """One ILO financial report of ``year`` into ``out``/financial_reports; ``cents`` holds every leaf
    amount (code, measure, year); ``adjustments`` (default ADJUSTMENTS) the lines split into an ordinary and
    an adjustment row; ``notes`` the lines of a 'Notas' sheet (default: the 2020T2 report's, when it
    programmes later years)."""
    adjustments = ADJUSTMENTS if adjustments is None else adjustments
    notes = (MIDTERM_NOTES if forward else []) if notes is None else notes
    parents = {line["parent"] for line in lines if line.get("parent")}

    def net(code: str, measure: str, y: int) -> int:
        kids = [line["code"] for line in lines if line.get("parent") == code]
        if kids:
            return sum(net(kid, measure, y) for kid in kids)
        return cents[(code, measure, y)]

    def cumulative(code: str) -> int:
        return sum(net(code, "ejecutado", y) for y in range(2018, year + 1))

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    for text in ["Organización Internacional del Trabajo - Informe financiero del proyecto",
                 "Proyecto PER/17/51/USA - Alianzas en Acción para Terminar con la Trata de NNA en el Perú",
                 period, "Moneda: USD", "Fuente: IRIS (sistema financiero de la OIT), por componente y producto",
                 BANNER, ""]:
        sheet.append([text] if text else [])
    header = ["Código", "Línea presupuestaria", "Tipo", f"Programado {year} (USD)", f"Ejecutado {year} (USD)",
              "Ejecutado acumulado (USD)", *[f"Programado {y} (USD)" for y in forward], "Observaciones"]
    sheet.append(header)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for line in lines:
        code = line["code"]
        kind = "Total" if code == "TOTAL" else ("Subtotal" if code in parents else "")
        programmed, executed = net(code, "programado", year), net(code, "ejecutado", year)
        adjustment = adjustments.get((code, year))
        if adjustment:
            programmed = adjustment["ordinary"] if "programado" in adjustment["measures"] else programmed
            executed = adjustment["ordinary"]
        row = [code, line["label"], kind, programmed / 100, executed / 100, cumulative(code) / 100,
               *[net(code, "programado", y) / 100 for y in forward], line.get("note_es", "")]
        sheet.append(row)
        if kind:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        if adjustment:
            rest = {m: net(code, m, year) - (adjustment["ordinary"] if m in adjustment["measures"] else 0)
                    for m in ("programado", "ejecutado")}
            sheet.append([code, line["label"], "Ajuste",
                          rest["programado"] / 100 if "programado" in adjustment["measures"] else None,
                          rest["ejecutado"] / 100, None, *[None for _ in forward], adjustment["note"]])
    for row in sheet.iter_rows(min_row=header_row + 1, min_col=4, max_col=6 + len(forward)):
        for cell in row:
            cell.number_format = "#,##0.00"
    if notes:
        sheet_notes = workbook.create_sheet("Notas")
        for text in [BANNER, *notes]:
            sheet_notes.append([text])
    save(workbook, out / "financial_reports" / file)


def save(workbook: openpyxl.Workbook, path: Path) -> None:
    """Save byte for byte the same on every run (scripts/synth_common.py)."""
    workbook.properties.creator = "OIT (sintético)"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(workbook, path)
    print(path.relative_to(ROOT))


def report_lines_and_amounts(declaration: dict) -> tuple[list[dict], dict[tuple, int]]:
    """The lines of the reports (in their order) and every leaf amount in cents, (code, measure, year),
    as the mid-term drop's reports hold them (2020: January to July)."""
    execution_rows = read_csv(PUBLISHED / "financial_execution.csv")
    printed_lines = {r["line_key"] for r in execution_rows}
    # The reports have no line of their own for an LFM output the annexes do not print (2.1.2: the
    # annexes print 2.1.1 with marks they do not explain; §181 describes it as "procedures and training").
    lines = [line for line in catalogue(declaration) if line["label"] in printed_lines]
    for line in lines:
        if line["code"] == "MML2018":
            line["note_es"] = "Actividad 1.3 de la MML 2018 (representación legal), eliminada en la MML 2019"
    return lines, execution_amounts(execution_rows, lines)


def main() -> None:
    declaration = yaml.safe_load((OUT / "finance.yaml").read_text(encoding="utf-8"))
    items = declaration["budget_items"]
    budget_rows = read_csv(PUBLISHED / "budget_tables.csv")
    for version, spec in declaration["budget_narratives"].items():
        years, cents = budget_amounts(budget_rows, items, version)
        write_budget_narrative(version, spec, items, years, cents)
    lines, cents = report_lines_and_amounts(declaration)
    for file, sheet, period, year, forward in REPORTS:
        write_report(file, sheet, period, year, forward, lines, cents)


if __name__ == "__main__":
    main()
