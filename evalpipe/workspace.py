"""Where a stage notebook reads and writes, whoever runs it.

``pipeline.py`` injects the folders of the run it is building (``reports/.staging/<run>/``); that is the
only way anything reaches a published run folder. A notebook opened by hand (JupyterLab, ``jupyter nbconvert
--execute``, the papermill CLI), from any working directory, finds the project root itself, reads the drop
named by its parameters and writes to a scratch run folder, ``reports/_scratch/<run>/`` (processed data in
``data/processed/_scratch/<run>/``), started from a copy of the published run when there is one so that a
later stage has its inputs. A by-hand run that names a published folder is refused.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import ParameterError

SCRATCH = "_scratch"
STAGING = ".staging"
MARKERS = ("pipeline.py", "notebooks", "data")


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder, from ``start`` (the working directory) upwards, that holds ``pipeline.py``,
    ``notebooks/`` and ``data/``; else the folder the package was installed from."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / marker).exists() for marker in MARKERS):
            return folder
    package_parent = Path(__file__).resolve().parents[1]
    if all((package_parent / marker).exists() for marker in MARKERS):
        return package_parent
    raise ParameterError(f"no project folder (one with {', '.join(MARKERS)}) at or above {here}: "
                         "open the notebook from inside the project")


@dataclass(frozen=True)
class StagePaths:
    """The folders a stage uses, relative to the project root (the notebook's working directory)."""

    root: Path
    raw_dir: str
    processed_dir: str
    run_dir: str
    by_hand: bool
    seeded_from: str | None = None

    def describe(self, lang: str = "en") -> str:
        """Who runs the notebook and where it writes, in ``lang`` (catalog ``notebook.paths.*``)."""
        from . import i18n

        if not self.by_hand:
            return i18n.t("notebook.paths.pipeline", lang)
        start = (i18n.t("notebook.paths.seeded", lang, run=f"{self.seeded_from}/") if self.seeded_from
                 else i18n.t("notebook.paths.no_seed", lang))
        return i18n.t("notebook.paths.by_hand", lang, run_dir=f"{self.run_dir}/", processed_dir=f"{self.processed_dir}/",
                      start=start)


def _label(evaluation: str, cutoff: str, lang: str) -> str:
    return f"{evaluation}-{cutoff}" + ("" if lang == "es" else f"-{lang}")


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _check_writable_by_hand(root: Path, name: str, value: str) -> None:
    """By hand, a notebook may write to scratch folders or outside the published areas, never into them."""
    target = (root / value).resolve()
    for area in (root / "reports", root / "data" / "processed"):
        if _is_inside(target, area.resolve()) and not (
                _is_inside(target, (area / SCRATCH).resolve()) or _is_inside(target, (area / STAGING).resolve())):
            raise ParameterError(
                f"{name}={value!r} is a published folder: a notebook run by hand writes to "
                f"{area.relative_to(root).as_posix()}/{SCRATCH}/ (leave {name} unset); only pipeline.py publishes")


def locate(evaluation: str, cutoff: str, lang: str, raw_dir: str, processed_dir: str | None,
           run_dir: str | None, chdir: bool = True) -> StagePaths:
    """Find the project, make it the working directory, and say where this stage reads and writes."""
    root = find_project_root()
    if chdir:
        os.chdir(root)
    staging_run = run_dir is not None and Path(run_dir).parts[:2] == ("reports", STAGING)
    if staging_run:
        return StagePaths(root, raw_dir, str(processed_dir), str(run_dir), by_hand=False)
    label = _label(evaluation, cutoff, lang)
    published = root / "reports" / label
    seeded = f"reports/{label}" if (published / "manifest.json").exists() else None
    if run_dir is None:
        run_dir = f"reports/{SCRATCH}/{label}"
        _seed(published, root / run_dir)
    if processed_dir is None:
        processed_dir = f"data/processed/{SCRATCH}/{label}"
        _seed(root / "data" / "processed" / label, root / processed_dir)
    _check_writable_by_hand(root, "run_dir", run_dir)
    _check_writable_by_hand(root, "processed_dir", processed_dir)
    return StagePaths(root, raw_dir, processed_dir, run_dir, by_hand=True, seeded_from=seeded)


def _seed(published: Path, scratch: Path) -> None:
    """A new scratch folder starts as a copy of the published run (read only), so later stages find
    their inputs; without a published run it starts empty."""
    if scratch.exists():
        return
    scratch.parent.mkdir(parents=True, exist_ok=True)
    if published.is_dir():
        shutil.copytree(published, scratch, ignore=shutil.ignore_patterns(".cache", "manifest.json"))
    else:
        scratch.mkdir()
