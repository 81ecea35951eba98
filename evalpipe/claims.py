"""The narrative's claims against their own arithmetic and against the status tables.

* ``published_report/claim_sets.csv``: each printed set of "n (p %)" pairs (one sentence, one total as
  printed): every p is checked against n/total rounded as printed, the counts against the total, and the
  percentages of a set that covers its whole total (``adds_to_100 = yes``) against 100, allowing only what the
  rounding of each printed term can explain. Members are claim ids of ``narrative_claims.csv``,
  ``smart_claims.csv`` or ``status_claims.csv``.
* ``published_report/status_claims.csv``: places where the text names outputs or indicators with a status
  (``status``: one id; ``ids``: the complete list of the ids with a status) or counts them (``n``, ``pct``),
  checked against the run's status tables; a list of ids is also checked against the count the same
  sentence gives.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError
from .outputs import round_half_up
from .smart import CLAIM_COLUMNS, load_claims

SETS_FILE = "claim_sets.csv"
STATUS_FILE = "status_claims.csv"
SET_COLUMNS = ("set_id", "section", "source_line", "total", "members", "adds_to_100", "quote")
CLAIM_FILES = ("narrative_claims.csv", "smart_claims.csv", STATUS_FILE)
# The status table of each subject: (table, id column).
STATUS_TABLES = {"outputs": ("output_status", "output_id"), "output_indicators": ("output_indicators", "indicator_id"),
                 "outcomes": ("outcome_status", "outcome_id"),
                 "outcome_indicators": ("outcome_indicators", "indicator_id")}


def all_claims(published_dir: Path) -> pd.DataFrame:
    """Every claim of the drop's claim files, one table (``source_line`` empty where a file has none)."""
    parts = []
    for name in CLAIM_FILES:
        path = Path(published_dir) / name
        if path.exists():
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            parts.append(table.reindex(columns=CLAIM_COLUMNS, fill_value=""))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CLAIM_COLUMNS)


def load_sets(published_dir: Path) -> pd.DataFrame:
    from .audit import read_published_file

    table = read_published_file(published_dir, SETS_FILE, SET_COLUMNS)
    return table if table is not None else pd.DataFrame(columns=SET_COLUMNS)


def _item(subject: str, item: str) -> str:
    """The audit table's item: a narrative subject and status (``outputs:delivered``); SMART subjects namespaced."""
    shown = f"smart.{subject.removeprefix('smart_')}" if subject.startswith("smart_") else subject
    return f"{shown}:{item}" if item else shown


def _decimals(text: str) -> int:
    return len(str(text).strip().partition(".")[2])


def audit_sets(sets: pd.DataFrame, claims: pd.DataFrame) -> list[dict]:
    """Each printed set against its own arithmetic: p = n/total, counts add to the total, shares to 100."""
    from .audit import finding

    by_id = claims.set_index("claim_id")
    rows = []
    for index, group in sets.iterrows():
        members = str(group["members"]).split()
        unknown = [m for m in members if m not in by_id.index]
        if unknown:
            raise InputError(f"published_report/{SETS_FILE}", "claim ids of the drop's claim files", row=index + 2,
                             column="members", found=unknown[0])
        if group["adds_to_100"] not in ("yes", "no"):
            raise InputError(f"published_report/{SETS_FILE}", "yes or no", row=index + 2, column="adds_to_100",
                             found=group["adds_to_100"])
        mine = by_id.loc[members]
        subject = mine["subject"].iloc[0]
        total = float(group["total"])
        source = f"{group['section']} L{group['source_line']} ({group['set_id']})"
        counts = {c.item_id: float(c.value) for c in mine[mine["measure"] == "n"].itertuples()}
        shares = {c.item_id: c for c in mine[mine["measure"] == "pct"].itertuples()}
        for item, claim in shares.items():
            if item not in counts:
                continue
            exact = 100 * counts[item] / total
            own = round_half_up(exact, _decimals(claim.value))
            if float(claim.value) != own:
                rows.append(finding("claims.pair_arithmetic", source, _item(subject, item), "pct", claim.value,
                                    f"{own:g}", "claims.pct_of_printed_total", "claims.pair_exact",
                                    quote=claim.quote, n=f"{counts[item]:g}", total=f"{total:g}",
                                    exact=f"{exact:.1f}"))
        if group["adds_to_100"] != "yes":
            continue
        if counts and sum(counts.values()) != total:
            rows.append(finding("claims.counts_add_up", source, _item(subject, ""), "n",
                                " + ".join(f"{v:g}" for v in counts.values()), f"{total:g}",
                                "claims.counts_cover_total", "quote_sentence", quote=group["quote"]))
        printed = [float(c.value) for c in shares.values()]
        unprinted = {item: 100 * n / total for item, n in counts.items() if item not in shares}
        slack = sum(0.5 * 10 ** -_decimals(c.value) for c in shares.values())
        added = sum(printed) + sum(unprinted.values())
        if printed and abs(added - 100) > slack + 1e-9:
            note, fields = "claims.shares_sum", {"parts": " + ".join(f"{p:g}" for p in printed), "slack": f"{slack:g}",
                                                 "quote": group["quote"]}
            if unprinted:
                note += "+claims.unprinted_shares"
                fields["unprinted"] = " + ".join(f"{v:.1f}" for v in unprinted.values())
            rows.append(finding("claims.shares_add_up", source, _item(subject, ""), "pct", f"{added:.1f}".removesuffix(".0"),
                                "100", "claims.shares_add_to_100", note, **fields))
    return rows


