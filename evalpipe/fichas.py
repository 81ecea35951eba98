"""Fichas técnicas as data: one YAML file per outcome indicator in ``fichas/``.

Each file holds every field of a ficha técnica (Annex 14) and a machine-readable ``calculo``: the
method (one of ``evalpipe.methods.METHODS``), its source and its rules. Baseline and target come from
the logframe (``lfm/outcome_indicators.csv``), so they have one home only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import PipelineError
from .methods import FILTER_OPERATORS, METHODS, REQUIRED_PARAMS
from .microdata import Source

FICHAS_DIR = "fichas"
TEXT_FIELDS = ("descripcion", "resultado", "proposito", "unidad_de_medida", "observaciones",
               "nivel_de_desagregacion", "procedencia_de_los_datos", "periodo_de_referencia", "responsable")
REQUIRED_FIELDS = ("indicador", "origen", *TEXT_FIELDS, "metodo_de_calculo", "documentos_utilizados", "calculo")
ORIGINS = ("annex_14", "reconstructed")
# Parameters of a calculation that name a column of its source.
COLUMN_PARAMS = ("pre_column", "post_column", "id_column", "question_column", "test_column", "correct_column",
                 "respondents_column", "weight_column", "group_column", "snapshot_column", "distinct", "breakdown",
                 "label_column")


class FichaError(PipelineError):
    """A ficha that cannot be used as written; the message names the ficha, the file and what was expected."""


@dataclass
class Ficha:
    indicator_id: str
    path: str
    fields: dict
    calculation: dict
    baseline: float | None = None
    target: float | None = None
    baseline_raw: str = ""

    @property
    def method(self) -> str:
        return self.calculation["method"]

    @property
    def origin(self) -> str:
        return self.fields["origen"]

    @property
    def source_key(self) -> str | None:
        return self.calculation.get("source")

    def reference_period(self, cutoff: str) -> str:
        """The period the value refers to, which follows the run's cut-off (not a fixed date)."""
        template = self.calculation.get("period", "hasta el corte ({cutoff})")
        return template.format(cutoff=cutoff)


def _fail(path: str, expected: str, found: object = None) -> None:
    text = f"ficha {path}: expected {expected}"
    if found is not None:
        text += f"; found {found!r}"
    raise FichaError(text)


def _check_conditions(path: str, where: str, conditions: object, columns: list[str], source: Source) -> None:
    if not isinstance(conditions, list):
        _fail(path, f"{where} as a list of conditions", conditions)
    for condition in conditions:
        if not isinstance(condition, dict) or condition.get("column") not in columns:
            _fail(path, f"{where}: a column of source '{source.key}' ({source.file}): {', '.join(columns)}",
                  condition.get("column") if isinstance(condition, dict) else condition)
        operators = [op for op in FILTER_OPERATORS if op in condition]
        if len(operators) != 1:
            _fail(path, f"{where} on '{condition['column']}': exactly one of {', '.join(FILTER_OPERATORS)}",
                  sorted(condition))


def check_calculation(path: str, calculation: dict, sources: dict[str, Source]) -> None:
    """Everything a calculation names must exist: the method, its parameters, the source, the columns."""
    method = calculation.get("method")
    if method not in METHODS:
        _fail(path, f"calculo.method among {', '.join(sorted(METHODS))}", method)
    missing = [p for p in REQUIRED_PARAMS[method] if p not in calculation]
    if missing:
        _fail(path, f"calculo.{missing[0]} (method '{method}' needs {', '.join(REQUIRED_PARAMS[method])})",
              "missing")
    key = calculation.get("source")
    if key is None:
        return
    if key not in sources:
        _fail(path, f"calculo.source among the sources of microdata/sources.yaml ({', '.join(sorted(sources))})", key)
    source = sources[key]
    columns = source.column_names
    for name in COLUMN_PARAMS:
        if name in calculation and calculation[name] not in columns:
            _fail(path, f"calculo.{name}: a column of '{key}' ({source.file}): {', '.join(columns)}", calculation[name])
    for name in ("filters", "numerator_conditions", "baseline_filters"):
        if name in calculation:
            _check_conditions(path, f"calculo.{name}", calculation[name], columns, source)
            if name == "filters":
                for condition in calculation[name]:
                    if not condition.get("reason"):
                        _fail(path, f"calculo.filters on '{condition['column']}': a 'reason' shown to reviewers",
                              "missing")
    if "baseline_zero_when" in calculation:
        _check_conditions(path, "calculo.baseline_zero_when", [calculation["baseline_zero_when"]], columns, source)


