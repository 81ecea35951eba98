"""Every input of a drop described by a schema (pydantic 2) and checked before anything is computed.

The models below describe ``drop.yaml``, ``lfm/project.yaml``, the rows of the LFM tables,
``microdata/sources.yaml``, every ficha (its ``calculo`` included: methods from the closed registry of
``evalpipe.methods``, columns of the declared source, filter operators and the type of every value) and
the finance catalogue ``finance/finance.yaml``. The loaders (``drop.load_drop``, ``lfm.load_logframe``,
``microdata.load_sources``, ``fichas.load_fichas``, ``finance.load_finance``) validate with these models,
so each rule is written once. A pydantic ``ValidationError`` never reaches the user: ``input_error``
turns its first error into one ``InputError`` naming the file, the key path (``calculo.filters[1].in``)
or row and column, what was expected and what was found.

``check_drop`` checks every input of a drop, in the order a person would fix them, and raises the
first ``InputError``; the clean notebook calls it before any figure is computed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError,
                      ValidationInfo, create_model, field_validator, model_validator)

from .column_types import COLUMN_TYPES
from .errors import InputError
from .operators import OPERATORS
from .quarters import Quarter, find_quarter
from .safeyaml import YamlDocument


# ------------------------------------------------------------------ errors

class Problem(ValueError):
    """A validator's complaint: what was expected, what was found, and a key below the one validated."""

    def __init__(self, expected: str, found: object = None, key: str = "") -> None:
        super().__init__(expected)
        self.expected, self.found, self.key = expected, found, key


_MISSING = object()
_TYPE_WORDS = {
    "string_type": "text", "list_type": "a list", "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values", "model_attributes_type": "a mapping of keys to values",
    "bool_type": "true or false", "bool_parsing": "true or false", "float_type": "a number",
    "float_parsing": "a number", "int_type": "a whole number", "int_parsing": "a whole number",
    "missing": None, "extra_forbidden": None, "too_short": "at least one entry",
}


def key_path(loc: tuple) -> str:
    """('calculo', 'filters', 1, 'in') -> 'calculo.filters[1].in'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: object) -> object:
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "..."
    if isinstance(value, (dict, list)):
        text = repr(value)
        return value if len(text) <= 80 else text[:77] + "..."
    return value


def input_error(exc: ValidationError, display: str, *, document: YamlDocument | None = None, prefix: tuple = (),
                row_offset: int | None = None) -> InputError:
    """The first error of a ValidationError as one located InputError.

    ``document`` gives the line of the key; ``prefix`` is put before the key path; with
    ``row_offset`` the first element of the path is a table row index (CSV: row = index + offset)
    and the second its column.
    """
    error = exc.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    kind = error["type"]
    original = (error.get("ctx") or {}).get("error")
    found: object = error.get("input", _MISSING)
    if isinstance(original, Problem):
        expected, found = original.expected, (original.found if original.found is not None else found)
        sub = original.key
    else:
        sub = ""
        if kind == "missing":
            expected, found = f"the key '{loc[-1]}'", "missing"
        elif kind == "extra_forbidden":
            expected, found = "only the keys this file type knows (a misspelt key?)", f"unknown key '{loc[-1]}'"
        elif kind == "literal_error":
            expected = "one of " + error["ctx"]["expected"]
        elif kind in _TYPE_WORDS and _TYPE_WORDS[kind]:
            expected = _TYPE_WORDS[kind]
        else:
            expected = error["msg"].removeprefix("Value error, ")
    if row_offset is not None:
        row, column = loc[0] + row_offset, (str(loc[1]) if len(loc) > 1 else None)
        return InputError(display, expected, row=row, column=column, found=_short(None if found is _MISSING else found))
    full = prefix + loc
    key = key_path(full) + sub
    line = document.line_of(full) if document is not None else None
    return InputError(display, expected, line=line, key=key or None,
                      found=_short(None if found is _MISSING else found))


def validate(model, data: Any, display: str, *, document: YamlDocument | None = None, context: dict | None = None,
             prefix: tuple = ()):
    """``model`` (a BaseModel class or a TypeAdapter) applied to ``data``; InputError on the first problem."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data, context=context)
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise input_error(exc, display, document=document, prefix=prefix) from None


# ------------------------------------------------------------------ value types

