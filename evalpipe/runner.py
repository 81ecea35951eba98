"""Run the stage notebooks under Papermill, export them to HTML, and publish a run atomically.

A run builds everything in a staging folder; only when every stage has passed does it replace
``reports/<evaluation>-<cutoff>/`` and ``data/processed/<evaluation>-<cutoff>/``. A failed run
leaves the last good outputs as they were and keeps its partial notebooks in ``reports/_failed/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from .errors import PipelineError
from .publish import (  # noqa: F401 (RunLocked is re-exported)
    FolderError, RunLock, RunLocked, check_writable, os_error_message, probe_writable, publish, recover)

KEY_PACKAGES = ("evalpipe", "pandas", "numpy", "great-expectations", "papermill", "nbconvert", "nbclient",
                "ipykernel", "openpyxl", "matplotlib", "seaborn", "typer", "pyyaml")


@dataclass
class RunParameters:
    """What Papermill injects into every notebook (paths relative to the project root)."""

    evaluation: str
    cutoff: str
    lang: str
    raw_dir: str
    processed_dir: str
    run_dir: str
    expectations_dirs: list[str]
    suppression_threshold: int = 5
    allow_outside_paths: bool = False

    @property
    def label(self) -> str:
        """Folder name of the run: reports/midterm-2020Q2/ (Spanish), reports/midterm-2020Q2-en/ (English)."""
        return f"{self.evaluation}-{self.cutoff}" + ("" if self.lang == "es" else f"-{self.lang}")


class StageFailed(PipelineError):
    """A notebook raised: which stage, notebook and cell, the exception, and the kept partial notebook."""

    def __init__(self, stage: str, notebook: str, cell: int | None, ename: str, evalue: str, kept: str):
        self.stage, self.notebook, self.cell, self.ename, self.evalue, self.kept = (
            stage, notebook, cell, ename, evalue, kept)
        super().__init__()

    def __str__(self) -> str:
        where = f"stage {self.stage} ({self.notebook}{f', cell {self.cell}' if self.cell else ''})"
        return f"{where}: {self.ename}: {self.evalue}"


def _relative(path: Path, root: Path) -> str:
    return os.path.relpath(Path(path).resolve(), Path(root).resolve())


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        commit = out.stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("-dirty" if dirty else "") if commit else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class HtmlExporter:
    """One nbconvert HTMLExporter for the whole run (building it costs more than using it)."""

    def __init__(self) -> None:
        from .htmlsafe import new_html_exporter

        # Sanitised: text that came from a drop is never live markup in a reviewer's browser.
        self.exporter = new_html_exporter()

    def write(self, notebook_path: Path, html_path: Path) -> None:
        import nbformat

        from .htmlsafe import offline

        notebook = nbformat.read(notebook_path, as_version=4)
        body, _ = self.exporter.from_notebook_node(notebook)
        html_path.write_text(offline(body), encoding="utf-8")


@dataclass
class StageReport:
    stage: str
    action: str  # "ran" or "skipped"
    reason: str
    seconds: float = 0.0

    def line(self) -> str:
        if self.action == "skipped":
            return f"[{self.stage}] skipped: {self.reason}"
        return f"[{self.stage}] ran because {self.reason} ({self.seconds:.1f} s)"


def _copy_previous(final: Path, staging: Path, reuse: bool) -> None:
    """Start the staging folder from the last published run, so that skipped stages keep their outputs."""
    if staging.exists():
        shutil.rmtree(staging)
    if reuse and final.exists():
        shutil.copytree(final, staging, symlinks=False)
    else:
        staging.mkdir(parents=True)


def plan_parameters(params: RunParameters) -> dict:
    """The parameters that key the cache: the injected ones, with the published (not staging) paths."""
    return asdict(params)


class Interrupted(PipelineError):
    """Ctrl-C: the run stopped, its kernels are gone, nothing was published."""


def run_pipeline(params: RunParameters, project_root: Path, only: str | list[str] | None = None,
                 from_stage: str | None = None,
                 force: bool = False, progress: Callable[[str], None] = print, workers: int | None = None) -> dict:
    """Run the stages that are out of date (all with ``force``), in parallel where the graph allows,
    and publish the run only if every stage passed. Returns the manifest."""
    from . import stages as stage_graph
    from .drop import load_drop

    root = Path(project_root).resolve()
    final_reports = root / params.run_dir
    final_processed = root / params.processed_dir
    reports_parent = final_reports.parent
    staging_reports = reports_parent / ".staging" / params.label
    staging_processed = final_processed.parent / ".staging" / params.label
    drop = load_drop(root / params.raw_dir, root, allow_outside=params.allow_outside_paths)
    only = [only] if isinstance(only, str) else only
    selected = list(only) if only else list(stage_graph.STAGE_NAMES)
    forced = set(stage_graph.STAGE_NAMES) if force else set(stage_graph.downstream(from_stage)) if from_stage else set()
    if only and force:
        forced = set(only)

    probe_writable(reports_parent, root)
    lock = RunLock(reports_parent / f".{params.label}.lock")
    lock.clear_stale()
    # The lock is taken before anything is decided: a run never answers from a cache another run is rewriting.
    with lock, _working_directory(root):
        for line in recover(final_reports, final_processed):
            progress(line)
        if not forced and not only and final_reports.exists():
            # Nothing to do is decided on the published folders, without copying anything.
            planned = stage_status(params, root)
            if all(report.action == "skipped" for report in planned):
                for report in planned:
                    progress(report.line())
                manifest = json.loads((final_reports / "manifest.json").read_text(encoding="utf-8"))
                return manifest | {"stage_reports": [asdict(r) for r in planned]}
        check_writable(root, final_reports, final_processed)
        # Every input is checked against its schema before any kernel starts (the clean notebook shows it too).
        from .schemas import check_drop

        check_drop(root / params.raw_dir, root, allow_outside=params.allow_outside_paths)
        try:
            return _build_and_publish(params, root, drop, selected, forced, force, only, progress, workers,
                                      (final_reports, final_processed), (staging_reports, staging_processed))
        except KeyboardInterrupt:
            _discard(staging_reports, staging_processed)
            raise Interrupted(f"interrupted: nothing published; {params.run_dir}/ is unchanged") from None
        except OSError as exc:
            _discard(staging_reports, staging_processed)
            raise FolderError(os_error_message(exc, "write", root) + "; nothing published") from None
        except StageFailed:
            _discard(staging_processed)
            raise


def _discard(*staging: Path) -> None:
    for folder in staging:
        shutil.rmtree(folder, ignore_errors=True)
    _remove_empty_parents(*staging)


def _build_and_publish(params, root, drop, selected, forced, force, only, progress, workers, finals, stagings
                       ) -> dict:
    final_reports, final_processed = finals
    staging_reports, staging_processed = stagings
    _copy_previous(final_reports, staging_reports, reuse=not force or bool(only))
    _copy_previous(final_processed, staging_processed, reuse=not force or bool(only))
    reproducibility = build_manifest(params, root, drop, [])
    reproducibility.pop("stage_reports")
    (staging_reports / "reproducibility.json").write_text(
        json.dumps(reproducibility, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    socket_dir = Path(tempfile.mkdtemp(prefix="evalpipe-kernel-"))
    try:
        reports = _execute_graph(params, root, selected, forced, staging_reports, staging_processed, socket_dir,
                                 progress, workers or min(2, os.cpu_count() or 1))
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    if all(r.action == "skipped" for r in reports) and final_reports.exists():
        _discard(staging_reports, staging_processed)
        return json.loads((final_reports / "manifest.json").read_text(encoding="utf-8")) | {
            "stage_reports": [asdict(r) for r in reports]}
    manifest = build_manifest(params, root, drop, reports)
    manifest["outputs_sha256"] = published_hashes(params, staging_reports, staging_processed)
    (staging_reports / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    try:
        warnings = publish([(staging_processed, final_processed), (staging_reports, final_reports)],
                           journal_for=final_reports, root=root)
    except FolderError:
        _discard(staging_reports, staging_processed)
        raise
    for warning in warnings:
        progress(f"warning: {warning}")
    _remove_empty_parents(staging_reports, staging_processed)
    for failed in (final_reports.parent / "_failed" / params.label, final_processed.parent / "_failed" / params.label):
        if failed.exists():
            shutil.rmtree(failed, ignore_errors=True)
    return manifest


def _remove_empty_parents(*staging: Path) -> None:
    """The ``.staging/`` folders are left only while a run is building."""
    for folder in staging:
        with contextlib.suppress(OSError):
            Path(folder).parent.rmdir()


MANIFEST_EXCLUDED = ("manifest.json",)


def _tree_hashes(folder: Path) -> dict[str, str]:
    from .stages import sha256_bytes

    folder = Path(folder)
    if not folder.exists():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or relative.parts[0] == ".cache" or relative.as_posix() in MANIFEST_EXCLUDED:
            continue
        out[relative.as_posix()] = sha256_bytes(path.read_bytes())
    return out


def published_hashes(params: "RunParameters", run_dir: Path, processed_dir: Path) -> dict[str, str]:
    """SHA-256 of every file a run publishes, keyed by its published path (``reports/<run>/...``,
    ``data/processed/<run>/...``); the manifest itself and the stages' cache keys are not listed."""
    out = {f"{params.run_dir}/{k}": v for k, v in _tree_hashes(run_dir).items()}
    out |= {f"{params.processed_dir}/{k}": v for k, v in _tree_hashes(processed_dir).items()}
    return dict(sorted(out.items()))


