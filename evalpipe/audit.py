"""Consistency audit: where the published report differs from what the data and its own rules give.

The published tables and the narrative's figures (``data/raw/published_report/``) are read only by the
audit's modules (this one, ``smart``, ``claims`` and ``audit_finance``), as the claims under audit; no
computed table ever reads them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from . import i18n
from .labels import PUBLISHED_INDICATOR_STATUS, PUBLISHED_OUTCOME_STATUS, PUBLISHED_OUTPUT_STATUS, label
from .codes import INDICATOR_STATUSES, OUTCOME_STATUSES, OUTPUT_STATUSES
from .errors import InputError
from .outputs import round_half_up

# check, field, rule_code, note_code and note_fields are stable codes; rule and note are their English text
# (catalog keys audit.rule.<rule_code>, audit.note.<code>); ``in_words`` renders a table in any language.
AUDIT_COLUMNS = ["check", "source", "item_id", "field", "published_value", "computed_value", "rule", "note",
                 "rule_code", "note_code", "note_fields"]
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


def read_published_file(published_dir: Path, name: str, columns) -> pd.DataFrame | None:
    """One file of ``published_report/`` as text, checked to hold ``columns``; None when the drop has none."""
    path = Path(published_dir) / name
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{PUBLISHED_DIR}/{name}", f"the columns {', '.join(columns)}", found=f"no column {missing[0]}")
    return table


def _fmt(value: object) -> str:
    """A compared value as text; a missing number is empty (shown as "—"), never "nan"."""
    if isinstance(value, float):
        return "" if value != value else f"{value:g}"
    return str(value)


def catalog_key(code: str, kind: str) -> str:
    """The catalog key of a rule, note or check code: ``audit.<kind>.<code>``; a namespaced code
    (``smart.marks_vs_comment``, ``claims.pair_arithmetic``) lives in its own group: ``smart.<kind>.<rest>``."""
    space, dot, rest = code.partition(".")
    return f"{space}.{kind}.{rest}" if dot else f"audit.{kind}.{code}"


def rule_text(rule_code: str, lang: str) -> str:
    return i18n.t(catalog_key(rule_code, "rule"), lang) if rule_code else ""


_FINANCE_FIELDS = ("period", "measure", "read_period", "read_measure")


def note_text(note_code: str, fields: dict, lang: str, finance_words=None) -> str:
    """The note of an audit row: its parts (``a+b``) from the catalog, joined. Fields named ``*status`` hold
    status codes, shown by their label; finance periods and measures are shown by ``finance_words``."""
    if not note_code:
        return ""
    words = finance_words or {}
    shown = {k: label(v, lang) if k.endswith("status") else words.get(v, v) if k in _FINANCE_FIELDS
             else i18n.t(f"smart.class.{v}", lang) if k.endswith("_class") and v
             else place_text(v, lang) if k == "place" and v else v  # "… (Annex 14, L1819)" in the note's language
             for k, v in fields.items()}
    return "".join(i18n.t(catalog_key(code, "note"), lang, **shown) for code in note_code.split("+"))


def finding(check: str, source: str, item: str, field: str, published: object, computed: object, rule_code: str,
            note_code: str = "", **fields) -> dict:
    """One audit row (AUDIT_COLUMNS): codes, their English text, and the note's fields as JSON."""
    fields = {k: _fmt(v) for k, v in fields.items()}
    return {"check": check, "source": source, "item_id": item, "field": field, "published_value": _fmt(published),
            "computed_value": _fmt(computed), "rule": rule_text(rule_code, "en"),
            "note": note_text(note_code, fields, "en"), "rule_code": rule_code, "note_code": note_code,
            "note_fields": json.dumps(fields, ensure_ascii=False, sort_keys=True) if fields else ""}


_row = finding