def audit_status(claims: pd.DataFrame, tables: dict[str, pd.DataFrame],
                 published: dict[str, pd.DataFrame] | None = None) -> list[dict]:
    """Named statuses and lists of ids against the run's status tables (``tables``: output_status,
    output_indicators, outcome_status, outcome_indicators). ``published`` maps a subject to the published
    table's status codes by id (a Series), shown in the note where it differs from ours."""
    from .audit import finding

    published = published or {}
    rows = []
    for claim in claims.itertuples():
        if claim.subject not in STATUS_TABLES or claim.measure not in ("status", "ids"):
            continue
        name, key = STATUS_TABLES[claim.subject]
        if name not in tables:
            continue
        status = tables[name].set_index(key)["status"]
        shown = published.get(claim.subject)
        source = f"{claim.section} L{claim.source_line} ({claim.claim_id})"
        if claim.measure == "status":
            if claim.item_id not in status.index:
                rows.append(finding("claims.named_status", source, claim.item_id, "status", claim.value, "",
                                    "claims.status_by_rules", "claims.unknown_id", quote=claim.quote))
                continue
            mine = status.loc[claim.item_id]
            if mine != claim.value:
                note, fields = "quote_sentence", {"quote": claim.quote}
                if shown is not None and claim.item_id in shown.index:
                    note += "+claims.table_status"
                    fields["table_status"] = shown.loc[claim.item_id]
                rows.append(finding("claims.named_status", source, claim.item_id, "status", claim.value, mine,
                                    "claims.status_by_rules", note, **fields))
        else:
            named = set(str(claim.value).split())
            ours = set(status.index[status == claim.item_id])
            if named != ours:
                fields = {"quote": claim.quote, "missing": " ".join(sorted(ours - named)) or "—",
                          "extra": " ".join(sorted(named - ours)) or "—"}
                note = "claims.ids_differ"
                if shown is not None:
                    note += "+claims.table_ids"
                    fields["table_ids"] = " ".join(sorted(shown.index[shown == claim.item_id])) or "—"
                rows.append(finding("claims.named_ids", source, _item(claim.subject, claim.item_id), "claims.ids",
                                    " ".join(sorted(named)), " ".join(sorted(ours)), "claims.status_by_rules",
                                    note, **fields))
            stated = claims[(claims["section"] == claim.section) & (claims["subject"] == claim.subject)
                            & (claims["item_id"] == claim.item_id) & (claims["measure"] == "n")]
            if len(stated) and float(stated["value"].iloc[0]) != len(named):
                rows.append(finding("claims.names_vs_count", source, _item(claim.subject, claim.item_id),
                                    "claims.ids", " ".join(sorted(named)), stated["value"].iloc[0],
                                    "claims.names_match_count", "claims.names_count", quote=claim.quote,
                                    named=len(named), stated=stated["value"].iloc[0]))
    return rows


def audit_counts(claims: pd.DataFrame, computed: dict[str, pd.DataFrame], published: dict[str, pd.Series],
                 lfm_counts: dict[str, int]) -> list[dict]:
    """The status claims' counts and shares against the computed tables, as the narrative's are (one sentence at
    a time, so that a share is read with its own count); the place cites paragraph and line."""
    from .audit import audit_narrative

    rows = []
    counted = claims[claims["measure"].isin(("n", "pct", "n_total"))]
    for (section, line), group in counted.groupby(["section", "source_line"], sort=False):
        rows += audit_narrative(group.assign(section=f"{section} L{line}"), computed, published, lfm_counts)
    return rows


def findings(published_dir: Path, computed: dict[str, pd.DataFrame], lfm_counts: dict[str, int]) -> list[dict]:
    """Every claims row of the audit table: the sets' own arithmetic, then the status claims. ``computed``: the
    run's output_indicators, output_status, outcome_indicators and outcome_status tables."""
    from . import audit

    published_dir = Path(published_dir)
    claims = all_claims(published_dir)
    rows = audit_sets(load_sets(published_dir), claims)
    status_claims = load_claims(published_dir, STATUS_FILE)
    if status_claims.empty:
        return rows
    printed = audit.load_published(published_dir.parent)
    by_subject = {"outputs": ("table1_output_status", "output_id", "status_en", audit.PUBLISHED_OUTPUT_STATUS),
                  "output_indicators": ("annex16_output_indicators", "indicator_id", "status_es",
                                        audit.PUBLISHED_INDICATOR_STATUS),
                  "outcomes": ("table2_outcome_status", "outcome_id", "status_en", audit.PUBLISHED_OUTCOME_STATUS),
                  "outcome_indicators": ("annex17_outcome_indicators", "indicator_id", "status_es",
                                         audit.PUBLISHED_INDICATOR_STATUS)}
    shown = {}
    for subject, (name, key, column, mapping) in by_subject.items():
        table = printed[name]
        if len(table):
            shown[subject] = pd.Series(audit._published_codes(table, column, mapping).values, index=table[key])
    rows += audit_status(status_claims, computed, shown)
    by_subject_table = {"outputs": "output_status", "output_indicators": "output_indicators",
                        "outcomes": "outcome_status", "outcome_indicators": "outcome_indicators"}
    tables = {subject: computed[name] for subject, name in by_subject_table.items() if name in computed}
    rows += audit_counts(status_claims, tables, shown, lfm_counts)
    return rows