@dataclass
class Verification:
    """What ``pipeline.py verify`` found: files that match, and those changed, missing or added."""

    matched: int
    changed: list[str]
    missing: list[str]
    added: list[str]

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.added)

    def lines(self) -> list[str]:
        return ([f"changed: {p} differs from what the run published" for p in self.changed]
                + [f"missing: {p} was published and is gone" for p in self.missing]
                + [f"added: {p} was not published by the run" for p in self.added])


def verify_run(run_dir: Path, project_root: Path) -> Verification:
    """Compare the files of a published run (and its processed data) with the hashes its manifest recorded."""
    from .errors import InputError

    root, run_dir = Path(project_root).resolve(), Path(run_dir).resolve()
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.exists():
        raise InputError(_relative(manifest_path, root), "the manifest of a published run (run pipeline.py run first)",
                         found="missing file")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    recorded = manifest.get("outputs_sha256")
    if recorded is None:
        raise InputError(_relative(manifest_path, root), "an 'outputs_sha256' entry (published by an earlier "
                         "version of evalpipe: run pipeline.py run --force to publish it again)", found="none")
    parameters = manifest.get("parameters", {})
    run_rel = parameters.get("run_dir", _relative(run_dir, root))
    processed_rel = parameters.get("processed_dir")
    current = {f"{run_rel}/{k}": v for k, v in _tree_hashes(run_dir).items()}
    if processed_rel:
        current |= {f"{processed_rel}/{k}": v for k, v in _tree_hashes(root / processed_rel).items()}
    changed = sorted(k for k in recorded if k in current and current[k] != recorded[k])
    missing = sorted(k for k in recorded if k not in current)
    added = sorted(k for k in current if k not in recorded)
    return Verification(len(recorded) - len(changed) - len(missing), changed, missing, added)


