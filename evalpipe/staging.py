"""The staging folders a run builds in, and where a failed run's partial work is kept.

A run starts ``reports/.staging/<run>/`` and ``data/processed/.staging/<run>/`` from the published run (so a
skipped stage keeps its outputs), executes its stages there, and ``publish.publish`` swaps them into place.
A failed run's folders move to ``_failed/<run>/``, with the paths its notebooks print rewritten to match.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from .manifest import relative


def copy_previous(final: Path, staging: Path, reuse: bool) -> None:
    """Start the staging folder from the last published run, so that skipped stages keep their outputs.

    A copy, not hard links: stages write their files in place (pandas, openpyxl), and a failed run must leave
    the published files as they were."""
    if staging.exists():
        shutil.rmtree(staging)
    if reuse and final.exists():
        shutil.copytree(final, staging, symlinks=False)
    else:
        staging.mkdir(parents=True)


def discard(*staging: Path) -> None:
    for folder in staging:
        shutil.rmtree(folder, ignore_errors=True)
    remove_empty_parents(*staging)


def remove_empty_parents(*staging: Path) -> None:
    """The ``.staging/`` folders are left only while a run is building."""
    for folder in staging:
        with contextlib.suppress(OSError):
            Path(folder).parent.rmdir()


def failed_folder(staging: Path) -> Path:
    """``reports/.staging/<run>`` -> ``reports/_failed/<run>`` (likewise under data/processed/)."""
    return Path(staging).parent.parent / "_failed" / Path(staging).name


def keep_failed(root: Path, staging_reports: Path, staging_processed: Path) -> Path:
    """Move a failed run's staging folders to ``_failed/<run>/`` (replacing an older failure) and rewrite the
    paths its notebooks and their HTML print. Returns the kept reports folder."""
    failed, failed_processed = failed_folder(staging_reports), failed_folder(staging_processed)
    for source, target in ((staging_reports, failed), (staging_processed, failed_processed)):
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.exists():
            os.replace(source, target)
    remove_empty_parents(staging_reports, staging_processed)
    moved = path_mapping(root, {staging_reports: failed, staging_processed: failed_processed})
    for kept in sorted((failed / "notebooks").glob("*.*")):
        if kept.suffix in (".ipynb", ".html"):
            replace_paths(kept, moved)
    return failed


def remove_failed(final_reports: Path, final_processed: Path, label: str) -> None:
    """A successful run removes what the last failed run of the same folder kept."""
    for failed in (final_reports.parent / "_failed" / label, final_processed.parent / "_failed" / label):
        if failed.exists():
            shutil.rmtree(failed, ignore_errors=True)


def path_mapping(root: Path, moves: dict[Path, Path]) -> list[tuple[str, str]]:
    """(old, new) text pairs for each moved folder, relative to the project and absolute."""
    pairs = []
    for old, new in moves.items():
        pairs.append((str(Path(old).resolve()), str(Path(new).resolve())))
        pairs.append((relative(old, root), relative(new, root)))
    return pairs


def replace_paths(path: Path, pairs: list[tuple[str, str]]) -> None:
    """Rewrite folder paths in an executed notebook (or its HTML): what it says is where the files are."""
    text = Path(path).read_text(encoding="utf-8")
    changed = text
    for old, new in pairs:
        changed = changed.replace(old, new)
    if changed != text:
        Path(path).write_text(changed, encoding="utf-8")


@contextlib.contextmanager
def working_directory(path: Path):
    """Papermill and the kernels see paths relative to the project root (no user names in outputs)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)
