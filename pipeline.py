#!/usr/bin/env python
"""Run the evaluation pipeline: clean -> validate -> output and outcome indicators -> audit.

    python pipeline.py run                      # mid-term, cut-off 2020Q2, Spanish, shipped data
    python pipeline.py run --cutoff 2020Q4      # writes reports/midterm-2020Q4/, leaves the other alone
    python pipeline.py status                   # what is up to date and what would re-run, and why
    python pipeline.py --help

Each stage is a notebook in notebooks/, executed by Papermill with the validated parameters; the logic
lives in the evalpipe package. A stage re-runs only when its notebook, the package code it uses, its
parameters or its inputs changed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

ROOT = Path(__file__).resolve().parent

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Reproducible evaluation pipeline (notebooks run by Papermill).")

EVALUATION = typer.Option(None, "--evaluation", help="midterm or final [default: midterm]")
CUTOFF = typer.Option(None, "--cutoff", help="Cut-off quarter, e.g. 2020Q2: later reports are ignored. [default: 2020Q2]")
LANG = typer.Option(None, "--lang", help="es or en: language of labels in notebooks and reports [default: es]")
RAW = typer.Option(None, "--raw", help="Folder of the data drop, inside the project [default: data/raw]")
EXPECTATIONS = typer.Option(None, "--expectations", help="Extra folder of GX suites for this drop, searched first.")
PARAMS = typer.Option(None, "--params", help="YAML file of parameters (keys: the long option names).")
OUTSIDE = typer.Option(False, "--allow-outside-paths", help="Accept --raw/--expectations outside the project.")
DEBUG = typer.Option(False, "--debug", help="Show the Python traceback of a failure.")


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _parameters(evaluation, cutoff, lang, raw, expectations, params_file, allow_outside):
    """Validate everything before any notebook or heavy import; exit 2 with one sentence otherwise."""
    from evalpipe.errors import ParameterError
    from evalpipe.params import load_params_file, validate

    try:
        values = load_params_file(params_file) if params_file else {}
        cli = {"evaluation": evaluation, "cutoff": cutoff, "lang": lang, "raw": raw, "expectations": expectations}
        values |= {k: v for k, v in cli.items() if v is not None}
        if allow_outside:
            values["allow_outside_paths"] = True
        checked = validate(values, ROOT)
    except ParameterError as exc:
        _fail(str(exc), 2)
    from evalpipe.runner import RunParameters

    return RunParameters(
        evaluation=checked.evaluation, cutoff=str(checked.cutoff), lang=checked.lang, raw_dir=checked.raw_dir,
        processed_dir=f"data/processed/{checked.label}", run_dir=f"reports/{checked.label}",
        expectations_dirs=checked.expectations_dirs, suppression_threshold=checked.suppression_threshold,
        allow_outside_paths=bool(checked.allow_outside_paths))


def _run(params, only=None, from_stage=None, force=False, debug=False) -> None:
    from evalpipe.errors import PipelineError
    from evalpipe.runner import Interrupted, run_pipeline

    started = time.perf_counter()
    typer.echo(f"run {params.label} (lang {params.lang}, drop {params.raw_dir})")
    try:
        manifest = run_pipeline(params, ROOT, only=only, from_stage=from_stage, force=force, progress=typer.echo)
    except (Interrupted, KeyboardInterrupt) as exc:
        typer.echo(str(exc) if isinstance(exc, Interrupted) else
                   f"interrupted: nothing published; {params.run_dir}/ is unchanged", err=True)
        raise typer.Exit(130)
    except (PipelineError, OSError) as exc:  # OSError: a file or folder refused outside any stage
        if debug:
            raise
        if isinstance(exc, PipelineError):
            message = str(exc)
        else:
            from evalpipe.publish import os_error_message

            message = os_error_message(exc, "read or write", ROOT)
        typer.echo(f"error: {message}", err=True)
        kept = getattr(exc, "kept", None)
        if kept:
            typer.echo(f"partial notebook kept: {kept}", err=True)
        typer.echo(f"nothing published: {params.run_dir}/ is unchanged", err=True)
        raise typer.Exit(1)
    ran = [r for r in manifest.get("stage_reports", []) if r["action"] == "ran"]
    verb = "published" if ran else "up to date:"
    warnings = _warnings_line(ROOT / params.processed_dir / "input_warnings.csv")
    typer.echo(f"{verb} {params.run_dir}/ in {time.perf_counter() - started:.1f} s" + (f"; {warnings}" if warnings
                                                                                          else ""))


def _warnings_line(path: Path) -> str:
    """The clean stage's warnings in one line ('' if none), read with the csv module so that an up-to-date
    run does not import pandas."""
    import csv
    from collections import Counter

    from evalpipe.errors import warnings_summary

    if not path.exists():
        return ""
    with path.open(encoding="utf-8", newline="") as handle:
        summary = warnings_summary(Counter(row.get("kind", "") for row in csv.DictReader(handle)))
    return f"{summary}; see notebook 01" if summary else ""


def _check_stage(name: Optional[str], option: str) -> Optional[str]:
    from evalpipe.stages import STAGE_NAMES

    if name is not None and name not in STAGE_NAMES:
        _fail(f"{option} {name!r}: expected one of {', '.join(STAGE_NAMES)}", 2)
    return name


@app.command()
def run(evaluation: Optional[str] = EVALUATION, cutoff: Optional[str] = CUTOFF, lang: Optional[str] = LANG,
        raw: Optional[str] = RAW, expectations: Optional[str] = EXPECTATIONS, params: Optional[Path] = PARAMS,
        force: bool = typer.Option(False, "--force", help="Re-run every stage, even those up to date."),
        only: Optional[str] = typer.Option(None, "--only", help="Run this stage only."),
        from_stage: Optional[str] = typer.Option(None, "--from", help="Re-run this stage and every later one."),
        allow_outside_paths: bool = OUTSIDE, debug: bool = DEBUG) -> None:
    """Run the stages that are out of date and publish reports/<evaluation>-<cutoff>/ when all pass."""
    _check_stage(only, "--only")
    _check_stage(from_stage, "--from")
    if only and from_stage:
        _fail("--only and --from cannot be used together", 2)
    checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
    _run(checked, only=only, from_stage=from_stage, force=force, debug=debug)


def _stage_command(stage_name: str, help_text: str):
    def command(evaluation: Optional[str] = EVALUATION, cutoff: Optional[str] = CUTOFF, lang: Optional[str] = LANG,
                raw: Optional[str] = RAW, expectations: Optional[str] = EXPECTATIONS, params: Optional[Path] = PARAMS,
                force: bool = typer.Option(False, "--force", help="Run it even if up to date."),
                allow_outside_paths: bool = OUTSIDE, debug: bool = DEBUG) -> None:
        checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
        _run(checked, only=stage_name, force=force, debug=debug)

    command.__doc__ = help_text
    return command


app.command("clean")(_stage_command("clean", "Run the clean stage only (raw data -> data/processed/)."))
app.command("validate")(_stage_command("validate", "Run the Great Expectations validation stage only."))
app.command("audit")(_stage_command("audit", "Run the consistency audit stage only."))
app.command("annex")(_stage_command("annex", "Build the PDF annex, the workbook and index.html (if out of date)."))


@app.command()
def archive(run_name: str = typer.Argument(..., help="A run folder of reports/, e.g. midterm-2020Q2."),
            out: Path = typer.Option(Path("reports/bags"), "--out", help="Where to write the bag (inside the project)."),
            debug: bool = DEBUG) -> None:
    """Write a BagIt bag of a published run, with an RO-Crate description, and validate it in full."""
    from evalpipe.errors import ParameterError
    from evalpipe.params import _inside

    run_dir = ROOT / "reports" / run_name
    if "/" in run_name or not (run_dir / "manifest.json").exists():
        _fail(f"archive {run_name!r}: no published run folder reports/{run_name}/ (run the pipeline first)", 2)
    try:
        out_dir = _inside(ROOT, str(out), "--out", allow_outside=False)
    except ParameterError as exc:
        _fail(str(exc), 2)
    from evalpipe.archive import archive_run, validate_bag
    from evalpipe.errors import PipelineError

    started = time.perf_counter()
    try:
        bag = archive_run(run_dir, out_dir)
        validate_bag(bag)
    except PipelineError as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    typer.echo(f"bag {bag.relative_to(ROOT)}/ written and fully validated in {time.perf_counter() - started:.1f} s")


@app.command()
def verify(run_name: str = typer.Argument(..., help="A run folder of reports/, e.g. midterm-2020Q2."),
           debug: bool = DEBUG) -> None:
    """Check that every file of a published run (and its processed data) is what the run published."""
    from evalpipe.errors import PipelineError
    from evalpipe.runner import verify_run

    if "/" in run_name or run_name.startswith(".") or not (ROOT / "reports" / run_name).is_dir():
        _fail(f"verify {run_name!r}: no published run folder reports/{run_name}/", 2)
    try:
        result = verify_run(ROOT / "reports" / run_name, ROOT)
    except PipelineError as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    for line in result.lines():
        typer.echo(line, err=True)
    if not result.ok:
        _fail(f"reports/{run_name}/ does not match its manifest: {len(result.changed)} changed, "
              f"{len(result.missing)} missing, {len(result.added)} added; `pipeline.py run` re-runs the stages "
              "that own them", 1)
    typer.echo(f"verified: the {result.matched} files of reports/{run_name}/ and its processed data are what "
               "the run published")


@app.command()
def indicators(evaluation: Optional[str] = EVALUATION, cutoff: Optional[str] = CUTOFF, lang: Optional[str] = LANG,
               raw: Optional[str] = RAW, expectations: Optional[str] = EXPECTATIONS, params: Optional[Path] = PARAMS,
               allow_outside_paths: bool = OUTSIDE, debug: bool = DEBUG) -> None:
    """Run the output- and outcome-indicator stages only, if out of date (on the published clean data)."""
    checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
    _run(checked, only=["output_indicators", "outcome_indicators"], debug=debug)


@app.command()
def status(evaluation: Optional[str] = EVALUATION, cutoff: Optional[str] = CUTOFF, lang: Optional[str] = LANG,
           raw: Optional[str] = RAW, expectations: Optional[str] = EXPECTATIONS, params: Optional[Path] = PARAMS,
           allow_outside_paths: bool = OUTSIDE) -> None:
    """Say, for each stage, whether it is up to date or would re-run, and why."""
    checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
    from evalpipe.runner import stage_status

    from evalpipe.errors import PipelineError
    from evalpipe.runner import verify_run

    typer.echo(f"{checked.run_dir}/")
    for report in stage_status(checked, ROOT):
        reason = "up to date" if report.action == "skipped" else f"would run: {report.reason}"
        typer.echo(f"  {report.stage:20} {reason}")
    if (ROOT / checked.run_dir / "manifest.json").exists():
        try:
            result = verify_run(ROOT / checked.run_dir, ROOT)
        except PipelineError as exc:
            typer.echo(f"  published files: cannot verify: {exc}")
            return
        if result.ok:
            typer.echo(f"  published files: all {result.matched} match the manifest")
        for line in result.lines():
            typer.echo(f"  published files: {line}")


@app.command()
def stages() -> None:
    """List the stages, their notebooks and what each needs."""
    from evalpipe.stages import STAGES

    for current in STAGES:
        needs = ", ".join(current.needs) or "-"
        typer.echo(f"{current.name:20} notebooks/{current.notebook:32} after: {needs}")


if __name__ == "__main__":
    sys.exit(app())
