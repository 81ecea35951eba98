"""Two published runs of one project compared: what changed between the earlier and the later cut-off.

``load_pair(root, run_a, run_b)`` reads both run folders and refuses (``CompareError``, one line, nothing
written) a run that does not exist, a run whose files no longer match its manifest (``runner.verify_run``) or
whose data drop changed since it ran, two runs of different projects (``lfm/project.yaml``'s ``symbol``), and a
second run that is not later than the first. ``compare(pair)`` computes every table in memory (pure pandas on
the runs' own tables, plus one in-process recomputation of the earlier cut-off on the later drop for the like-
for-like figures); ``write_comparison`` writes them with the figures; ``build_comparison`` / ``run_compare``
publish ``reports/compare-<a>-vs-<b>/`` atomically (``evalpipe.publish``), with or without the notebook
``notebooks/09_compare.ipynb``.

Every table holds stable codes (statuses, transitions ``in_progress->achieved``, ``added``/``dropped``,
``improved``/``unchanged``/``worsened``); labels come from the translation catalog (``compare.*``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, PipelineError
from .lfm import id_key
from .codes import INDICATOR_STATUSES, OUTCOME_STATUSES, OUTPUT_STATUSES
from .outputs import round_half_up

COMPARE_PREFIX = "compare-"
ABSENT = "absent"  # the indicator (output, outcome) is not in that run's logframe
ADDED, DROPPED, BOTH = "added", "dropped", "both"
IMPROVED, UNCHANGED, WORSENED, CHANGED = "improved", "unchanged", "worsened", "changed"
# How far along each status is, to say whether a transition is an improvement. ``not_measured`` ranks lowest:
# a measured value, whatever it is, says more than none.
RANK = {
    "output_indicator": {"not_measured": 0, "no_progress": 1, "in_progress": 2, "achieved": 3},
    "outcome_indicator": {"not_measured": 0, "no_progress": 1, "in_progress": 2, "achieved": 3},
    "output": {"not_measured": 0, "not_delivered": 1, "in_progress_at_risk": 2, "in_progress": 2, "delivered": 3},
    "outcome": {"not_measured": 0, "no_progress": 1, "in_progress": 2},
}
STATUS_CODES = {"output_indicator": INDICATOR_STATUSES, "outcome_indicator": INDICATOR_STATUSES,
                "output": OUTPUT_STATUSES, "outcome": OUTCOME_STATUSES}
LEVELS = tuple(RANK)
# level -> (run table, id column, parent column)
LEVEL_TABLES = {"output_indicator": ("output_indicators", "indicator_id", "output_id"),
                "outcome_indicator": ("outcome_indicators", "indicator_id", "outcome_id"),
                "output": ("output_status", "output_id", "component_id"),
                "outcome": ("outcome_status", "outcome_id", "component_id")}
# LFM columns whose change is a change of the indicator's definition (besides the ficha's calculo).
DEFINITION_FIELDS = {"output_indicator": ("output_id", "unit", "baseline", "target", "planned_start"),
                     "outcome_indicator": ("outcome_id", "unit", "baseline", "target")}
INPUT_STATES = (ADDED, "removed", CHANGED, UNCHANGED)
FIGURES = ("progress_dumbbell", "transition_matrix")
TABLE_NAMES = ("runs", "indicator_changes", "unit_changes", "transition_matrix", "transition_counts",
               "definition_changes", "like_for_like", "finance_changes", "input_changes", "input_change_counts",
               "recommendations", "recommendation_states", "recommendation_addressees")


class CompareError(PipelineError):
    """Two runs that cannot be compared (missing, changed since published, of different projects, in the
    wrong order); the message says which and what to do."""


def comparison_name(run_a: str, run_b: str) -> str:
    return f"{COMPARE_PREFIX}{run_a}-vs-{run_b}"


# ------------------------------------------------------------------------------------------- reading ----

@dataclass
class Run:
    """A published run as the comparison reads it: its manifest, tables and the drop it was made from."""

    name: str
    run_dir: Path
    manifest: dict
    raw_dir: Path
    raw_rel: str
    project: str
    tables: dict[str, pd.DataFrame]
    finance: dict[str, pd.DataFrame] | None
    manifest_sha256: str

    @property
    def cutoff(self) -> str:
        return str(self.manifest["cutoff"])

    @property
    def evaluation(self) -> str:
        return str(self.manifest["evaluation"])

    @property
    def drop_id(self) -> str:
        return str(self.manifest.get("data_drop", {}).get("drop_id", ""))


@dataclass
class Pair:
    root: Path
    a: Run
    b: Run

    @property
    def name(self) -> str:
        return comparison_name(self.a.name, self.b.name)


def _check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name.startswith(".") or name.startswith(COMPARE_PREFIX):
        raise CompareError(f"compare {name!r}: expected the name of a published run folder of reports/, "
                           "e.g. midterm-2020Q2")


def load_run(root: Path, name: str) -> Run:
    """A published run, checked: it exists, its files are what it published, its drop is what it read."""
    from . import runfolder
    from .drop import input_hashes, sha256_file
    from .lfm import load_project
    from .runner import verify_run

    _check_name(name)
    root = Path(root).resolve()
    run_dir = root / "reports" / name
    if not (run_dir / "manifest.json").is_file():
        raise CompareError(f"compare: no published run folder reports/{name}/ (run pipeline.py run first)")
    try:
        result = verify_run(run_dir, root)
    except InputError as exc:
        raise CompareError(f"compare: reports/{name}/ cannot be verified: {exc}") from None
    if not result.ok:
        first = result.lines()[0]
        raise CompareError(f"compare: reports/{name}/ does not match its manifest ({len(result.changed)} changed, "
                           f"{len(result.missing)} missing, {len(result.added)} added; first: {first}); "
                           f"`pipeline.py verify {name}` lists them, `pipeline.py run` re-runs the stages")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    raw_rel = str(manifest.get("parameters", {}).get("raw_dir", "data/raw"))
    raw_dir = (root / raw_rel).resolve()
    if not raw_dir.is_dir():
        raise CompareError(f"compare: the data drop {raw_rel}/ of reports/{name}/ is gone (the comparison reads "
                           "its logframe and fichas)")
    # The drop's documentation (README.md, …) is read by no stage, so a run does not re-run for it: a changed
    # README must not make a run incomparable until it is run again (it would never be).
    data = lambda hashes: {k: v for k, v in hashes.items() if not k.lower().endswith(".md")}  # noqa: E731
    now, then = data(input_hashes(raw_dir, root)), data(manifest.get("inputs_sha256", {}))
    if now != then:
        diff = sorted(k for k in set(now) | set(then) if now.get(k) != then.get(k))
        raise CompareError(f"compare: the data drop {raw_rel}/ changed since reports/{name}/ was made "
                           f"({len(diff)} files, first: {diff[0]}); run it again (pipeline.py run) before comparing")
    try:
        project = load_project(raw_dir, root).symbol
    except InputError as exc:
        raise CompareError(f"compare: reports/{name}/: {exc}") from None
    names = ("output_indicators", "output_status", "outcome_indicators", "outcome_status")
    try:
        tables = runfolder.read_tables(run_dir, names)
        finance = runfolder.read_finance(run_dir)
    except InputError as exc:
        raise CompareError(f"compare: reports/{name}/: {exc}") from None
    return Run(name, run_dir, manifest, raw_dir, raw_rel, str(project), tables, finance,
               sha256_file(run_dir / "manifest.json"))


def load_pair(root: Path, run_a: str, run_b: str) -> Pair:
    """Both runs, refused with one CompareError when they cannot be compared."""
    from .quarters import parse_quarter

    a, b = load_run(root, run_a), load_run(root, run_b)
    if a.project != b.project:
        raise CompareError(f"compare: reports/{run_a}/ is of project {a.project} and reports/{run_b}/ of project "
                           f"{b.project} (lfm/project.yaml, symbol): only two runs of one project can be compared")
    if parse_quarter(b.cutoff) <= parse_quarter(a.cutoff):
        raise CompareError(f"compare: the second run must have a later cut-off than the first; reports/{run_b}/ "
                           f"has {b.cutoff}, reports/{run_a}/ has {a.cutoff} (give the earlier run first)")
    return Pair(Path(root).resolve(), a, b)


# ------------------------------------------------------------------------------------------ changes -----

def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return number


def _progress(table: pd.DataFrame, level: str) -> pd.Series:
    """Progress in % of the target: the run's own column for output indicators; current / target for outcome
    indicators (as the outcome figure draws it)."""
    if level == "output_indicator":
        return table["progress_pct"].map(_number)
    return pd.Series([round_half_up(100.0 * _number(c) / _number(t), 1)
                      if not math.isnan(_number(c)) and _number(t) not in (0.0,) and not math.isnan(_number(t))
                      else float("nan") for c, t in zip(table["current"], table["target"])], index=table.index)


def direction(level: str, status_a: str, status_b: str) -> str:
    """``added``, ``dropped``, ``improved``, ``unchanged`` or ``worsened`` (by ``RANK``)."""
    if status_a == ABSENT:
        return ADDED
    if status_b == ABSENT:
        return DROPPED
    if status_a == status_b:
        return UNCHANGED
    rank = RANK[level]
    ra, rb = rank.get(status_a, -1), rank.get(status_b, -1)
    return IMPROVED if rb > ra else WORSENED if rb < ra else CHANGED


def transition(status_a: str, status_b: str) -> str:
    return f"{status_a}->{status_b}"


def indicator_changes(table_a: pd.DataFrame, table_b: pd.DataFrame, level: str) -> pd.DataFrame:
    """Every indicator of either run: value, progress and status at each cut-off, the change, the transition."""
    _, id_col, parent = LEVEL_TABLES[level]
    frames = []
    for table, side in ((table_a, "a"), (table_b, "b")):
        part = pd.DataFrame({"indicator_id": table[id_col], f"parent_id_{side}": table[parent],
                             f"value_{side}": table["current"].map(_number), f"target_{side}": table["target"].map(_number),
                             f"progress_{side}": _progress(table, level), f"status_{side}": table["status"]})
        frames.append(part)
    merged = frames[0].merge(frames[1], on="indicator_id", how="outer", indicator=True)
    merged["presence"] = merged.pop("_merge").map({"both": BOTH, "left_only": DROPPED, "right_only": ADDED}).astype(str)
    for side in ("a", "b"):
        merged[f"status_{side}"] = merged[f"status_{side}"].fillna(ABSENT)
    merged["parent_id"] = merged["parent_id_b"].fillna(merged["parent_id_a"])
    merged["value_change"] = (merged["value_b"] - merged["value_a"]).round(4)
    merged["progress_change"] = (merged["progress_b"] - merged["progress_a"]).round(1)
    merged["transition"] = [transition(a, b) for a, b in zip(merged["status_a"], merged["status_b"])]
    merged["direction"] = [direction(level, a, b) for a, b in zip(merged["status_a"], merged["status_b"])]
    merged.insert(0, "level", level)
    merged = _sorted(merged, "indicator_id")
    return merged[["level", "parent_id", "indicator_id", "presence", "value_a", "value_b", "value_change",
                   "target_a", "target_b", "progress_a", "progress_b", "progress_change", "status_a", "status_b",
                   "transition", "direction"]]


def unit_changes(table_a: pd.DataFrame, table_b: pd.DataFrame, level: str) -> pd.DataFrame:
    """Every output (or outcome) of either run: status at each cut-off and its transition."""
    _, id_col, parent = LEVEL_TABLES[level]
    cols = [id_col, parent, "status", "n_indicators", "n_achieved", "n_in_progress"]
    merged = table_a[cols].merge(table_b[cols], on=id_col, how="outer", suffixes=("_a", "_b"), indicator=True)
    merged["presence"] = merged.pop("_merge").map({"both": BOTH, "left_only": DROPPED, "right_only": ADDED}).astype(str)
    for side in ("a", "b"):
        merged[f"status_{side}"] = merged[f"status_{side}"].fillna(ABSENT)
    merged = merged.rename(columns={id_col: "unit_id"})
    merged["parent_id"] = merged[f"{parent}_b"].fillna(merged[f"{parent}_a"])
    merged["transition"] = [transition(a, b) for a, b in zip(merged["status_a"], merged["status_b"])]
    merged["direction"] = [direction(level, a, b) for a, b in zip(merged["status_a"], merged["status_b"])]
    merged.insert(0, "level", level)
    merged = _sorted(merged, "unit_id")
    return merged[["level", "parent_id", "unit_id", "presence", "status_a", "status_b", "n_indicators_a",
                   "n_indicators_b", "n_achieved_a", "n_achieved_b", "n_in_progress_a", "n_in_progress_b",
                   "transition", "direction"]]


def _sorted(table: pd.DataFrame, column: str) -> pd.DataFrame:
    return table.sort_values(column, key=lambda s: s.map(id_key), kind="stable").reset_index(drop=True)


def transition_matrix(changes: pd.DataFrame, level: str) -> pd.DataFrame:
    """Long form: for each (status at a, status at b), how many (zero included; ``absent`` for added/dropped)."""
    codes = [*STATUS_CODES[level], ABSENT]
    counts = changes.groupby(["status_a", "status_b"]).size()
    rows = [{"level": level, "status_a": sa, "status_b": sb, "n": int(counts.get((sa, sb), 0))}
            for sa in codes for sb in codes if not (sa == ABSENT and sb == ABSENT)]
    return pd.DataFrame(rows, columns=["level", "status_a", "status_b", "n"])


def transition_counts(changes: pd.DataFrame, level: str) -> pd.DataFrame:
    """How many improved, stayed, worsened, were added or dropped."""
    counts = changes["direction"].value_counts()
    return pd.DataFrame([{"level": level, "direction": d, "n": int(counts.get(d, 0))}
                         for d in (IMPROVED, UNCHANGED, WORSENED, CHANGED, ADDED, DROPPED)])


# ------------------------------------------------------------------------------------- definitions ------

def _lfm_table(raw_dir: Path, name: str) -> pd.DataFrame:
    from .lfm import load_logframe

    return getattr(load_logframe(Path(raw_dir) / "lfm"), name)


def _calculo(raw_dir: Path) -> dict[str, dict]:
    """Each outcome indicator's ``calculo`` as its ficha writes it (read safely, not run)."""
    from .fichas import FICHA_SUFFIXES, FICHAS_DIR
    from .safeyaml import load_yaml

    out = {}
    folder = Path(raw_dir) / FICHAS_DIR
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        if file.suffix.lower() in FICHA_SUFFIXES and not file.name.startswith(("~$", ".")):
            content = load_yaml(file, file.name)
            if isinstance(content, dict) and "indicador" in content:
                out[str(content["indicador"])] = content.get("calculo") or {}
    return out


