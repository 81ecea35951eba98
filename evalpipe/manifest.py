"""The manifest of a run: what a reviewer or an archive needs to know (parameters, inputs, software, what
each stage did) and the SHA-256 of every file the run published, which ``verify_run`` checks again."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

KEY_PACKAGES = ("evalpipe", "pandas", "numpy", "great-expectations", "papermill", "nbconvert", "nbclient",
                "ipykernel", "openpyxl", "matplotlib", "seaborn", "click", "pyyaml")
# Not listed in outputs_sha256: the manifest itself (it holds the list).
MANIFEST_EXCLUDED = ("manifest.json",)


def relative(path: Path, root: Path) -> str:
    """``path`` relative to the project root (what the notebooks and messages show)."""
    return os.path.relpath(Path(path).resolve(), Path(root).resolve())


def package_versions() -> dict[str, str]:
    """The versions of Python and the key packages (read once per process: a run records them before its
    stages, in reproducibility.json, and after, in the manifest)."""
    return dict(_package_versions())


@functools.lru_cache(maxsize=1)
def _package_versions() -> tuple[tuple[str, str], ...]:
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        commit = out.stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("-dirty" if dirty else "") if commit else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_manifest(params, root: Path, drop, reports: list) -> dict:
    """What a reviewer or an archive needs to know about a run: parameters, inputs, software, and what each
    stage did (``reports``: the ``StageReport``s, with their timings)."""
    from . import stages as stage_graph
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
        "stages": [{"stage": s.name, "notebook": f"notebooks/{s.notebook}"} for s in stage_graph.STAGES],
        "stage_reports": [asdict(r) for r in reports],
    }


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path, without the stages' cache keys (``.cache/``)
    and the manifest."""
    from .filehash import file_sha256

    folder = Path(folder)
    if not folder.exists():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        relative_path = path.relative_to(folder)
        if not path.is_file() or relative_path.parts[0] == ".cache" or relative_path.as_posix() in MANIFEST_EXCLUDED:
            continue
        out[relative_path.as_posix()] = file_sha256(path)
    return out


def published_hashes(params, run_dir: Path, processed_dir: Path) -> dict[str, str]:
    """SHA-256 of every file a run publishes, keyed by its published path (``reports/<run>/...``,
    ``data/processed/<run>/...``); the manifest itself and the stages' cache keys are not listed."""
    out = {f"{params.run_dir}/{k}": v for k, v in tree_hashes(run_dir).items()}
    out |= {f"{params.processed_dir}/{k}": v for k, v in tree_hashes(processed_dir).items()}
    return dict(sorted(out.items()))


def read_published(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))


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
        raise InputError(relative(manifest_path, root), "the manifest of a published run (run pipeline.py run first)",
                         found="missing file")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    recorded = manifest.get("outputs_sha256")
    if recorded is None:
        raise InputError(relative(manifest_path, root), "an 'outputs_sha256' entry (published by an earlier "
                         "version of evalpipe: run pipeline.py run --force to publish it again)", found="none")
    parameters = manifest.get("parameters", {})
    run_rel = parameters.get("run_dir", relative(run_dir, root))
    processed_rel = parameters.get("processed_dir")
    current = {f"{run_rel}/{k}": v for k, v in tree_hashes(run_dir).items()}
    if processed_rel:
        current |= {f"{processed_rel}/{k}": v for k, v in tree_hashes(root / processed_rel).items()}
    changed = sorted(k for k in recorded if k in current and current[k] != recorded[k])
    missing = sorted(k for k in recorded if k not in current)
    added = sorted(k for k in current if k not in recorded)
    return Verification(len(recorded) - len(changed) - len(missing), changed, missing, added)
