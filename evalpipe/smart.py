"""Annexes 12 and 13: the evaluators' SMART assessment of the 48 output and 38 outcome indicators.

The assessment is a judgement of the evaluators, carried into the drop as printed
(``published_report/annex12_13_smart.csv``: the five marks, the verdict marker, the comment) with the criteria
the comment says are met (``met_per_comment``, read by hand) and the class the annexes' own note gives them:
``good`` (all five criteria), ``acceptable`` (at least S, M and R), ``not_functional`` (fails S, M or R).

The pipeline counts the classes from the comments' reading (the printed X marks were shifted by the PDF's cell
layout and merged rows carry none; ``data/raw/README.md`` says why), shows what the marks would give beside
it, and audits: each row whose marks contradict its own comment, and the narrative's counts, percentages and
fractions (§116-118, Finding 8, Conclusion 2, in ``published_report/smart_claims.csv``).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd

from .errors import InputError
from .outputs import round_half_up

SMART_FILE = "annex12_13_smart.csv"
CLAIMS_FILE = "smart_claims.csv"
CRITERIA = "SMART"
CLASSES = ("good", "acceptable", "not_functional")
NOT_GOOD = "not_good"  # acceptable + not functional: "do not comply with being a good indicator" (§116)
UNMARKED = "unmarked"  # a row with no X printed (merged cells): the marks give it no class
LEVELS = {"output": "12", "outcome": "13"}
COLUMNS = ("indicator_id", "level", "annex", "n_published", "source_line", *CRITERIA, "verdict_marker",
           "met_per_comment", "smart_class", "comment_shared_group", "comment_verdict", "comment", "notes")
CLAIM_COLUMNS = ("claim_id", "section", "source_line", "subject", "item_id", "measure", "value", "quote")
SUBJECT_LEVEL = {"smart_output_indicators": "output", "smart_outcome_indicators": "outcome",
                 "smart_indicators": "all"}
SIMPLE_FRACTIONS = tuple(sorted({Fraction(n, d) for d in (1, 2, 3, 4) for n in range(d + 1)}))


def smart_class(met: str) -> str:
    """The class by the annexes' note: all five met -> good; at least S, M and R -> acceptable; else not
    functional."""
    met = set(met)
    if met >= set(CRITERIA):
        return "good"
    return "acceptable" if met >= set("SMR") else "not_functional"


def marks(row) -> str:
    """The criteria marked X in the printed row, in SMART order ("" when the row has no marks)."""
    return "".join(c for c in CRITERIA if str(row[c]).strip().upper() == "X")


def load(published_dir: Path) -> pd.DataFrame | None:
    """The SMART table of the drop, checked; None when the drop has none (nothing to count or audit)."""
    from .audit import read_published_file

    table = read_published_file(published_dir, SMART_FILE, COLUMNS)
    if table is None:
        return None
    name = f"published_report/{SMART_FILE}"
    for index, row in table.iterrows():
        line = index + 2
        if row["level"] not in LEVELS:
            raise InputError(name, "output or outcome", row=line, column="level", found=row["level"])
        for criterion in CRITERIA:
            if row[criterion].strip().upper() not in ("X", ""):
                raise InputError(name, "X or empty (the mark as printed)", row=line, column=criterion,
                                 found=row[criterion])
        met = row["met_per_comment"]
        if any(c not in CRITERIA for c in met) or "".join(c for c in CRITERIA if c in met) != met:
            raise InputError(name, "the criteria the comment says are met, in SMART order (e.g. SMAT)", row=line,
                             column="met_per_comment", found=met)
        if row["smart_class"] != smart_class(met):
            raise InputError(name, f"{smart_class(met)} (the annexes' note applied to met_per_comment {met})",
                             row=line, column="smart_class", found=row["smart_class"])
    duplicated = table[table.duplicated(["level", "indicator_id"])]
    if len(duplicated):
        raise InputError(name, "each indicator once per level", row=int(duplicated.index[0]) + 2,
                         column="indicator_id", found=duplicated["indicator_id"].iloc[0])
    return table


def load_claims(published_dir: Path, name: str = CLAIMS_FILE) -> pd.DataFrame:
    """A claims file in the narrative-claims format with ``source_line``; empty when the drop has none."""
    from .audit import read_published_file

    table = read_published_file(published_dir, name, CLAIM_COLUMNS)
    return table if table is not None else pd.DataFrame(columns=CLAIM_COLUMNS)


def _share(n: int, total: int) -> float:
    return round_half_up(100 * n / total, 1) if total else float("nan")


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares of each class by level (output, outcome, all): by the comments (the reading used) and,
    beside it, by the printed marks (rows without marks are ``unmarked``)."""
    table = table.assign(by_comment=table["smart_class"],
                         by_marks=[smart_class(m) if m else UNMARKED for m in (marks(r) for _, r in table.iterrows())])
    rows = []
    for level in ("output", "outcome", "all"):
        part = table if level == "all" else table[table["level"] == level]
        total = len(part)
        for cls in (*CLASSES, NOT_GOOD, UNMARKED):
            pick = (lambda s: s.isin(("acceptable", "not_functional"))) if cls == NOT_GOOD else (lambda s: s.eq(cls))
            n, n_marks = int(pick(part["by_comment"]).sum()), int(pick(part["by_marks"]).sum())
            rows.append({"level": level, "smart_class": cls, "n": n, "total": total, "share_pct": _share(n, total),
                         "n_by_marks": n_marks, "share_pct_by_marks": _share(n_marks, total)})
    return pd.DataFrame(rows)