def _yaml_text(value: dict) -> list[str]:
    import yaml

    return yaml.safe_dump(value, sort_keys=True, allow_unicode=True, default_flow_style=False).splitlines()


def calculo_diff(before: dict, after: dict, label_a: str = "a", label_b: str = "b") -> str:
    """A readable unified diff of two ``calculo`` mappings (keys sorted), '' when they are equal."""
    if before == after:
        return ""
    lines = difflib.unified_diff(_yaml_text(before), _yaml_text(after), f"calculo ({label_a})",
                                 f"calculo ({label_b})", lineterm="", n=3)
    return "\n".join(lines)


def _text_value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def definition_changes(raw_a: Path, raw_b: Path, label_a: str = "a", label_b: str = "b") -> pd.DataFrame:
    """Per indicator and field, what its definition was in each drop: LFM parent, unit, baseline, target
    (and planned start), the ficha's ``calculo``; ``presence`` rows for indicators in one logframe only."""
    rows = []
    calc_a, calc_b = _calculo(raw_a), _calculo(raw_b)
    for level, table_name in (("output_indicator", "output_indicators"), ("outcome_indicator", "outcome_indicators")):
        ta = _lfm_table(raw_a, table_name).set_index("indicator_id")
        tb = _lfm_table(raw_b, table_name).set_index("indicator_id")
        for indicator in sorted(set(ta.index) | set(tb.index), key=id_key):
            if indicator not in tb.index or indicator not in ta.index:
                state = DROPPED if indicator not in tb.index else ADDED
                rows.append({"level": level, "indicator_id": indicator, "field": "presence",
                             "value_a": "" if state == ADDED else "present",
                             "value_b": "" if state == DROPPED else "present", "change": state, "diff": ""})
                continue
            for name in DEFINITION_FIELDS[level]:
                if name not in ta.columns or name not in tb.columns:
                    continue
                va, vb = _text_value(ta.loc[indicator, name]), _text_value(tb.loc[indicator, name])
                if va != vb:
                    rows.append({"level": level, "indicator_id": indicator, "field": name, "value_a": va,
                                 "value_b": vb, "change": CHANGED, "diff": f"{name}: {va or '—'} -> {vb or '—'}"})
            if level == "outcome_indicator":
                before, after = calc_a.get(indicator, {}), calc_b.get(indicator, {})
                if before != after:
                    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                    rows.append({"level": level, "indicator_id": indicator, "field": "calculo",
                                 "value_a": ";".join(f"{k}" for k in changed), "value_b": ";".join(changed),
                                 "change": CHANGED, "diff": calculo_diff(before, after, label_a, label_b)})
    return pd.DataFrame(rows, columns=["level", "indicator_id", "field", "value_a", "value_b", "change", "diff"])


