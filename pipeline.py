#!/usr/bin/env python
"""Run the evaluation pipeline: clean -> validate -> output indicators -> consistency audit.

    python pipeline.py run                      # mid-term, cut-off 2020Q2, Spanish, shipped data
    python pipeline.py run --cutoff 2020Q4      # writes reports/midterm-2020Q4/, leaves the other alone
    python pipeline.py --help

Each stage is a notebook in notebooks/, executed by Papermill with the validated parameters;
the logic lives in the evalpipe package.
"""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parent

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Reproducible evaluation pipeline (notebooks run by Papermill).")


class Evaluation(str, Enum):
    midterm = "midterm"
    final = "final"


class Lang(str, Enum):
    es = "es"
    en = "en"


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _inside_project(path: Path, what: str) -> Path:
    resolved = (ROOT / path).resolve() if not path.is_absolute() else path.resolve()
    try:
        resolved.relative_to(ROOT)
    except ValueError:
        _fail(f"{what} {path} is outside the project folder {ROOT.name}/", 2)
    return resolved


@app.command()
def run(
    evaluation: Evaluation = typer.Option(Evaluation.midterm, help="Which evaluation this run is for."),
    cutoff: str = typer.Option("2020Q2", help="Cut-off quarter, e.g. 2020Q2: later reports are ignored."),
    lang: Lang = typer.Option(Lang.es, help="Language of labels in notebooks and reports."),
    raw: Path = typer.Option(Path("data/raw"), help="Folder of the data drop (inside the project)."),
    expectations: Path | None = typer.Option(None, help="Extra folder of GX suites for this drop, searched "
                                             "before expectations/ (inside the project)."),
    debug: bool = typer.Option(False, help="Show the Python traceback of a failure."),
) -> None:
    """Run every stage and publish reports/<evaluation>-<cutoff>/ when all of them pass."""
    from evalpipe.errors import PipelineError
    from evalpipe.progress import list_progress_reports
    from evalpipe.quarters import parse_quarter
    from evalpipe.runner import RunParameters, run_pipeline

    started = time.perf_counter()
    try:
        cutoff_quarter = parse_quarter(cutoff)
    except ValueError:
        _fail(f"--cutoff {cutoff!r} is not a quarter: write it like 2020Q2", 2)
    if str(cutoff_quarter) != cutoff.strip().upper():
        _fail(f"--cutoff {cutoff!r}: write the quarter exactly like 2020Q2", 2)
    raw_dir = _inside_project(raw, "--raw")
    if not raw_dir.is_dir():
        _fail(f"--raw {raw} is not a folder", 2)
    try:
        available = list_progress_reports(raw_dir, ROOT)
    except PipelineError as exc:
        _fail(str(exc), 2)
    if cutoff_quarter not in available:
        quarters = ", ".join(str(q) for q in available)
        _fail(f"--cutoff {cutoff}: no progress report for that quarter in {raw}; the drop has {quarters}", 2)
    label = f"{evaluation.value}-{cutoff_quarter}"
    params = RunParameters(
        evaluation=evaluation.value, cutoff=str(cutoff_quarter), lang=lang.value,
        raw_dir=str(raw_dir.relative_to(ROOT)), processed_dir=f"data/processed/{label}",
        run_dir=f"reports/{label}",
        expectations_dirs=([str(_inside_project(expectations, "--expectations").relative_to(ROOT))] if expectations
                           else []) + ["expectations"],
    )
    typer.echo(f"run {label} (lang {lang.value}, drop {params.raw_dir})")
    try:
        manifest = run_pipeline(params, ROOT, progress=typer.echo)
    except PipelineError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        kept = getattr(exc, "kept", None)
        if kept:
            typer.echo(f"partial notebook kept: {kept}", err=True)
        typer.echo(f"nothing published: reports/{label}/ is unchanged", err=True)
        raise typer.Exit(1)
    typer.echo(f"published reports/{label}/ in {time.perf_counter() - started:.1f} s "
               f"(stages {manifest['total_seconds']:.1f} s)")


@app.command()
def stages() -> None:
    """List the stages and their notebooks."""
    from evalpipe.runner import STAGES

    for stage, notebook in STAGES:
        typer.echo(f"{stage:18} notebooks/{notebook}")


if __name__ == "__main__":
    sys.exit(app())
