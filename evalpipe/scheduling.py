"""Which stages run, why, and in what order: the content-addressed cache and the scheduler.

Each stage's result is keyed (``stages.stage_key``) on its notebook, the package modules it imports, its
parameters and the files it reads; the key and the SHA-256 of the files it wrote are stored in
``<run>/.cache/<stage>.json``. A stage runs when its key or its outputs differ from what is stored (the reason
in words), and the scheduler starts each stage as soon as the stages it needs have finished, independent
stages side by side.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .kernels import StageFailed
from .manifest import relative


@dataclass
class StageReport:
    stage: str
    action: str  # "ran", "skipped" or (status only) "would run"
    reason: str
    seconds: float = 0.0
    # Where a stage that ran spent its time: kernel_start, imports, work, export, other (seconds).
    timings: dict = field(default_factory=dict)

    def line(self) -> str:
        if self.action == "skipped":
            return f"[{self.stage}] skipped: {self.reason}"
        return f"[{self.stage}] ran because {self.reason} ({self.seconds:.1f} s)"


def package_dir() -> Path:
    """The evalpipe package the kernels import (not a copy that may lie beside the project)."""
    return Path(__file__).resolve().parent


def plan_parameters(params) -> dict:
    """The parameters that key the cache: the injected ones, with the published (not staging) paths."""
    return asdict(params)


def cache_file(run_dir: Path, stage: str) -> Path:
    return Path(run_dir) / ".cache" / f"{stage}.json"


def roots(params, root: Path, run_dir: Path, processed: Path) -> dict:
    return {"raw": root / params.raw_dir, "processed": processed, "run": run_dir,
            "expectations": [root / d for d in params.expectations_dirs], "package": package_dir()}


def read_cache(run_dir: Path, stage: str):
    """The stage's recorded key and the hashes of the outputs it wrote: (key, outputs), or (None, None)."""
    from .stages import StageKey

    path = cache_file(run_dir, stage)
    if not path.exists():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StageKey.from_json(data), data.get("outputs")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None


