"""The closed set of calculation methods of the fichas técnicas, registered by name.

A ficha names a method and gives it structured parameters (source, filters, columns); nothing in a
ficha is ever evaluated as code. Every method returns the value with its numerator, denominator,
the rows used and, for each rule that left rows out, how many and why.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable

import pandas as pd

from .operators import OPERATORS
from .quarters import Quarter


def _reason(key: str, **fields) -> str:
    """A reason or note the package writes into the outcome tables (catalog key ``reason.<key>``), in
    Spanish as the tables hold it; ``evalpipe.outcomes.reason_text`` shows it in another language."""
    from . import i18n

    return i18n.t(f"reason.{key}", "es", **fields)


class SpecError(ValueError):
    """A ficha whose calculation cannot be run as written (unknown method, source or column)."""


@dataclass
class Exclusion:
    reason: str
    n: int


@dataclass
class Result:
    """What a calculation gives. ``value`` is None when the indicator cannot be measured."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n_used: int = 0
    exclusions: list[Exclusion] = field(default_factory=list)
    reason: str = ""  # why there is no value, or a note on how it was obtained
    detail: pd.DataFrame | None = None  # an aggregated table a reviewer can read (never row-level)

    @property
    def n_excluded(self) -> int:
        return sum(e.n for e in self.exclusions)


@dataclass
class Context:
    """What a method may use: the cut-off, the microdata tables, the computed output indicators."""

    cutoff: Quarter
    tables: dict[str, pd.DataFrame]
    source_columns: dict[str, list[str]]
    output_indicators: pd.DataFrame | None = None

    @property
    def cutoff_end(self) -> pd.Timestamp:
        """Last day of the cut-off quarter."""
        return pd.Timestamp(self.cutoff.year, self.cutoff.q * 3, 1) + pd.offsets.MonthEnd(0)

    def table(self, key: str) -> pd.DataFrame:
        if key not in self.tables:
            raise SpecError(f"unknown source '{key}' (declared sources: {', '.join(sorted(self.tables))})")
        return self.tables[key]


@dataclass(frozen=True)
class Method:
    """One registered calculation method: its function, the parameters a ficha must give it, and how its
    computation is written with numbers (``formula``) with the catalog key of the note printed after it
    (``note``). The notebook (``outcomes.formula_line``) and the PDF annex (``annex.formula_text``) both
    render the formula from here; they differ only in how a number is written.

    ``formula`` is a template over the outcome table's row: ``{numerator}``, ``{denominator}`` and
    ``{value}`` (the value with its unit, e.g. ``45 %``); a format spec is the number of decimals of that
    number (``{numerator:4}``; default 2). ``columns``: parameters of this method, beyond those the ficha
    schema knows (``schemas.Calculation``), that name a column of the ficha's source; the schema checks them
    as columns and the cleaning stage keeps them (``fichas.columns_used``)."""

    name: str
    function: Callable[[dict, Context], Result]
    required: tuple[str, ...] = ()
    formula: str = "{value}"
    note: str | None = None
    columns: tuple[str, ...] = ()


REGISTRY: dict[str, Method] = {}