def audit_annex16(published: pd.DataFrame, indicators: pd.DataFrame) -> list[dict]:
    """Annex 16, cell by cell: current value, target, progress and status of each indicator."""
    findings = []
    computed = indicators.set_index("indicator_id")
    for row in published.itertuples():
        source = f"Annex 16 L{row.source_line}"
        if row.indicator_id not in computed.index:
            findings.append(_row("unknown_indicator", source, row.indicator_id, "indicator_id", row.indicator_id, "",
                                 "lfm_output_indicator"))
            continue
        mine = computed.loc[row.indicator_id]
        current = parse_published_number(row.current_raw)
        target = parse_published_number(row.target_raw)
        progress = parse_published_number(row.progress_raw)
        if current != mine["current"]:
            findings.append(_row("current_value", source, row.indicator_id, "current", row.current_raw,
                                 mine["current"], "current_cutoff_report"))
        if target != mine["target"]:
            findings.append(_row("target", source, row.indicator_id, "target", row.target_raw, mine["target"],
                                 "lfm_target"))
        if current is not None and target:
            own = round_half_up(100 * current / target)
            if progress is not None and progress != own:
                implied = progress * target / 100
                exact = 100 * current / target
                if abs(progress - own) <= 1 and progress < exact:
                    note, fields = "truncated", {"exact": f"{exact:.2f}"}
                elif abs(progress - own) <= 1:
                    note, fields = "rounded_up", {"exact": f"{exact:.2f}"}
                else:
                    note, fields = "progress_implies_current", {
                        "implied": f"{implied:.0f}", "progress": row.progress_raw, "target": row.target_raw,
                        "current": row.current_raw}
                findings.append(_row("progress_arithmetic", source, row.indicator_id, "progress_pct",
                                     row.progress_raw, f"{own:g}%", "progress_rounded", note, **fields))
        label_text, _, mark = split_published_status(row.status_es)
        published_code = PUBLISHED_INDICATOR_STATUS.get(label_text, f"unknown label '{label_text}'")
        if published_code != mine["status"]:
            note, fields = "", {}
            if mine["status"] == "in_progress" and published_code == "achieved":
                note, fields = "labelled_reached", {"current": mine["current"], "target": mine["target"]}
            elif mine["status"] == "no_progress" and published_code == "in_progress":
                note, fields = "labelled_in_progress", {"current": mine["current"]}
                if mine["scheduled_after_cutoff"]:
                    note += "+work_scheduled_after_cutoff"
            findings.append(_row("indicator_status", source, row.indicator_id, "status", row.status_es,
                                 mine["status"], "indicator_status_154", note, **fields))
        if bool(mark) != bool(mine["scheduled_after_cutoff"]):
            findings.append(_row("scheduled_mark", source, row.indicator_id, "scheduled_after_cutoff",
                                 mark or "(no mark)", bool(mine["scheduled_after_cutoff"]),
                                 "indicator_scheduled_mark"))
    # A dashboard that was published must list every indicator; an empty one means nothing was published.
    missing = sorted(set(computed.index) - set(published["indicator_id"])) if len(published) else []
    for indicator in missing:
        findings.append(_row("missing_indicator", "Annex 16", indicator, "indicator_id", "", indicator,
                             "dashboard_lists_every_indicator"))
    return findings


def audit_table1(published: pd.DataFrame, outputs: pd.DataFrame) -> list[dict]:
    """Table 1: the status of each output against §155 applied to the computed indicators."""
    findings = []
    computed = outputs.set_index("output_id")
    for row in published.itertuples():
        source = f"Table 1 L{row.source_line}"
        label_text, _, mark = split_published_status(row.status_en)
        published_code = PUBLISHED_OUTPUT_STATUS.get(label_text, f"unknown label '{label_text}'")
        if row.output_id not in computed.index:
            findings.append(_row("unknown_output", source, row.output_id, "output_id", row.output_id, "",
                                 "lfm_output"))
            continue
        mine = computed.loc[row.output_id]
        if published_code != mine["status"]:
            note, fields = "", {}
            if mine["status"] == "not_measured":  # no indicator has a value: §155 cannot judge it
                note, fields = "output_not_measured", {"n": mine["n_indicators"], "status": mine["status"]}
            elif mine["n_achieved"] + mine["n_in_progress"] == 0:
                note, fields = "no_indicator_progress", {"n": mine["n_indicators"], "status": mine["status"]}
            findings.append(_row("output_status", source, row.output_id, "status", row.status_en, mine["status"],
                                 "output_status_155", note, **fields))
        if bool(mark) != bool(mine["scheduled_after_cutoff"]):
            findings.append(_row("scheduled_mark", source, row.output_id, "scheduled_after_cutoff",
                                 mark or "(no mark)", bool(mine["scheduled_after_cutoff"]),
                                 "output_scheduled_mark", "recovered_pace" if mark else ""))
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
                                 "lfm_outcome_indicator"))
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
                note = {("¿?", "NA"): "published_unknown_waits_for_output",
                        ("NA", "¿?"): "published_not_applicable_no_data"}.get((raw, shown), "")
                findings.append(_row("outcome_value", source, row.indicator_id, "current", raw, shown,
                                     "outcome_from_ficha", note))
        else:
            number = parse_published_number(raw)
            if pd.isna(mine_value) or number != round_half_up(float(mine_value)):
                findings.append(_row("outcome_value", source, row.indicator_id, "current", raw, shown,
                                     "outcome_from_ficha"))
        label_text, _, _ = split_published_status(row.status_es)
        published_code = PUBLISHED_INDICATOR_STATUS.get(label_text, f"unknown label '{label_text}'")
        if published_code != mine["status"]:
            note, fields = "", {}
            if raw == "¿?" and published_code != "not_measured":
                note = "unknown_value_has_no_status"
            elif mine["status"] == "achieved":
                note, fields = "reaches_target", {"current": shown, "target": row.target_raw}
            findings.append(_row("outcome_indicator_status", source, row.indicator_id, "status", row.status_es,
                                 mine["status"], "outcome_indicator_status_157", note, **fields))
    return findings


