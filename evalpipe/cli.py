"""The command line: ``evalpipe …`` (the console script installed with the package) and ``pipeline.py …``.

    .venv/bin/evalpipe run                         # mid-term, cut-off 2020Q2, Spanish, shipped data
    .venv/bin/python pipeline.py run               # the same, from the project folder
    .venv/bin/evalpipe status                      # what is up to date and what would re-run, and why
    .venv/bin/evalpipe --help

``pipeline.py`` takes its own folder as the project; ``evalpipe`` the nearest folder, from the working
directory upwards, that holds ``pipeline.py``, ``notebooks/`` and ``data/``. Each stage is a notebook in
``notebooks/``, executed by Papermill with the validated parameters. Heavy modules (pandas, papermill,
Great Expectations) are imported only by the commands that need them, so that a bad parameter or an
up-to-date run answers at once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .params import DEFAULTS
from .stages import STAGE_NAMES

_root: Optional[Path] = None
STAGE_LIST = ", ".join(STAGE_NAMES)

# Click, not Typer: Typer 0.29 builds a pydantic TypeAdapter for every parameter of the command it runs, which
# imports pydantic (about 0.2 s) before an up-to-date run can answer (issue 14). Click's own help layout.
CONTEXT = {"show_default": True, "max_content_width": 100}


def _options(*decorators):
    """One decorator applying ``decorators`` in the order written (the first is the first option in --help)."""
    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function
    return apply


EVALUATION = click.option("--evaluation", default=DEFAULTS["evaluation"], metavar="midterm|final",
                          help="Which evaluation.")
CUTOFF = click.option("--cutoff", default=DEFAULTS["cutoff"], metavar="QUARTER",
                      help="Cut-off quarter, e.g. 2020Q2: later reports are ignored.")
LANG = click.option("--lang", default=DEFAULTS["lang"], metavar="es|en",
                    help="Language of labels in notebooks and reports.")
RAW = click.option("--raw", default=DEFAULTS["raw"], metavar="FOLDER",
                   help="Folder of the data drop, inside the project.")
EXPECTATIONS = click.option("--expectations", default=None, metavar="FOLDER", show_default="none",
                            help="Extra folder of GX suites for this drop, searched before expectations/.")
PARAMS = click.option("--params", "params", type=click.Path(path_type=Path), default=None, metavar="FILE",
                      show_default="none",
                      help="YAML file of parameters (keys: the long option names); options given on the "
                           "command line win.")
OUTSIDE = click.option("--allow-outside-paths", is_flag=True, default=False,
                       help="Accept --raw/--expectations outside the project.")
DEBUG = click.option("--debug", is_flag=True, default=False, help="Show the Python traceback of a failure.")
RUN_PARAMETERS = _options(EVALUATION, CUTOFF, LANG, RAW, EXPECTATIONS, PARAMS)


def _print_version(context: click.Context, _param, value: bool) -> None:
    if value and not context.resilient_parsing:
        click.echo(version_line())
        context.exit(0)


class _Commands(click.Group):
    """The commands listed in --help in the order they are defined (run first), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_Commands, context_settings=CONTEXT, no_args_is_help=True,
             help="Reproducible evaluation pipeline (notebooks run by Papermill).",
             epilog=f"Stages, in order: {STAGE_LIST}.")
@click.option("--version", is_flag=True, is_eager=True, expose_value=False, callback=_print_version,
              help="Print the version (and the git commit of the project) and exit.")
def app() -> None:
    """Reproducible evaluation pipeline (notebooks run by Papermill)."""


def set_root(path: Path) -> None:
    """Make ``path`` the project folder (``pipeline.py`` passes its own folder)."""
    global _root
    _root = Path(path).resolve()


def find_root(start: Optional[Path] = None) -> Optional[Path]:
    """The nearest folder, from ``start`` (the working directory) upwards, that holds the project."""
    from .workspace import MARKERS

    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / marker).exists() for marker in MARKERS):
            return folder
    return None


def project_root() -> Path:
    if _root is None:
        from .workspace import MARKERS

        found = find_root()
        if found is None:
            _fail(f"no project folder (one with {', '.join(MARKERS)}) at or above {Path.cwd()}: "
                  "run evalpipe from inside the project", 2)
        set_root(found)
    return _root