class _View(Mapping):
    """One attribute of every registered method, by name (a live view of ``REGISTRY``)."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __getitem__(self, name: str):
        return getattr(REGISTRY[name], self.attribute)

    def __iter__(self):
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)


METHODS: Mapping[str, Callable[[dict, Context], Result]] = _View("function")
REQUIRED_PARAMS: Mapping[str, tuple[str, ...]] = _View("required")
FORMULA_FIELDS = ("numerator", "denominator", "value")


def method(name: str, *required: str, formula: str = "{value}", note: str | None = None,
           columns: tuple[str, ...] = ()):
    """Register a calculation method under ``name`` with its required parameters, the template of its
    formula written with numbers, the catalog key of the note that explains it and the parameters that name
    a column of the source (see ``Method``)."""
    fields = {field for _, field, _, _ in string.Formatter().parse(formula) if field is not None}
    if not fields <= set(FORMULA_FIELDS):
        raise ValueError(f"method '{name}': formula {formula!r} may only use {', '.join(FORMULA_FIELDS)}")

    def register(function: Callable[[dict, Context], Result]) -> Callable[[dict, Context], Result]:
        REGISTRY[name] = Method(name, function, tuple(required), formula, note, tuple(columns))
        return function
    return register


class _Number:
    """A number of the formula, written by ``number(value, decimals)``; the decimals are the format spec."""

    def __init__(self, value: Any, number: Callable[[Any, int], str], unit: str | None = None):
        self.value, self.number, self.unit = value, number, unit

    def __format__(self, spec: str) -> str:
        text = self.number(self.value, int(spec) if spec else 2)
        return f"{text} %" if self.unit == "percent" and text != "—" else text


def write_formula(name: str, row: dict, number: Callable[[Any, int], str]) -> str:
    """The registered formula of method ``name`` with the numbers of an outcome table's ``row`` (keys
    numerator, denominator, current, unit), each number written by ``number(value, decimals)``; no note."""
    formula = REGISTRY[name].formula if name in REGISTRY else "{value}"
    return formula.format(numerator=_Number(row.get("numerator"), number),
                               denominator=_Number(row.get("denominator"), number),
                               value=_Number(row.get("current"), number, row.get("unit")))


def formula_note(name: str) -> str | None:
    """The catalog key of the note printed after the formula of method ``name`` (None: no note)."""
    return REGISTRY[name].note if name in REGISTRY else None


# ---------------------------------------------------------------------------- filters

def _date(value: Any, context: Context) -> pd.Timestamp:
    if value == "cutoff":
        return context.cutoff_end
    return pd.Timestamp(value)


def condition_mask(frame: pd.DataFrame, condition: dict, context: Context) -> pd.Series:
    """Rows meeting one structured condition: {column, <one operator of operators.OPERATORS>: operand}."""
    column = condition.get("column")
    if column not in frame.columns:
        raise SpecError(f"unknown column '{column}' (columns: {', '.join(c for c in frame.columns if not c.startswith('source_'))})")
    given = [op for op in OPERATORS if op in condition]
    if len(given) != 1:
        raise SpecError(f"condition on '{column}' needs exactly one of {', '.join(OPERATORS)}")
    op = OPERATORS[given[0]]
    operand = condition[op.name]
    if op.operand == "date":
        operand = _date(operand, context)
    return op.mask(frame[column], operand)


def apply_filters(frame: pd.DataFrame, filters: list[dict], context: Context
                  ) -> tuple[pd.DataFrame, list[Exclusion]]:
    """Keep the rows meeting every filter, in order; record how many each filter left out and why."""
    exclusions = []
    for condition in filters or []:
        if "reason" not in condition:
            raise SpecError(f"filter on '{condition.get('column')}' has no 'reason' (shown to reviewers)")
        keep = condition_mask(frame, condition, context)
        dropped = int((~keep).sum())
        if dropped:
            exclusions.append(Exclusion(condition["reason"], dropped))
        frame = frame[keep]
    return frame, exclusions


def _all_conditions(frame: pd.DataFrame, conditions: list[dict], context: Context) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for condition in conditions:
        mask &= condition_mask(frame, condition, context)
    return mask


def _pct_change(post: float, pre: float) -> tuple[float | None, float | None, float | None]:
    if pre is None or pd.isna(pre) or pre == 0:
        return None, None, pre
    return 100 * (post - pre) / pre, 100 * (post - pre), pre


# ---------------------------------------------------------------------------- methods
# The shipped methods are registered by a call just after their function, the same call as the decorator form
# ``@method(...)`` a method added elsewhere uses (README, "Adding a calculation method"): mutation testing
# (``make mutation``, mutmut) does not mutate decorated functions, and these bodies are what it must reach.

def share(params: dict, context: Context) -> Result:
    """Items meeting the conditions over all items in scope, × 100 (e.g. recommendations implemented)."""
    rows, exclusions = apply_filters(context.table(params["source"]), params.get("filters", []), context)
    meets = _all_conditions(rows, params["numerator_conditions"], context)
    numerator, denominator = int(meets.sum()), len(rows)
    detail = pd.DataFrame({"counted_in_numerator": [True, False], "n": [numerator, denominator - numerator]})
    if params.get("breakdown") and len(rows):
        detail = rows.assign(counted_in_numerator=meets).groupby(
            [params["breakdown"], "counted_in_numerator"], dropna=False).size().rename("n").reset_index()
    if denominator == 0:
        return Result(None, numerator, 0, 0, exclusions, _reason("zero_denominator"), detail)
    return Result(100 * numerator / denominator, numerator, denominator, denominator, exclusions, "", detail)


method("share", "source", "numerator_conditions", formula="{numerator} / {denominator} × 100 = {value}")(share)


def count(params: dict, context: Context) -> Result:
    """Rows (or distinct values of a column) meeting the filters (e.g. plan actions implemented)."""
    rows, exclusions = apply_filters(context.table(params["source"]), params.get("filters", []), context)
    distinct = params.get("distinct")
    if distinct:
        if distinct not in rows.columns:
            raise SpecError(f"unknown column '{distinct}' for 'distinct'")
        value = int(rows[distinct].nunique())
        duplicates = len(rows) - value
        if duplicates:
            exclusions.append(Exclusion(_reason("counted_once", column=distinct), duplicates))
    else:
        value = len(rows)
    detail = None
    if params.get("breakdown") and len(rows):
        key = params["breakdown"]
        detail = (rows.groupby(key)[distinct].nunique() if distinct else rows.groupby(key).size()).rename("n").reset_index()
    return Result(float(value), float(value), None, len(rows), exclusions, "", detail)


method("count", "source")(count)


def existence(params: dict, context: Context) -> Result:
    """1 if at least one row meets the filters (e.g. a system that provides progress reports), else 0."""
    rows, exclusions = apply_filters(context.table(params["source"]), params.get("filters", []), context)
    return Result(1.0 if len(rows) else 0.0, float(len(rows) > 0), None, len(rows), exclusions,
                  "" if len(rows) else _reason("no_evidence"))


method("existence", "source")(existence)


def pre_post_participant(params: dict, context: Context) -> Result:
    """(mean post − mean pre) / mean pre × 100 over participants who took both tests."""
    rows, exclusions = apply_filters(context.table(params["source"]), params.get("filters", []), context)
    pre, post = params["pre_column"], params["post_column"]
    both = rows[pre].notna() & rows[post].notna()
    if int((~both).sum()):
        exclusions.append(Exclusion(params.get("one_test_reason") or _reason("one_test"), int((~both).sum())))
    rows = rows[both]
    detail = pd.DataFrame({"test": ["pre", "post"], "participants": [len(rows)] * 2,
                           "mean_score": [rows[pre].mean(), rows[post].mean()]})
    if params.get("breakdown") and len(rows):
        detail = rows.groupby(params["breakdown"]).agg(participants=(params["id_column"], "nunique"),
                                                       mean_pre=(pre, "mean"), mean_post=(post, "mean")).reset_index()
    if rows.empty:
        return Result(None, None, None, 0, exclusions, _reason("no_participant_both_tests"), detail)
    value, numerator, denominator = _pct_change(rows[post].mean(), rows[pre].mean())
    return Result(value, numerator, denominator, len(rows), exclusions, "", detail)


method("pre_post_participant", "source", "pre_column", "post_column", "id_column",
        formula="({numerator:4}) / {denominator:4} = {value}", note="outcome.pre_post_note")(pre_post_participant)


def pre_post_question(params: dict, context: Context) -> Result:
    """Per-question shares of correct answers, averaged over questions, pre against post (× 100).

    The mean of a test is the mean over its questions of the share of respondents who answered
    correctly (Annex 14: the oral-litigation exams were tabulated per question, not per participant)."""
    rows, exclusions = apply_filters(context.table(params["source"]), params.get("filters", []), context)
    rows = rows.assign(share=rows[params["correct_column"]] / rows[params["respondents_column"]])
    # A question is identified within its course (group_column), when the source holds several courses.
    index = [c for c in (params.get("group_column"), params["question_column"]) if c]
    pivot = rows.pivot_table(index=index, columns=params["test_column"], values="share", aggfunc="mean")
    pre_label, post_label = params["pre_label"], params["post_label"]
    for label in (pre_label, post_label):
        if label not in pivot.columns:
            pivot[label] = float("nan")
    complete = pivot[[pre_label, post_label]].notna().all(axis=1)
    if int((~complete).sum()):
        exclusions.append(Exclusion(_reason("question_not_in_both_tests"), int((~complete).sum())))
    pivot = pivot[complete]
    detail = pivot[[pre_label, post_label]].reset_index().rename_axis(None, axis=1)
    if pivot.empty:
        return Result(None, None, None, 0, exclusions, _reason("no_question_in_both_tests"), detail)
    value, numerator, denominator = _pct_change(pivot[post_label].mean(), pivot[pre_label].mean())
    return Result(value, numerator, denominator, len(pivot), exclusions, "", detail)


method("pre_post_question", "source", "question_column", "test_column", "pre_label", "post_label",
        "correct_column", "respondents_column",
        formula="({numerator:4}) / {denominator:4} = {value}", note="outcome.pre_post_note")(pre_post_question)


def pre_post_weighted(params: dict, context: Context) -> Result:
    """Group means (e.g. per regional workshop) weighted by the participants who took both tests."""
    rows, exclusions = apply_filters(context.table(params["source"]), params.get("filters", []), context)
    weight, pre, post = params["weight_column"], params["pre_column"], params["post_column"]
    usable = rows[weight].fillna(0).gt(0) & rows[pre].notna() & rows[post].notna()
    if int((~usable).sum()):
        exclusions.append(Exclusion(_reason("without_both_results"), int((~usable).sum())))
    rows = rows[usable]
    keep = [c for c in (params.get("label_column"), weight, pre, post) if c]
    detail = rows[keep].reset_index(drop=True)
    total = rows[weight].sum()
    if not total:
        return Result(None, None, None, 0, exclusions, _reason("no_group_with_both_results"), detail)
    mean_pre = (rows[pre] * rows[weight]).sum() / total
    mean_post = (rows[post] * rows[weight]).sum() / total
    value, numerator, denominator = _pct_change(mean_post, mean_pre)
    return Result(value, numerator, denominator, int(total), exclusions, "", detail)


method("pre_post_weighted", "source", "weight_column", "pre_column", "post_column",
        formula="({numerator:4}) / {denominator:4} = {value}", note="outcome.pre_post_note")(pre_post_weighted)


def percent_change_count(params: dict, context: Context) -> Result:
    """(count now − count at baseline) / count at baseline × 100, with the ficha's baseline rules."""
    table = context.table(params["source"])
    snapshot = params["snapshot_column"]
    baseline_date = pd.Timestamp(params["baseline_snapshot"])
    exclusions: list[Exclusion] = []
    later = table[table[snapshot] > baseline_date]
    if not params.get("current_may_follow_cutoff", False):
        after = later[snapshot] > context.cutoff_end
        if int(after.sum()):
            exclusions.append(Exclusion(_reason("count_after_cutoff"), int(after.sum())))
        later = later[~after]
    if later.empty:
        return Result(None, None, None, 0, exclusions, _reason("no_count_after_baseline"))
    current_date = later[snapshot].max()
    current = later[later[snapshot] == current_date]
    baseline = table[table[snapshot] == baseline_date]
    baseline, baseline_exclusions = apply_filters(baseline, params.get("baseline_filters", []), context)
    exclusions += baseline_exclusions
    zero = params.get("baseline_zero_when")
    if zero:
        created = condition_mask(baseline, zero, context)
        if int(created.sum()):
            exclusions.append(Exclusion(zero.get("reason") or _reason("baseline_set_to_zero"), int(created.sum())))
        baseline = baseline[~created]
    group = params["group_column"]
    detail = pd.DataFrame({
        "baseline": baseline.groupby(group).size(),
        "current": current.groupby(group).size(),
    }).fillna(0).astype(int).reset_index().rename(columns={"index": group})
    base_n, current_n = len(baseline), len(current)
    note = _reason("count_dates", baseline=baseline_date.date(), current=current_date.date())
    if base_n == 0:
        return Result(None, float(current_n - base_n), 0.0, current_n, exclusions,
                      _reason("zero_baseline_count", note=note), detail)
    return Result(100 * (current_n - base_n) / base_n, 100.0 * (current_n - base_n), float(base_n),
                  current_n + base_n, exclusions, note, detail)