def audit_table2(published: pd.DataFrame, outcomes: pd.DataFrame, indicators: pd.DataFrame | None = None
                 ) -> list[dict]:
    """Table 2: the status of each outcome against §158 applied to the computed indicators. Where they differ,
    the note cites the paragraph that decides ours: §158 (not assessed: data insufficient) or §157 (an
    indicator waits for an output not delivered, ``waits_for_output`` of the outcome table)."""
    findings = []
    computed = outcomes.set_index("outcome_id")
    waiting = pd.DataFrame(columns=["outcome_id", "indicator_id", "waits_for_output"])
    if indicators is not None and "waits_for_output" in indicators.columns:
        waiting = indicators[indicators["waits_for_output"].fillna("").astype(str).ne("")]
    for row in published.itertuples():
        source = f"Table 2 L{row.source_line}"
        label_text, _, _ = split_published_status(row.status_en)
        published_code = PUBLISHED_OUTCOME_STATUS.get(label_text, f"unknown label '{label_text}'")
        if row.outcome_id not in computed.index:
            findings.append(_row("unknown_outcome", source, row.outcome_id, "outcome_id", row.outcome_id, "",
                                 "lfm_outcome"))
            continue
        mine = computed.loc[row.outcome_id]
        if published_code != mine["status"]:
            note, fields = "", {}
            waits = waiting[waiting["outcome_id"].astype(str) == str(row.outcome_id)]
            if mine["status"] == "not_measured" and mine["n_not_measured"]:
                note, fields = "outcome_not_assessed", {"n": mine["n_not_measured"], "total": mine["n_indicators"]}
            elif mine["status"] == "no_progress" and len(waits):
                note, fields = "outcome_waits_for_output_157", {
                    "indicators": ", ".join(waits["indicator_id"].astype(str)),
                    "outputs": ", ".join(dict.fromkeys(waits["waits_for_output"].astype(str)))}
            findings.append(_row("outcome_status", source, row.outcome_id, "status", row.status_en, mine["status"],
                                 "outcome_status_158", note, **fields))
    return findings


def audit_reference_periods(published: pd.DataFrame, indicators: pd.DataFrame, cutoff: str | None = None
                            ) -> list[dict]:
    """Annex 17 presents every value "as of" the cut-off; where the indicator's ficha (Annex 14) dates its value
    to another period (``period_differs`` of the outcome table), one row citing the ficha's line and text."""
    if "period_differs" not in indicators.columns:
        return []
    lines = dict(zip(published["indicator_id"], published["source_line"])) if len(published) else {}
    findings = []
    for row in indicators.to_dict("records"):
        if str(row["period_differs"]).lower() != "true":
            continue
        line = lines.get(row["indicator_id"])
        findings.append(_row("reference_period", f"Annex 17 L{line}" if line else "Annex 17", row["indicator_id"],
                             "reference_period", cutoff or "", row["ficha_period"], "reference_period_ficha",
                             "ficha_period", period=row["ficha_period"], place=row["ficha_period_source"],
                             cutoff=cutoff or "—"))
    return findings


