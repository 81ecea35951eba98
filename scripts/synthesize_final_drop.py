"""Write the SYNTHETIC final-evaluation drop in tests/fixtures/final_drop/raw/ (quarters to 2021Q4).

It stands for the data a consultant would receive for the final evaluation: the same logframe and
fichas, the quarterly reports of 2018Q1-2021Q4 (2020Q3 now reported on its own), the microdata
collected for the final evaluation (the mid-term files plus what happened until December 2021), and
the finance folder: the mid-term drop's budget narratives and ILO financial reports plus the annual
reports of 2020 (2020T4) and 2021 (2021T4), written with scripts/synthesize_finance.py's functions.
Made-up demonstration data, labelled so in drop.yaml, README.md and in each workbook.

followup/ (the mid-term recommendations followed up) is written by hand, not here: it is kept as it is.

Run: python scripts/synthesize_final_drop.py
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import synthesize_finance as finance
import synthesize_progress_reports as reports
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "raw"
OUT = ROOT / "tests" / "fixtures" / "final_drop" / "raw"
FINAL_QUARTERS = [f"{year}Q{q}" for year in (2018, 2019, 2020, 2021) for q in (1, 2, 3, 4)]
SHARES_2021 = {"2021Q1": 0.2, "2021Q2": 0.3, "2021Q3": 0.25, "2021Q4": 0.15}  # 90% of what was left
STALLED = {"2.3.1.1", "2.3.1.2", "2.3.1.3", "3.3.1.3"}  # mental-health protocol never approved; M&E plan dropped
GENERATED = (  # what this script writes; followup/ is written by hand (followup/README.md)
    "lfm", "fichas", "microdata", "progress_reports", "published_report", "finance", "drop.yaml", "README.md")

# The ILO financial reports of the final drop besides the mid-term drop's three (2018T4, 2019T4, 2020T2):
# (file, sheet, period line, own year, forward years, notes). For each year the pipeline uses the last
# report of that year at or before the cut-off (evalpipe.finance_tables.years_used): at 2021Q4 the annual
# reports 2018T4, 2019T4, 2020T4 and 2021T4; at 2020Q2 still the 2020T2 report, as in the mid-term.
FINAL_REPORTS = [
    ("Informe financiero OIT 2020T4 (anual).xlsx", "Ejecución 2020", "Periodo: enero - diciembre 2020", 2020,
     (2021,), ["Ejecutado 2020: gasto del año completo 2020 (cierre contable anual al 31/12/2020).",
               "Programado 2020: programa del año completo 2020 (sin cambios respecto del informe 2020T2).",
               "Programado 2021: programa del año 2021 según el plan vigente al cierre de este informe "
               "(sin cambios respecto del informe 2020T2)."]),
    ("Informe financiero OIT 2021T4 (anual).xlsx", "Ejecución 2021", "Periodo: enero - diciembre 2021", 2021,
     (), ["Ejecutado 2021: gasto del año completo 2021 (cierre contable anual al 31/12/2021; último año del "
          "proyecto).",
          "Programado 2021: programa del año 2021 según el plan aprobado (sin cambios respecto de los informes "
          "2020T2 y 2020T4)."]),
]


def final_increments(indicators: list[dict]) -> dict[str, dict[str, int]]:
    """Mid-term increments, plus 2021 progress towards each target (some indicators stay stalled)."""
    increments = {k: dict(v) for k, v in reports.INCREMENTS.items()}
    for row in indicators:
        indicator, target = row["indicator_id"], int(float(row["target"]))
        steps = increments.setdefault(indicator, {})
        reached = sum(steps.values())
        left = max(target - reached, 0)
        if indicator in STALLED or not left:
            continue
        for quarter, share in SHARES_2021.items():
            steps[quarter] = steps.get(quarter, 0) + int(left * share)
    return increments


def share(key: tuple, low: int, high: int) -> float:
    """A made-up share between low% and high%, the same on every run."""
    digest = int(hashlib.sha256(repr(key).encode()).hexdigest(), 16)
    return (low + digest % (high - low + 1)) / 100


def final_amounts(cents: dict[tuple, int]) -> dict[tuple, int]:
    """The leaf amounts (cents) to December 2021: 2018-2019 and every programme as in the mid-term drop
    (2020 and 2021 as planned); 2020 executed = January-July plus 55-90% of what the 2020 programme had
    left; 2021 executed = 80-95% of the 2021 programme, with ordinary-looking cents."""
    final = dict(cents)
    for (code, measure, year), amount in cents.items():
        if measure != "programado" or year not in (2020, 2021):
            continue
        if year == 2020:
            left = amount - max(cents[(code, "ejecutado", 2020)], 0)  # nothing spent without a programme
            final[(code, "ejecutado", 2020)] += round(left * share((code, 2020), 55, 90)) if amount > 0 < left else 0
        else:
            spent = round(amount * share((code, 2021), 80, 95))
            final[(code, "ejecutado", 2021)] = max(spent + finance.wish_cents((code, 2021)), 0) if spent else 0
    return final


def write_finance() -> None:
    """finance/: the mid-term drop's declaration, budget narratives and financial reports, plus the annual
    ILO reports of 2020 and 2021."""
    source = SOURCE / "finance"
    shutil.copytree(source, OUT / "finance", ignore=shutil.ignore_patterns("README.md"))
    declaration = yaml.safe_load((source / "finance.yaml").read_text(encoding="utf-8"))
    lines, cents = finance.report_lines_and_amounts(declaration)
    final = final_amounts(cents)
    # The adjustment rows of 2020 stay as booked; what was spent after July goes on the ordinary row.
    adjustments = {key: {**spec, "ordinary": spec["ordinary"] + final[(key[0], "ejecutado", 2020)]
                         - cents[(key[0], "ejecutado", 2020)]} if key[1] == 2020 else spec
                   for key, spec in finance.ADJUSTMENTS.items()}
    for file, sheet, period, year, forward, notes in FINAL_REPORTS:
        finance.write_report(file, sheet, period, year, forward, lines, final, out=OUT / "finance",
                             adjustments=adjustments, notes=notes)
    (OUT / "finance" / "README.md").write_text(FINANCE_README, encoding="utf-8")


FINANCE_README = """\
# finance/ — budget narratives and ILO financial reports of the final drop (SYNTHETIC)