def git_commit(folder: Path) -> str:
    """The commit ``folder`` is checked out at (``-dirty`` with uncommitted changes); '' outside a git checkout
    of that folder."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=5).stdout.strip()

    try:
        top = git("rev-parse", "--show-toplevel")
        if not top or Path(top).resolve() != Path(folder).resolve():
            return ""
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("-dirty" if dirty else "") if commit else ""


def version_line() -> str:
    root = _root or find_root()
    commit = git_commit(root) if root else ""
    return f"evalpipe {__version__}" + (f" (git commit {commit})" if commit else "")


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


def _given(values: dict) -> dict:
    """The parameters written on the command line (not the defaults, which a --params file may override)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return {k: v for k, v in values.items() if v is not None}
    return {k: v for k, v in values.items()
            if v is not None and context.get_parameter_source(k) not in (click.core.ParameterSource.DEFAULT,
                                                                         None)}


def _parameters(evaluation, cutoff, lang, raw, expectations, params_file, allow_outside):
    """Validate everything before any notebook or heavy import; exit 2 with one sentence otherwise."""
    from .errors import ParameterError
    from .params import load_params_file, validate

    root = project_root()
    try:
        values = load_params_file(params_file) if params_file else {}
        values |= _given({"evaluation": evaluation, "cutoff": cutoff, "lang": lang, "raw": raw,
                          "expectations": expectations})
        if allow_outside:
            values["allow_outside_paths"] = True
        checked = validate(values, root)
    except ParameterError as exc:
        _fail(str(exc), 2)
    from .runner import RunParameters

    return RunParameters(
        evaluation=checked.evaluation, cutoff=str(checked.cutoff), lang=checked.lang, raw_dir=checked.raw_dir,
        processed_dir=f"data/processed/{checked.label}", run_dir=f"reports/{checked.label}",
        expectations_dirs=checked.expectations_dirs, suppression_threshold=checked.suppression_threshold,
        allow_outside_paths=bool(checked.allow_outside_paths))


def _run(params, only=None, from_stage=None, force=False, debug=False) -> None:
    from .errors import PipelineError
    from .runner import Interrupted, run_pipeline

    root = project_root()
    started = time.perf_counter()
    click.echo(f"run {params.label} (lang {params.lang}, drop {params.raw_dir})")
    try:
        manifest = run_pipeline(params, root, only=only, from_stage=from_stage, force=force, progress=click.echo)
    except (Interrupted, KeyboardInterrupt) as exc:
        click.echo(str(exc) if isinstance(exc, Interrupted) else
                   f"interrupted: nothing published; {params.run_dir}/ is unchanged", err=True)
        raise click.exceptions.Exit(130)
    except (PipelineError, OSError) as exc:  # OSError: a file or folder refused outside any stage
        if debug:
            raise
        if isinstance(exc, PipelineError):
            message = str(exc)
        else:
            from .publish import os_error_message

            message = os_error_message(exc, "read or write", root)
        click.echo(f"error: {message}", err=True)
        kept = getattr(exc, "kept", None)
        if kept:
            click.echo(f"partial notebook kept: {kept}", err=True)
        click.echo(f"nothing published: {params.run_dir}/ is unchanged", err=True)
        raise click.exceptions.Exit(1)
    ran = [r for r in manifest.get("stage_reports", []) if r["action"] == "ran"]
    verb = "published" if ran else "up to date:"
    warnings = _warnings_line(root / params.processed_dir / "input_warnings.csv")
    click.echo(f"{verb} {params.run_dir}/ in {time.perf_counter() - started:.1f} s" + (f"; {warnings}" if warnings
                                                                                          else ""))


def _warnings_line(path: Path) -> str:
    """The clean stage's warnings in one line ('' if none), read with the csv module so that an up-to-date
    run does not import pandas."""
    import csv
    from collections import Counter

    from .errors import warnings_summary

    if not path.exists():
        return ""
    with path.open(encoding="utf-8", newline="") as handle:
        summary = warnings_summary(Counter(row.get("kind", "") for row in csv.DictReader(handle)))
    return f"{summary}; see notebook 01" if summary else ""