def _package_dir() -> Path:
    """The evalpipe package the kernels import (not a copy that may lie beside the project)."""
    return Path(__file__).resolve().parent


def _cache_file(run_dir: Path, stage: str) -> Path:
    return Path(run_dir) / ".cache" / f"{stage}.json"


def stage_status(params: RunParameters, project_root: Path) -> list[StageReport]:
    """What a run would do now, against the published folders, without running anything."""
    from . import stages as stage_graph

    root = Path(project_root).resolve()
    run_dir, processed = root / params.run_dir, root / params.processed_dir
    roots = _roots(params, root, run_dir, processed)
    out, rerun = [], set()
    for current in stage_graph.STAGES:
        if current.requires and not (root / params.raw_dir / current.requires).exists():
            out.append(StageReport(current.name, "skipped", f"the drop has no {current.requires}/ folder"))
            continue
        reason = _rerun_reason(current, params, root, run_dir, roots)
        upstream = [n for n in current.needs if n in rerun]
        if reason is None and upstream:
            reason = f"may change after {', '.join(upstream)} re-runs"
        if reason:
            rerun.add(current.name)
            out.append(StageReport(current.name, "would run", reason))
        else:
            out.append(StageReport(current.name, "skipped", "up to date"))
    return out


def _roots(params: RunParameters, root: Path, run_dir: Path, processed: Path) -> dict:
    return {"raw": root / params.raw_dir, "processed": processed, "run": run_dir,
            "expectations": [root / d for d in params.expectations_dirs], "package": _package_dir()}


