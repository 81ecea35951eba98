"""The logical framework (LFM) as data: components, outputs, outcomes and their indicators."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError

LFM_FILES: dict[str, list[str]] = {
    "components": ["component_id", "name_es", "name_en"],
    "outputs": ["output_id", "component_id", "name_es", "name_en", "added_in"],
    "output_indicators": ["indicator_id", "output_id", "name_es", "unit", "baseline", "target", "planned_start"],
    "outcomes": ["outcome_id", "component_id", "name_es", "name_en"],
    "outcome_indicators": ["indicator_id", "outcome_id", "name_es", "unit", "baseline", "target"],
    "covid_risk_outputs": ["output_id", "covid_risk", "basis", "source"],
}


def id_key(identifier: object) -> tuple:
    """Sort "2.10.1" after "2.9.1": logframe ids compare part by part, numbers as numbers (before any text part,
    so that mixed ids still compare)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in str(identifier).split("."))


@dataclass
class Logframe:
    """The LFM tables, read as text (ids stay strings: a code like "4.10" must not become the float 4.1)."""

    components: pd.DataFrame
    outputs: pd.DataFrame
    output_indicators: pd.DataFrame
    outcomes: pd.DataFrame
    outcome_indicators: pd.DataFrame
    covid_risk_outputs: pd.DataFrame
    warnings: list[str] = field(default_factory=list)  # what was accepted with a change (spaces, separator)

    @property
    def output_indicator_ids(self) -> list[str]:
        return self.output_indicators["indicator_id"].tolist()

    def names(self, table: str, lang: str = "es") -> dict[str, str]:
        """Code -> name of ``table`` ("components", "outputs", "outcomes", "output_indicators" or
        "outcome_indicators") in ``lang``: ``name_<lang>`` where the logframe has it, else ``name_es``."""
        frame = getattr(self, table)
        column = f"name_{lang}" if f"name_{lang}" in frame.columns else "name_es"
        return {code: (name or fallback) for code, name, fallback in
                zip(frame[frame.columns[0]], frame[column].fillna(""), frame["name_es"])}

    def output_risk(self) -> dict[str, bool]:
        """Covid-19 risk per output (the evaluators' judgement, §154/§155), as booleans."""
        flags = self.covid_risk_outputs.set_index("output_id")["covid_risk"]
        return {oid: flag == "yes" for oid, flag in flags.items()}


def _read_table(path: Path, required: list[str], display: str, warnings: list[str]) -> pd.DataFrame:
    """An LFM table as text. UTF-8 (with or without BOM); separated by ',' or, when the header leaves no
    doubt, by ';' (a Spanish-locale Excel export, decimal commas then accepted), with a warning."""
    if not path.exists():
        raise InputError(display, "the logframe table to exist (see data/raw/README.md)", found="missing file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(display, "a CSV file encoded in UTF-8 (save it as 'CSV UTF-8')", row=line,
                         found=f"undecodable byte 0x{raw[exc.start]:02x} at byte offset {exc.start}") from None
    header = text.splitlines()[0] if text else ""
    separator = ","
    by_comma = [c.strip() for c in header.split(",")]
    by_semicolon = [c.strip() for c in header.split(";")]
    if not all(c in by_comma for c in required) and all(c in by_semicolon for c in required):
        separator = ";"
        warnings.append(f"{display}: read with ';' as the separator (a Spanish-locale CSV export)")
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=separator)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(display, "a well-formed CSV table (one header row, one row per line)",
                         found=str(exc).strip().splitlines()[0] if str(exc).strip() else "no data") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(display, f"columns {', '.join(required)}", row=1, column=missing[0], found="missing column")
    for column in [c for c in table.columns if c.endswith("_id")]:
        for position, value in enumerate(table[column]):
            if value != value.strip():
                warnings.append(f"{display}, row {position + 2}, column '{column}': spaces around {value!r} removed")
        table[column] = table[column].str.strip()
    if separator == ";":
        for column in ("baseline", "target"):
            if column in table.columns:
                table[column] = [v.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", v.strip()) else v
                                 for v in table[column]]
    return table


def _to_number(table: pd.DataFrame, column: str) -> None:
    table[column] = pd.to_numeric(table[column].str.strip().replace("", None), errors="coerce")


def load_project(raw_dir: Path, project_root: Path | None = None, *, allow_outside: bool = False):
    """lfm/project.yaml, read safely and checked against ``schema_base.ProjectSpec`` (names, project life)."""
    from .paths import display_path, inside_drop
    from .safeyaml import read_yaml
    from .schema_base import ProjectSpec, validate

    path = Path(raw_dir) / "lfm" / "project.yaml"
    display = display_path(path, project_root) if project_root else "lfm/project.yaml"
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    if not path.exists():
        raise InputError(display, "a project.yaml with the project's names and life (first_quarter, last_quarter)",
                         found="missing file")
    document = read_yaml(path, display)
    return validate(ProjectSpec, document.data, display, document=document)


def load_logframe(lfm_dir: Path, display_root: Path | None = None, *, allow_outside: bool = False) -> Logframe:
    """Read every LFM table from ``lfm_dir`` (checked against ``schema_base.LFM_ROWS``); fail with file, row
    and column on a bad cell. Ids with spaces around them are trimmed, with a warning in ``warnings``."""
    from .paths import display_path, inside_drop
    from .schema_base import check_rows

    lfm_dir = Path(lfm_dir)
    tables, warnings = {}, []
    for name, required in LFM_FILES.items():
        path = lfm_dir / f"{name}.csv"
        display = display_path(path, display_root) if display_root else path.name
        inside_drop(path, lfm_dir.parent, display, allow_outside=allow_outside)
        table = _read_table(path, required, display, warnings)
        check_rows(name, table.to_dict("records"), display)
        if name in ("output_indicators", "outcome_indicators"):
            _to_number(table, "baseline")
            _to_number(table, "target")
        id_column = required[0]
        duplicated = table[id_column].duplicated()
        if duplicated.any():
            position = int(duplicated.to_numpy().nonzero()[0][0])
            raise InputError(display, f"each {id_column} once", row=position + 2, column=id_column,
                             found=table[id_column].iloc[position])
        tables[name] = table
    lfm = Logframe(**tables, warnings=warnings)
    known_outputs = set(lfm.outputs["output_id"])
    for name in ("output_indicators", "covid_risk_outputs"):
        for position, oid in enumerate(tables[name]["output_id"]):
            if oid not in known_outputs:
                raise InputError(f"{name}.csv", "an output_id listed in outputs.csv", row=position + 2,
                                 column="output_id", found=oid)
    return lfm