> **SYNTHETIC DEMONSTRATION DATA**, written by `scripts/synthesize_final_drop.py` (with the functions of
> `scripts/synthesize_finance.py`); not the project's data. Every workbook says `DATOS SINTÉTICOS DE
> DEMOSTRACIÓN` in its title block. Formats: `data/raw/finance/README.md` (the same in both drops).

| path | what |
|---|---|
| `finance.yaml`, `budget_narratives/` | as in the mid-term drop (`data/raw/finance/`) |
| `financial_reports/Informe financiero OIT 2018T4 (anual).xlsx`, `… 2019T4 (anual).xlsx`, `… 2020T2 (al 31-07-2020).xlsx` | the mid-term drop's reports, unchanged |
| `financial_reports/Informe financiero OIT 2020T4 (anual).xlsx` | 2020, whole year; programme of 2021 |
| `financial_reports/Informe financiero OIT 2021T4 (anual).xlsx` | 2021, whole year (the project's last) |

For each year the pipeline takes the last report of that year at or before the cut-off: at 2021Q4 the four
annual reports; at 2020Q2 the 2020T2 report, so a mid-term cut-off gives the mid-term figures.

What is made up, beyond the mid-term drop's amounts: the programmes of 2020 and 2021 are the ones the 2020T2
report planned, line by line (whole-life programme unchanged); executed 2020 is January-July plus 55-90% of
what the 2020 programme had left (August-December); executed 2021 is 80-95% of the 2021 programme, with
ordinary-looking cents. The adjustment row of output 1.1.1 in 2020 stays as booked in the 2020T2 report.
"""

DROP_YAML = """\
drop_id: "final-demo"
data_origin: synthetic
drop_date: "2022-02-15"
description: >-
  Synthetic demonstration drop for the final evaluation (quarters 2018Q1-2021Q4); made-up data for tests, not project data.
custodian: "ILO project PER/17/51/USA team, ILO Office for the Andean Countries (Lima)"
publisher: "ILO Evaluation Office (EVAL)"
license: CC-BY-4.0
# followup/midterm_recommendations.csv: the mid-term's recommendations (report §204-207) with a synthetic
# response and state at 2021Q4, read by the comparison of the two evaluations (see followup/README.md).
# finance/: synthetic budget narratives and ILO financial reports to 2021Q4 (the mid-term drop's, plus the
# annual reports 2020T4 and 2021T4; see finance/README.md), written by scripts/synthesize_final_drop.py.
"""

README = """\
# The final-evaluation drop (SYNTHETIC DEMONSTRATION DATA)

Made up for the tests and the demonstration of `pipeline.py run --evaluation final --cutoff 2021Q4 --raw
tests/fixtures/final_drop/raw` and `pipeline.py compare midterm-2020Q2 final-2021Q4`: **not the project's
data** (`data_origin: synthetic` in `drop.yaml`). Written by `scripts/synthesize_final_drop.py`, but for
`followup/` (written by hand). Formats as in the mid-term drop (`data/raw/README.md`).

| folder | what |
|---|---|
| `lfm/`, `fichas/` | as in the mid-term drop |
| `progress_reports/` | quarterly reports 2018Q1-2021Q4 (synthetic) |
| `microdata/` | the mid-term files plus synthetic rows to December 2021 |
| `finance/` | synthetic budget narratives and ILO financial reports to 2021Q4 (`finance/README.md`) |
| `followup/` | the mid-term's recommendations with a synthetic response and state (`followup/README.md`) |
| `published_report/` | no final evaluation report is published yet |
"""


def append_rows(name: str, rows: list[list]) -> None:
    with (OUT / "microdata" / name).open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def main() -> None:
    for name in GENERATED:  # followup/ is written by hand: kept
        path = OUT / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    for folder in ("lfm", "fichas", "microdata"):
        shutil.copytree(SOURCE / folder, OUT / folder)
    (OUT / "published_report").mkdir(parents=True)
    (OUT / "published_report" / "README.md").write_text(
        "No final evaluation report is published yet: the audit has nothing to compare.\n", encoding="utf-8")
    (OUT / "drop.yaml").write_text(DROP_YAML, encoding="utf-8")
    (OUT / "README.md").write_text(README, encoding="utf-8")
    with (SOURCE / "lfm" / "outputs.csv").open(encoding="utf-8") as handle:
        outputs = list(csv.DictReader(handle))
    with (SOURCE / "lfm" / "output_indicators.csv").open(encoding="utf-8") as handle:
        indicators = list(csv.DictReader(handle))
    increments = final_increments(indicators)
    (OUT / "progress_reports").mkdir()
    for quarter in FINAL_QUARTERS:
        reports.write_report(quarter, outputs, indicators, OUT / "progress_reports", increments)
    # Microdata collected for the final evaluation: what happened after the mid-term.
    append_rows("Recomendaciones estudio de casos.csv", [["REC-21", "específica", "PNP", "cumplida", "2021-05-10"]])
    append_rows("Mailing list IDL 3.2.1.1.csv",
                [[f"IDL-{i:04d}", f"2021-{1 + i % 11:02d}-{1 + i % 27:02d}", "campaña El Perú No Trata"]
                 for i in range(63, 91)])
    append_rows("Registro de residentes CARE.csv",
                [[f"RES-{i:03d}", "Gracia I" if i % 2 else "Gracia II", "no" if i % 2 else "sí", "2021-11-30", "trata"]
                 for i in range(41, 76)])
    append_rows("Proyectos de inversión CAR.csv", [["PIP-LOR-02", "Loreto", "presentado", "2021-09-30"]])
    write_finance()
    print(f"{OUT.relative_to(ROOT)}: {len(FINAL_QUARTERS)} progress reports, microdata and finance to 2021Q4")


if __name__ == "__main__":
    main()