def _read_cache(run_dir: Path, stage: str):
    """The stage's recorded key and the hashes of the outputs it wrote: (key, outputs), or (None, None)."""
    from .stages import StageKey

    path = _cache_file(run_dir, stage)
    if not path.exists():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StageKey.from_json(data), data.get("outputs")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None


def _rerun_reason(current, params: RunParameters, root: Path, run_dir: Path, roots: dict) -> str | None:
    """Why ``current`` must run against the folder ``run_dir`` (its code, parameters, inputs or its own
    published outputs changed), or None when its stored result is still right."""
    from . import stages as stage_graph

    key = stage_graph.stage_key(current, root / "notebooks", _package_dir(), plan_parameters(params), roots)
    cached, outputs = _read_cache(run_dir, current.name)
    present = (run_dir / "notebooks" / current.notebook).exists()
    changed = stage_graph.changed_outputs(outputs, stage_graph.output_files(current, roots))
    if cached is not None and outputs is None:
        return "its outputs were not recorded (published by an earlier version)"
    return stage_graph.why_rerun(key, cached, present, changed)


def _execute_graph(params: RunParameters, root: Path, selected: list[str], forced: set[str], staging_reports: Path,
                   staging_processed: Path, socket_dir: Path, progress: Callable[[str], None],
                   workers: int) -> list[StageReport]:
    """Decide and run stages as their upstream stages finish; independent stages run side by side."""
    import threading
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from . import stages as stage_graph

    injected = asdict(params) | {
        "run_dir": _relative(staging_reports, root),
        "processed_dir": _relative(staging_processed, root),
    }
    (staging_reports / "notebooks").mkdir(exist_ok=True)
    roots = _roots(params, root, staging_reports, staging_processed)
    exporter, export_lock = HtmlExporter(), threading.Lock()
    kernel_manager_class = _ipc_kernel_manager_class(socket_dir) if os.name == "posix" else None
    reports: dict[str, StageReport] = {}
    failures: list[StageFailed] = []

    published = _path_mapping(root, {staging_reports: root / params.run_dir,
                                     staging_processed: root / params.processed_dir})

    def execute(current, reason: str) -> StageReport:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

        executed = staging_reports / "notebooks" / current.notebook
        started = time.perf_counter()
        progress(f"[{current.name}] running notebooks/{current.notebook} ({reason})")
        source = prose_in_language(root / "notebooks" / current.notebook, params.lang, progress)
        try:
            pm.execute_notebook(source, _relative(executed, root), parameters=injected,
                                kernel_name="python3", progress_bar=False, log_output=False, report_mode=False,
                                kernel_manager_class=kernel_manager_class)
        except PapermillExecutionError as exc:
            # The failing notebook is kept with its HTML, the failure first, so it can be read without Jupyter.
            with export_lock, contextlib.suppress(Exception):
                _mark_failure(executed, exc.ename, str(exc.evalue), exc.exec_count)
                exporter.write(executed, executed.with_suffix(".html"))
            raise StageFailed(current.name, f"notebooks/{current.notebook}", exc.exec_count, exc.ename,
                              str(exc.evalue), "") from None
        except Exception as exc:  # the kernel died (memory, a signal) or could not start
            raise StageFailed(current.name, f"notebooks/{current.notebook}", None, type(exc).__name__,
                              str(exc).strip().splitlines()[0] if str(exc).strip() else "the kernel stopped",
                              "") from None
        # The executed notebook shows where its files are published, not the staging folder it was built in.
        _replace_paths(executed, published)
        with export_lock:
            exporter.write(executed, executed.with_suffix(".html"))
        new_key = stage_graph.stage_key(current, root / "notebooks", _package_dir(), plan_parameters(params), roots)
        cache = _cache_file(staging_reports, current.name)
        cache.parent.mkdir(exist_ok=True)
        record = new_key.to_json() | {"outputs": stage_graph.output_files(current, roots)}
        cache.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        return StageReport(current.name, "ran", reason, round(time.perf_counter() - started, 2))

    pending = [s for s in stage_graph.STAGES if s.name in selected]
    running = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        while (pending or running) and not failures:
            for current in list(pending):
                if any(n in selected and n not in reports for n in current.needs):
                    continue
                pending.remove(current)
                if current.requires and not (root / params.raw_dir / current.requires).exists():
                    reports[current.name] = StageReport(current.name, "skipped",
                                                        f"the drop has no {current.requires}/ folder")
                    progress(reports[current.name].line())
                    continue
                reason = ("--force or --from" if current.name in forced
                          else _rerun_reason(current, params, root, staging_reports, roots))
                if reason is None:
                    reports[current.name] = StageReport(current.name, "skipped", "up to date")
                    progress(reports[current.name].line())
                    continue
                running[pool.submit(execute, current, reason)] = current
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                current = running.pop(future)
                try:
                    reports[current.name] = future.result()
                    progress(reports[current.name].line())
                except StageFailed as exc:
                    failures.append(exc)
        for future in running:  # let stages already running finish before the folder moves
            try:
                future.result()
            except StageFailed as exc:
                failures.append(exc)
    except KeyboardInterrupt:
        # Ctrl-C: stop at once. The kernels are killed, so the stages running in threads end now.
        _kill_kernels(kernel_manager_class)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failures:
        first = failures[0]
        failed = staging_reports.parent.parent / "_failed" / params.label
        if failed.exists():
            shutil.rmtree(failed)
        failed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging_reports, failed)
        failed_processed = staging_processed.parent.parent / "_failed" / params.label
        if failed_processed.exists():
            shutil.rmtree(failed_processed)
        failed_processed.parent.mkdir(parents=True, exist_ok=True)
        if staging_processed.exists():
            os.replace(staging_processed, failed_processed)
        _remove_empty_parents(staging_reports, staging_processed)
        moved = _path_mapping(root, {staging_reports: failed, staging_processed: failed_processed})
        for kept in sorted((failed / "notebooks").glob("*.*")):
            if kept.suffix in (".ipynb", ".html"):
                _replace_paths(kept, moved)
        first.kept = _relative(failed / "notebooks" / Path(first.notebook).name, root)
        first.evalue = first.evalue.replace(_relative(staging_reports, root), _relative(failed, root))
        raise first
    return [reports[s.name] for s in stage_graph.STAGES if s.name in reports]