# ------------------------------------------------------------------------------------- like for like ----

def compute_indicators(raw_dir: Path, root: Path, cutoff: str, *, allow_outside: bool = False
                       ) -> dict[str, pd.DataFrame]:
    """The indicator stages' computation in memory (the library calls notebooks 01, 03 and 04 make): output
    indicators and statuses, outcome indicators and statuses of the drop ``raw_dir`` at ``cutoff``."""
    from . import fichas, methods, microdata, outcomes, outputs
    from .lfm import load_logframe
    from .progress import build_progress_table
    from .quarters import parse_quarter

    quarter = parse_quarter(cutoff)
    lfm = load_logframe(Path(raw_dir) / "lfm", root, allow_outside=allow_outside)
    progress, _, _ = build_progress_table(raw_dir, lfm, quarter, root, allow_outside=allow_outside)
    output_indicators = outputs.compute_output_indicators(progress, lfm, quarter)
    output_status = outputs.compute_output_status(output_indicators, lfm)
    tables = microdata.read_all_sources(raw_dir, root, allow_outside=allow_outside)
    sources = {k: t.source for k, t in tables.items()}
    context = methods.Context(quarter, {k: t.table for k, t in tables.items()},
                              {k: s.column_names for k, s in sources.items()}, output_indicators)
    specs = fichas.load_fichas(raw_dir, sources, lfm.outcome_indicators, root, lfm=lfm, allow_outside=allow_outside)
    indicators, _, _ = outcomes.compute_outcome_indicators(specs, context, lfm.outcome_indicators, output_status,
                                                           {k: s.file for k, s in sources.items()})
    return {"output_indicators": output_indicators, "output_status": output_status,
            "outcome_indicators": indicators, "outcome_status": outcomes.compute_outcome_status(indicators,
                                                                                                lfm.outcomes),
            "progress": progress}


