"""Write the SYNTHETIC final-evaluation drop in tests/fixtures/final_drop/raw/ (quarters to 2021Q4).

It stands for the data a consultant would receive for the final evaluation: the same logframe and
fichas, the quarterly reports of 2018Q1-2021Q4 (2020Q3 now reported on its own), and the microdata
collected for the final evaluation (the mid-term files plus what happened until December 2021).
Made-up demonstration data, labelled so in drop.yaml and in each workbook.

Run: python scripts/synthesize_final_drop.py
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import synthesize_progress_reports as reports

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "raw"
OUT = ROOT / "tests" / "fixtures" / "final_drop" / "raw"
FINAL_QUARTERS = [f"{year}Q{q}" for year in (2018, 2019, 2020, 2021) for q in (1, 2, 3, 4)]
SHARES_2021 = {"2021Q1": 0.2, "2021Q2": 0.3, "2021Q3": 0.25, "2021Q4": 0.15}  # 90% of what was left
STALLED = {"2.3.1.1", "2.3.1.2", "2.3.1.3", "3.3.1.3"}  # mental-health protocol never approved; M&E plan dropped


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


def append_rows(name: str, rows: list[list]) -> None:
    with (OUT / "microdata" / name).open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for folder in ("lfm", "fichas", "microdata"):
        shutil.copytree(SOURCE / folder, OUT / folder)
    (OUT / "published_report").mkdir(parents=True)
    (OUT / "published_report" / "README.md").write_text(
        "No final evaluation report is published yet: the audit has nothing to compare.\n", encoding="utf-8")
    (OUT / "drop.yaml").write_text(
        'drop_id: "final-demo"\ndata_origin: synthetic\ndrop_date: "2022-02-15"\n'
        "description: >-\n  Synthetic demonstration drop for the final evaluation (quarters 2018Q1-2021Q4);"
        " made-up data for tests, not project data.\n", encoding="utf-8")
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
    print(f"{OUT.relative_to(ROOT)}: {len(FINAL_QUARTERS)} progress reports, microdata to 2021Q4")


if __name__ == "__main__":
    main()
