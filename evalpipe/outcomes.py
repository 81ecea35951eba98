"""Outcome indicators computed from the fichas técnicas, and outcome statuses by the rules of §158."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from .codes import NOT_APPLICABLE, OUTCOME_STATUSES  # noqa: F401 (re-exported)
from .fichas import Ficha, period_differs_from_cutoff, period_text
from .methods import Context, Result, SpecError, formula_note, run_method, write_formula
from .outputs import ACHIEVED, IN_PROGRESS, NO_PROGRESS, NOT_MEASURED, indicator_status

OUTCOME_INDICATOR_COLUMNS = [
    "outcome_id", "indicator_id", "unit", "baseline", "current", "target", "numerator", "denominator", "n",
    "n_excluded", "status", "scheduled_after_cutoff", "origin", "method", "value_note", "reason", "reference_period",
    "source", "ficha_period", "ficha_period_source", "period_differs", "waits_for_output",
]
OUTCOME_STATUS_COLUMNS = ["outcome_id", "component_id", "status", "n_indicators", "n_achieved", "n_in_progress",
                          "n_no_progress", "n_not_measured"]

# Rows of a ficha's detail table (its groups) shown in notebook 04: a larger drop shows the first ones and says
# how many groups there are (a reviewer's table stays a table, never a dump).
DETAIL_ROWS = 100


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


def evaluate_ficha(ficha: Ficha, context: Context, output_status: pd.DataFrame | None) -> tuple[Result, str, str]:
    """Run one ficha: (result, status, value_note). A ficha whose prerequisite output is not delivered
    has no value and no progress (§157: its construction requires the output first)."""
    required = ficha.calculation.get("requires_output")
    waiting = None
    if required and output_status is not None:
        match = output_status[output_status["output_id"] == required]
        status = match["status"].iloc[0] if len(match) else "unknown"
        if status != "delivered":
            waiting = requires_output_reason(required, status)
            if ficha.method == "not_measured":
                return Result(None, reason=waiting), NO_PROGRESS, NOT_APPLICABLE
    params = dict(ficha.calculation)
    if params.get("add_baseline"):
        params["add"] = ficha.baseline or 0.0
    try:
        result = run_method(ficha.method, params, context)
    except SpecError as exc:
        from .fichas import FichaError

        source = ficha.source_key or ""
        raise FichaError(f"ficha {ficha.path} (source '{source}'): {exc}") from None
    if waiting is not None:
        # §157: the indicator requires its output delivered first, so it shows no progress; a value the data
        # give is kept as computed (Annex 17 prints 0 for such an indicator), none is "NA"
        import dataclasses

        result = dataclasses.replace(result, reason=waiting)
        return result, NO_PROGRESS, "" if result.value is not None else NOT_APPLICABLE
    status = indicator_status(result.value, ficha.baseline if ficha.baseline is not None else 0.0,
                              ficha.target if ficha.target is not None else float("inf"))
    return result, status, "" if result.value is not None else "not_measured"


def outcome_context(processed_dir: Path, run_dir: Path, cutoff: str, sources: dict,
                    keys: list[str] | None = None) -> tuple[Context, pd.DataFrame]:
    """What the fichas compute on at ``cutoff``: a ``Context`` with the processed microdata of ``sources`` (only
    ``keys`` when given) and the run's output indicators, and the run's output status (§157's prerequisites).
    Notebook 04 and ``pipeline.py ficha`` both start here."""
    from .microdata import read_processed
    from .quarters import parse_quarter

    tables = {key: read_processed(Path(processed_dir), sources[key]) for key in (sources if keys is None else keys)}
    tables_dir = Path(run_dir) / "tables"
    output_indicators = pd.read_csv(tables_dir / "output_indicators.csv", dtype={"output_id": str, "indicator_id": str})
    output_status = pd.read_csv(tables_dir / "output_status.csv", dtype={"output_id": str, "component_id": str})
    columns = {key: source.column_names for key, source in sources.items()}
    return Context(parse_quarter(cutoff), tables, columns, output_indicators), output_status


def requires_output_reason(output_id: str, status: str, lang: str = "es") -> str:
    """Why an indicator has no value while the output it needs is not delivered (§157), in ``lang``
    (catalog key ``reason.requires_output``, the status in words). The tables hold the Spanish text."""
    from . import i18n
    from .labels import label

    return i18n.t("reason.requires_output", lang, output=output_id, status=label(status, lang))


@functools.lru_cache(maxsize=1)
def _reason_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    """Each ``reason.*`` message as the tables hold it (Spanish), as a pattern capturing its fields."""
    import string

    from . import i18n

    patterns = []
    for key in i18n.keys("es", "reason."):
        parts = []
        for literal, name, _, _ in string.Formatter().parse(i18n.t(key, "es")):
            parts.append(re.escape(literal))
            if name is not None:
                parts.append(f"(?P<{name}>.+?)")
        patterns.append((sum(len(p) for p in parts if not p.startswith("(?P<")), key, re.compile("".join(parts))))
    # The most specific message first: "= {value} + {added} ({why})" before "= {value}".
    return tuple((key, pattern) for _, key, pattern in sorted(patterns, key=lambda p: (-p[0], p[1])))


def reason_text(reason: object, lang: str = "es") -> str:
    """A ``reason`` of the outcome tables in ``lang``. The reasons and notes the package writes
    (``reason.*``: an output not yet delivered, a count after the cut-off, ...) are written again in
    ``lang``; a reason a ficha states (its exclusion rules) is ficha text and stays as written."""
    from . import i18n

    text = "" if reason is None or (isinstance(reason, float) and reason != reason) else str(reason)
    for key, pattern in _reason_patterns() if text else ():
        match = pattern.fullmatch(text)
        if not match:
            continue
        fields = {name: reason_text(value, lang) for name, value in match.groupdict().items()}
        if key == "reason.requires_output":  # the status in words of ``lang``
            codes = {i18n.t(k, "es"): k.removeprefix("status.") for k in i18n.keys("es", "status.")}
            return requires_output_reason(fields["output"], codes.get(match["status"], match["status"]), lang)
        return i18n.t(key, lang, **fields)
    return text


def compute_outcome_indicators(fichas: dict[str, Ficha], context: Context, lfm_outcome_indicators: pd.DataFrame,
                               output_status: pd.DataFrame | None, source_files: dict[str, str]
                               ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Result]]:
    """Every outcome indicator: value, numerator, denominator, n, exclusions, status."""
    lfm = lfm_outcome_indicators.set_index("indicator_id")
    rows, exclusions, results = [], [], {}
    for indicator_id, ficha in fichas.items():
        result, status, note = evaluate_ficha(ficha, context, output_status)
        results[indicator_id] = result
        rows.append({
            "outcome_id": lfm.loc[indicator_id, "outcome_id"],
            "indicator_id": indicator_id,
            "unit": lfm.loc[indicator_id, "unit"],
            "baseline": ficha.baseline,
            "current": _round(result.value),
            "target": ficha.target,
            "numerator": _round(result.numerator),
            "denominator": _round(result.denominator),
            "n": result.n_used,
            "n_excluded": result.n_excluded,
            "status": status,
            "scheduled_after_cutoff": _scheduled_after_cutoff(ficha, output_status),
            "origin": ficha.origin,
            "method": ficha.method,
            "value_note": note,
            "reason": result.reason,
            "reference_period": ficha.reference_period(str(context.cutoff)),
            "source": source_files.get(ficha.source_key or "", ""),
            # the ficha's own periodo_de_referencia, as written, and whether it dates the value to another
            # period than the cut-off Annex 17 claims (audited: audit.audit_reference_periods)
            "ficha_period": ficha.fields.get("periodo_de_referencia") or "",
            "ficha_period_source": _ficha_place(ficha),
            "period_differs": bool(period_differs_from_cutoff(ficha.fields.get("periodo_de_referencia"),
                                                              context.cutoff)),
            # the output this indicator waits for (§157), when it is not delivered at the cut-off
            "waits_for_output": _waits_for(ficha, output_status),
        })
        exclusions += [{"indicator_id": indicator_id, "reason": e.reason, "n": e.n} for e in result.exclusions]
    table = pd.DataFrame(rows, columns=OUTCOME_INDICATOR_COLUMNS)
    return table, pd.DataFrame(exclusions, columns=["indicator_id", "reason", "n"]), results


def _waits_for(ficha: Ficha, output_status: pd.DataFrame | None) -> str:
    required = ficha.calculation.get("requires_output")
    if not required or output_status is None:
        return ""
    match = output_status[output_status["output_id"] == required]
    return "" if len(match) and match["status"].iloc[0] == "delivered" else str(required)


def _ficha_place(ficha: Ficha) -> str:
    """Where the ficha states its period: "data/raw/fichas/2.2.1.4.yaml L33 (Annex 14, L1908-1922)"."""
    place = ficha.path + (f" L{ficha.period_line}" if ficha.period_line else "")
    cited = ficha.fields.get("fuente")
    return f"{place} ({cited})" if cited else place


def _scheduled_after_cutoff(ficha: Ficha, output_status: pd.DataFrame | None) -> bool:
    """An indicator that waits for an output scheduled after the cut-off carries Annex 17's mark."""
    required = ficha.calculation.get("requires_output")
    if not required or output_status is None:
        return False
    match = output_status[output_status["output_id"] == required]
    return bool(len(match) and match["scheduled_after_cutoff"].iloc[0])


def outcome_status(statuses: list[str]) -> str:
    """§158: in progress if at least one indicator shows progress; not assessed (not measured) when
    the data are insufficient; no progress when none of its indicators shows progress."""
    if any(s in (ACHIEVED, IN_PROGRESS) for s in statuses):
        return IN_PROGRESS
    if not statuses or any(s == NOT_MEASURED for s in statuses):
        return NOT_MEASURED
    return NO_PROGRESS


def compute_outcome_status(indicators: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for outcome in outcomes.itertuples():
        statuses = indicators.loc[indicators["outcome_id"] == outcome.outcome_id, "status"].tolist()
        rows.append({
            "outcome_id": outcome.outcome_id, "component_id": outcome.component_id,
            "status": outcome_status(statuses), "n_indicators": len(statuses),
            "n_achieved": statuses.count(ACHIEVED), "n_in_progress": statuses.count(IN_PROGRESS),
            "n_no_progress": statuses.count(NO_PROGRESS), "n_not_measured": statuses.count(NOT_MEASURED),
        })
    return pd.DataFrame(rows, columns=OUTCOME_STATUS_COLUMNS)


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"


def formula_line(row: dict, lang: str = "es", number=_fmt) -> str:
    """The computation with its numbers, e.g. "9 / 20 × 100 = 45 %", for a reviewer to check by hand: the
    formula the method registered (``methods.method(..., formula=, note=)``) filled in with the numbers of
    the outcome table's ``row``, then its note in ``lang``. The notebook and the PDF annex both write it
    here; ``number(value, decimals)`` is how a number is written (the annex passes its own)."""
    from . import i18n

    value = row["current"]
    if row["value_note"] == NOT_APPLICABLE or value is None or pd.isna(value):
        reason = reason_text(row["reason"], lang)
        return f"{i18n.t('outcome.no_value', lang)}: {reason}" if reason else i18n.t("outcome.no_value", lang)
    text = write_formula(row["method"], row, number)
    note = formula_note(row["method"])
    return f"{text}  {i18n.t(note, lang)}" if note else text


def ficha_markdown(ficha: Ficha, row: dict, result: Result, lang: str = "es") -> str:
    """A ficha técnica as a reviewer reads it: definition, formula, rules, and the computed numbers.

    Every piece of ficha text is escaped (``htmlsafe.escape_markdown``): it renders as text, never as HTML."""
    from . import i18n
    from .htmlsafe import escape_markdown as e
    from .labels import label, workbook_words

    method_text = ficha.fields["metodo_de_calculo"]
    source = e(ficha.fields.get("fuente", ""))
    lines = [f"### {e(ficha.indicator_id)} — {e(ficha.fields['descripcion'])}",
             f"*{source}*" if ficha.origin == "annex_14" else f"*{i18n.t('outcome.reconstructed', lang, source=source)}*",
             ""]
    for field, key in (("numerador", "numerator"), ("denominador", "denominator"),
                       ("formula_sin_etiquetas", "formula")):
        if method_text.get(field):
            lines.append(f"- **{i18n.t(f'outcome.{key}', lang)}:** {e(method_text[field])}")
    for rule in method_text.get("reglas") or []:
        lines.append(f"- {e(rule)}")
    method = workbook_words(lang).get(f"method_{ficha.method}", ficha.method)
    detail = i18n.t("outcome.calculation_detail", lang, method=e(method),
                    period=e(period_text(row["reference_period"], lang)))
    summary = i18n.t("outcome.summary", lang, baseline=_fmt(ficha.baseline), target=_fmt(ficha.target),
                     status=f"**{label(row['status'], lang)}**", n=row["n"], excluded=row["n_excluded"])
    lines += ["", f"**{i18n.t('outcome.calculation', lang)}** ({detail}): {e(formula_line(row | {'method': ficha.method}, lang))}",
              f"— {summary}"]
    if result.reason and row["value_note"] == "":
        lines.append(f"*{i18n.t('outcome.note', lang)}:* {e(reason_text(result.reason, lang))}")
    return "\n".join(lines)