def _earliest_quarter(progress: pd.DataFrame) -> str | None:
    from .quarters import parse_quarter

    quarters = progress.loc[progress["value"].notna(), "quarter"]
    return str(min(quarters, key=lambda q: parse_quarter(q).index)) if len(quarters) else None


def like_for_like(changes: pd.DataFrame, definitions: pd.DataFrame, recomputed: dict[str, pd.DataFrame] | None,
                  covered: bool) -> pd.DataFrame:
    """Per indicator of both runs: the published earlier figure, the comparable one (earlier cut-off, later
    definition, later drop's data), the later figure, and whether its definition changed.

    ``basis``: ``recomputed`` (comparable figures shown), ``not_covered`` (the later drop's data do not reach
    back to the earlier cut-off), ``added``/``dropped`` (in one logframe only: no comparison).
    """
    rows = []
    changed_fields = definitions[definitions["field"] != "presence"].groupby(["level", "indicator_id"])["field"].agg(
        lambda f: ";".join(sorted(set(f)))).to_dict()
    for row in changes.itertuples(index=False):
        level = row.level
        fields = changed_fields.get((level, row.indicator_id), "")
        record = {"level": level, "indicator_id": row.indicator_id, "definition_changed": bool(fields),
                  "changed_fields": fields, "published_value_a": row.value_a, "published_progress_a": row.progress_a,
                  "published_status_a": row.status_a, "comparable_value_a": float("nan"),
                  "comparable_progress_a": float("nan"), "comparable_status_a": "", "value_b": row.value_b,
                  "progress_b": row.progress_b, "status_b": row.status_b}
        if row.presence != BOTH:
            record["basis"] = row.presence
        elif recomputed is None or not covered:
            record["basis"] = "not_covered"
        else:
            table = recomputed["output_indicators" if level == "output_indicator" else "outcome_indicators"]
            match = table[table["indicator_id"] == row.indicator_id]
            if not len(match):
                record["basis"] = "not_covered"
            else:
                one = match.iloc[[0]].reset_index(drop=True)
                record["comparable_value_a"] = _number(one["current"].iloc[0])
                record["comparable_progress_a"] = float(_progress(one, level).iloc[0])
                record["comparable_status_a"] = str(one["status"].iloc[0])
                record["basis"] = "recomputed"
        rows.append(record)
    out = pd.DataFrame(rows)
    same = lambda x, y: (math.isnan(x) and math.isnan(y)) or (not math.isnan(x) and not math.isnan(y)  # noqa: E731
                                                               and abs(x - y) < 1e-9)
    out["change_published"] = (out["value_b"] - out["published_value_a"]).round(4)
    out["change_comparable"] = (out["value_b"] - out["comparable_value_a"]).round(4)
    out["data_revised"] = [basis == "recomputed" and not changed and not same(_number(p), _number(c))
                           for basis, changed, p, c in zip(out["basis"], out["definition_changed"],
                                                           out["published_value_a"], out["comparable_value_a"])]
    return out[["level", "indicator_id", "definition_changed", "changed_fields", "basis", "published_value_a",
                "comparable_value_a", "value_b", "change_published", "change_comparable", "published_progress_a",
                "comparable_progress_a", "progress_b", "published_status_a", "comparable_status_a", "status_b",
                "data_revised"]]


