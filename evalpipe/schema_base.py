"""The schema machinery (pydantic 2) and the schemas of the drop's small declarations.

``drop.yaml``, ``lfm/project.yaml``, the rows of the LFM tables, ``microdata/sources.yaml`` and
``finance/finance.yaml``, with the value types they share and ``input_error``, which turns a pydantic
``ValidationError`` into one ``InputError`` naming the file, the key path (``calculo.filters[1].in``) or row
and column, what was expected and what was found. The ficha's schema and ``check_drop`` (the whole drop)
are in ``schemas``, which builds on this module.

Kept apart so that reading ``drop.yaml`` or the logframe (every stage does) does not make a stage depend,
for the cache (``stages.module_closure``), on the fichas' schema and the method registry it checks
against.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError,
                      field_validator, model_validator)

from .column_types import COLUMN_TYPES
from .errors import InputError
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


def check_rows(name: str, records: list[dict], display: str) -> None:
    """Each row of an LFM table against its row model; InputError naming the row and column."""
    adapter = TypeAdapter(list[LFM_ROWS[name]])
    try:
        adapter.validate_python(records)
    except ValidationError as exc:
        raise input_error(exc, display, row_offset=2) from None


