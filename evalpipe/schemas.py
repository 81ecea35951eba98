"""Every input of a drop described by a schema (pydantic 2) and checked before anything is computed.

The schemas of ``drop.yaml``, ``lfm/project.yaml``, the rows of the LFM tables, ``microdata/sources.yaml``
and the finance catalogue ``finance/finance.yaml``, and the machinery they share (``validate``,
``input_error``), are in ``schema_base`` (re-exported here). This module adds the schema of every ficha
(its ``calculo`` included: methods from the closed registry of ``evalpipe.methods``, columns of the
declared source, filter operators and the type of every value). The loaders (``drop.load_drop``,
``lfm.load_logframe``, ``microdata.load_sources``, ``fichas.load_fichas``, ``finance_read.load_finance``)
validate with these models, so each rule is written once. A pydantic ``ValidationError`` never reaches the
user: ``input_error`` turns its first error into one ``InputError`` naming the file, the key path
(``calculo.filters[1].in``) or row and column, what was expected and what was found.

``check_drop`` checks every input of a drop, in the order a person would fix them, and raises the
first ``InputError``; the clean notebook calls it before any figure is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, create_model, field_validator, model_validator

from .errors import InputError
from .schema_base import (  # noqa: F401 (re-exported: the schemas of the drop's other declarations)
    LFM_ROWS, SOURCES, BudgetItemSpec, ColumnSpec, ComponentRow, CovidRiskRow, DateOrCutoff,
    DropSpec, FinanceSpec, Identifier, IsoDate, LabelSpec, NarrativeSpec, Number, OutcomeIndicatorRow, OutcomeRow,
    OutputIndicatorRow, OutputRow, Problem, ProjectSpec, QuarterText, ReportLineSpec, Scalar, SourceSpec, Text,
    _Open, _Strict, check_rows, input_error, key_path, validate)
from .operators import OPERATORS


# ------------------------------------------------------------------ fichas

def _context_columns(info: ValidationInfo) -> list[str] | None:
    return (info.context or {}).get("columns")


def _operator_field(name: str) -> str:
    """The model field of operator ``name`` (the ficha's key is the alias: ``in`` is a Python keyword)."""
    return f"op_{name}"


# The key each kind of operand accepts (evalpipe.operators.OPERAND_KINDS).
_OPERAND_FIELDS = {
    "values": lambda alias: (list[Scalar] | None, Field(None, alias=alias, min_length=1)),
    "true": lambda alias: (bool | None, Field(None, alias=alias)),
    "date": lambda alias: (DateOrCutoff | None, Field(None, alias=alias)),
    "number": lambda alias: (Number | None, Field(None, alias=alias)),
}
# One optional key per registered filter operator (evalpipe.operators), typed by its operand.
_ConditionOperators = create_model(
    "_ConditionOperators", __base__=_Strict,
    **{_operator_field(op.name): _OPERAND_FIELDS[op.operand](op.name) for op in OPERATORS.values()})
_TRUE_FIELDS = [_operator_field(op.name) for op in OPERATORS.values() if op.operand == "true"]


class Condition(_ConditionOperators):
    """One structured condition: a column of the source and exactly one operator of ``operators.OPERATORS``."""

    column: Text
    reason: Text | None = None

    @field_validator("column", mode="after")
    @classmethod
    def _known_column(cls, value: str, info: ValidationInfo) -> str:
        columns = _context_columns(info)
        if columns is not None and value not in columns:
            context = info.context or {}
            raise Problem(f"a column of source '{context.get('source')}' ({context.get('file')}): "
                          f"{', '.join(columns)}", value)
        return value

    @field_validator(*_TRUE_FIELDS, mode="before")
    @classmethod
    def _true(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not True:
            raise Problem(f"{info.field_name.removeprefix('op_')}: true", value)
        return value

    @model_validator(mode="after")
    def _one_operator(self) -> "Condition":
        given = [op for op in OPERATORS if getattr(self, _operator_field(op)) is not None]
        if len(given) != 1:
            raise Problem(f"exactly one of {', '.join(OPERATORS)} on '{self.column}'", ", ".join(given) or "none")
        return self


def _column_param(value: Any, info: ValidationInfo) -> Any:
    columns = _context_columns(info)
    if columns is not None and value not in columns:
        context = info.context or {}
        raise Problem(f"a column of '{context.get('source')}' ({context.get('file')}): {', '.join(columns)}", value)
    return value


COLUMN_PARAMS = ("pre_column", "post_column", "id_column", "question_column", "test_column", "correct_column",
                 "respondents_column", "weight_column", "group_column", "snapshot_column", "distinct", "breakdown",
                 "label_column")


class Calculation(_Strict):
    """A ficha's ``calculo``: a method of the closed registry and its parameters, nothing else."""

    method: Text
    source: Text | None = None
    filters: list[Condition] | None = None
    numerator_conditions: list[Condition] | None = None
    baseline_filters: list[Condition] | None = None
    baseline_zero_when: Condition | None = None
    pre_column: Text | None = None
    post_column: Text | None = None
    id_column: Text | None = None
    question_column: Text | None = None
    test_column: Text | None = None
    correct_column: Text | None = None
    respondents_column: Text | None = None
    weight_column: Text | None = None
    group_column: Text | None = None
    snapshot_column: Text | None = None
    distinct: Text | None = None
    breakdown: Text | None = None
    label_column: Text | None = None
    pre_label: Scalar | None = None
    post_label: Scalar | None = None
    baseline_snapshot: IsoDate | None = None
    current_may_follow_cutoff: bool | None = None
    output_indicator: Identifier | None = None
    add: Number | None = None
    add_baseline: bool | None = None
    add_reason: Text | None = None
    one_test_reason: Text | None = None
    reason: Text | None = None
    requires_output: Identifier | None = None
    # the report's sentence that declares the prerequisite: "§157 Outcome <id> (L<line>): «<quotation>»"
    requires_output_basis: Text | None = None
    # a ficha declared not measurable: the report's sentence that supports it, "§157 Outcome <id> (L<line>):
    # «<quotation>»", or "none: <why>" when no sentence does (the audit then says so)
    basis: Text | None = None
    period: Text | None = None
    nota: Text | None = None

    @field_validator("method", mode="after")
    @classmethod
    def _known_method(cls, value: str) -> str:
        from .methods import METHODS

        if value not in METHODS:
            raise Problem(f"a method among {', '.join(sorted(METHODS))}", value)
        return value

    @field_validator("source", mode="after")
    @classmethod
    def _known_source(cls, value: str, info: ValidationInfo) -> str:
        sources = (info.context or {}).get("sources")
        if sources is not None and value not in sources:
            raise Problem(f"a source among the sources of microdata/sources.yaml ({', '.join(sorted(sources))})",
                          value)
        return value

    _columns = field_validator(*COLUMN_PARAMS, mode="after")(_column_param)

    @field_validator("current_may_follow_cutoff", "add_baseline", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise Problem("true or false", value)
        return value

    @field_validator("filters", mode="after")
    @classmethod
    def _reasons(cls, value: list[Condition] | None) -> list[Condition] | None:
        for position, condition in enumerate(value or []):
            if not condition.reason:
                raise Problem(f"a 'reason' shown to reviewers for the filter on '{condition.column}'", "missing",
                              key=f"[{position}].reason")
        return value

    @field_validator("output_indicator", mode="after")
    @classmethod
    def _known_output_indicator(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("output_indicators")
        if known is not None and value not in known:
            raise Problem("an output indicator of lfm/output_indicators.csv", value)
        return value

    @field_validator("requires_output", mode="after")
    @classmethod
    def _known_output(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("outputs")
        if known is not None and value not in known:
            raise Problem("an output of lfm/outputs.csv", value)
        return value

    @field_validator("period", mode="after")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            value.format(cutoff="2020Q2")
        except (KeyError, IndexError, ValueError):
            raise Problem("a text whose only placeholder is {cutoff}", value) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _method_columns(cls, data: Any, info: ValidationInfo) -> Any:
        """The parameters a registered method declares as columns of its source beyond the keys above
        (``methods.method(columns=...)``): each must be text naming a column of the source; then the rest is
        validated as usual (a key no method declares is still refused)."""
        from .methods import REGISTRY

        if not isinstance(data, dict) or not isinstance(data.get("method"), str) or data["method"] not in REGISTRY:
            return data
        spec = REGISTRY[data["method"]]
        declared = [name for name in spec.columns if name not in cls.model_fields]
        for name in declared:
            if name not in data:
                if name in spec.required:
                    raise Problem(f"the key '{name}' (method '{spec.name}' needs {', '.join(spec.required)})",
                                  "missing", key=f".{name}")
                continue
            if not isinstance(data[name], str):
                raise Problem("text: the name of a column of the source", data[name], key=f".{name}")
            try:
                _column_param(data[name], info)
            except Problem as problem:
                raise Problem(problem.expected, problem.found, key=f".{name}") from None
        return {key: value for key, value in data.items() if key not in declared}

    @model_validator(mode="after")
    def _required(self) -> "Calculation":
        from .methods import REQUIRED_PARAMS

        if self.requires_output is not None and not (self.requires_output_basis or "").strip():
            raise Problem(f"the key 'requires_output_basis' beside requires_output {self.requires_output}: the "
                          "report's sentence that declares the prerequisite, \"§157 Outcome <id> (L<line>): "
                          "«<quotation>»\"", "missing", key=".requires_output_basis")

        missing = [p for p in REQUIRED_PARAMS[self.method] if p in type(self).model_fields and getattr(self, p) is None]
        if missing:
            raise Problem(f"the key '{missing[0]}' (method '{self.method}' needs "
                          f"{', '.join(REQUIRED_PARAMS[self.method])})", "missing", key=f".{missing[0]}")
        return self


class MethodText(_Open):
    """``metodo_de_calculo``: the method in words, as Annex 14 prints it."""

    numerador: Text
    denominador: Text
    reglas: list[Any]


def _texts(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value)):
        return value
    raise Problem("a list of document names (or one name)", value)


class FichaSpec(_Open):
    """One ficha técnica (Annex 14) with its machine-readable ``calculo``."""

    indicador: Identifier
    origen: Literal["annex_14", "reconstructed"]
    descripcion: Text
    resultado: Text
    proposito: Text
    unidad_de_medida: Text
    observaciones: Text
    nivel_de_desagregacion: Text
    procedencia_de_los_datos: Text
    periodo_de_referencia: Text
    responsable: Text
    metodo_de_calculo: MethodText
    documentos_utilizados: Annotated[Any, AfterValidator(_texts)]
    calculo: Calculation

    @field_validator("indicador", mode="after")
    @classmethod
    def _known_indicator(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("outcome_indicators")
        if known is not None and value not in known:
            raise Problem("an outcome indicator of lfm/outcome_indicators.csv", value)
        return value


def ficha_context(data: Any, sources: dict, lfm=None, outcome_indicators=None) -> dict:
    """What a ficha is checked against: the declared sources (and the columns of the one it names)
    and the LFM's ids."""
    context: dict[str, Any] = {"sources": sources}
    calculation = data.get("calculo") if isinstance(data, dict) else None
    key = calculation.get("source") if isinstance(calculation, dict) else None
    if isinstance(key, str) and key in sources:
        context.update(source=key, file=sources[key].file, columns=list(sources[key].column_names))
    if outcome_indicators is not None:
        context["outcome_indicators"] = set(outcome_indicators["indicator_id"])
    if lfm is not None:
        context["outputs"] = set(lfm.outputs["output_id"])
        context["output_indicators"] = set(lfm.output_indicators["indicator_id"])
    return context


# ------------------------------------------------------------------ the whole drop

@dataclass
class CheckedDrop:
    """What ``check_drop`` read: every declaration of the drop, checked, and the warnings it recorded."""

    drop: Any
    project: ProjectSpec
    lfm: Any
    sources: dict
    fichas: dict
    progress_reports: dict
    finance: FinanceSpec | None
    warnings: list[str] = field(default_factory=list)


def check_drop(raw_dir: Path, project_root: Path, allow_outside: bool = False) -> CheckedDrop:
    """Check every input of a drop against its schema, and that every file it names or holds lies
    inside the drop folder (after links) unless ``allow_outside``; raise the first InputError.

    Checked, in order: drop.yaml, lfm/project.yaml, the LFM tables, microdata/sources.yaml and the
    files it declares, every ficha (and its calculo), the progress_reports folder and its workbooks'
    names, and finance/finance.yaml with the files and folder it names. Workbook contents are read by
    the loaders (they have their own located messages).
    """
    from .drop import load_drop
    from .fichas import load_fichas
    from .finance_read import load_declaration
    from .lfm import load_logframe, load_project
    from .microdata import MICRODATA_DIR, SOURCES_FILE, load_sources
    from .paths import display_path, inside_drop
    from .progress import list_progress_reports

    raw_dir, project_root = Path(raw_dir), Path(project_root)
    drop = load_drop(raw_dir, project_root, allow_outside=allow_outside)
    project = load_project(raw_dir, project_root, allow_outside=allow_outside)
    lfm = load_logframe(raw_dir / "lfm", project_root, allow_outside=allow_outside)
    sources = load_sources(raw_dir, project_root, allow_outside=allow_outside)
    for key, source in sources.items():
        path = raw_dir / MICRODATA_DIR / source.file
        display = display_path(path, project_root)
        inside_drop(path, raw_dir, display, allow_outside=allow_outside)
        if not path.is_file():
            raise InputError(display, f"the file declared for source '{key}' in {MICRODATA_DIR}/{SOURCES_FILE}",
                             found="missing file")
    fichas = load_fichas(raw_dir, sources, lfm.outcome_indicators, project_root, lfm=lfm,
                         allow_outside=allow_outside)
    reports = list_progress_reports(raw_dir, project_root, allow_outside=allow_outside)
    declaration = None
    if (raw_dir / "finance").is_dir():
        declaration = load_declaration(raw_dir / "finance", project_root, raw_dir=raw_dir,
                                       allow_outside=allow_outside)
    return CheckedDrop(drop, project, lfm, sources, fichas, reports, declaration, list(lfm.warnings))