# ------------------------------------------------------------------------------------------ finance -----

FINANCE_LINE_TYPES = ("total", "component", "output")
FINANCE_MEASURES = {"programado": "programmed", "ejecutado": "executed", "execution_pct": "execution_pct"}


def _finance_wide(finance: dict[str, pd.DataFrame] | None, side: str) -> pd.DataFrame | None:
    from .codes import ACUMULADO

    if finance is None:
        return None
    table = finance["financial_execution"]
    table = table[table["line_type"].isin(FINANCE_LINE_TYPES) & (table["period"] == ACUMULADO)
                  & table["measure"].isin(list(FINANCE_MEASURES))]
    wide = table.pivot_table(index=["line", "line_type", "component_id", "output_id", "line_name_es",
                                    "line_name_en"], columns="measure", values="value", aggfunc="first", sort=False)
    wide = wide.rename(columns={k: f"{v}_{side}" for k, v in FINANCE_MEASURES.items()}).reset_index()
    wide.columns.name = None
    return wide


def finance_changes(finance_a: dict | None, finance_b: dict | None) -> pd.DataFrame:
    """Programmed, executed and execution % to each cut-off, by total, component and output, and what was
    executed in between (executed at b − executed at a). ``available``: ``both``, ``a_only``, ``b_only``."""
    columns = ["line", "line_type", "component_id", "output_id", "line_name_es", "line_name_en", "available",
               "programmed_a", "executed_a", "execution_pct_a", "programmed_b", "executed_b", "execution_pct_b",
               "executed_between", "programmed_change"]
    wa, wb = _finance_wide(finance_a, "a"), _finance_wide(finance_b, "b")
    if wa is None and wb is None:
        return pd.DataFrame(columns=columns)
    keys = ["line", "line_type", "component_id", "output_id", "line_name_es", "line_name_en"]
    if wa is None or wb is None:
        merged = (wa if wa is not None else wb).copy()
        merged["available"] = "a_only" if wa is not None else "b_only"
    else:
        merged = wa.merge(wb.drop(columns=["line_name_es", "line_name_en"]), on=keys[:4], how="outer",
                          indicator=True)
        merged["available"] = merged.pop("_merge").map({"both": BOTH, "left_only": "a_only",
                                                        "right_only": "b_only"}).astype(str)
    for column in columns:
        if column not in merged.columns:
            merged[column] = float("nan")
    merged["executed_between"] = (merged["executed_b"] - merged["executed_a"]).round(2)
    merged["programmed_change"] = (merged["programmed_b"] - merged["programmed_a"]).round(2)
    order = {t: i for i, t in enumerate(FINANCE_LINE_TYPES)}
    merged = merged.sort_values(["line_type", "line"], key=lambda s: s.map(order) if s.name == "line_type"
                                else s.map(id_key), kind="stable")
    return merged[columns].reset_index(drop=True)


# ------------------------------------------------------------------------------------------- inputs -----

def _category(path: str) -> str:
    parts = path.split("/")
    return parts[0] if len(parts) > 1 else "drop"


def input_changes(manifest_a: dict, manifest_b: dict) -> pd.DataFrame:
    """Every input file of either drop, by its path inside its drop: ``added``, ``removed``, ``changed`` or
    ``unchanged`` (by SHA-256, from the manifests)."""
    def relative(manifest: dict) -> dict[str, str]:
        raw = str(manifest.get("parameters", {}).get("raw_dir", "")).rstrip("/")
        return {(k[len(raw) + 1:] if raw and k.startswith(raw + "/") else k): v
                for k, v in manifest.get("inputs_sha256", {}).items()}

    ha, hb = relative(manifest_a), relative(manifest_b)
    rows = []
    for path in sorted(set(ha) | set(hb)):
        a, b = ha.get(path, ""), hb.get(path, "")
        state = ADDED if not a else "removed" if not b else UNCHANGED if a == b else CHANGED
        rows.append({"path": path, "category": _category(path), "state": state, "sha256_a": a, "sha256_b": b})
    return pd.DataFrame(rows, columns=["path", "category", "state", "sha256_a", "sha256_b"])


def input_change_counts(inputs: pd.DataFrame) -> pd.DataFrame:
    counts = inputs.groupby(["category", "state"]).size()
    categories = sorted(set(inputs["category"]))
    return pd.DataFrame([{"category": c, "state": s, "n": int(counts.get((c, s), 0))}
                         for c in categories for s in INPUT_STATES], columns=["category", "state", "n"])


# ------------------------------------------------------------------------------------------ together ----

@dataclass
class Comparison:
    pair: Pair
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    covered_from: str | None = None  # the later drop's first reported quarter