def audit_judgement_bases(covid_risk: pd.DataFrame | None, fichas: dict | None = None) -> list[dict]:
    """The judgements the drop takes from the evaluators (Covid-19 risk per output, fichas declared not
    measurable) each quote a sentence of the report (``basis``). One row where that sentence does not support
    the judgement (``supports`` = no) or where a ficha gives no sentence ("none: ..." or nothing)."""
    findings = []
    if covid_risk is not None and "supports" in covid_risk.columns:
        for row in covid_risk.to_dict("records"):
            if str(row.get("supports", "")).strip().lower() == "no":
                findings.append(_row("judgement_basis", str(row.get("source", "")), row["output_id"], "covid_risk",
                                     "", str(row["covid_risk"] == "yes"), "judgement_basis",
                                     "covid_judgement_unsupported",
                                     basis=row.get("basis", "")))
    for indicator_id, ficha in (fichas or {}).items():
        calculation = ficha.calculation
        if calculation.get("method") != "not_measured" or calculation.get("requires_output"):
            continue
        basis = str(calculation.get("basis") or "").strip()
        if not basis.startswith("§"):
            findings.append(_row("judgement_basis", "Annex 17", indicator_id, "status", "", "not_measured",
                                 "judgement_basis", "not_measured_unsupported", ficha=ficha.path,
                                 why=basis.removeprefix("none:").strip() or "—"))
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
                                     "lfm_row_count", "quote", quote=claim.quote))
        elif claim.measure in ("n", "pct"):
            if subject not in computed:
                continue
            tally = _tally(computed[subject]["status"], codes[subject])
            total = len(computed[subject])
            n = tally.get(claim.item_id, 0)
            mine = n if claim.measure == "n" else round_half_up(100 * n / total)
            if value != mine:
                own = _tally(published[subject], codes[subject]).get(claim.item_id, 0) if subject in published else None
                note, fields = "quote_sentence", {"quote": claim.quote, "total": total}
                if own is not None:
                    note += "+published_table_shows"
                    fields["shown"] = own
                if claim.measure == "pct":
                    stated = claims[(claims["subject"] == subject) & (claims["item_id"] == claim.item_id)
                                    & (claims["measure"] == "n")]
                    if len(stated):
                        stated_n = float(stated["value"].iloc[0])
                        note += "+own_count_share"
                        fields.update(stated=f"{stated_n:g}", share=f"{100 * stated_n / total:.1f}")
                findings.append(_row(f"narrative_{claim.measure}", source, f"{subject}:{claim.item_id}",
                                     claim.measure, claim.value, mine, "status_counts_154_158", note, **fields))
        elif claim.measure in ("current", "progress_pct"):
            table = computed.get(single.get(subject, ""))
            if table is None or claim.item_id not in set(table["indicator_id"]):
                continue
            mine_row = table.set_index("indicator_id").loc[claim.item_id]
            raw = mine_row["current"] if claim.measure == "current" else mine_row["progress_pct"]
            mine = float("nan") if pd.isna(raw) else round_half_up(float(raw))
            if value != mine:
                findings.append(_row(f"narrative_{claim.measure}", source, claim.item_id, claim.measure,
                                     claim.value, mine, "narrative_vs_computed", "quote", quote=claim.quote))
    return findings


def consistency_audit(raw_dir: Path, indicators: pd.DataFrame, outputs: pd.DataFrame, lfm_counts: dict[str, int],
                      outcome_indicators: pd.DataFrame | None = None, outcomes: pd.DataFrame | None = None,
                      cutoff: str | None = None) -> pd.DataFrame:
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
        rows += audit_reference_periods(published["annex17_outcome_indicators"], outcome_indicators, cutoff)
        computed["outcome_indicators"] = outcome_indicators
        statuses["outcome_indicators"] = _published_codes(published["annex17_outcome_indicators"], "status_es",
                                                          PUBLISHED_INDICATOR_STATUS)
    if outcomes is not None and "table2_outcome_status" in published:
        rows += audit_table2(published["table2_outcome_status"], outcomes, outcome_indicators)
        computed["outcomes"] = outcomes
        statuses["outcomes"] = _published_codes(published["table2_outcome_status"], "status_en",
                                                PUBLISHED_OUTCOME_STATUS)
    rows += audit_narrative(published["narrative_claims"], computed, statuses, lfm_counts)
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


# ------------------------------------------------------------------------------ in words --

_PLACE = [(re.compile(r"\bAnnex (\d+)"), "annex"), (re.compile(r"\bTable (\d+)"), "table"),
          (re.compile(r"\bFinding (\d+)"), "finding"), (re.compile(r"\bOutput (\d+(?:\.\d+)*)"), "output"),
          (re.compile(r"\bOutcome (\d+(?:\.\d+)*)"), "outcome"), (re.compile(r"\bL(\d+)\b"), "line"),
          (re.compile(r"\bConclusion (\d+)"), "claims.place.conclusion")]