def _check_stage(name: Optional[str], option: str) -> Optional[str]:
    if name is not None and name not in STAGE_NAMES:
        _fail(f"{option} {name!r}: expected one of {STAGE_LIST}", 2)
    return name


@app.command(short_help="Run what is out of date; publish the run when all stages pass.")
@RUN_PARAMETERS
@click.option("--force", is_flag=True, default=False, help="Re-run every stage, even those up to date.")
@click.option("--only", default=None, metavar="STAGE", show_default="every stage",
              help=f"Run this stage only: one of {STAGE_LIST}.")
@click.option("--from", "from_stage", default=None, metavar="STAGE", show_default="none",
              help=f"Re-run this stage and every later one: one of {STAGE_LIST}.")
@OUTSIDE
@DEBUG
def run(evaluation: str, cutoff: str, lang: str, raw: str, expectations: Optional[str], params: Optional[Path],
        force: bool, only: Optional[str], from_stage: Optional[str], allow_outside_paths: bool, debug: bool) -> None:
    """Run the stages that are out of date and publish reports/<evaluation>-<cutoff>/ when all pass."""
    _check_stage(only, "--only")
    _check_stage(from_stage, "--from")
    if only and from_stage:
        _fail("--only and --from cannot be used together", 2)
    checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
    _run(checked, only=only, from_stage=from_stage, force=force, debug=debug)


def _stage_command(stage_name: str, short_help: str, help_text: str) -> None:
    @app.command(stage_name, short_help=short_help,
                 help=f"{help_text}\n\nRuns the stage {stage_name} alone, on the published outputs of the stages "
                      f"before it (`run --only {stage_name}`). Stages, in order: {STAGE_LIST}.")
    @RUN_PARAMETERS
    @click.option("--force", is_flag=True, default=False, help="Run it even if up to date.")
    @OUTSIDE
    @DEBUG
    def command(evaluation: str, cutoff: str, lang: str, raw: str, expectations: Optional[str],
                params: Optional[Path], force: bool, allow_outside_paths: bool, debug: bool) -> None:
        checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
        _run(checked, only=stage_name, force=force, debug=debug)


_stage_command("clean", "Run the clean stage only (raw data -> data/processed/).",
               "Run the clean stage only (raw data -> data/processed/).")
_stage_command("validate", "Run the validate stage only (Great Expectations).",
               "Run the Great Expectations validation stage only.")
_stage_command("audit", "Run the audit stage only (consistency audit).", "Run the consistency audit stage only.")
_stage_command("annex", "Run the annex stage only (PDF, workbook, index.html).",
               "Build the PDF annex, the workbook and index.html (if out of date).")


def _published_run(command: str, run_name: str) -> Path:
    run_dir = project_root() / "reports" / run_name
    if "/" in run_name or run_name.startswith(".") or not (run_dir / "manifest.json").exists():
        _fail(f"{command} {run_name!r}: no published run folder reports/{run_name}/ (run the pipeline first)", 2)
    return run_dir


RUN_NAME = click.argument("run_name", metavar="RUN")


@app.command(short_help="Write and validate a BagIt bag + RO-Crate of a published run.")
@RUN_NAME
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bags"), metavar="FOLDER",
              help="Where to write the bag (inside the project).")
@DEBUG
def archive(run_name: str, out: Path, debug: bool) -> None:
    """Write a BagIt bag of a published run, with an RO-Crate description, and validate it in full.

    RUN: a run folder of reports/, e.g. midterm-2020Q2."""
    from .errors import ParameterError
    from .params import _inside

    root = project_root()
    run_dir = _published_run("archive", run_name)
    try:
        out_dir = _inside(root, str(out), "--out", allow_outside=False)
    except ParameterError as exc:
        _fail(str(exc), 2)
    from .archive import archive_run, validate_bag
    from .errors import PipelineError

    started = time.perf_counter()
    try:
        bag = archive_run(run_dir, out_dir)
        validate_bag(bag)
    except PipelineError as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    click.echo(f"bag {bag.relative_to(root)}/ written and fully validated in {time.perf_counter() - started:.1f} s")


REBUILT = "_rebuilt"


@app.command(short_help="Typeset a published run's annex PDF again; same bytes?")
@RUN_NAME
@click.option("--out", type=click.Path(path_type=Path), default=None, metavar="FILE",
              show_default=f"reports/{REBUILT}/<run>/annex[_en].pdf",
              help="Where to write the PDF (relative to the project folder).")
