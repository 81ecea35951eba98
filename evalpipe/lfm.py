"""The logical framework (LFM) as data: components, outputs, outcomes and their indicators."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class Logframe:
    """The LFM tables, read as text (ids stay strings: a code like "4.10" must not become the float 4.1)."""

    components: pd.DataFrame
    outputs: pd.DataFrame
    output_indicators: pd.DataFrame
    outcomes: pd.DataFrame
    outcome_indicators: pd.DataFrame
    covid_risk_outputs: pd.DataFrame

    @property
    def output_indicator_ids(self) -> list[str]:
        return self.output_indicators["indicator_id"].tolist()

    def output_risk(self) -> dict[str, bool]:
        """Covid-19 risk per output (the evaluators' judgement, §154/§155), as booleans."""
        flags = self.covid_risk_outputs.set_index("output_id")["covid_risk"]
        return {oid: flag == "yes" for oid, flag in flags.items()}


def _read_table(path: Path, required: list[str], display: str) -> pd.DataFrame:
    if not path.exists():
        raise InputError(display, "the logframe table to exist (see data/raw/README.md)", found="missing file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(display, "a CSV file encoded in UTF-8", found=f"undecodable byte at position {exc.start}") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(display, f"columns {', '.join(required)}", row=1, column=missing[0], found="missing column")
    return table


def _to_number(table: pd.DataFrame, column: str, display: str, allow_empty: bool) -> None:
    for position, raw in enumerate(table[column]):
        if raw == "" and allow_empty:
            continue
        try:
            float(raw)
        except ValueError:
            raise InputError(display, "a number", row=position + 2, column=column, found=raw) from None
    table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")


def load_logframe(lfm_dir: Path, display_root: Path | None = None) -> Logframe:
    """Read every LFM table from ``lfm_dir``; fail with file, row and column on a bad cell."""
    tables = {}
    for name, required in LFM_FILES.items():
        path = Path(lfm_dir) / f"{name}.csv"
        display = str(path.relative_to(display_root)) if display_root else path.name
        table = _read_table(path, required, display)
        if name == "output_indicators":
            _to_number(table, "baseline", display, allow_empty=False)
            _to_number(table, "target", display, allow_empty=False)
        if name == "outcome_indicators":
            _to_number(table, "baseline", display, allow_empty=True)
            _to_number(table, "target", display, allow_empty=True)
        if name == "covid_risk_outputs":
            for position, flag in enumerate(table["covid_risk"]):
                if flag not in ("yes", "no"):
                    raise InputError(display, "'yes' or 'no'", row=position + 2, column="covid_risk", found=flag)
        id_column = required[0]
        duplicated = table[id_column].duplicated()
        if duplicated.any():
            position = int(duplicated.to_numpy().nonzero()[0][0])
            raise InputError(display, f"each {id_column} once", row=position + 2, column=id_column,
                             found=table[id_column].iloc[position])
        tables[name] = table
    lfm = Logframe(**tables)
    known_outputs = set(lfm.outputs["output_id"])
    for name in ("output_indicators", "covid_risk_outputs"):
        for position, oid in enumerate(tables[name]["output_id"]):
            if oid not in known_outputs:
                raise InputError(f"{name}.csv", "an output_id listed in outputs.csv", row=position + 2,
                                 column="output_id", found=oid)
    return lfm