def load_parsed(run_dir: Path) -> None:
    """What an earlier run found by parsing code and fichas (``stages.PARSED``): a no-op run parses nothing."""
    from . import stages as stage_graph

    path = Path(run_dir) / ".cache" / "parsed.json"
    try:
        stage_graph.PARSED.update(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        pass


def save_parsed(run_dir: Path, every_stage: bool) -> None:
    """Save the parse results beside the stages' keys (published with the run): those this run used when it
    decided every stage (older ones are dropped), else all it knows."""
    from . import stages as stage_graph

    path = Path(run_dir) / ".cache" / "parsed.json"
    path.parent.mkdir(exist_ok=True)
    keys = stage_graph.USED if every_stage else stage_graph.PARSED
    used = {k: stage_graph.PARSED[k] for k in sorted(keys) if k in stage_graph.PARSED}
    path.write_text(json.dumps(used, indent=0, sort_keys=True), encoding="utf-8")


def write_cache(run_dir: Path, current, params, root: Path, stage_roots: dict) -> None:
    """Record the key of a stage that just ran and the hashes of what it wrote."""
    from . import stages as stage_graph

    key = stage_graph.stage_key(current, root / "notebooks", package_dir(), plan_parameters(params), stage_roots)
    path = cache_file(run_dir, current.name)
    path.parent.mkdir(exist_ok=True)
    record = key.to_json() | {"outputs": stage_graph.output_files(current, stage_roots)}
    path.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")


def rerun_reason(current, params, root: Path, run_dir: Path, stage_roots: dict) -> str | None:
    """Why ``current`` must run against the folder ``run_dir`` (its code, parameters, inputs or its own
    published outputs changed), or None when its stored result is still right."""
    from . import stages as stage_graph

    key = stage_graph.stage_key(current, root / "notebooks", package_dir(), plan_parameters(params), stage_roots)
    cached, outputs = read_cache(run_dir, current.name)
    present = (run_dir / "notebooks" / current.notebook).exists()
    changed = stage_graph.changed_outputs(outputs, stage_graph.output_files(current, stage_roots))
    if cached is not None and outputs is None:
        return "its outputs were not recorded (published by an earlier version)"
    return stage_graph.why_rerun(key, cached, present, changed)


def _missing_requirement(current, params, root: Path) -> StageReport | None:
    if current.requires and not (root / params.raw_dir / current.requires).exists():
        return StageReport(current.name, "skipped", f"the drop has no {current.requires}/ folder")
    return None


def stage_status(params, project_root: Path) -> list[StageReport]:
    """What a run would do now, against the published folders, without running anything."""
    from . import stages as stage_graph

    root = Path(project_root).resolve()
    run_dir, processed = root / params.run_dir, root / params.processed_dir
    stage_roots = roots(params, root, run_dir, processed)
    load_parsed(run_dir)
    out, rerun = [], set()
    with stage_graph.remembered_hashes():
        for current in stage_graph.STAGES:
            report = _missing_requirement(current, params, root) or _status_of(current, params, root, run_dir,
                                                                               stage_roots, rerun)
            if report.action == "would run":
                rerun.add(current.name)
            out.append(report)
    return out


def _status_of(current, params, root: Path, run_dir: Path, stage_roots: dict, rerun: set) -> StageReport:
    reason = rerun_reason(current, params, root, run_dir, stage_roots)
    upstream = [n for n in current.needs if n in rerun]
    if reason is None and upstream:
        reason = f"may change after {', '.join(upstream)} re-runs"
    return StageReport(current.name, "would run", reason) if reason else StageReport(current.name, "skipped",
                                                                                     "up to date")


def execute_graph(params, root: Path, selected: list[str], forced: set[str], staging_reports: Path,
                  staging_processed: Path, kernel_manager_class, progress: Callable[[str], None],
                  workers: int) -> list[StageReport]:
    """Decide and run stages as their upstream stages finish; independent stages run side by side.

    Every stage is decided against the staging folder, after the stages it needs have run there. The first
    failure stops the scheduling; the stages already running finish, then ``StageFailed`` is raised."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from . import stages as stage_graph
    from .kernels import HtmlExporter, execute_stage, kill_kernels
    from .staging import path_mapping

    injected = asdict(params) | {"run_dir": relative(staging_reports, root),
                                 "processed_dir": relative(staging_processed, root)}
    (staging_reports / "notebooks").mkdir(exist_ok=True)
    stage_roots = roots(params, root, staging_reports, staging_processed)
    load_parsed(staging_reports)
    exporter = HtmlExporter()
    published = path_mapping(root, {staging_reports: root / params.run_dir,
                                    staging_processed: root / params.processed_dir})
    reports: dict[str, StageReport] = {}
    failures: list[StageFailed] = []

    def execute(current, reason: str) -> StageReport:
        started = time.perf_counter()
        progress(f"[{current.name}] running notebooks/{current.notebook} ({reason})")
        timings = execute_stage(current.name, current.notebook, root, params.lang, injected,
                                staging_reports / "notebooks" / current.notebook, kernel_manager_class, exporter,
                                published, progress)
        write_cache(staging_reports, current, params, root, stage_roots)
        return StageReport(current.name, "ran", reason, round(time.perf_counter() - started, 2), timings)

    def decide(current) -> StageReport | str:
        """A report for a stage that does not run, else the reason it runs."""
        missing = _missing_requirement(current, params, root)
        if missing:
            return missing
        if current.name in forced:
            return "--force or --from"
        reason = rerun_reason(current, params, root, staging_reports, stage_roots)
        return reason if reason is not None else StageReport(current.name, "skipped", "up to date")

    pending = [s for s in stage_graph.STAGES if s.name in selected]
    priority = stage_graph.critical_path(previous_seconds(staging_reports))
    running = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        while (pending or running) and not failures:
            # Of the stages whose upstream stages are done, the one with the longest path to the end of the run
            # starts first, when a worker is free (the figures before the audit: the annex waits for them).
            ready = sorted((s for s in pending if not any(n in selected and n not in reports for n in s.needs)),
                           key=lambda s: -priority[s.name])
            for current in ready:
                if len(running) >= workers:
                    break
                pending.remove(current)
                decided = decide(current)
                if isinstance(decided, StageReport):
                    reports[current.name] = decided
                    progress(decided.line())
                else:
                    running[pool.submit(execute, current, decided)] = current
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
        kill_kernels(kernel_manager_class)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failures:
        raise failures[0]
    save_parsed(staging_reports, every_stage=set(selected) >= set(stage_graph.STAGE_NAMES))
    return [reports[s.name] for s in stage_graph.STAGES if s.name in reports]


def previous_seconds(run_dir: Path) -> dict[str, float]:
    """What each stage took in the run ``run_dir`` holds (its manifest), for the stages that ran then."""
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
        return {r["stage"]: float(r["seconds"]) for r in manifest.get("stage_reports", [])
                if r.get("action") == "ran" and r.get("seconds")}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def default_workers() -> int:
    """Stages run side by side: one more than the cores (a stage also waits on its kernel, on files and on the
    HTML export in this process), at most three (measured with ``make bench`` on 2 cores)."""
    return min(3, (os.cpu_count() or 1) + 1)