method("percent_change_count", "source", "group_column", "snapshot_column", "baseline_snapshot",
        formula="({numerator}) / {denominator} = {value}", note="outcome.percent_change_note")(percent_change_count)


def from_output_indicator(params: dict, context: Context) -> Result:
    """The value of an output indicator at the cut-off (plus the outcome's baseline when it says so)."""
    outputs = context.output_indicators
    if outputs is None:
        raise SpecError("output indicators are not available to this calculation")
    match = outputs[outputs["indicator_id"] == params["output_indicator"]]
    if match.empty:
        raise SpecError(f"unknown output indicator '{params['output_indicator']}'")
    current = match["current"].iloc[0]
    indicator = params["output_indicator"]
    if pd.isna(current):
        return Result(None, None, None, 0, [], _reason("output_indicator_not_measured", indicator=indicator))
    value = float(current) + float(params.get("add", 0))
    note = _reason("output_indicator_value", indicator=indicator, value=f"{current:g}")
    if params.get("add"):
        note = _reason("output_indicator_value_added", indicator=indicator, value=f"{current:g}",
                       added=f"{params['add']:g}", why=params.get("add_reason") or _reason("added"))
    return Result(value, value, None, 1, [], note)


method("from_output_indicator", "output_indicator")(from_output_indicator)


def not_measured(params: dict, context: Context) -> Result:
    """No data support a measurement: the indicator is not measured, never zero."""
    return Result(None, None, None, 0, [], params["reason"])


method("not_measured", "reason")(not_measured)


def run_method(name: str, params: dict, context: Context) -> Result:
    if name not in METHODS:
        raise SpecError(f"unknown method '{name}' (known: {', '.join(sorted(METHODS))})")
    missing = [p for p in REQUIRED_PARAMS[name] if p not in params]
    if missing:
        raise SpecError(f"method '{name}' needs parameter(s) {', '.join(missing)}")
    return METHODS[name](params, context)
