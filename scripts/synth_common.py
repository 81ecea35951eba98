"""Shared by the synthetic-data generators: workbooks saved byte for byte the same on every run."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

FIXED_TIME = dt.datetime(2021, 2, 15, 12, 0, 0)


def save_workbook(workbook, path: Path) -> Path:
    """Save an openpyxl workbook with fixed document dates and fixed zip-entry timestamps."""
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the clock on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.strftime(
                    "%Y-%m-%dT%H:%M:%SZ").encode(), data)
            target.writestr(entry, data)
    Path(path).write_bytes(out.getvalue())
    return Path(path)
