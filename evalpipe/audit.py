"""Consistency audit: where the published report differs from what the data and its own rules give.

The published tables and the narrative's figures (``data/raw/published_report/``) are read here
only, as the claims under audit; no computed table ever reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .labels import PUBLISHED_INDICATOR_STATUS, PUBLISHED_OUTPUT_STATUS
from .outputs import INDICATOR_STATUSES, OUTPUT_STATUSES, round_half_up

AUDIT_COLUMNS = ["check", "source", "item_id", "field", "published_value", "computed_value", "rule", "note"]
PUBLISHED_DIR = "published_report"


def parse_published_number(text: object) -> float | None:
    """A published cell as a number: "1,046" -> 1046, "268*" -> 268, "76%" -> 76; None for NA/¿?."""
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


def load_published(raw_dir: Path) -> dict[str, pd.DataFrame]:
    folder = Path(raw_dir) / PUBLISHED_DIR
    return {name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("annex16_output_indicators", "table1_output_status", "narrative_claims")}


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
    missing = sorted(set(computed.index) - set(published["indicator_id"]))
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
    return {code: int(counts.get(code, 0)) for code in codes}


def audit_narrative(claims: pd.DataFrame, indicators: pd.DataFrame, outputs: pd.DataFrame,
                    annex16: pd.DataFrame, table1: pd.DataFrame, lfm_counts: dict[str, int]) -> list[dict]:
    """The figures the narrative gives: totals, status counts and shares, indicator values."""
    findings = []
    computed_tally = {
        "output_indicators": _tally(indicators["status"], INDICATOR_STATUSES),
        "outputs": _tally(outputs["status"], OUTPUT_STATUSES),
    }
    published_codes = {
        "output_indicators": annex16["status_es"].map(
            lambda s: PUBLISHED_INDICATOR_STATUS.get(split_published_status(s)[0], "unknown")),
        "outputs": table1["status_en"].map(
            lambda s: PUBLISHED_OUTPUT_STATUS.get(split_published_status(s)[0], "unknown")),
    }
    published_tally = {k: _tally(v, INDICATOR_STATUSES if k == "output_indicators" else OUTPUT_STATUSES)
                       for k, v in published_codes.items()}
    by_id = indicators.set_index("indicator_id")
    for claim in claims.itertuples():
        value = float(claim.value)
        source = f"{claim.section} ({claim.claim_id})"
        if claim.measure == "n_total":
            computed = lfm_counts[claim.subject]
            if value != computed:
                findings.append(_row("narrative_total", source, claim.subject, "n_total", claim.value, computed,
                                     "number of rows of the LFM table", f'"{claim.quote}"'))
        elif claim.measure in ("n", "pct"):
            tally = computed_tally[claim.subject]
            total = sum(tally.values())
            n = tally.get(claim.item_id, 0)
            computed = n if claim.measure == "n" else round_half_up(100 * n / total)
            if value != computed:
                own_n = published_tally[claim.subject].get(claim.item_id, 0)
                note = (f'"{claim.quote}". The published table itself shows {own_n}'
                        f"{' of ' + str(total) if claim.measure == 'n' else ''}")
                if claim.measure == "pct":
                    stated = claims[(claims["subject"] == claim.subject) & (claims["item_id"] == claim.item_id)
                                    & (claims["measure"] == "n")]
                    if len(stated):
                        stated_n = float(stated["value"].iloc[0])
                        note += f"; the narrative's own count {stated_n:g} of {total} is {100 * stated_n / total:.1f}%"
                findings.append(_row(f"narrative_{claim.measure}", source, f"{claim.subject}:{claim.item_id}",
                                     claim.measure, claim.value, computed,
                                     "count (share) of statuses computed by the report's rules (§154, §155)", note))
        elif claim.measure in ("current", "progress_pct"):
            mine = by_id.loc[claim.item_id]
            computed = mine["current"] if claim.measure == "current" else round_half_up(mine["progress_pct"])
            if value != computed:
                findings.append(_row(f"narrative_{claim.measure}", source, claim.item_id, claim.measure,
                                     claim.value, computed, "the narrative's figure against the computed value",
                                     f'"{claim.quote}"'))
    return findings


def consistency_audit(raw_dir: Path, indicators: pd.DataFrame, outputs: pd.DataFrame,
                      lfm_counts: dict[str, int]) -> pd.DataFrame:
    """Every difference between the published report and the computed tables, one row each."""
    published = load_published(raw_dir)
    rows = (audit_annex16(published["annex16_output_indicators"], indicators)
            + audit_table1(published["table1_output_status"], outputs)
            + audit_narrative(published["narrative_claims"], indicators, outputs,
                              published["annex16_output_indicators"], published["table1_output_status"],
                              lfm_counts))
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)