def audit_marks(table: pd.DataFrame) -> list[dict]:
    """Each row whose printed marks contradict its own comment (or carry no mark at all)."""
    from .audit import finding

    rows = []
    for _, row in table.iterrows():
        printed, said = marks(row), row["met_per_comment"]
        if printed == said:
            continue
        source = f"Annex {row['annex'] or LEVELS[row['level']]} L{row['source_line']}"
        fields = {"quote": row["comment_verdict"], "comment_class": row["smart_class"]}
        if printed:
            note = "smart.marks_contradict"
            fields["marks_class"] = smart_class(printed)
        else:
            note = "smart.no_marks"
        rows.append(finding("smart.marks_vs_comment", source, row["indicator_id"], "smart.criteria",
                            " ".join(printed) or "(no mark)", " ".join(said), "smart.comment_reading", note,
                            **fields))
    return rows


def nearest_fraction(share: float) -> Fraction:
    """The simple fraction (halves, thirds, quarters) nearest to a share in per cent."""
    return min(SIMPLE_FRACTIONS, key=lambda f: (abs(float(f) * 100 - share), f))


def audit_claims(claims: pd.DataFrame, table: pd.DataFrame) -> list[dict]:
    """The narrative's SMART figures against the counts by class: a count, a percentage (as rounded in print),
    a fraction ("a third": the simple fraction nearest the share)."""
    from .audit import finding

    counts = summary(table).set_index(["level", "smart_class"])
    rows = []
    for claim in claims.itertuples():
        level = SUBJECT_LEVEL.get(claim.subject)
        if level is None or (level, claim.item_id) not in counts.index:
            continue
        mine = counts.loc[(level, claim.item_id)]
        n, total = int(mine["n"]), int(mine["total"])
        source = f"{claim.section} L{claim.source_line} ({claim.claim_id})"
        item = f"smart.{claim.subject.removeprefix('smart_')}:{claim.item_id}"
        fields = {"quote": claim.quote, "total": total, "marks_n": int(mine["n_by_marks"])}
        if claim.measure == "n":
            if float(claim.value) != n:
                rows.append(finding("smart.narrative_n", source, item, "n", claim.value, n, "smart.counts_by_note",
                                    "smart.quote_marks_give", **fields))
        elif claim.measure == "pct":
            decimals = len(claim.value.partition(".")[2])
            own = round_half_up(100 * n / total, decimals)
            if float(claim.value) != own:
                rows.append(finding("smart.narrative_pct", source, item, "pct", claim.value, f"{own:g}",
                                    "smart.counts_by_note", "smart.quote_share", n=n, **fields))
        elif claim.measure == "fraction":
            share = 100 * n / total
            nearest = nearest_fraction(share)
            if Fraction(claim.value) != nearest:
                rows.append(finding("smart.narrative_fraction", source, item, "smart.share", claim.value, str(nearest),
                                    "smart.fraction_nearest", "smart.quote_fraction", n=n,
                                    share=f"{share:.1f}", **fields))
    return rows