@DEBUG
def typeset(run_name: str, out: Optional[Path], debug: bool) -> None:
    """Typeset a published run's PDF annex again, from the run folder's annex/annex.typ and annex data, with
    the settings of the run (its date, or SOURCE_DATE_EPOCH; PDF/A-2b; the typst wheel's fonts), and check
    that it is byte for byte the published PDF (exit 1 if not). The published folder is not touched.

    RUN: a run folder of reports/, e.g. midterm-2020Q2."""
    import hashlib

    from .errors import PipelineError
    from .runfolder import fixed_timestamp, read_manifest, run_lang

    root = project_root()
    run_dir = _published_run("typeset", run_name)
    manifest = read_manifest(run_dir)
    from .annex import TEMPLATE, annex_data_path, annex_pdf_path, typeset_annex

    data_path = annex_data_path(run_dir, run_lang(manifest))
    published = annex_pdf_path(run_dir, run_lang(manifest))
    target = root / "reports" / REBUILT / run_name / published.name if out is None else (root / out).resolve()
    if run_dir.resolve() in (target, *target.parents):
        _fail(f"typeset --out {out}: inside the published folder reports/{run_name}/; write it elsewhere", 2)
    for needed in (data_path, data_path.parent / TEMPLATE, published):
        if not needed.exists():
            _fail(f"typeset {run_name}: {needed.relative_to(root)} is missing (`pipeline.py run --force` "
                  "publishes the run again)", 1)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        typeset_annex(data_path, run_dir, target, fixed_timestamp(manifest))
    except (PipelineError, OSError, RuntimeError) as exc:  # RuntimeError: typst.TypstError
        if debug:
            raise
        _fail(f"typeset {run_name}: {exc}", 1)
    shown = target.relative_to(root) if target.is_relative_to(root) else target
    new, old = (hashlib.sha256(p.read_bytes()).hexdigest() for p in (target, published))
    if new != old:
        _fail(f"{shown} differs from the published reports/{run_name}/{published.name} (SHA-256 {new[:12]}… vs "
              f"{old[:12]}…): not the same inputs, date (SOURCE_DATE_EPOCH) or typst version", 1)
    click.echo(f"typeset {shown}: byte for byte the published reports/{run_name}/{published.name}")


@app.command(short_help="Check that a published run's files are what it published.")
@RUN_NAME
@DEBUG
def verify(run_name: str, debug: bool) -> None:
    """Check that every file of a published run (and its processed data) is what the run published.

    RUN: a run folder of reports/, e.g. midterm-2020Q2."""
    from .errors import PipelineError
    from .runner import verify_run

    root = project_root()
    if "/" in run_name or run_name.startswith(".") or not (root / "reports" / run_name).is_dir():
        _fail(f"verify {run_name!r}: no published run folder reports/{run_name}/", 2)
    try:
        result = verify_run(root / "reports" / run_name, root)
    except PipelineError as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    for line in result.lines():
        click.echo(line, err=True)
    if not result.ok:
        _fail(f"reports/{run_name}/ does not match its manifest: {len(result.changed)} changed, "
              f"{len(result.missing)} missing, {len(result.added)} added; `pipeline.py run` re-runs the stages "
              "that own them", 1)
    click.echo(f"verified: the {result.matched} files of reports/{run_name}/ and its processed data are what "
               "the run published")


@app.command(short_help="Compare two published runs (mid-term -> final), like for like.")
@click.argument("run_a", metavar="EARLIER")
@click.argument("run_b", metavar="LATER")
@click.option("--lang", default="es", help="es or en: language of the notebook, tables' labels and annex section.")
@DEBUG
def compare(run_a: str, run_b: str, lang: str, debug: bool) -> None:
    """Compare two published runs of one project (issue 12): every indicator's value, progress and status at
    each cut-off and its transition, definitions that changed (recomputed like for like), finance, the inputs
    added or changed between the drops, and the mid-term recommendations followed up. Writes
    reports/compare-<EARLIER>-vs-<LATER>[-en]/ (notebook, tables, figures, annex_compare.pdf) atomically.

    EARLIER: the earlier run, a folder of reports/, e.g. midterm-2020Q2. LATER: the later run, e.g.
    final-2021Q4."""
    from .errors import PipelineError
    from .params import LANGUAGES

    if lang not in LANGUAGES:
        _fail(f"--lang {lang!r}: expected one of {', '.join(LANGUAGES)}", 2)
    root = project_root()
    from .compare import run_compare

    started = time.perf_counter()
    try:
        run_compare(root, run_a, run_b, lang, progress=click.echo)
    except KeyboardInterrupt:
        _fail("interrupted: nothing published", 130)
    except PipelineError as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    click.echo(f"compared in {time.perf_counter() - started:.1f} s")