def compare(pair: Pair, *, recompute: bool = True) -> Comparison:
    """Every table of the comparison, computed from the two runs' tables, manifests and drops."""
    from .followup import by_addressee, load_recommendations, state_counts
    from .quarters import parse_quarter

    a, b = pair.a, pair.b
    changes = pd.concat([indicator_changes(a.tables[t], b.tables[t], level) for level, (t, _, _) in
                         LEVEL_TABLES.items() if level.endswith("indicator")], ignore_index=True)
    units = pd.concat([unit_changes(a.tables[t], b.tables[t], level) for level, (t, _, _) in LEVEL_TABLES.items()
                       if not level.endswith("indicator")], ignore_index=True)
    matrix = pd.concat([transition_matrix(changes[changes["level"] == lv], lv) for lv in LEVELS[:2]]
                       + [transition_matrix(units[units["level"] == lv], lv) for lv in LEVELS[2:]], ignore_index=True)
    counts = pd.concat([transition_counts(changes[changes["level"] == lv], lv) for lv in LEVELS[:2]]
                       + [transition_counts(units[units["level"] == lv], lv) for lv in LEVELS[2:]], ignore_index=True)
    definitions = definition_changes(a.raw_dir, b.raw_dir, a.name, b.name)
    recomputed, covered_from, covered = None, None, False
    if recompute:
        recomputed = compute_indicators(b.raw_dir, pair.root, a.cutoff,
                                        allow_outside=bool(b.manifest.get("parameters", {}).get("allow_outside_paths")))
        covered_from = _earliest_quarter(recomputed["progress"])
        covered = covered_from is not None and parse_quarter(covered_from) <= parse_quarter(a.cutoff)
    comparable = like_for_like(changes, definitions, recomputed, covered)
    recommendations = load_recommendations(b.raw_dir, pair.root)
    if recommendations is None:
        recommendations = pd.DataFrame(columns=["recommendation_id", "paragraph", "addressee", "priority",
                                                "summary_es", "summary_en", "response_es", "response_en", "state",
                                                "state_quarter"])
    inputs = input_changes(a.manifest, b.manifest)
    runs = pd.DataFrame([{"run": side, "name": r.name, "evaluation": r.evaluation, "cutoff": r.cutoff,
                          "project": r.project, "drop_id": r.drop_id, "raw_dir": r.raw_rel,
                          "manifest_sha256": r.manifest_sha256, "finance": r.finance is not None,
                          "reported_from": covered_from if side == "b" else ""}
                         for side, r in (("a", a), ("b", b))])
    tables = {"runs": runs, "indicator_changes": changes, "unit_changes": units, "transition_matrix": matrix,
              "transition_counts": counts, "definition_changes": definitions, "like_for_like": comparable,
              "finance_changes": finance_changes(a.finance, b.finance), "input_changes": inputs,
              "input_change_counts": input_change_counts(inputs), "recommendations": recommendations,
              "recommendation_states": state_counts(recommendations),
              "recommendation_addressees": by_addressee(recommendations) if len(recommendations) else
              pd.DataFrame(columns=["addressee", "state", "n"])}
    return Comparison(pair, tables, covered_from)


# ------------------------------------------------------------------------------------------ figures -----

def _t(key: str, lang: str, **fields) -> str:
    from .i18n import t

    return t(f"compare.{key}", lang, **fields)


def draw_progress_dumbbell(changes: pd.DataFrame, lang: str, cutoff_a: str, cutoff_b: str):
    """Progress (% of target) of every indicator at both cut-offs: one line per indicator, a dot each end."""
    from .style import OKABE_ITO, new_figure

    data = changes[changes["presence"] == BOTH]
    panels = [lv for lv in ("output_indicator", "outcome_indicator") if (data["level"] == lv).any()]
    if not panels:
        return None
    height = max(4.0, 0.16 * max((data["level"] == lv).sum() for lv in panels) + 1.5)
    figure = new_figure(height_in=height)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    cap = 200.0
    for ax, level in zip(axes, panels):
        part = data[data["level"] == level].iloc[::-1]
        y = range(len(part))
        pa = part["progress_a"].clip(upper=cap)
        pb = part["progress_b"].clip(upper=cap)
        for yi, x0, x1 in zip(y, pa, pb):
            if not (math.isnan(x0) or math.isnan(x1)):
                ax.plot([x0, x1], [yi, yi], color="#999999", linewidth=1, zorder=1)
        ax.scatter(pa, list(y), color=OKABE_ITO["sky_blue"], s=14, zorder=2, label=cutoff_a)
        ax.scatter(pb, list(y), color=OKABE_ITO["vermillion"], s=14, zorder=3, label=cutoff_b)
        ax.axvline(100, color="#555555", linestyle="--", linewidth=0.8)
        ax.set_yticks(list(y), part["indicator_id"].tolist(), fontsize=6)
        ax.set_xlim(0, cap * 1.02)
        ax.set_xlabel(_t("figure.progress_axis", lang))
        ax.set_title(_t(f"level.{level}", lang), fontsize=9)
    axes[0].legend(loc="lower right", fontsize=7)
    figure.suptitle(_t("figure.dumbbell_title", lang, a=cutoff_a, b=cutoff_b), fontsize=10)
    return figure


