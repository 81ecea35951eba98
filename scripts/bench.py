"""Benchmark of the pipeline on this machine: prints a table of wall times (median of several runs), the
per-stage breakdown of a cold run (kernel start, imports, work, export: the manifest's stage_reports), and
writes a JSON copy to reports/bench/<UTC time>.json and reports/bench/latest.json.

Not a test: numbers depend on the machine and its load, nothing is asserted. `make bench` (about 20 minutes on
2 cores) or `make bench QUICK=1` (one run per measurement, about 8 minutes). Each measurement runs
`pipeline.py` in a fresh copy of the project in a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(sys.executable).parent
COPY = ("notebooks", "expectations", "data/raw", "pipeline.py", "tests/fixtures/project_b")


def make_project(target: Path) -> Path:
    for name in COPY:
        source = ROOT / name
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy(source, target / name)
    return target


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return elapsed


def pipeline(project: Path, *args: str) -> float:
    return timed([PYTHON, "pipeline.py", "run", *args], project)


def naive_loop(project: Path) -> float:
    """The same stage notebooks, in order, as a shell loop of `papermill` then `jupyter nbconvert --to html` CLI
    calls, writing where the runner builds a run (``.staging/``: a notebook run by hand refuses other folders)."""
    from evalpipe.drop import load_drop
    from evalpipe.runner import RunParameters, build_manifest
    from evalpipe.stages import STAGES

    run_dir, processed_dir = "reports/.staging/naive", "data/processed/.staging/naive"
    out = project / run_dir
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    (project / processed_dir).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # What the runner writes before the stages (the figures and annex notebooks read it).
    params = RunParameters("midterm", "2020Q2", "es", "data/raw", processed_dir, run_dir, ["expectations"])
    info = build_manifest(params, project, load_drop(project / "data" / "raw"), [])
    info.pop("stage_reports")
    (out / "reproducibility.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    for stage in STAGES:
        notebook = project / "notebooks" / stage.notebook
        executed = out / "notebooks" / notebook.name
        result = subprocess.run([str(BIN / "papermill"), str(notebook), str(executed), "-p", "run_dir", run_dir,
                                 "-p", "processed_dir", processed_dir, "--cwd", str(project)],
                                cwd=project, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"naive loop: papermill {stage.notebook} failed\n{result.stderr[-2000:]}")
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)], cwd=project, check=True,
                       capture_output=True)
    return time.perf_counter() - started


def scale_microdata(raw: Path, factor: int) -> int:
    """Repeat the rows of every microdata file whose rows are identified by an id column, ``factor`` times:
    copy k of a row gets the row's own id (the file's first id column) suffixed ``-k`` (copy 0 keeps it), and
    keeps the ids it refers to (a course, an institution). So x100 means 100 times as many participants, cases,
    residents and recommendations, for the same courses: what a larger project would send. Returns the rows."""
    import yaml

    def grown(value, k: int):
        return f"{value}-{k}" if k and value not in (None, "") else value

    sources = yaml.safe_load((raw / "microdata" / "sources.yaml").read_text(encoding="utf-8"))
    total = 0
    for spec in sources.values():
        ids = [name for name, column in spec["columns"].items() if column["type"] == "id"]
        if not ids:
            continue
        path = raw / "microdata" / spec["file"]
        if path.suffix == ".csv":
            with path.open(encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            header, body = rows[0], rows[1:]
            position = header.index(ids[0])
            scaled = [[grown(v, k) if i == position else v for i, v in enumerate(row)]
                      for k in range(factor) for row in body]
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows([header] + scaled)
            total += len(scaled)
        else:
            workbook = openpyxl.load_workbook(path)
            sheet = workbook[spec.get("sheet") or workbook.sheetnames[0]]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            header, body = rows[0], rows[1:]
            position = header.index(ids[0])
            for k in range(1, factor):
                for row in body:
                    sheet.append([grown(v, k) if i == position else v for i, v in enumerate(row)])
            workbook.save(path)
            total += len(body) * factor
    return total


def median(values: list[float]) -> float:
    return statistics.median(values)


def stage_breakdown(project: Path) -> list[dict]:
    """Where each stage of the run published in ``project`` spent its time (its manifest's stage_reports)."""
    manifest = json.loads((project / "reports" / "midterm-2020Q2" / "manifest.json").read_text(encoding="utf-8"))
    return [{"stage": r["stage"], "seconds": r.get("seconds", 0.0), **r.get("timings", {})}
            for r in manifest.get("stage_reports", []) if r.get("action") == "ran"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT") or 3),
                        help="runs per measurement (median reported); default $BENCH_REPEAT or 3")
    parser.add_argument("--projects", type=int, default=20, help="projects for the growth measurement")
    parser.add_argument("--quick", action="store_true",
                        help="one run per measurement, no growth measurement (make bench QUICK=1)")
    parser.add_argument("--parts", default="cold,noop,edit,ficha,naive,scale,projects",
                        help="comma-separated measurements to take (the naive ratio and the scale deltas need cold)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.quick:
        args.repeat = 1
        parts.discard("projects")
    rows: list[dict] = []
    breakdown: list[dict] = []

    def report(name: str, seconds: float, note: str = "", runs: list[float] | None = None) -> None:
        rows.append({"measure": name, "seconds": None if seconds != seconds else round(seconds, 3), "note": note,
                     "runs": [round(r, 3) for r in (runs or [seconds])]})
        print(f"{name:52} {seconds:8.2f} s  {note}", flush=True)

    print(f"{'measure':52} {'seconds':>8}", flush=True)
    with tempfile.TemporaryDirectory(prefix="evalpipe-bench-") as tmp:
        tmp = Path(tmp)
        cold = []
        if parts & {"cold", "noop", "edit", "ficha"}:
            for i in range(args.repeat if "cold" in parts else 1):
                project = make_project(tmp / f"cold{i}")
                cold.append(pipeline(project))
            report("cold full run (shipped data), median", median(cold), f"runs: {', '.join(f'{c:.1f}' for c in cold)}",
                   cold)
            breakdown = stage_breakdown(tmp / "cold0")
        if "noop" in parts:
            noop = [pipeline(tmp / "cold0") for _ in range(max(5, args.repeat))]
            report("no-op re-run, median", median(noop), "", noop)
        if "edit" in parts:
            edits = []
            ficha = tmp / "cold0" / "data" / "raw" / "fichas" / "2.2.1.1.yaml"
            original = ficha.read_text(encoding="utf-8")
            for i in range(args.repeat):
                ficha.write_text(original + f"# benchmark edit {i}\n", encoding="utf-8")
                edits.append(pipeline(tmp / "cold0"))
            ficha.write_text(original, encoding="utf-8")
            pipeline(tmp / "cold0")
            report("re-run after editing one ficha (publishes), median", median(edits), "", edits)
        if "ficha" in parts:
            loops = [timed([PYTHON, "pipeline.py", "ficha", "2.2.1.4"], tmp / "cold0")
                     for _ in range(max(3, args.repeat))]
            report("ficha loop: pipeline.py ficha 2.2.1.4, median", median(loops), "", loops)
            outcome = [timed([PYTHON, "pipeline.py", "ficha", "2.1.1"], tmp / "cold0")
                       for _ in range(max(3, args.repeat))]
            report("ficha loop: pipeline.py ficha 2.1.1 (one outcome)", median(outcome), "", outcome)
        if "naive" in parts:
            naive = [naive_loop(make_project(tmp / f"naive{i}")) for i in range(max(1, args.repeat - 1))]
            report("naive CLI loop (papermill + nbconvert per notebook)", median(naive), "", naive)
            if cold:
                report("ratio naive / ours (cold run)", median(naive) / median(cold), "times faster (x, not seconds)")
        for factor in ((10, 100) if "scale" in parts else ()):
            project = make_project(tmp / f"x{factor}")
            n = scale_microdata(project / "data" / "raw", factor)
            try:
                seconds = pipeline(project)
            except SystemExit as failed:  # a run the pipeline refuses is a result too, not the end of the bench
                error = next((line for line in str(failed).splitlines() if line.startswith("error:")), str(failed))
                report(f"cold run, microdata x{factor} ({n} rows)", float("nan"), f"refused: {error[:150]}")
                continue
            report(f"cold run, microdata x{factor} ({n} rows)", seconds)
            if cold:
                report(f"microdata x{factor} delta over the cold run", seconds - median(cold))
        if "projects" in parts:
            started = time.perf_counter()
            for i in range(args.projects):
                project = make_project(tmp / f"proj{i}")
                pipeline(project, "--cutoff", "2023Q2", "--raw", "tests/fixtures/project_b/raw", "--expectations",
                         "tests/fixtures/project_b/expectations")
            total = time.perf_counter() - started
            report(f"{args.projects} small projects, one after another", total, f"{total / args.projects:.1f} s each")
    if breakdown:
        print()
        columns = ("seconds", "kernel_start", "imports", "work", "export", "other")
        print("per stage (cold run; up to three stages run side by side, so they overlap):")
        print(f"  {'stage':20}" + "".join(f"{c:>14}" for c in columns))
        for stage in breakdown:
            print(f"  {stage['stage']:20}" + "".join(f"{stage.get(c, 0.0):14.2f}" for c in columns))
    machine = {"cores": os.cpu_count(), "python": sys.version.split()[0], "load_average": list(os.getloadavg()),
               "platform": platform.platform()}
    print()
    print(f"machine: {machine['cores']} cores; python {machine['python']}; load average at the end "
          f"{', '.join(f'{v:.1f}' for v in machine['load_average'])}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = {"when": stamp, "repeat": args.repeat, "quick": args.quick, "machine": machine, "rows": rows,
              "stages": breakdown}
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    (out / f"{stamp}.json").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(text, encoding="utf-8")
    print(f"written: reports/bench/{stamp}.json (and reports/bench/latest.json)")


if __name__ == "__main__":
    main()
