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
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from .errors import PipelineError

STAGES: list[tuple[str, str]] = [
    ("clean", "01_clean.ipynb"),
    ("validate", "02_validate.ipynb"),
    ("output_indicators", "03_output_indicators.ipynb"),
    ("outcome_indicators", "04_outcome_indicators.ipynb"),
    ("audit", "05_consistency_audit.ipynb"),
]
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

    @property
    def label(self) -> str:
        return f"{self.evaluation}-{self.cutoff}"


class StageFailed(PipelineError):
    """A notebook raised: which stage, notebook and cell, the exception, and the kept partial notebook."""

    def __init__(self, stage: str, notebook: str, cell: int | None, ename: str, evalue: str, kept: str):
        self.stage, self.notebook, self.cell, self.ename, self.evalue, self.kept = (
            stage, notebook, cell, ename, evalue, kept)
        where = f"stage {stage} ({notebook}{f', cell {cell}' if cell else ''})"
        super().__init__(f"{where}: {ename}: {evalue}")


class RunLocked(PipelineError):
    pass


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


class RunLock:
    """One run at a time per reports folder: a lock file created exclusively, with the owner's pid."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                raise RunLocked(f"another run is writing {self.path.parent.name}/{self.path.stem} "
                                f"(lock {self.path.name}, pid {self.path.read_text().strip() or '?'}); "
                                "wait for it to finish") from None
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            return self
        raise RunLocked(f"could not take the lock {self.path}")

    def _stale(self) -> bool:
        try:
            pid = int(self.path.read_text().strip())
        except (OSError, ValueError):
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def _swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` with ``staging`` so that a complete folder is always in place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    previous = final.with_name(f".{final.name}.previous")
    if previous.exists():
        shutil.rmtree(previous)
    if final.exists():
        os.replace(final, previous)
    os.replace(staging, final)
    if previous.exists():
        shutil.rmtree(previous)


class HtmlExporter:
    """One nbconvert HTMLExporter for the whole run (building it costs more than using it)."""

    def __init__(self) -> None:
        from nbconvert import HTMLExporter

        self.exporter = HTMLExporter()

    def write(self, notebook_path: Path, html_path: Path) -> None:
        import nbformat

        notebook = nbformat.read(notebook_path, as_version=4)
        body, _ = self.exporter.from_notebook_node(notebook)
        html_path.write_text(body, encoding="utf-8")


def run_pipeline(params: RunParameters, project_root: Path, stages: list[tuple[str, str]] | None = None,
                 progress: Callable[[str], None] = print) -> dict:
    """Execute the stages in order; publish the run only if all of them pass. Returns the manifest."""
    from .drop import load_drop

    root = Path(project_root).resolve()
    stages = stages or STAGES
    final_reports = root / params.run_dir
    final_processed = root / params.processed_dir
    reports_parent = final_reports.parent
    staging_reports = reports_parent / ".staging" / params.label
    staging_processed = final_processed.parent / ".staging" / params.label
    drop = load_drop(root / params.raw_dir)

    with RunLock(reports_parent / f".{params.label}.lock"), _working_directory(root):
        for folder in (staging_reports, staging_processed):
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
        socket_dir = Path(tempfile.mkdtemp(prefix="evalpipe-kernel-"))
        try:
            timings = _execute_stages(params, root, stages, staging_reports, staging_processed, socket_dir, progress)
        except StageFailed:
            shutil.rmtree(staging_processed, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(socket_dir, ignore_errors=True)
        manifest = build_manifest(params, root, drop, stages, timings)
        (staging_reports / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                                       encoding="utf-8")
        _swap_into_place(staging_processed, final_processed)
        _swap_into_place(staging_reports, final_reports)
        failed = reports_parent / "_failed" / params.label
        if failed.exists():
            shutil.rmtree(failed)
    return manifest


def _execute_stages(params: RunParameters, root: Path, stages: list[tuple[str, str]], staging_reports: Path,
                    staging_processed: Path, socket_dir: Path, progress: Callable[[str], None]) -> dict[str, float]:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    injected = asdict(params) | {
        "run_dir": _relative(staging_reports, root),
        "processed_dir": _relative(staging_processed, root),
    }
    (staging_reports / "notebooks").mkdir()
    exporter = HtmlExporter()
    kernel_manager_class = _ipc_kernel_manager_class(socket_dir) if os.name == "posix" else None
    timings = {}
    for stage, notebook in stages:
        source = root / "notebooks" / notebook
        executed = staging_reports / "notebooks" / notebook
        started = time.perf_counter()
        progress(f"[{stage}] running notebooks/{notebook}")
        try:
            pm.execute_notebook(_relative(source, root), _relative(executed, root), parameters=injected, cwd=".",
                                kernel_name="python3", progress_bar=False, log_output=False, report_mode=False,
                                kernel_manager_class=kernel_manager_class)
        except PapermillExecutionError as exc:
            failed = staging_reports.parent.parent / "_failed" / params.label
            if failed.exists():
                shutil.rmtree(failed)
            failed.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging_reports, failed)
            kept = _relative(failed / "notebooks" / notebook, root)
            raise StageFailed(stage, f"notebooks/{notebook}", exc.exec_count, exc.ename, str(exc.evalue),
                              kept) from None
        exporter.write(executed, executed.with_suffix(".html"))
        timings[stage] = round(time.perf_counter() - started, 2)
        progress(f"[{stage}] done in {timings[stage]:.1f} s")
    return timings


def build_manifest(params: RunParameters, root: Path, drop, stages: list[tuple[str, str]],
                   timings: dict[str, float]) -> dict:
    """What a reviewer or an archive needs to know about a run: parameters, inputs, software."""
    from .drop import input_hashes

    return {
        "evaluation": params.evaluation,
        "cutoff": params.cutoff,
        "label": params.label,
        "parameters": asdict(params),
        "data_drop": asdict(drop),
        "inputs_sha256": input_hashes(root / params.raw_dir, root),
        "software": package_versions(),
        "git_commit": git_commit(root),
        "stages": [{"stage": s, "notebook": f"notebooks/{n}", "seconds": timings[s]} for s, n in stages],
        "total_seconds": round(sum(timings.values()), 2),
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


def _ipc_kernel_manager_class(socket_dir: Path):
    """A kernel manager that talks to the kernel over Unix sockets in a private temporary folder.

    Local IPC instead of TCP: nothing listens on a network port while a notebook runs.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(Path(socket_dir) / "kernel"))
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

    return IPCKernelManager
