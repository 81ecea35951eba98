"""The data drop: what a raw folder declares about itself (data/raw/drop.yaml) and its file hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

DROP_FILE = "drop.yaml"
# Who holds, publishes and licenses what a run makes of the drop (the archive's RO-Crate says so).
# A drop.yaml that does not name them gets these.
DEFAULT_PUBLISHER = "ILO Evaluation Office (EVAL)"
DEFAULT_LICENSE = "CC-BY-4.0"
METADATA_KEYS = ("custodian", "custodian_url", "publisher", "publisher_url", "license")


def banner_text(data_origin: str, lang: str = "es") -> str:
    """The warning every output of a synthetic drop carries (catalog key ``banner.<origin>``); none for real data."""
    from . import i18n

    key = f"banner.{data_origin}"
    return i18n.t(key, lang) if data_origin != "real" and i18n.has(key, lang) else ""


@dataclass(frozen=True)
class DataDrop:
    drop_id: str
    data_origin: str
    drop_date: str
    description: str
    # The organisation (or person) that holds the raw data and handed the drop over: the author.
    custodian: str = ""
    custodian_url: str = ""
    # The organisation that publishes the evaluation's outputs (and runs the pipeline).
    publisher: str = DEFAULT_PUBLISHER
    publisher_url: str = ""
    # SPDX identifier of the licence of the run's outputs (tables, figures, annex), not of the raw data.
    license: str = DEFAULT_LICENSE

    @property
    def synthetic(self) -> bool:
        return self.data_origin == "synthetic"

    def banner(self, lang: str = "es") -> str:
        return banner_text(self.data_origin, lang)


def load_drop(raw_dir: Path, project_root: Path | None = None, *, allow_outside: bool = False) -> DataDrop:
    """drop.yaml, read safely and checked against ``schema_base.DropSpec`` (other keys are kept as metadata)."""
    from .paths import display_path, inside_drop
    from .safeyaml import read_yaml
    from .schema_base import DropSpec, validate

    path = Path(raw_dir) / DROP_FILE
    display = display_path(path, project_root) if project_root else f"{Path(raw_dir).name}/{DROP_FILE}"
    if not path.exists():
        raise InputError(display, "a drop.yaml that declares the data drop "
                         "(drop_id, data_origin, drop_date; see data/raw/README.md)", found="missing file")
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    document = read_yaml(path, display)
    spec = validate(DropSpec, document.data, display, document=document)
    content = document.data
    metadata = {}
    for key in METADATA_KEYS:
        value = content.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, int, float)) or not str(value).strip():
            raise InputError(display, f"'{key}' as one line of text", column=key, found=repr(value))
        metadata[key] = str(value).strip()
    custodian = metadata.pop("custodian", "") or f"Custodian of the data drop {spec.drop_id}"
    return DataDrop(spec.drop_id, spec.data_origin, spec.drop_date, spec.description, custodian=custodian,
                    **metadata)


def sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file (``filehash``: read once per process while it is unchanged)."""
    from .filehash import file_sha256

    return file_sha256(path)


def input_hashes(raw_dir: Path, project_root: Path) -> dict[str, str]:
    """SHA-256 of every file of the drop, keyed by its path relative to the project."""
    raw_dir = Path(raw_dir)
    out = {}
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file() and not p.name.startswith(("~$", "."))):
        try:
            key = str(path.resolve().relative_to(Path(project_root).resolve()))
        except ValueError:
            key = str(path.relative_to(raw_dir))
        out[key] = sha256_file(path)
    return out