_CLAIM_ID = re.compile(r"\s*\([A-Za-z0-9_]+\)$")
SUBJECTS = ("output_indicators", "outputs", "outcome_indicators", "outcomes")


def place_text(source: str, lang: str) -> str:
    """Where in the report a row is: "Annex 16 L2104" -> "Anexo 16, línea 2104"; the claim's id is left out."""
    text = _CLAIM_ID.sub("", str(source))
    for pattern, key in _PLACE:
        text = pattern.sub(lambda m, key=key: i18n.t(key if "." in key else f"audit.place.{key}", lang, n=m.group(1)), text)
    return text


def item_text(item: str, lang: str) -> str:
    """An item: an id as it is; a narrative subject ("outputs:not_delivered") in words."""
    subject, _, status = str(item).partition(":")
    space, dot, rest = subject.partition(".")
    if dot and i18n.has(f"{space}.subject.{rest}", lang):  # a namespaced subject: smart.output_indicators:good
        words = i18n.t(f"{space}.subject.{rest}", lang)
        key = f"{space}.class.{status}"
        return words + (": " + (i18n.t(key, lang) if i18n.has(key, lang) else label(status, lang)) if status else "")
    if subject not in SUBJECTS:
        return str(item)
    words = i18n.t(f"audit.subject.{subject}", lang)
    if status:
        words += ": " + (i18n.t("audit.subject.measured", lang) if status == "measured" else label(status, lang))
    return words


def field_text(field: str, lang: str, finance_words=None) -> str:
    """The compared field in words (the workbook's words for it); a finance field "<period> <measure>" with the
    finance tables' words."""
    shown = {"n_total": "total"}.get(field, field)  # a narrative's total is the workbook's "total"
    space, dot, rest = str(field).partition(".")
    for key in (f"workbook.field_{shown}", f"audit.field.{shown}", *((f"{space}.field.{rest}",) if dot else ())):
        if i18n.has(key, lang):
            return i18n.t(key, lang)
    words = finance_words or {}
    return " ".join(words.get(part, part) for part in str(field).split())


def value_text(value: object, lang: str) -> str:
    """A compared value: a status code by its label, True/False/(no mark) in words, nothing as "—"."""
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    if text in ("", "nan", "None"):
        return "—"
    special = {"True": "workbook.yes", "False": "workbook.no", "(no mark)": "audit.value.no_mark"}
    if text in special:
        return i18n.t(special[text], lang)
    return label(text, lang)


def check_text(check: str, lang: str) -> str:
    """A check code in words: ``workbook.check_<code>``, or ``<space>.check.<rest>`` for a namespaced code."""
    space, dot, rest = str(check).partition(".")
    key = f"{space}.check.{rest}" if dot else f"workbook.check_{check}"
    return i18n.t(key, lang) if i18n.has(key, lang) else str(check)


def in_words(findings: pd.DataFrame, lang: str, finance_words=None) -> pd.DataFrame:
    """The audit table for a reader in ``lang``: rule and note from the catalog, the place in the report, the
    item, the field and the computed value in words. The codes (check, rule_code, note_code) stay as they are."""
    out = findings.copy()
    if out.empty:
        return out
    for column in ("rule_code", "note_code", "note_fields"):
        if column not in out.columns:
            out[column] = ""
    records = out.fillna("").to_dict("records")
    out["check"] = [check_text(r["check"], lang) for r in records]
    out["source"] = [place_text(r["source"], lang) for r in records]
    out["item_id"] = [item_text(r["item_id"], lang) for r in records]
    out["field"] = [field_text(r["field"], lang, finance_words) for r in records]
    out["computed_value"] = [value_text(r["computed_value"], lang) for r in records]
    out["published_value"] = [i18n.t("audit.value.no_mark", lang) if r["published_value"] == "(no mark)"
                              else label(str(r["published_value"]), lang) or "—" for r in records]
    out["rule"] = [rule_text(r["rule_code"], lang) if r["rule_code"] else r["rule"] for r in records]
    out["note"] = [note_text(r["note_code"], json.loads(r["note_fields"] or "{}"), lang, finance_words)
                   if r["rule_code"]
                   else r["note"] for r in records]
    return out