def prose_in_language(notebook_path: Path, lang: str, progress: Callable[[str], None] = print):
    """The stage notebook with its markdown cells in ``lang`` (catalog ``notebook:<stem>``), for Papermill.

    A cell the catalog does not translate (prose edited in Jupyter, not yet in the catalog) stays in English,
    and one warning line names the notebook and the cells (numbered from 1, as Jupyter shows them)."""
    import nbformat

    from . import i18n

    notebook = nbformat.read(notebook_path, as_version=4)
    untranslated = i18n.translate_notebook(notebook, Path(notebook_path).stem, lang)
    if untranslated:
        cells = ", ".join(str(index + 1) for index in untranslated)
        progress(f"warning: notebooks/{Path(notebook_path).name}: markdown cell{'s' if len(untranslated) > 1 else ''} "
                 f"{cells} not translated to {lang} (shown in English; add them to "
                 f"evalpipe/locale/{lang}/LC_MESSAGES/evalpipe.po)")
    return notebook


def _mark_failure(notebook_path: Path, ename: str, evalue: str, cell: int | None) -> None:
    """Put the failure at the top of a failed notebook, as text (the message may quote the drop)."""
    import nbformat

    from .htmlsafe import escape_markdown

    notebook = nbformat.read(notebook_path, as_version=4)
    where = f" in cell [{cell}]" if cell else ""
    text = (f"## This stage failed{where}: nothing was published\n\n"
            f"**{escape_markdown(ename)}**: {escape_markdown(evalue.strip().splitlines()[0] if evalue.strip() else '')}"
            "\n\nThe cell that failed is marked below; the last good run is unchanged.")
    cell_node = nbformat.v4.new_markdown_cell(text)
    cell_node.metadata["tags"] = ["evalpipe-failure"]
    notebook.cells.insert(0, cell_node)
    nbformat.write(notebook, notebook_path)


