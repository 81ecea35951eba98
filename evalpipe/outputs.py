"""Output indicators at the cut-off and output statuses by the rules of §155."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from .codes import (  # noqa: F401 (the status codes, re-exported: their home is codes.py)
    ACHIEVED, DELIVERED, IN_PROGRESS, IN_PROGRESS_AT_RISK, INDICATOR_STATUSES, NO_PROGRESS, NOT_DELIVERED, NOT_MEASURED,
    OUTPUT_IN_PROGRESS, OUTPUT_NOT_MEASURED, OUTPUT_STATUSES)
from .lfm import Logframe
from .quarters import Quarter, parse_quarter


OUTPUT_INDICATOR_COLUMNS = [
    "output_id", "indicator_id", "unit", "baseline", "current", "target", "progress_pct", "status",
    "scheduled_after_cutoff", "value_quarter", "carried_forward", "value_flag", "source_file", "source_sheet",
    "source_row",
]
OUTPUT_STATUS_COLUMNS = [
    "output_id", "component_id", "status", "n_indicators", "n_achieved", "n_in_progress", "n_no_progress",
    "n_not_measured", "covid_risk", "scheduled_after_cutoff",
]


def round_half_up(value: float, digits: int = 0) -> float:
    """Round as a person does (76.5 -> 77), not to even as Python's round() does."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def indicator_status(current: float | None, baseline: float, target: float) -> str:
    """achieved if current >= target; in progress if above the baseline; no progress otherwise.

    An indicator with no value at or before the cut-off is ``not_measured`` (never zero).
    """
    if current is None or (isinstance(current, float) and math.isnan(current)):
        return NOT_MEASURED
    if current >= target:
        return ACHIEVED
    if current > baseline:
        return IN_PROGRESS
    return NO_PROGRESS


def output_status(indicator_statuses: list[str], covid_risk: bool) -> str:
    """§155: delivered if every indicator reached its target; in progress if at least one shows
    progress (at risk when Covid-19 could significantly condition it); not delivered if none does.
    """
    measured = [s for s in indicator_statuses if s != NOT_MEASURED]
    if not measured:
        return OUTPUT_NOT_MEASURED
    if len(measured) == len(indicator_statuses) and all(s == ACHIEVED for s in measured):
        return DELIVERED
    if any(s in (ACHIEVED, IN_PROGRESS) for s in measured):
        return IN_PROGRESS_AT_RISK if covid_risk else OUTPUT_IN_PROGRESS
    return NOT_DELIVERED


def values_at_cutoff(progress: pd.DataFrame, cutoff: Quarter) -> pd.DataFrame:
    """The last reported cumulative value of each indicator at or before the cut-off."""
    reported = progress[progress["value"].notna()].copy()
    reported["_q"] = reported["quarter"].map(lambda q: parse_quarter(q).index)
    reported = reported[reported["_q"] <= cutoff.index]
    last = reported.sort_values(["indicator_id", "_q"], kind="stable").groupby("indicator_id").tail(1)
    return last.drop(columns="_q").rename(columns={"value": "current", "quarter": "value_quarter"})


def compute_output_indicators(progress: pd.DataFrame, lfm: Logframe, cutoff: Quarter) -> pd.DataFrame:
    """Current value, progress (current / target) and status of every LFM output indicator."""
    current = values_at_cutoff(progress, cutoff)
    table = lfm.output_indicators.merge(
        current[["indicator_id", "current", "value_quarter", "value_flag", "source_file", "source_sheet",
                 "source_row"]],
        on="indicator_id", how="left")
    table["progress_pct"] = [
        round_half_up(100.0 * c / t, 1) if pd.notna(c) and t else float("nan")
        for c, t in zip(table["current"], table["target"])
    ]
    table["status"] = [indicator_status(c, b, t) for c, b, t in
                       zip(table["current"], table["baseline"], table["target"])]
    table["scheduled_after_cutoff"] = [
        bool(start) and parse_quarter(start) > cutoff for start in table["planned_start"]
    ]
    # §38: the current value is the accumulated value "from the corresponding progress report" (the cut-off's);
    # a value taken from an earlier report because that one gives none is kept (values are cumulative, §153)
    # but flagged here, in the notebook and in the annex (README, "Rules").
    table["carried_forward"] = [
        isinstance(quarter, str) and bool(quarter) and parse_quarter(quarter) != cutoff
        for quarter in table["value_quarter"]
    ]
    return table[OUTPUT_INDICATOR_COLUMNS].reset_index(drop=True)


def compute_output_status(indicators: pd.DataFrame, lfm: Logframe) -> pd.DataFrame:
    """Status of every LFM output from its indicators (§155), with the counts behind it."""
    risk = lfm.output_risk()
    rows = []
    for output in lfm.outputs.itertuples():
        group = indicators[indicators["output_id"] == output.output_id]
        statuses = group["status"].tolist()
        status = output_status(statuses, risk.get(output.output_id, False))
        rows.append({
            "output_id": output.output_id,
            "component_id": output.component_id,
            "status": status,
            "n_indicators": len(statuses),
            "n_achieved": statuses.count(ACHIEVED),
            "n_in_progress": statuses.count(IN_PROGRESS),
            "n_no_progress": statuses.count(NO_PROGRESS),
            "n_not_measured": statuses.count(NOT_MEASURED),
            "covid_risk": risk.get(output.output_id, False),
            # Table 1's mark: not delivered at the cut-off because its work was scheduled after it.
            "scheduled_after_cutoff": bool(status == NOT_DELIVERED and len(group)
                                           and group["scheduled_after_cutoff"].all()),
        })
    return pd.DataFrame(rows, columns=OUTPUT_STATUS_COLUMNS)


def status_counts(table: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    """How many rows have each status code, with the share of the total (in %, one decimal)."""
    counts = table["status"].value_counts().reindex(list(codes), fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame({
        "status": counts.index,
        "n": counts.to_numpy(),
        "pct": [round_half_up(100.0 * n / total, 1) if total else float("nan") for n in counts.to_numpy()],
    })