def _text(value: Any) -> Any:
    """Free text: a YAML scalar (a number or a date written bare is taken as its text)."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return value  # refused by the str type after this
    if isinstance(value, (int, float, dt.date)):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_text)]
_ID = re.compile(r"\d+(\.\d+)*")


def _identifier(value: Any) -> str:
    if not isinstance(value, str):
        raise Problem("an id written as text such as '1.2.3' (put it in quotes)", value)
    if not _ID.fullmatch(value.strip()):
        raise Problem("an id made of numbers separated by dots, such as 1.2.3", value)
    return value.strip()


Identifier = Annotated[Any, AfterValidator(_identifier)]


def _scalar(value: Any) -> Any:
    if isinstance(value, (list, dict)) or value is None:
        raise Problem("a single value (text, number, true/false)", value)
    return value


Scalar = Annotated[Any, AfterValidator(_scalar)]


def _real_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise Problem("a real calendar date written YYYY-MM-DD", value) from None
    raise Problem("a date written YYYY-MM-DD (e.g. 2021-02-15)", value)


def _iso_date(value: Any) -> str:
    return _real_date(value).isoformat()


IsoDate = Annotated[Any, AfterValidator(_iso_date)]


def _date_or_cutoff(value: Any) -> Any:
    if value == "cutoff":
        return value
    try:
        _real_date(value)
    except Problem:
        raise Problem("'cutoff' or a real calendar date written YYYY-MM-DD", value) from None
    return value


DateOrCutoff = Annotated[Any, AfterValidator(_date_or_cutoff)]


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Problem("a number", value)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise Problem("a number", value) from None
    return value


Number = Annotated[Any, AfterValidator(_number)]
_QUARTER_TEXT = re.compile(r"(?i)\s*((19|20)\d{2}\s*[-_ ]?\s*[QT][1-4]|[QT][1-4]\s*[-_ ]?\s*(19|20)\d{2})\s*")


def _quarter(value: Any) -> Quarter:
    if not isinstance(value, str) or not _QUARTER_TEXT.fullmatch(value):
        raise Problem("a quarter written like 2020Q2", value)
    return find_quarter(value)


QuarterText = Annotated[Any, AfterValidator(_quarter)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, arbitrary_types_allowed=True)


# ------------------------------------------------------------------ drop.yaml and lfm/project.yaml

class DropSpec(_Open):
    """drop.yaml. Other keys (author, publisher, license...) are metadata, kept as given."""

    drop_id: Text = Field(min_length=1)
    data_origin: Literal["synthetic", "real"]
    drop_date: IsoDate
    description: Text = ""

    @field_validator("description", mode="after")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class ProjectSpec(_Open):
    """lfm/project.yaml: the project's names and life (first and last quarter)."""

    name_es: Text
    name_en: Text | None = None
    symbol: Text = ""
    donor: Text = ""
    first_quarter: QuarterText
    last_quarter: QuarterText

    @model_validator(mode="after")
    def _life(self) -> "ProjectSpec":
        if self.last_quarter < self.first_quarter:
            raise Problem(f"a last_quarter not before the first_quarter ({self.first_quarter})",
                          str(self.last_quarter), key=".last_quarter")
        return self


# ------------------------------------------------------------------ microdata/sources.yaml

class ColumnSpec(_Strict):
    type: Literal[tuple(COLUMN_TYPES)]  # the registered column types (evalpipe.column_types)
    description: Text = ""