def _path_mapping(root: Path, moves: dict[Path, Path]) -> list[tuple[str, str]]:
    """(old, new) text pairs for each moved folder, relative to the project and absolute."""
    pairs = []
    for old, new in moves.items():
        pairs.append((str(Path(old).resolve()), str(Path(new).resolve())))
        pairs.append((_relative(old, root), _relative(new, root)))
    return pairs


def _replace_paths(path: Path, pairs: list[tuple[str, str]]) -> None:
    """Rewrite folder paths in an executed notebook (or its HTML): what it says is where the files are."""
    text = Path(path).read_text(encoding="utf-8")
    changed = text
    for old, new in pairs:
        changed = changed.replace(old, new)
    if changed != text:
        Path(path).write_text(changed, encoding="utf-8")


def build_manifest(params: RunParameters, root: Path, drop, reports: list[StageReport]) -> dict:
    """What a reviewer or an archive needs to know about a run: parameters, inputs, software."""
    from .drop import input_hashes

    from . import stages as stage_graph

    return {
        "evaluation": params.evaluation,
        "cutoff": params.cutoff,
        "label": params.label,
        "parameters": asdict(params),
        "data_drop": asdict(drop),
        "inputs_sha256": input_hashes(root / params.raw_dir, root),
        "software": package_versions(),
        "git_commit": git_commit(root),
        "stages": [{"stage": s.name, "notebook": f"notebooks/{s.notebook}"} for s in stage_graph.STAGES],
        "stage_reports": [asdict(r) for r in reports],
    }


@contextlib.contextmanager
def _working_directory(path: Path):
    """Papermill and the kernels see paths relative to the project root (no user names in outputs)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _kill_kernels(manager_class) -> None:
    """Kill every kernel a run started that is still alive (Ctrl-C): no kernel is left behind."""
    for process in list(getattr(manager_class, "launched", [])):
        with contextlib.suppress(Exception):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)


def _ipc_kernel_manager_class(socket_dir: Path):
    """A kernel manager that talks to the kernel over Unix sockets in a private temporary folder.

    Local IPC instead of TCP: nothing listens on a network port while a notebook runs.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        launched: list = []  # the kernels' processes, killed on Ctrl-C

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            # One socket prefix per kernel: kernels started side by side must not share socket names.
            kwargs.setdefault("ip", str(Path(socket_dir) / f"k{uuid.uuid4().hex[:10]}"))
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # The kernel's own log (e.g. "KeyboardInterrupt caught" at shutdown) goes to a file beside
            # the sockets, not to the consultant's console; cell errors still reach Papermill.
            log = open(Path(socket_dir) / "kernel.log", "ab")  # noqa: SIM115 - the child keeps its own copy
            kw["stderr"] = log
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                log.close()
            process = getattr(self.provisioner, "process", None)
            if process is not None:
                IPCKernelManager.launched.append(process)

    return IPCKernelManager