def draw_transition_matrix(matrix: pd.DataFrame, lang: str, cutoff_a: str, cutoff_b: str):
    """One heatmap per level: status at the earlier cut-off (rows) by status at the later one (columns)."""
    import seaborn as sns

    from .labels import label
    from .style import new_figure

    figure = new_figure(height_in=7.5)
    axes = figure.subplots(2, 2).ravel()
    for ax, level in zip(axes, LEVELS):
        part = matrix[matrix["level"] == level]
        codes = [c for c in [*STATUS_CODES[level], ABSENT]
                 if part.loc[(part["status_a"] == c) | (part["status_b"] == c), "n"].sum() > 0
                 or c in STATUS_CODES[level]]
        grid = part.pivot_table(index="status_a", columns="status_b", values="n", aggfunc="sum", fill_value=0)
        grid = grid.reindex(index=codes, columns=codes, fill_value=0)
        names = [label(c, lang) if c != ABSENT else _t("absent", lang) for c in codes]
        sns.heatmap(grid.to_numpy(), ax=ax, annot=True, fmt="d", cmap="Blues", cbar=False, xticklabels=names,
                    yticklabels=names, linewidths=0.5, linecolor="white", annot_kws={"fontsize": 7})
        ax.set_title(_t(f"level.{level}", lang), fontsize=9)
        ax.set_xlabel(cutoff_b, fontsize=8)
        ax.set_ylabel(cutoff_a, fontsize=8)
        ax.tick_params(labelsize=6)
    figure.suptitle(_t("figure.matrix_title", lang, a=cutoff_a, b=cutoff_b), fontsize=10)
    return figure


# ------------------------------------------------------------------------------------------ writing -----

def write_comparison(comparison: Comparison, out_dir: Path, lang: str = "es") -> list[Path]:
    """Write every table (``tables/<name>.csv``, with ``data_origin``) and figure (PNG and SVG) to ``out_dir``."""
    from .drop import load_drop
    from .export import write_table
    from .style import save_figure

    pair = comparison.pair
    drop = load_drop(pair.b.raw_dir, pair.root)
    if pair.a.manifest.get("data_drop", {}).get("data_origin") == "synthetic" and not drop.synthetic:
        drop = dataclasses.replace(drop, data_origin="synthetic")  # one synthetic side makes it all synthetic
    out_dir = Path(out_dir)
    written = [write_table(frame, out_dir / "tables" / f"{name}.csv", drop)
               for name, frame in comparison.tables.items()]
    suffix = "" if lang == "es" else f"_{lang}"
    a, b = pair.a.cutoff, pair.b.cutoff
    for name, figure in (("progress_dumbbell", draw_progress_dumbbell(comparison.tables["indicator_changes"], lang,
                                                                         a, b)),
                         ("transition_matrix", draw_transition_matrix(comparison.tables["transition_matrix"], lang,
                                                                      a, b))):
        if figure is not None:
            written += save_figure(figure, out_dir / "figures" / f"{name}{suffix}")
    return written


def comparison_manifest(pair: Pair, out_dir: Path, lang: str, run_dir: str) -> dict:
    """Both runs (name, cut-off, drop, SHA-256 of their manifests), the parameters, the software, and the
    SHA-256 of every file of the comparison (``outputs_sha256``, keyed by its published path)."""
    from .runner import _tree_hashes, git_commit, package_versions

    manifest = manifest_head(pair, lang, run_dir)
    manifest.update(software=package_versions(), git_commit=git_commit(pair.root),
                    outputs_sha256={f"{run_dir}/{k}": v for k, v in _tree_hashes(out_dir).items()})
    return manifest


def manifest_head(pair: Pair, lang: str, run_dir: str) -> dict:
    """What the comparison's manifest says about what was compared (the annex section reads it before the
    manifest, with the hashes of the files, is written)."""
    runs = {side: {"name": r.name, "evaluation": r.evaluation, "cutoff": r.cutoff, "project": r.project,
                   "drop_id": r.drop_id, "drop_date": str(r.manifest.get("data_drop", {}).get("drop_date", "")),
                   "data_origin": str(r.manifest.get("data_drop", {}).get("data_origin", "")),
                   "raw_dir": r.raw_rel, "manifest_sha256": r.manifest_sha256}
            for side, r in (("a", pair.a), ("b", pair.b))}
    return {"kind": "comparison", "label": pair.name, "project": pair.a.project,
            "parameters": {"run_a": pair.a.name, "run_b": pair.b.name, "lang": lang, "run_dir": run_dir},
            "runs": runs, "data_drop": pair.b.manifest.get("data_drop", {})}


NOTEBOOK = "09_compare.ipynb"