def load_fichas(raw_dir: Path, sources: dict[str, Source], outcome_indicators, display_root: Path | None = None
                ) -> dict[str, Ficha]:
    """Read and check every ficha; each LFM outcome indicator must have exactly one."""
    folder = Path(raw_dir) / FICHAS_DIR
    fichas: dict[str, Ficha] = {}
    lfm = outcome_indicators.set_index("indicator_id")
    for file in sorted(folder.glob("*.yaml")):
        try:
            path = str(file.resolve().relative_to(Path(display_root).resolve())) if display_root else file.name
        except ValueError:
            path = f"{FICHAS_DIR}/{file.name}"
        try:
            content = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            _fail(path, "valid YAML", str(exc).splitlines()[0])
        if not isinstance(content, dict):
            _fail(path, "a mapping of ficha fields", type(content).__name__)
        for name in REQUIRED_FIELDS:
            if name not in content:
                _fail(path, f"the field '{name}'", "missing")
        indicator = str(content["indicador"])
        if content["origen"] not in ORIGINS:
            _fail(path, f"origen among {', '.join(ORIGINS)}", content["origen"])
        method = content["metodo_de_calculo"]
        if not isinstance(method, dict) or not {"numerador", "denominador", "reglas"} <= set(method):
            _fail(path, "metodo_de_calculo with numerador, denominador and reglas", method)
        if indicator not in lfm.index:
            _fail(path, "an outcome indicator of lfm/outcome_indicators.csv", indicator)
        if indicator in fichas:
            _fail(path, f"one ficha per indicator ({indicator} is also in {fichas[indicator].path})", indicator)
        check_calculation(path, content["calculo"] or {}, sources)
        row = lfm.loc[indicator]
        fichas[indicator] = Ficha(indicator, path, content, content["calculo"],
                                  None if row["baseline"] != row["baseline"] else float(row["baseline"]),
                                  None if row["target"] != row["target"] else float(row["target"]),
                                  row.get("baseline_raw", ""))
    missing = [i for i in lfm.index if i not in fichas]
    if missing:
        raise FichaError(f"{FICHAS_DIR}/: expected a ficha for every outcome indicator of the LFM; "
                         f"missing {', '.join(missing)}")
    return dict(sorted(fichas.items(), key=lambda item: [int(p) for p in item[0].split(".")]))


CONDITION_PARAMS = ("filters", "numerator_conditions", "baseline_filters")


def columns_used(calculation: dict) -> set[str]:
    """The columns of its source a ``calculo`` names (parameters and conditions)."""
    used = {calculation[name] for name in COLUMN_PARAMS if isinstance(calculation.get(name), str)}
    conditions = [c for name in CONDITION_PARAMS if isinstance(calculation.get(name), list) for c in calculation[name]]
    if isinstance(calculation.get("baseline_zero_when"), dict):
        conditions.append(calculation["baseline_zero_when"])
    used |= {c["column"] for c in conditions if isinstance(c, dict) and isinstance(c.get("column"), str)}
    return used


def columns_used_by_fichas(raw_dir: Path) -> dict[str, set[str]]:
    """For each microdata source, the columns some ficha's ``calculo`` names (the cleaning stage keeps
    declared free-text columns only when a ficha uses them). A ficha that cannot be read is skipped here:
    the outcome stage reports it."""
    used: dict[str, set[str]] = {}
    for file in sorted((Path(raw_dir) / FICHAS_DIR).glob("*.yaml")):
        try:
            content = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
            continue
        calculation = content.get("calculo") if isinstance(content, dict) else None
        if isinstance(calculation, dict) and isinstance(calculation.get("source"), str):
            used.setdefault(calculation["source"], set()).update(columns_used(calculation))
    return used
