"""The comparison's annex section, «Avance desde la evaluación intermedia» / "Progress since the mid-term
evaluation": the comparison folder's tables typeset by Typst as a PDF/A-2b file.

``compare_annex_data`` turns what ``compare.annex_section`` reads from a comparison folder into one JSON
document (every word from the catalog, ``compare.annex.*``; statuses labelled with ``labels.label``; numbers
already formatted); ``build_compare_annex`` writes it to ``<comparison>/annex/``, copies the templates
``templates/compare.typ`` and ``templates/common.typ`` (the annexes' shared look) beside it and compiles
``<comparison>/annex_compare.pdf`` (``annex_compare_en.pdf`` in English) with the fonts of the typst wheel only,
dated by the later drop (or ``SOURCE_DATE_EPOCH``): the same comparison gives the same bytes.
``compare.build_comparison`` calls it inside the comparison's atomic publication.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import i18n
from .drop import banner_text
from .export import restore_cell
from .labels import label
from .lfm import id_key
from .outputs import round_half_up
from .runfolder import fixed_timestamp, lang_suffix
from .style import STATUS_COLOURS, UNKNOWN_STATUS_COLOUR, format_number

ANNEX_DIR = "annex"
TEMPLATE = "compare.typ"
PDF_STEM = "annex_compare"
DIRECTIONS = ("improved", "unchanged", "worsened", "changed", "added", "dropped")
INPUT_STATES = ("added", "removed", "changed", "unchanged")


def compare_annex_pdf_path(comparison_dir: Path, lang: str = "es") -> Path:
    """``<comparison>/annex_compare.pdf`` in Spanish, ``annex_compare_en.pdf`` in English."""
    return Path(comparison_dir) / f"{PDF_STEM}{lang_suffix(lang)}.pdf"


def compare_annex_data_path(comparison_dir: Path, lang: str = "es") -> Path:
    return Path(comparison_dir) / ANNEX_DIR / f"{PDF_STEM}_data{lang_suffix(lang)}.json"


def _words(lang: str) -> i18n.CatalogView:
    return i18n.view("compare.annex.", lang)


def _text(value) -> str:
    """A text cell as written before the CSV export neutralised it for spreadsheets (a PDF runs nothing)."""
    return "" if _blank(value) else restore_cell(str(value))


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _number(value, digits: int = 2) -> str:
    return "—" if _blank(value) else format_number(value, digits)


def _signed(value, digits: int = 2) -> str:
    if _blank(value):
        return "—"
    text = format_number(value, digits)
    return f"+{text}" if float(value) > 0 else text


def _percent(value) -> str:
    return "—" if _blank(value) else f"{format_number(round_half_up(float(value)), 0)} %"


def _status(code: str, lang: str) -> dict[str, str]:
    """A status to show: its code (for the colour only) and its label; ``absent`` is "not in the logframe"."""
    from .compare import ABSENT, _t

    return {"code": code, "label": _t("absent", lang) if code == ABSENT else label(code, lang)}


# ----------------------------------------------------------------------------------------- sections -----

def _runs(section: dict, lang: str) -> list[list[str]]:
    w = _words(lang)
    a, b = section["runs"]["a"], section["runs"]["b"]

    def origin(run: dict) -> str:
        code = str(run.get("data_origin", ""))
        return i18n.t(f"annex.data_origin_{code}", lang) if i18n.has(f"annex.data_origin_{code}", lang) else "—"

    rows = [(w["run_name"], a["name"], b["name"]),
            (w["evaluation"], label(a["evaluation"], lang), label(b["evaluation"], lang)),
            (w["cutoff"], a["cutoff"], b["cutoff"]),
            (w["drop"], a.get("drop_id", ""), b.get("drop_id", "")),
            (w["drop_date"], a.get("drop_date", "") or "—", b.get("drop_date", "") or "—"),
            (w["data_origin"], origin(a), origin(b))]
    return [[str(c) for c in row] for row in rows]


def _summary(tables: dict[str, pd.DataFrame], lang: str) -> dict:
    """Per level (output indicators, outcome indicators, outputs, outcomes): how many moved which way."""
    from .compare import LEVELS, _t

    counts = tables["transition_counts"]
    shown = [d for d in DIRECTIONS if d not in ("changed",) or int(counts.loc[counts["direction"] == d, "n"].sum())]
    rows = []
    for level in LEVELS:
        part = counts[counts["level"] == level].set_index("direction")["n"]
        values = [int(part.get(d, 0)) for d in shown]
        rows.append({"level": _t(f"level.{level}", lang), "counts": [str(v) for v in values],
                     "total": str(int(part.sum()))})
    return {"directions": [_words(lang)["direction"][d] for d in shown], "rows": rows}


def _indicators(tables: dict[str, pd.DataFrame], lang: str) -> list[dict]:
    from .compare import _t

    w = _words(lang)
    changes = tables["indicator_changes"]
    out = []
    for level in ("output_indicator", "outcome_indicator"):
        part = changes[changes["level"] == level]
        out.append({"title": _t(f"level.{level}", lang), "rows": [{
            "id": str(r["indicator_id"]), "value_a": _number(r["value_a"]), "value_b": _number(r["value_b"]),
            "change": _signed(r["value_change"]), "progress_a": _percent(r["progress_a"]),
            "progress_b": _percent(r["progress_b"]), "status_a": _status(r["status_a"], lang),
            "status_b": _status(r["status_b"], lang), "direction": w["direction"][r["direction"]],
        } for r in part.to_dict("records")]})
    return out


def _units(tables: dict[str, pd.DataFrame], names: dict[str, str], lang: str) -> list[dict]:
    from .compare import _t

    w = _words(lang)
    units = tables["unit_changes"]
    return [{"title": _t(f"level.{level}", lang), "rows": [{
        "id": str(r["unit_id"]), "name": names.get(str(r["unit_id"]), ""),
        "status_a": _status(r["status_a"], lang), "status_b": _status(r["status_b"], lang),
        "direction": w["direction"][r["direction"]],
    } for r in units[units["level"] == level].to_dict("records")]} for level in ("output", "outcome")]


def _matrices(tables: dict[str, pd.DataFrame], lang: str) -> list[dict]:
    """Each level's transition matrix as a table: statuses at the earlier cut-off down, at the later across
    (the statuses of the level, and "absent" only when an item was added or dropped)."""
    from .compare import ABSENT, LEVELS, STATUS_CODES, _t

    matrix = tables["transition_matrix"]
    out = []
    for level in LEVELS:
        part = matrix[matrix["level"] == level]
        codes = [c for c in STATUS_CODES[level]]
        if int(part.loc[(part["status_a"] == ABSENT) | (part["status_b"] == ABSENT), "n"].sum()):
            codes.append(ABSENT)
        grid = {(r["status_a"], r["status_b"]): int(r["n"]) for r in part.to_dict("records")}
        out.append({"title": _t(f"level.{level}", lang), "columns": [_status(c, lang)["label"] for c in codes],
                    "rows": [{"status": _status(sa, lang),
                              "cells": ["" if sa == ABSENT and sb == ABSENT else str(grid.get((sa, sb), 0))
                                        for sb in codes]} for sa in codes],
                    "total": str(int(part["n"].sum()))})
    return out


def _figures(section: dict, lang: str, cutoffs: tuple[str, str]) -> list[dict]:
    from .compare import FIGURES

    w = _words(lang)
    a, b = cutoffs
    out = []
    for name in FIGURES:
        path = section["figures"].get(name)
        entry = {"caption": w["caption"][name].format(a=a, b=b), "path": None,
                 "missing": w["figure_missing"].format(name=f"figures/{name}.svg"), "width": 100}
        if path is not None and Path(path).exists():
            entry.update(path=f"/figures/{Path(path).name}", width=_svg_width(Path(path)), missing="")
        out.append(entry)
    return out


def _svg_width(path: Path, max_height_cm: float = 21.0, text_width_cm: float = 17.0) -> int:
    """The width (in % of the text width) at which a figure fits the page: tall figures are narrowed."""
    head = path.read_text(encoding="utf-8")[:2000]
    width = re.search(r'width="([\d.]+)pt"', head)
    height = re.search(r'height="([\d.]+)pt"', head)
    if not (width and height):
        return 100
    ratio = float(height.group(1)) / float(width.group(1))
    return round(100 * min(1.0, max_height_cm / (ratio * text_width_cm)))


def _definitions(tables: dict[str, pd.DataFrame], lang: str) -> dict:
    """What changed in each indicator's definition (LFM fields in words; a ficha's calculation as its diff)."""
    from .compare import _t

    w = _words(lang)
    definitions = tables["definition_changes"]
    rows, diffs = [], []
    for r in definitions.to_dict("records"):
        field = str(r["field"])
        if field == "calculo":
            before = after = w["see_diff"]
            diffs.append({"title": w["diff_title"].format(id=r["indicator_id"]), "diff": _text(r["diff"])})
        elif field == "presence":
            before = w["present"] if r["value_a"] else w["absent_lfm"]
            after = w["present"] if r["value_b"] else w["absent_lfm"]
        else:
            before, after = _text(r["value_a"]) or "—", _text(r["value_b"]) or "—"
        rows.append({"level": _t(f"level.{r['level']}", lang), "id": str(r["indicator_id"]),
                     "field": w["field"][field] if field in w["field"] else field, "before": before, "after": after})
    return {"rows": rows, "diffs": diffs}


def _like(tables: dict[str, pd.DataFrame], lang: str) -> dict:
    """The indicators whose mid-term figure is not comparable as published (definition changed, data revised,
    in one logframe only): the published and the comparable earlier figures side by side."""
    from .compare import _t

    w = _words(lang)
    like = tables["like_for_like"]
    flagged = like[like["definition_changed"].astype(str).eq("True") | like["data_revised"].astype(str).eq("True")
                   | like["basis"].isin(["added", "dropped"])]
    rows = []
    for r in flagged.to_dict("records"):
        fields = [f for f in str(r["changed_fields"]).split(";") if f]
        what = ", ".join(w["field"][f] if f in w["field"] else f for f in fields)
        if not what and str(r["data_revised"]) == "True":
            what = w["data_revised"]
        rows.append({"level": _t(f"level.{r['level']}", lang), "id": str(r["indicator_id"]), "what": what or "—",
                     "published_a": _number(r["published_value_a"]), "comparable_a": _number(r["comparable_value_a"]),
                     "value_b": _number(r["value_b"]), "change_published": _signed(r["change_published"]),
                     "change_comparable": _signed(r["change_comparable"]), "basis": w["basis"][r["basis"]]})
    recomputed = int(like["basis"].eq("recomputed").sum())
    return {"rows": rows, "recomputed": recomputed, "total": len(like)}


def _finance(tables: dict[str, pd.DataFrame], runs: dict, lang: str) -> dict:
    w = _words(lang)
    finance = tables["finance_changes"]
    if not len(finance):
        return {"present": False, "note": w["finance_none"], "rows": []}
    available = set(finance["available"])
    note = ""
    if available == {"a_only"}:
        note = w["finance_only_one"].format(run=runs["b"]["name"], cutoff=runs["a"]["cutoff"])
    elif available == {"b_only"}:
        note = w["finance_only_one"].format(run=runs["a"]["name"], cutoff=runs["b"]["cutoff"])
    name_column = f"line_name_{lang}" if f"line_name_{lang}" in finance.columns else "line_name_es"
    rows = []
    for r in finance.to_dict("records"):
        name = _text(r.get(name_column) or r.get("line_name_es"))
        line = str(r["line"])
        rows.append({"line": line if name in ("", line) else f"{line} {name}", "total": r["line_type"] == "total",
                     "values": [_number(r["programmed_a"], 0), _number(r["executed_a"], 0),
                                _percent(r["execution_pct_a"]), _number(r["programmed_b"], 0),
                                _number(r["executed_b"], 0), _percent(r["execution_pct_b"]),
                                _signed(r["executed_between"], 0)]})
    return {"present": True, "note": note, "rows": rows}


def _inputs(tables: dict[str, pd.DataFrame], lang: str) -> dict:
    w = _words(lang)
    counts = tables["input_change_counts"]
    rows = []
    for category in sorted(set(counts["category"])):
        part = counts[counts["category"] == category].set_index("state")["n"]
        rows.append({"folder": w["drop_root"] if category == "drop" else f"{category}/",
                     "counts": [str(int(part.get(s, 0))) for s in INPUT_STATES]})
    totals = [str(int(counts.loc[counts["state"] == s, "n"].sum())) for s in INPUT_STATES]
    return {"states": [w["input_state"][s] for s in INPUT_STATES], "rows": rows, "totals": totals}


def _recommendations(tables: dict[str, pd.DataFrame], lang: str) -> dict:
    from .compare import _t
    from .followup import ADDRESSEES, STATES

    w = _words(lang)
    table = tables.get("recommendations")
    if table is None or not len(table):
        return {"present": False, "note": w["recommendations_none"]}
    states = tables["recommendation_states"].set_index("state")["n"]
    by = tables["recommendation_addressees"]
    addressees = [a for a in ADDRESSEES if a in set(by["addressee"])]
    grid = {(r["addressee"], r["state"]): int(r["n"]) for r in by.to_dict("records")}

    def addressee_words(value: str) -> str:
        return ", ".join(w["addressee"][a] for a in str(value).split(";") if a)

    return {
        "present": True,
        "states": [{"label": _t(f"state.{s}", lang), "n": str(int(states.get(s, 0)))} for s in STATES],
        "total": str(len(table)),
        "state_labels": [_t(f"state.{s}", lang) for s in STATES],
        "addressees": [{"label": w["addressee"][a], "counts": [str(grid.get((a, s), 0)) for s in STATES],
                        "total": str(sum(grid.get((a, s), 0) for s in STATES))} for a in addressees],
        "rows": [{"id": str(r["recommendation_id"]), "paragraph": f"§{r['paragraph']}",
                  "addressee": addressee_words(r["addressee"]), "priority": w["priority"][r["priority"]],
                  "summary": _text(r.get(f"summary_{lang}") or r.get("summary_es")),
                  "response": _text(r.get(f"response_{lang}") or r.get("response_es")),
                  "state": _t(f"state.{r['state']}", lang), "quarter": str(r.get("state_quarter") or "")}
                 for r in sorted(table.to_dict("records"), key=lambda r: id_key(r["recommendation_id"]))],
    }


def _unit_names(root: Path | None, runs: dict, lang: str) -> dict[str, str]:
    """Outputs' and outcomes' names from the later drop's logframe (the earlier one's for a dropped unit);
    empty when the drops cannot be read (the ids are shown alone)."""
    from .errors import PipelineError
    from .lfm import load_logframe

    names: dict[str, str] = {}
    if root is None:
        return names
    for side in ("a", "b"):
        raw = Path(root) / str(runs[side].get("raw_dir", ""))
        try:
            lfm = load_logframe(raw / "lfm", root)
        except (PipelineError, OSError):
            continue
        for table in ("outputs", "outcomes"):
            names.update({str(k): str(n or "") for k, n in lfm.names(table, lang).items()})
    return names


# -------------------------------------------------------------------------------------------- build -----

def compare_annex_data(comparison_dir: Path, lang: str | None = None, *, manifest: dict | None = None,
                       root: Path | None = None, timestamp: dt.datetime | None = None) -> dict:
    """Everything ``compare.typ`` shows, JSON-ready. ``manifest`` defaults to the comparison's manifest.json
    (pass it while the comparison is being built); ``root`` is the project (for the outputs' and outcomes'
    names, read from the drops' logframes)."""
    from .compare import annex_section, read_comparison

    comparison_dir = Path(comparison_dir)
    if manifest is None:
        manifest = json.loads((comparison_dir / "manifest.json").read_text(encoding="utf-8"))
    section = annex_section(comparison_dir, lang, manifest=manifest)
    lang = lang or str(manifest.get("parameters", {}).get("lang", "es"))
    timestamp = timestamp or fixed_timestamp(manifest)
    tables = read_comparison(comparison_dir)
    runs = section["runs"]
    a, b = runs["a"]["cutoff"], runs["b"]["cutoff"]
    origin = str(manifest.get("data_drop", {}).get("data_origin", ""))
    if any(str(r.get("data_origin", "")) == "synthetic" for r in runs.values()):
        origin = "synthetic"  # one synthetic side makes the comparison synthetic
    w = _words(lang)
    text = w.to_dict()
    for key in ("summary_intro", "indicators_intro", "matrix_intro", "like_intro", "finance_intro",
                "recommendations_intro"):
        text[key] = text[key].format(a=a, b=b)
    for key in ("value_at", "progress_at", "status_at", "published_at", "comparable_at", "programmed_at",
                "executed_at", "pct_at"):
        text[f"{key}_a"], text[f"{key}_b"] = text[key].format(cutoff=a), text[key].format(cutoff=b)
    text["n"], text["total"] = i18n.t("annex.n", lang), i18n.t("annex.total", lang)  # n, Total: as the annex
    like = _like(tables, lang)
    text["like_count"] = w["like_count"].format(n=like["recomputed"], total=like["total"], a=a)
    text["typesetting"] = w["typesetting"].format(typst=metadata.version("typst"),
                                                  date=timestamp.date().isoformat())
    return {
        "lang": lang,
        "text": text,
        "colours": {**STATUS_COLOURS, "unknown": UNKNOWN_STATUS_COLOUR},
        "cover": {"title": section["title"], "lead": section["lead"], "label": str(manifest.get("label", "")),
                  "symbol": str(manifest.get("project", "")), "synthetic": origin == "synthetic",
                  "banner": banner_text(origin, lang) if origin else "",
                  "date": timestamp.date().isoformat(), "year": timestamp.year, "month": timestamp.month,
                  "day": timestamp.day},
        "runs": _runs(section, lang),
        "manifests": [[runs[s]["name"], str(runs[s].get("manifest_sha256", ""))] for s in ("a", "b")],
        "summary": _summary(tables, lang),
        "indicators": _indicators(tables, lang),
        "units": _units(tables, _unit_names(root, runs, lang), lang),
        "matrices": _matrices(tables, lang),
        "figures": _figures(section, lang, (a, b)),
        "definitions": _definitions(tables, lang),
        "like": like,
        "finance": _finance(tables, runs, lang),
        "inputs": _inputs(tables, lang),
        "recommendations": _recommendations(tables, lang),
    }


def build_compare_annex(comparison_dir: Path, lang: str | None = None, *, manifest: dict | None = None,
                        root: Path | None = None, timestamp: dt.datetime | None = None) -> Path:
    """Compile ``<comparison>/annex_compare[_en].pdf`` (PDF/A-2b, the typst wheel's fonts only, dated by the
    later drop or ``SOURCE_DATE_EPOCH``) from the comparison's tables and figures; returns its path. The JSON
    and both templates are kept in ``<comparison>/annex/`` so that the PDF can be compiled again by hand."""
    from .annex import copy_templates, typeset_annex

    comparison_dir = Path(comparison_dir).resolve()
    if manifest is None:
        manifest = json.loads((comparison_dir / "manifest.json").read_text(encoding="utf-8"))
    lang = lang or str(manifest.get("parameters", {}).get("lang", "es"))
    timestamp = timestamp or fixed_timestamp(manifest)
    data = compare_annex_data(comparison_dir, lang, manifest=manifest, root=root, timestamp=timestamp)
    data_path = compare_annex_data_path(comparison_dir, lang)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    copy_templates(data_path.parent, TEMPLATE)
    return typeset_annex(data_path, comparison_dir, compare_annex_pdf_path(comparison_dir, lang), timestamp,
                         template=TEMPLATE)