def build_comparison(root: Path, run_a: str, run_b: str, lang: str = "es", *, notebook: bool = True,
                     annex: bool = True, progress=print) -> Path:
    """Check both runs, build the comparison in ``reports/.staging/`` (executing ``notebooks/09_compare.ipynb``
    with papermill when ``notebook``, else in-process), typeset its annex section (``annex_compare.pdf``,
    ``annex_compare_en.pdf`` in English; ``evalpipe.compare_annex``) when ``annex``, and publish
    ``reports/compare-<a>-vs-<b>/`` only when all of it was written. Any failure leaves nothing behind. Returns the published folder."""
    from .i18n import LANGUAGES
    from .publish import RunLock, probe_writable, publish, recover

    if lang not in LANGUAGES:
        raise CompareError(f"compare --lang {lang!r}: expected one of {', '.join(LANGUAGES)}")
    root = Path(root).resolve()
    pair = load_pair(root, run_a, run_b)  # refused here: nothing written yet
    name = pair.name + ("" if lang == "es" else f"-{lang}")
    reports = root / "reports"
    final, staging = reports / name, reports / ".staging" / name
    probe_writable(reports, root)
    with RunLock(reports / f".{name}.lock"):
        recover(final, final.with_name(f".{name}.none"))
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        try:
            if notebook:
                _execute_notebook(root, pair, lang, staging, final, progress)
            else:
                write_comparison(compare(pair), staging, lang)
            if annex:
                from .compare_annex import build_compare_annex, compare_annex_pdf_path

                progress(f"[compare] typesetting {compare_annex_pdf_path(Path(), lang).name}")
                build_compare_annex(staging, lang, manifest=manifest_head(pair, lang, f"reports/{name}"),
                                    root=root)
            manifest = comparison_manifest(pair, staging, lang, f"reports/{name}")
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
            publish([(staging, final)], journal_for=final, root=root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            _remove_empty(staging.parent)
    progress(f"published reports/{name}/")
    return final


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _execute_notebook(root: Path, pair: Pair, lang: str, staging: Path, final: Path, progress) -> None:
    """Run ``notebooks/09_compare.ipynb`` with papermill into ``staging/notebooks/`` (markdown translated into
    ``lang``), the kernel on local IPC sockets as the pipeline's stages; then write its sanitised HTML."""
    import tempfile

    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from .runner import (HtmlExporter, _ipc_kernel_manager_class, _path_mapping, _relative, _replace_paths,
                         _working_directory, prose_in_language)

    source = root / "notebooks" / NOTEBOOK
    if not source.exists():
        raise CompareError(f"compare: notebooks/{NOTEBOOK} is missing (the comparison notebook)")
    executed = staging / "notebooks" / NOTEBOOK
    executed.parent.mkdir(parents=True)
    nbformat.write(prose_in_language(source, lang, progress), executed)
    socket_dir = Path(tempfile.mkdtemp(prefix="evalpipe-kernel-"))
    progress(f"[compare] running notebooks/{NOTEBOOK}")
    try:
        with _working_directory(root):
            pm.execute_notebook(_relative(executed, root), _relative(executed, root),
                                parameters={"run_a": pair.a.name, "run_b": pair.b.name, "lang": lang,
                                            "out_dir": _relative(staging, root)},
                                kernel_name="python3", progress_bar=False, log_output=False,
                                kernel_manager_class=_ipc_kernel_manager_class(socket_dir))
    except PapermillExecutionError as exc:
        raise CompareError(f"compare: notebooks/{NOTEBOOK}, cell {exc.exec_count}: {exc.ename}: "
                           f"{str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ''}; "
                           "nothing published") from None
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    _replace_paths(executed, _path_mapping(root, {staging: final}))
    HtmlExporter().write(executed, executed.with_suffix(".html"))


def run_compare(root: Path, run_a: str, run_b: str, lang: str = "es", progress=print) -> Path:
    """The comparison as the CLI runs it: the notebook executed with papermill into the comparison folder."""
    return build_comparison(root, run_a, run_b, lang, notebook=True, progress=progress)


# ------------------------------------------------------------------------------------------ annex -------

def read_comparison(comparison_dir: Path) -> dict[str, pd.DataFrame]:
    """The comparison's tables as written (codes as text, numbers as numbers)."""
    out = {}
    for name in TABLE_NAMES:
        path = Path(comparison_dir) / "tables" / f"{name}.csv"
        if path.exists():
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
            for column in table.columns:
                if column.startswith(("value", "progress", "target", "published_", "comparable_", "change_",
                                      "programmed", "executed", "execution_pct", "n")) \
                        and not column.endswith(("status_a", "status_b")) and column not in ("name",):
                    converted = pd.to_numeric(table[column].replace("", None), errors="coerce")
                    if converted.notna().sum() == table[column].ne("").sum():
                        table[column] = converted
            out[name] = table
    return out


def annex_section(comparison_dir: Path, lang: str | None = None, *, manifest: dict | None = None) -> dict:
    """What the annex's section «Avance desde la evaluación intermedia» / "Progress since the mid-term
    evaluation" shows: its title and lead, the tables (stable codes; the annex labels them with
    ``labels.label``), counts for the text, and the figures' files (drawn in the comparison's language; ``lang``
    defaults to it). ``manifest`` defaults to the comparison's ``manifest.json`` (pass it while building)."""
    comparison_dir = Path(comparison_dir)
    if manifest is None:
        manifest = json.loads((comparison_dir / "manifest.json").read_text(encoding="utf-8"))
    drawn = str(manifest.get("parameters", {}).get("lang", "es"))
    lang = lang or drawn
    tables = read_comparison(comparison_dir)
    a, b = manifest["runs"]["a"], manifest["runs"]["b"]
    counts = tables["transition_counts"]
    summary = {f"{row.level}.{row.direction}": int(row.n) for row in counts.itertuples()}
    like = tables["like_for_like"]
    suffix = "" if drawn == "es" else f"_{drawn}"
    return {
        "title": _t("annex.title", lang),
        "lead": _t("annex.lead", lang, a=a["cutoff"], b=b["cutoff"], run_a=a["name"], run_b=b["name"]),
        "runs": {"a": a, "b": b},
        "summary": summary,
        "definition_changes": int(like["definition_changed"].astype(str).eq("True").sum()),
        "tables": {name: tables[name] for name in ("indicator_changes", "unit_changes", "transition_matrix",
                                                    "like_for_like", "definition_changes", "finance_changes",
                                                    "input_change_counts", "recommendations",
                                                    "recommendation_states", "recommendation_addressees")
                   if name in tables},
        "figures": {name: comparison_dir / "figures" / f"{name}{suffix}.svg" for name in FIGURES
                    if (comparison_dir / "figures" / f"{name}{suffix}.svg").exists()},
    }