@app.command(short_help="Run output_indicators and outcome_indicators only.")
@RUN_PARAMETERS
@OUTSIDE
@DEBUG
def indicators(evaluation: str, cutoff: str, lang: str, raw: str, expectations: Optional[str],
               params: Optional[Path], allow_outside_paths: bool, debug: bool) -> None:
    """Run the stages output_indicators and outcome_indicators only, if out of date (on the published clean
    data)."""
    checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
    _run(checked, only=["output_indicators", "outcome_indicators"], debug=debug)


@app.command(short_help="Compute one outcome indicator (or outcome) from its ficha, in-process.")
@click.argument("target", metavar="ID")
@click.option("--run", "run_name", default=None, metavar="RUN",
              show_default=f"{DEFAULTS['evaluation']}-{DEFAULTS['cutoff']}",
              help="The published run whose processed data are used.")
@DEBUG
def ficha(target: str, run_name: Optional[str], debug: bool) -> None:
    """Compute an outcome indicator (or every indicator of an outcome) from its ficha in the run's drop
    (data/raw/fichas/), in-process, on the processed data of a published run, and print the formula,
    numerator, denominator, n, exclusions (counts only, small counts suppressed as published) and status, in
    the run's language. Nothing is written: `run` publishes.

    ID: an outcome indicator id (as in fichas/<id>.yaml) or an outcome id (all its indicators)."""
    from .errors import PipelineError
    from .ficha_loop import compute, lines

    root = project_root()
    run_name = run_name or f"{DEFAULTS['evaluation']}-{DEFAULTS['cutoff']}"
    started = time.perf_counter()
    try:
        params, computed = compute(root, run_name, target)
    except PipelineError as exc:
        if debug:
            raise
        _fail(str(exc), 1)
    from . import i18n

    for line in lines(params, computed):
        click.echo(line)
    click.echo(i18n.t("ficha.done", params.get("lang", "es"), count=len(computed), run=run_name,
                      seconds=f"{time.perf_counter() - started:.1f}"))


@app.command(short_help="For each stage: up to date, or would run and why.")
@RUN_PARAMETERS
@OUTSIDE
def status(evaluation: str, cutoff: str, lang: str, raw: str, expectations: Optional[str], params: Optional[Path],
           allow_outside_paths: bool) -> None:
    """Say, for each stage, whether it is up to date or would re-run, and why."""
    checked = _parameters(evaluation, cutoff, lang, raw, expectations, params, allow_outside_paths)
    from .errors import PipelineError
    from .runner import stage_status, verify_run

    root = project_root()
    click.echo(f"{checked.run_dir}/")
    for report in stage_status(checked, root):
        reason = "up to date" if report.action == "skipped" else f"would run: {report.reason}"
        click.echo(f"  {report.stage:20} {reason}")
    if (root / checked.run_dir / "manifest.json").exists():
        try:
            result = verify_run(root / checked.run_dir, root)
        except PipelineError as exc:
            click.echo(f"  published files: cannot verify: {exc}")
            return
        if result.ok:
            click.echo(f"  published files: all {result.matched} match the manifest")
        for line in result.lines():
            click.echo(f"  published files: {line}")


@app.command()
def stages() -> None:
    """List the stages, their notebooks and what each needs."""
    from .stages import STAGES

    for current in STAGES:
        needs = ", ".join(current.needs) or "-"
        click.echo(f"{current.name:20} notebooks/{current.notebook:32} after: {needs}")


def main() -> None:
    """The ``evalpipe`` console script: the project is found from the working directory upwards."""
    sys.exit(app(prog_name="evalpipe"))  # click exits itself (standalone mode)
