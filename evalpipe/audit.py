"""Consistency audit: where the published report differs from what the data and its own rules give.

The published tables and the narrative's figures (``data/raw/published_report/``) are read here
only, as the claims under audit; no computed table ever reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .labels import PUBLISHED_INDICATOR_STATUS, PUBLISHED_OUTCOME_STATUS, PUBLISHED_OUTPUT_STATUS
from .outputs import INDICATOR_STATUSES, OUTPUT_STATUSES, round_half_up

OUTCOME_STATUSES = ("in_progress", "no_progress", "not_measured")

AUDIT_COLUMNS = ["check", "source", "item_id", "field", "published_value", "computed_value", "rule", "note"]
PUBLISHED_DIR = "published_report"


def parse_published_number(text: object) -> float | None:
    """A published cell as a number: "1,250" -> 1250, "37*" -> 37, "45%" -> 45; None for NA/¿?."""
    cleaned = re.sub(r"[,*%\s]", "", str(text))
    try:
        return float(cleaned)
    except ValueError:
        return None


def split_published_status(text: str) -> tuple[str, bool, str]:
    """("No entregado (programado 2020T4)") -> ("no entregado", True, "programado 2020T4"); "*" marks too."""
    text = str(text).strip()
    mark = ""
    match = re.match(r"^(.*?)\s*\((.*)\)\s*$", text)
    if match:
        text, mark = match.group(1), match.group(2)
    starred = text.endswith("*")
    return text.rstrip("*").strip().lower(), bool(mark) or starred, mark or ("*" if starred else "")


PUBLISHED_FILES = {
    "annex16_output_indicators": ["indicator_id", "output_id", "current_raw", "target_raw", "progress_raw",
                                  "status_es", "source_line"],
    "table1_output_status": ["output_id", "status_en", "source_line"],
    "annex17_outcome_indicators": ["indicator_id", "outcome_id", "baseline_raw", "current_raw", "target_raw",
                                   "status_es", "source_line"],
    "table2_outcome_status": ["outcome_id", "status_en", "source_line"],
    "narrative_claims": ["claim_id", "section", "subject", "item_id", "measure", "value", "quote"],
}


def load_published(raw_dir: Path) -> dict[str, pd.DataFrame]:
    """The published figures under audit; a missing file counts as an empty table (nothing to audit)."""
    folder = Path(raw_dir) / PUBLISHED_DIR
    tables = {}
    for name, columns in PUBLISHED_FILES.items():
        path = folder / f"{name}.csv"
        tables[name] = (pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists()
                        else pd.DataFrame(columns=columns))
    return tables


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _row(check: str, source: str, item: str, field: str, published: object, computed: object, rule: str,
         note: str = "") -> dict:
    return {"check": check, "source": source, "item_id": item, "field": field, "published_value": _fmt(published),
            "computed_value": _fmt(computed), "rule": rule, "note": note}


def audit_annex16(published: pd.DataFrame, indicators: pd.DataFrame) -> list[dict]:
    """Annex 16, cell by cell: current value, target, progress and status of each indicator."""
    findings = []
    computed = indicators.set_index("indicator_id")
    for row in published.itertuples():
        source = f"Annex 16 L{row.source_line}"
        if row.indicator_id not in computed.index:
            findings.append(_row("unknown_indicator", source, row.indicator_id, "indicator_id", row.indicator_id, "",
                                 "every published indicator is an LFM output indicator"))
            continue
        mine = computed.loc[row.indicator_id]
        current = parse_published_number(row.current_raw)
        target = parse_published_number(row.target_raw)
        progress = parse_published_number(row.progress_raw)
        if current != mine["current"]:
            findings.append(_row("current_value", source, row.indicator_id, "current", row.current_raw,
                                 mine["current"], "current = cumulative value of the cut-off progress report (§38)"))
        if target != mine["target"]:
            findings.append(_row("target", source, row.indicator_id, "target", row.target_raw, mine["target"],
                                 "target = LFM 2019 target"))
        if current is not None and target:
            own = round_half_up(100 * current / target)
            if progress is not None and progress != own:
                implied = progress * target / 100
                exact = 100 * current / target
                if abs(progress - own) <= 1 and progress < exact:
                    note = f"one point off: truncated instead of rounded (exact {exact:.2f}%)"
                elif abs(progress - own) <= 1:
                    note = f"one point off: rounded up past the exact {exact:.2f}%"
                else:
                    note = (f"the published progress corresponds to a current value of about {implied:.0f} "
                            f"({row.progress_raw} x {row.target_raw}), not to the {row.current_raw} printed beside it")
                findings.append(_row("progress_arithmetic", source, row.indicator_id, "progress_pct",
                                     row.progress_raw, f"{own:g}%",
                                     "progress = current / target, rounded half up (Annex 16)", note))
        label, _, mark = split_published_status(row.status_es)
        published_code = PUBLISHED_INDICATOR_STATUS.get(label, f"unknown label '{label}'")
        if published_code != mine["status"]:
            note = ""
            if mine["status"] == "in_progress" and published_code == "achieved":
                note = f"labelled as reached although {mine['current']:g} < target {mine['target']:g}"
            elif mine["status"] == "no_progress" and published_code == "in_progress":
                note = f"labelled in progress although the value is {mine['current']:g}"
                if mine["scheduled_after_cutoff"]:
                    note += "; the work is scheduled after the cut-off"
            findings.append(_row("indicator_status", source, row.indicator_id, "status", row.status_es,
                                 mine["status"], "achieved: current >= target; in progress: current > baseline; "
                                 "no progress: current = baseline (§154)", note))
        if bool(mark) != bool(mine["scheduled_after_cutoff"]):
            findings.append(_row("scheduled_mark", source, row.indicator_id, "scheduled_after_cutoff",
                                 mark or "(no mark)", bool(mine["scheduled_after_cutoff"]),
                                 "marked when the LFM schedules the indicator after the cut-off"))
    # A dashboard that was published must list every indicator; an empty one means nothing was published.
    missing = sorted(set(computed.index) - set(published["indicator_id"])) if len(published) else []
    for indicator in missing:
        findings.append(_row("missing_indicator", "Annex 16", indicator, "indicator_id", "", indicator,
                             "every LFM output indicator appears in the dashboard"))
    return findings


def audit_table1(published: pd.DataFrame, outputs: pd.DataFrame) -> list[dict]:
    """Table 1: the status of each output against §155 applied to the computed indicators."""
    findings = []
    computed = outputs.set_index("output_id")
    for row in published.itertuples():
        source = f"Table 1 L{row.source_line}"
        label, _, mark = split_published_status(row.status_en)
        published_code = PUBLISHED_OUTPUT_STATUS.get(label, f"unknown label '{label}'")
        if row.output_id not in computed.index:
            findings.append(_row("unknown_output", source, row.output_id, "output_id", row.output_id, "",
                                 "every published output is an LFM output"))
            continue
        mine = computed.loc[row.output_id]
        if published_code != mine["status"]:
            note = ""
            if mine["n_achieved"] + mine["n_in_progress"] == 0:
                note = (f"none of its {mine['n_indicators']} indicators shows progress, so §155 gives "
                        "'not delivered' whatever the Covid-19 risk")
            findings.append(_row("output_status", source, row.output_id, "status", row.status_en, mine["status"],
                                 "§155: delivered if all indicators reached the target; in progress if at least "
                                 "one shows progress (with risk if Covid-19 may condition it); not delivered if "
                                 "none shows progress", note))
        if bool(mark) != bool(mine["scheduled_after_cutoff"]):
            note = ("§155 explains the mark: the output 'recovered the implementation pace' in 2020Q4, "
                    "which is not the rule applied to the other marked output") if mark else ""
            findings.append(_row("scheduled_mark", source, row.output_id, "scheduled_after_cutoff",
                                 mark or "(no mark)", bool(mine["scheduled_after_cutoff"]),
                                 "the mark of Table 1 = not delivered because scheduled after the cut-off (§155)",
                                 note))
    return findings


def _tally(statuses: pd.Series, codes: tuple[str, ...]) -> dict[str, int]:
    counts = statuses.value_counts()
    tally = {code: int(counts.get(code, 0)) for code in codes}
    tally["measured"] = int(len(statuses) - counts.get("not_measured", 0))
    return tally


def _published_codes(table: pd.DataFrame, column: str, mapping: dict[str, str]) -> pd.Series:
    return table[column].map(lambda text: mapping.get(split_published_status(text)[0], "unknown"))


def audit_annex17(published: pd.DataFrame, indicators: pd.DataFrame) -> list[dict]:
    """Annex 17, cell by cell: current value (as rounded in print) and status of each outcome indicator."""
    findings = []
    computed = indicators.set_index("indicator_id")
    for row in published.itertuples():
        source = f"Annex 17 L{row.source_line}"
        if row.indicator_id not in computed.index:
            findings.append(_row("unknown_indicator", source, row.indicator_id, "indicator_id", row.indicator_id, "",
                                 "every published indicator is an LFM outcome indicator"))
            continue
        mine = computed.loc[row.indicator_id]
        raw = str(row.current_raw).strip()
        mine_value = mine["current"]
        if pd.isna(mine_value):
            shown = "NA" if mine["value_note"] == "not_applicable" else "¿?"
        else:
            shown = _fmt(round_half_up(float(mine_value))) + ("%" if mine["unit"] == "percent" else "")
        if raw in ("¿?", "NA"):
            if shown != raw:
                note = {("¿?", "NA"): "published as not measured; by the ficha's rule it waits for its output",
                        ("NA", "¿?"): "published as not applicable; no data support a measurement"}.get((raw, shown), "")
                findings.append(_row("outcome_value", source, row.indicator_id, "current", raw, shown,
                                     "value computed from the ficha técnica (Annex 14) on the microdata", note))
        else:
            number = parse_published_number(raw)
            if pd.isna(mine_value) or number != round_half_up(float(mine_value)):
                findings.append(_row("outcome_value", source, row.indicator_id, "current", raw, shown,
                                     "value computed from the ficha técnica (Annex 14) on the microdata"))
        label, _, _ = split_published_status(row.status_es)
        published_code = PUBLISHED_INDICATOR_STATUS.get(label, f"unknown label '{label}'")
        if published_code != mine["status"]:
            note = ""
            if raw == "¿?" and published_code != "not_measured":
                note = "a value published as '¿?' (not measured) cannot show a status of progress or no progress"
            elif mine["status"] == "achieved":
                note = f"current {shown} reaches the target {row.target_raw}"
            findings.append(_row("outcome_indicator_status", source, row.indicator_id, "status", row.status_es,
                                 mine["status"], "achieved: current >= target; in progress: above the baseline; "
                                 "no progress; not measured (§157)", note))
    return findings


def audit_table2(published: pd.DataFrame, outcomes: pd.DataFrame) -> list[dict]:
    """Table 2: the status of each outcome against §158 applied to the computed indicators."""
    findings = []
    computed = outcomes.set_index("outcome_id")
    for row in published.itertuples():
        source = f"Table 2 L{row.source_line}"
        label, _, _ = split_published_status(row.status_en)
        published_code = PUBLISHED_OUTCOME_STATUS.get(label, f"unknown label '{label}'")
        if row.outcome_id not in computed.index:
            findings.append(_row("unknown_outcome", source, row.outcome_id, "outcome_id", row.outcome_id, "",
                                 "every published outcome is an LFM outcome"))
            continue
        mine = computed.loc[row.outcome_id]
        if published_code != mine["status"]:
            note = ""
            if mine["status"] == "not_measured" and mine["n_not_measured"]:
                note = (f"{mine['n_not_measured']} of its {mine['n_indicators']} indicators could not be measured "
                        "and none shows progress: §158 leaves it not assessed")
            findings.append(_row("outcome_status", source, row.outcome_id, "status", row.status_en, mine["status"],
                                 "§158: in progress if at least one indicator shows progress; not assessed if the "
                                 "data are insufficient; no progress if none shows progress", note))
    return findings


def audit_narrative(claims: pd.DataFrame, computed: dict[str, pd.DataFrame], published: dict[str, pd.Series],
                    lfm_counts: dict[str, int]) -> list[dict]:
    """The figures the narrative gives: totals, status counts and shares, single values.

    ``computed`` maps a subject (output_indicators, outputs, outcome_indicators, outcomes) to its computed
    table; ``published`` maps it to the status codes of the corresponding published table.
    """
    findings = []
    codes = {"output_indicators": INDICATOR_STATUSES, "outputs": OUTPUT_STATUSES,
             "outcome_indicators": INDICATOR_STATUSES, "outcomes": OUTCOME_STATUSES}
    single = {"output_indicator": "output_indicators", "outcome_indicator": "outcome_indicators"}
    for claim in claims.itertuples():
        value = float(claim.value)
        source = f"{claim.section} ({claim.claim_id})"
        subject = claim.subject
        if subject not in lfm_counts and subject not in single:
            continue  # a claim about a table this run does not compute
        if claim.measure == "n_total":
            mine = lfm_counts[subject]
            if value != mine:
                findings.append(_row("narrative_total", source, subject, "n_total", claim.value, mine,
                                     "number of rows of the LFM table", f'"{claim.quote}"'))
        elif claim.measure in ("n", "pct"):
            if subject not in computed:
                continue
            tally = _tally(computed[subject]["status"], codes[subject])
            total = len(computed[subject])
            n = tally.get(claim.item_id, 0)
            mine = n if claim.measure == "n" else round_half_up(100 * n / total)
            if value != mine:
                own = _tally(published[subject], codes[subject]).get(claim.item_id, 0) if subject in published else None
                note = f'"{claim.quote}".'
                if own is not None:
                    note += f" The published table itself shows {own} of {total}"
                if claim.measure == "pct":
                    stated = claims[(claims["subject"] == subject) & (claims["item_id"] == claim.item_id)
                                    & (claims["measure"] == "n")]
                    if len(stated):
                        stated_n = float(stated["value"].iloc[0])
                        note += f"; the narrative's own count {stated_n:g} of {total} is {100 * stated_n / total:.1f}%"
                findings.append(_row(f"narrative_{claim.measure}", source, f"{subject}:{claim.item_id}",
                                     claim.measure, claim.value, mine,
                                     "count (share) of statuses computed by the report's rules (§154-158)", note))
        elif claim.measure in ("current", "progress_pct"):
            table = computed.get(single.get(subject, ""))
            if table is None or claim.item_id not in set(table["indicator_id"]):
                continue
            mine_row = table.set_index("indicator_id").loc[claim.item_id]
            raw = mine_row["current"] if claim.measure == "current" else mine_row["progress_pct"]
            mine = float("nan") if pd.isna(raw) else round_half_up(float(raw))
            if value != mine:
                findings.append(_row(f"narrative_{claim.measure}", source, claim.item_id, claim.measure,
                                     claim.value, mine, "the narrative's figure against the computed value",
                                     f'"{claim.quote}"'))
    return findings


def consistency_audit(raw_dir: Path, indicators: pd.DataFrame, outputs: pd.DataFrame, lfm_counts: dict[str, int],
                      outcome_indicators: pd.DataFrame | None = None, outcomes: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
    """Every difference between the published report and the computed tables, one row each."""
    published = load_published(raw_dir)
    rows = (audit_annex16(published["annex16_output_indicators"], indicators)
            + audit_table1(published["table1_output_status"], outputs))
    computed = {"output_indicators": indicators, "outputs": outputs}
    statuses = {
        "output_indicators": _published_codes(published["annex16_output_indicators"], "status_es",
                                              PUBLISHED_INDICATOR_STATUS),
        "outputs": _published_codes(published["table1_output_status"], "status_en", PUBLISHED_OUTPUT_STATUS),
    }
    if outcome_indicators is not None and "annex17_outcome_indicators" in published:
        rows += audit_annex17(published["annex17_outcome_indicators"], outcome_indicators)
        computed["outcome_indicators"] = outcome_indicators
        statuses["outcome_indicators"] = _published_codes(published["annex17_outcome_indicators"], "status_es",
                                                          PUBLISHED_INDICATOR_STATUS)
    if outcomes is not None and "table2_outcome_status" in published:
        rows += audit_table2(published["table2_outcome_status"], outcomes)
        computed["outcomes"] = outcomes
        statuses["outcomes"] = _published_codes(published["table2_outcome_status"], "status_en",
                                                PUBLISHED_OUTCOME_STATUS)
    rows += audit_narrative(published["narrative_claims"], computed, statuses, lfm_counts)
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)
