"""Run the stages that are out of date and publish the run atomically: the entry point of ``pipeline.py run``.

A run builds everything in staging folders (``staging``); only when every stage has passed does it replace
``reports/<run>/`` and ``data/processed/<run>/`` together (``publish``). A failed run leaves the last good
outputs as they were and keeps its partial notebooks in ``reports/_failed/``. The jobs live in their own
modules: ``scheduling`` (which stages run and why, the cache, the scheduler), ``kernels`` (executing a
notebook, the HTML export), ``manifest`` (what a run records, ``verify``), ``staging``, ``publish`` (lock,
journal, swap). The names other modules and the tests use are re-exported here.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .errors import PipelineError
from .kernels import (ForkServer, HtmlExporter, StageFailed, ipc_kernel_manager_class, prose_in_language,  # noqa: F401
                      warm_kernels)
from .manifest import (build_manifest, git_commit, package_versions, published_hashes, relative,  # noqa: F401
                       tree_hashes, verify_run)
from .publish import FolderError, RunLock, check_writable, os_error_message, probe_writable, publish, recover
from .scheduling import StageReport, stage_status  # noqa: F401
from .staging import path_mapping, replace_paths, working_directory

# The names evalpipe.compare imports from here.
_tree_hashes, _relative, _path_mapping, _replace_paths = tree_hashes, relative, path_mapping, replace_paths
_working_directory, _ipc_kernel_manager_class = working_directory, ipc_kernel_manager_class


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


class Interrupted(PipelineError):
    """Ctrl-C: the run stopped, its kernels are gone, nothing was published."""


def run_pipeline(params: RunParameters, project_root: Path, only: str | list[str] | None = None,
                 from_stage: str | None = None,
                 force: bool = False, progress: Callable[[str], None] = print, workers: int | None = None) -> dict:
    """Run the stages that are out of date (all with ``force``), in parallel where the graph allows,
    and publish the run only if every stage passed. Returns the manifest."""
    from . import stages as stage_graph
    from .staging import discard

    root = Path(project_root).resolve()
    final_reports = root / params.run_dir
    final_processed = root / params.processed_dir
    reports_parent = final_reports.parent
    staging_reports = reports_parent / ".staging" / params.label
    staging_processed = final_processed.parent / ".staging" / params.label
    only = [only] if isinstance(only, str) else only
    selected = list(only) if only else list(stage_graph.STAGE_NAMES)
    forced = set(stage_graph.STAGE_NAMES) if force else set(stage_graph.downstream(from_stage)) if from_stage else set()
    if only and force:
        forced = set(only)

    probe_writable(reports_parent, root)
    lock = RunLock(reports_parent / f".{params.label}.lock")
    lock.clear_stale()
    # The lock is taken before anything is decided: a run never answers from a cache another run is rewriting.
    with lock, working_directory(root):
        for line in recover(final_reports, final_processed):
            progress(line)
        if not forced and not only and final_reports.exists():
            # Nothing to do is decided on the published folders, without copying anything or importing pandas.
            planned = stage_status(params, root)
            if all(report.action == "skipped" for report in planned):
                for report in planned:
                    progress(report.line())
                manifest = json.loads((final_reports / "manifest.json").read_text(encoding="utf-8"))
                return manifest | {"stage_reports": [asdict(r) for r in planned]}
        check_writable(root, final_reports, final_processed)
        # Every input is checked against its schema before any kernel runs (the clean notebook shows it too).
        from .schemas import check_drop

        # Kernels are forked warm from a server that imports while the drop is checked (kernels.ForkServer).
        socket_dir = Path(tempfile.mkdtemp(prefix="evalpipe-kernel-"))
        server = ForkServer(socket_dir / "kernel.log", root / "notebooks") if warm_kernels() else None
        try:
            # check_drop reads drop.yaml first (drop.load_drop) and returns it with the rest: read once.
            drop = check_drop(root / params.raw_dir, root, allow_outside=params.allow_outside_paths).drop
            return _build_and_publish(params, root, drop, selected, forced, force, only, progress, workers,
                                      (final_reports, final_processed), (staging_reports, staging_processed),
                                      socket_dir, server)
        except KeyboardInterrupt:
            discard(staging_reports, staging_processed)
            raise Interrupted(f"interrupted: nothing published; {params.run_dir}/ is unchanged") from None
        except OSError as exc:
            discard(staging_reports, staging_processed)
            raise FolderError(os_error_message(exc, "write", root) + "; nothing published") from None
        finally:
            if server is not None:
                server.stop()
            shutil.rmtree(socket_dir, ignore_errors=True)


def _build_and_publish(params, root, drop, selected, forced, force, only, progress, workers, finals, stagings,
                       socket_dir: Path, server: ForkServer | None) -> dict:
    from .scheduling import default_workers, execute_graph
    from .staging import copy_previous, discard, keep_failed, remove_empty_parents, remove_failed

    final_reports, final_processed = finals
    staging_reports, staging_processed = stagings
    copy_previous(final_reports, staging_reports, reuse=not force or bool(only))
    copy_previous(final_processed, staging_processed, reuse=not force or bool(only))
    reproducibility = build_manifest(params, root, drop, [])
    reproducibility.pop("stage_reports")
    (staging_reports / "reproducibility.json").write_text(
        json.dumps(reproducibility, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    try:
        manager_class = ipc_kernel_manager_class(socket_dir, server) if os.name == "posix" else None
        reports = execute_graph(params, root, selected, forced, staging_reports, staging_processed, manager_class,
                                progress, workers or default_workers())
    except StageFailed as failure:
        failed = keep_failed(root, staging_reports, staging_processed)
        failure.kept = relative(failed / "notebooks" / Path(failure.notebook).name, root)
        failure.evalue = failure.evalue.replace(relative(staging_reports, root), relative(failed, root))
        raise
    if all(r.action == "skipped" for r in reports) and final_reports.exists():
        discard(staging_reports, staging_processed)
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
        discard(staging_reports, staging_processed)
        raise
    for warning in warnings:
        progress(f"warning: {warning}")
    remove_empty_parents(staging_reports, staging_processed)
    remove_failed(final_reports, final_processed, params.label)
    return manifest
