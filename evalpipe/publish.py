"""Publishing a run: one run at a time per folder, and the reports and processed data replaced together.

A run builds in staging folders. Publication moves the two published folders aside (``.<run>.previous``),
moves the two staging folders into place, and only then removes the journal that says a publication is under
way: that removal is the commit. A command that finds a journal (a run killed or failed half-way) puts the
previous folders back; one that finds a ``.previous`` without a journal removes it. Either both folders are
the new run or both are the last good one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import PipelineError


class RunLocked(PipelineError):
    pass


class FolderError(PipelineError):
    """The operating system refused an operation on a folder of the run (permissions, full disk, ...)."""


def os_error_message(exc: OSError, action: str, root: Path | None = None) -> str:
    """One sentence for an operating-system error: the path, what failed, and what to do."""
    path = exc.filename or "?"
    if root is not None:
        with contextlib.suppress(ValueError, TypeError):
            path = os.path.relpath(Path(path).resolve(), Path(root).resolve())
    advice = {
        errno.EACCES: "make it writable (e.g. chmod -R u+w) or run as its owner",
        errno.EPERM: "make it writable, or remove its immutable flag",
        errno.EROFS: "the file system is read-only: use a writable copy of the project",
        errno.ENOSPC: "the disk is full: free some space",
        errno.EDQUOT: "the disk quota is exceeded: free some space",
        errno.ENAMETOOLONG: "the path is too long: move the project to a shorter path",
        errno.EBUSY: "another program holds it open: close it (e.g. the file open in Excel) and run again",
        errno.ETXTBSY: "another program holds it open: close it and run again",
    }.get(exc.errno, "check the folder and run again")
    return f"cannot {action} {path}: {exc.strerror or exc}; {advice}"


def probe_writable(folder: Path, root: Path | None = None) -> None:
    """Create and remove a file in ``folder`` (creating the folder if needed): a real write, which also
    catches read-only mounts, immutable folders and full disks that permission bits do not show."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".evalpipe-probe-", dir=folder)
        os.close(handle)
        os.unlink(name)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(folder)
        raise FolderError(os_error_message(exc, "write in", root)) from None


def _removable(folder: Path, root: Path | None) -> None:
    """A published folder a new run will replace must be one whose files can be removed."""
    for current, dirs, _files in os.walk(folder):
        for name in (current, *(os.path.join(current, d) for d in dirs)):
            if not os.access(name, os.W_OK | os.X_OK):
                error = PermissionError(errno.EACCES, "read-only folder", name)
                raise FolderError(os_error_message(error, "replace", root))


def check_writable(root: Path, *published: Path) -> None:
    """Before any stage runs: every folder a run writes or replaces can be written."""
    for folder in published:
        probe_writable(Path(folder).parent, root)
        if Path(folder).exists():
            probe_writable(folder, root)
            _removable(folder, root)


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
                raise RunLocked(f"another run is writing {self.path.parent.name}/{self.path.stem.lstrip('.')} "
                                f"(lock {self.path.name}, pid {self.owner() or '?'}); "
                                "wait for it to finish") from None
            except OSError as exc:
                raise FolderError(os_error_message(exc, "take the run lock", None)) from None
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            return self
        raise RunLocked(f"could not take the lock {self.path}")

    def owner(self) -> str:
        with contextlib.suppress(OSError):
            return self.path.read_text().strip()
        return ""

    def clear_stale(self) -> None:
        """Remove the lock of a run that died (e.g. killed) without releasing it."""
        if self.path.exists() and self._stale():
            self.path.unlink(missing_ok=True)

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


def _previous(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.previous")


def _journal(reports_final: Path) -> Path:
    return reports_final.with_name(f".{reports_final.name}.publishing")


def recover(reports_final: Path, processed_final: Path) -> list[str]:
    """Finish or undo a publication that was interrupted; returns what was done, in words."""
    done = []
    journal = _journal(reports_final)
    if journal.exists():  # not committed: the last good run comes back
        for final in (reports_final, processed_final):
            previous = _previous(final)
            if previous.exists():
                if final.exists():
                    shutil.rmtree(final)
                os.replace(previous, final)
                done.append(f"restored {final.name} from an interrupted publication")
        journal.unlink()
    for final in (reports_final, processed_final):
        previous = _previous(final)
        if previous.exists():
            if final.exists():
                shutil.rmtree(previous, ignore_errors=True)
            else:
                os.replace(previous, final)
                done.append(f"restored {final.name} from an interrupted publication")
    return done


def publish(pairs: list[tuple[Path, Path]], journal_for: Path, root: Path | None = None) -> list[str]:
    """Move each staging folder onto its published place, all or none. Returns warnings (a previous folder
    that could not be removed after the commit is left for the next command)."""
    journal = _journal(journal_for)
    moved: list[tuple[Path, Path]] = []  # (final, previous) moved aside
    placed: list[Path] = []
    try:
        journal.write_text(json.dumps({"folders": [str(final) for _, final in pairs]}), encoding="utf-8")
        for _staging, final in pairs:
            final.parent.mkdir(parents=True, exist_ok=True)
            previous = _previous(final)
            if previous.exists():
                shutil.rmtree(previous)
            if final.exists():
                os.replace(final, previous)
                moved.append((final, previous))
        for staging, final in pairs:
            os.replace(staging, final)
            placed.append(final)
        journal.unlink()  # the commit
    except OSError as exc:
        for final in placed:  # undo: the new folders go back to staging, the previous ones come back
            staging = dict((f, s) for s, f in pairs)[final]
            with contextlib.suppress(OSError):
                os.replace(final, staging)
        for final, previous in moved:
            with contextlib.suppress(OSError):
                os.replace(previous, final)
        with contextlib.suppress(OSError):
            journal.unlink()
        raise FolderError(os_error_message(exc, "publish", root) + "; nothing was published") from None
    warnings = []
    for _final, previous in moved:
        try:
            shutil.rmtree(previous)
        except OSError as exc:
            warnings.append(os_error_message(exc, "remove the previous run", root)
                            + " (it is removed by the next command)")
    return warnings
