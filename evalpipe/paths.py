"""Confinement: every file a drop names or a run opens must lie inside the drop folder.

The check is made after following symbolic links, so ``../../outside/x.csv``, an absolute path, or a
link (file or folder) that points out of the drop are all refused with the path named. The run's
``--allow-outside-paths`` flag (``allow_outside=True``) is the one way to lift it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError

ALLOW_HINT = "pass --allow-outside-paths to read it anyway"


def display_path(path: Path, project_root: Path | None) -> str:
    """How a path is named in messages: relative to the project when it lies inside it (without
    following links, so a link is named where it is), else as given."""
    path = Path(path)
    if project_root is not None:
        root = Path(os.path.abspath(project_root))
        try:
            return str(Path(os.path.abspath(path)).relative_to(root))
        except ValueError:
            pass
    return str(path)


def inside_drop(path: Path | str, raw_dir: Path, display: str | None = None, *, allow_outside: bool = False,
                what: str = "file") -> Path:
    """``path`` (relative to ``raw_dir`` if not absolute), resolved; InputError if it leaves the drop.

    ``display`` names the path in the message (default: the path as written).
    """
    raw_dir = Path(raw_dir)
    given = Path(path)
    candidate = given if given.is_absolute() else raw_dir / given
    if allow_outside:
        return candidate
    root = raw_dir.resolve()
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise InputError(display or str(given), f"a {what} that can be resolved inside the drop folder",
                         found="a symbolic link loop") from None
    try:
        resolved.relative_to(root)
    except ValueError:
        link = " (through a symbolic link)" if not _lexically_outside(candidate, raw_dir) else ""
        raise InputError(display or str(given), f"a {what} inside the drop folder {raw_dir}{link}; {ALLOW_HINT}",
                         found=str(resolved)) from None
    return candidate


def _lexically_outside(candidate: Path, raw_dir: Path) -> bool:
    """True when the path as written (links not followed) already leaves the drop."""
    try:
        Path(os.path.normpath(os.path.abspath(candidate))).relative_to(os.path.normpath(os.path.abspath(raw_dir)))
        return False
    except ValueError:
        return True