class SourceSpec(_Strict):
    file: Text = Field(min_length=1)
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    sheet: Text | None = None
    description: Text = ""
    suite: Text | None = None
    sensitive: bool = False
    # How a CSV file is written (detected when absent: UTF-8 with or without BOM, else Windows-1252; the
    # separator from the header line; a decimal comma when the separator is ';').
    encoding: Text | None = None
    delimiter: Text | None = None
    decimal: Text | None = None

    @field_validator("sensitive", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise Problem("true or false", value)
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise Problem("a text encoding such as utf-8, utf-8-sig or cp1252", value) from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        if value is None:
            return value
        named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
        value = named.get(value.lower(), value) if value.strip() else value
        if value not in (",", ";", "\t"):
            raise Problem("a CSV separator: ',', ';' or 'tab'", value)
        return value

    @field_validator("decimal")
    @classmethod
    def _decimal(cls, value: str | None) -> str | None:
        if value is not None and value not in (",", "."):
            raise Problem("a decimal mark: ',' or '.'", value)
        return value


SOURCES = TypeAdapter(dict[str, SourceSpec])


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


FICHA_TEXT_FIELDS = ("descripcion", "resultado", "proposito", "unidad_de_medida", "observaciones",
                     "nivel_de_desagregacion", "procedencia_de_los_datos", "periodo_de_referencia", "responsable")


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


# ------------------------------------------------------------------ finance/finance.yaml

class NarrativeSpec(_Strict):
    file: Text = Field(min_length=1)
    label: Text | None = None


class BudgetItemSpec(_Strict):
    name_en: Text
    name_es: Text | None = None
    parent: Text | None = None


class ReportLineSpec(_Strict):
    es: Text
    en: Text | None = None
    type: Text
    parent: Text | None = None
    note: Text | None = None


class LabelSpec(_Strict):
    es: Text
    en: Text


class FinanceSpec(_Open):
    """The finance catalogue: currency, budget narratives, reports folder, budget items, report lines."""

    currency: Annotated[Text, Field(pattern=r"^[A-Za-z]{3}$")]
    budget_narratives: dict[str, NarrativeSpec] = Field(min_length=1)
    financial_reports: Text = Field(min_length=1)
    budget_items: dict[str, BudgetItemSpec] = Field(min_length=1)
    report_lines: dict[str, ReportLineSpec]
    output_label: LabelSpec
    component_label: LabelSpec

    @field_validator("budget_items", mode="after")
    @classmethod
    def _one_tree(cls, items: dict[str, BudgetItemSpec]) -> dict[str, BudgetItemSpec]:
        roots = [code for code, spec in items.items() if not spec.parent]
        if len(roots) != 1:
            raise Problem("exactly one budget item without a parent (the total cost)", ", ".join(roots) or "none")
        for code, spec in items.items():
            if spec.parent and spec.parent not in items:
                raise Problem(f"a parent among the budget items ({', '.join(items)})", spec.parent,
                              key=f".{code}.parent")
        return items


# ------------------------------------------------------------------ LFM tables (CSV rows)

def _number_or_empty(value: Any) -> Any:
    if value == "":
        return value
    return _number(value)


def _required_number(value: Any) -> Any:
    if value == "":
        raise Problem("a number", value)
    return _number(value)


def _nonblank(value: Any) -> Any:
    if not str(value or "").strip():
        raise Problem("the sentence of the report that supports the judgement", "an empty cell")
    return value


def _yes_no(value: Any) -> Any:
    if value not in ("yes", "no"):
        raise Problem("'yes' or 'no'", value)
    return value


_ROW_ID = Annotated[str, AfterValidator(lambda v: _identifier(v) and v)]
_NUM = Annotated[str, AfterValidator(_required_number)]
_NUM_OR_EMPTY = Annotated[str, AfterValidator(_number_or_empty)]


class ComponentRow(_Open):
    component_id: _ROW_ID


class OutputRow(_Open):
    output_id: _ROW_ID
    component_id: _ROW_ID


class OutputIndicatorRow(_Open):
    indicator_id: _ROW_ID
    output_id: _ROW_ID
    baseline: _NUM
    target: _NUM


class OutcomeRow(_Open):
    outcome_id: _ROW_ID
    component_id: _ROW_ID


class OutcomeIndicatorRow(_Open):
    indicator_id: _ROW_ID
    outcome_id: _ROW_ID
    baseline: _NUM_OR_EMPTY
    target: _NUM_OR_EMPTY


class CovidRiskRow(_Open):
    output_id: _ROW_ID
    covid_risk: Annotated[str, AfterValidator(_yes_no)]
    # the sentence of the report the judgement rests on, and whether it supports it (issue 13)
    basis: Annotated[str, AfterValidator(lambda v: _nonblank(v))]
    supports: Annotated[str, AfterValidator(_yes_no)] | None = None


LFM_ROWS: dict[str, type[BaseModel]] = {
    "components": ComponentRow, "outputs": OutputRow, "output_indicators": OutputIndicatorRow,
    "outcomes": OutcomeRow, "outcome_indicators": OutcomeIndicatorRow, "covid_risk_outputs": CovidRiskRow,
}
LFM_ID_COLUMNS = ("component_id", "output_id", "indicator_id", "outcome_id")


def check_rows(name: str, records: list[dict], display: str) -> None:
    """Each row of an LFM table against its row model; InputError naming the row and column."""
    adapter = TypeAdapter(list[LFM_ROWS[name]])
    try:
        adapter.validate_python(records)
    except ValidationError as exc:
        raise input_error(exc, display, row_offset=2) from None


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
    from .finance import load_declaration
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
