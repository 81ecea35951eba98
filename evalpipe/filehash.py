"""SHA-256 of files, each file read once per process while it does not change (issue 14).

A run hashes the same files several times: the drop's inputs for ``reproducibility.json``, for each stage's
cache key and again for the manifest; each stage's outputs when it finishes and again for the manifest's
``outputs_sha256``. ``file_sha256`` remembers a file's hash with its identity and stat (device, inode, size,
modification and change times, in nanoseconds) and reads the file again as soon as any of them differs. A
hash is remembered only for a file whose times were already at least ``SETTLED_NS`` old when it was read and
which did not change during the read: a later write, even one of the same size, gives it newer times (file
systems keep them to the nanosecond on Linux, to 2 s on FAT), so a remembered hash is never stale.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

SETTLED_NS = 2_000_000_000
_MEMO: dict[str, tuple[tuple, str]] = {}
_LOCK = threading.Lock()


def _identity(stat: os.stat_result) -> tuple:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def file_sha256(path: Path | str) -> str:
    """The SHA-256 (hex) of the file's content."""
    name = os.path.abspath(path)
    before = os.stat(name)
    identity = _identity(before)
    with _LOCK:
        known = _MEMO.get(name)
    if known is not None and known[0] == identity:
        return known[1]
    started = time.time_ns()
    with open(name, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    settled = max(before.st_mtime_ns, before.st_ctime_ns) < started - SETTLED_NS
    if settled and _identity(os.stat(name)) == identity:
        with _LOCK:
            _MEMO[name] = (identity, digest)
    return digest


def forget() -> None:
    """Drop every remembered hash (tests)."""
    with _LOCK:
        _MEMO.clear()