def findings(published_dir: Path) -> list[dict]:
    """Every SMART row of the audit table (none when the drop has no SMART table)."""
    table = load(published_dir)
    if table is None:
        return []
    return audit_marks(table) + audit_claims(load_claims(published_dir), table)


SUMMARY_HEADERS = ("level", "smart_class", "n", "total", "share_pct", "n_by_marks", "share_pct_by_marks")


def summary_in_words(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The summary for a reader in ``lang``: levels, classes and headers in words (catalog ``smart.``)."""
    from . import i18n

    out = table.copy()
    out["level"] = [i18n.t(f"smart.level.{v}", lang) for v in out["level"]]
    out["smart_class"] = [i18n.t(f"smart.class.{v}", lang) for v in out["smart_class"]]
    return out.rename(columns={c: i18n.t(f"smart.header.{c}", lang) for c in SUMMARY_HEADERS})


def annex_block(tables_dir: Path, lang: str) -> dict:
    """The annex's SMART summary (audit section), words and numbers ready to print: title, intro, headers and
    one row per level and class; no rows when the run has no ``tables/smart_summary.csv``."""
    from . import i18n
    from .style import format_number

    path = Path(tables_dir) / "smart_summary.csv"
    block = {"title": i18n.t("smart.annex.title", lang), "intro": i18n.t("smart.annex.intro", lang),
             "headers": [i18n.t(f"smart.header.{c}", lang) for c in SUMMARY_HEADERS], "rows": []}
    block["indicators"] = annex_indicators(tables_dir, lang)
    block["indicators_intro"] = i18n.t("smart.annex.indicators_intro", lang)
    if not path.exists():
        return block
    table = pd.read_csv(path, dtype={"level": str, "smart_class": str})
    words = summary_in_words(table[list(SUMMARY_HEADERS)], lang)
    block["rows"] = [[str(v) if i < 2 else format_number(v, 1) for i, v in enumerate(row)]
                     for row in words.itertuples(index=False)]
    return block


# the comments of Annexes 12-13 as the drop has them (the report prints them in Spanish): shown as written,
# tagged with this language in the annex
COMMENT_LANG = "es"
INDICATOR_COLUMNS = ("level", "annex", "indicator_id", "source_line", *CRITERIA, "smart_class", "comment_shared_group",
                     "comment")
INDICATORS_FILE = "smart_indicators.csv"


def indicator_table(table: pd.DataFrame) -> pd.DataFrame:
    """Annexes 12 and 13 one row per indicator: the five marks as printed (``X`` or empty), the class (by the
    comment, the reading used) and the comment as written; a row whose comment the report prints once for a
    group of rows (``comment_shared_group``) and that has none of its own carries the group's verdict sentence."""
    out = table.copy()
    out["annex"] = [a or LEVELS[level] for a, level in zip(out["annex"], out["level"])]
    for criterion in CRITERIA:
        out[criterion] = out[criterion].str.strip().str.upper()
    out["comment"] = [c.strip() or v.strip() for c, v in zip(out["comment"], out["comment_verdict"])]
    return out.reindex(columns=list(INDICATOR_COLUMNS)).reset_index(drop=True)


def annex_indicators(tables_dir: Path, lang: str) -> list[dict]:
    """The per-indicator tables of the annex (one for Annex 12, one for Annex 13): title, headers, rows
    (id, S, M, A, R, T as printed, the class in words, the comment as written); [] without
    ``tables/smart_indicators.csv``."""
    from . import i18n

    path = Path(tables_dir) / INDICATORS_FILE
    if not path.exists():
        return []
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    headers = [i18n.t("smart.header.indicator_id", lang), *CRITERIA, i18n.t("smart.header.smart_class", lang),
               i18n.t("smart.header.comment", lang)]
    blocks = []
    for level in LEVELS:
        part = table[table["level"] == level]
        if part.empty:
            continue
        blocks.append({"title": i18n.t(f"smart.annex.indicators_{level}", lang), "headers": headers,
                       "comment_lang": COMMENT_LANG,
                       "rows": [{"id": r["indicator_id"], "marks": [r[c] for c in CRITERIA],
                                 "class": i18n.t(f"smart.class.{r['smart_class']}", lang), "comment": r["comment"]}
                                for r in part.to_dict("records")]})
    return blocks
