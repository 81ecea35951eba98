"""The run's figures: PNG for notebooks and HTML, SVG (vector, text as paths) for the PDF annex.

Each ``draw_*`` function takes the run's aggregated tables and returns a matplotlib Figure (or None
when its data are absent); ``make_all_figures`` draws every figure of ``FIGURES`` and writes
``<run_dir>/figures/<name>[_en].png|svg``. Same tables, same bytes (see ``evalpipe.style``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import i18n
from .codes import ACUMULADO, INDICATOR_STATUSES, OUTCOME_STATUSES, OUTPUT_STATUSES, TOTAL
from .labels import label
from .lfm import id_key
from .outputs import round_half_up, status_counts
from .progress import read_tidy
from .quarters import parse_quarter
from .runfolder import lang_suffix, read_finance, read_manifest, read_tables, run_lang
from .style import (BASELINE_COLOUR, OKABE_ITO, SERIES_COLOURS, TARGET_COLOUR, TEXT_WIDTH_IN, figure_style,
                    format_number, new_figure, save_figure, status_colour)

FIGURES_DIR = "figures"
FORMATS = ("png", "svg")
PROGRESS_CAP = 200.0  # bars of output indicators far above target are cut here (the label gives the value)
OUTCOME_CAP = 150.0   # outcome markers beyond 150 % of the target are drawn at the edge

# Codes of the finance stage's tables that the charts read (evalpipe.finance_tables computes them).
BUDGET_AMOUNT = "amount"
PROGRAMMED, EXECUTED, EXECUTION_PCT = "programado", "ejecutado", "execution_pct"

def _text(lang: str, key: str, **values: object) -> str:
    """A figure's title, axis label or legend entry in ``lang`` (catalog key ``figure.<key>``)."""
    return i18n.t(f"figure.{key}", lang, **values)


def caption(name: str, lang: str) -> str:
    """The caption of figure ``name`` in ``lang`` (catalog key ``figure.caption.<name>``), for the annex and index."""
    return i18n.t(f"figure.caption.{name}", lang)


@dataclass
class FigureInputs:
    """What the figures are drawn from: the run's tables, the finance tables if any, the quarterly path."""

    tables: dict[str, pd.DataFrame]
    finance: dict[str, pd.DataFrame] | None
    progress: pd.DataFrame | None
    cutoff: str


# ---------------------------------------------------------------- output indicators ----------

def _components(ids: pd.Series, component_of: dict[str, str]) -> pd.Series:
    return ids.map(lambda i: component_of.get(i, str(i).split(".")[0]))


def draw_output_progress(indicators: pd.DataFrame, output_status: pd.DataFrame, lang: str = "es",
                         cutoff: str = "") -> Figure:
    """Progress (current / target) of every output indicator, by component, coloured by status (Annex 16)."""
    table = indicators.copy()
    component_of = dict(zip(output_status["output_id"], output_status["component_id"]))
    table["component"] = _components(table["output_id"], component_of)
    table = table.sort_values("indicator_id", key=lambda s: s.map(id_key), kind="stable")
    groups = [(c, g) for c, g in table.groupby("component", sort=False)]
    groups.sort(key=lambda item: id_key(item[0]))
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 0.15 * len(table) + 0.45 * len(groups) + 1.0)
        axes = figure.subplots(len(groups), 1, sharex=True,
                               gridspec_kw={"height_ratios": [len(g) for _, g in groups]}, squeeze=False)[:, 0]
        for ax, (component, group) in zip(axes, groups):
            y = np.arange(len(group))
            progress = group["progress_pct"].to_numpy(dtype=float)
            # A zero keeps a sliver of its status colour, so "no progress" is seen and not read as missing.
            shown = np.where(np.isnan(progress), 0.0, np.clip(progress, 1.2, PROGRESS_CAP))
            ax.barh(y, shown, height=0.7, color=[status_colour(s) for s in group["status"]])
            for row, value in zip(y, progress):
                if math.isnan(value):
                    ax.text(2, row, _text(lang, "no_value"), va="center", fontsize=6.5, color=OKABE_ITO["grey"])
                    continue
                text = f"{format_number(round_half_up(value), 0)} %" + (" »" if value > PROGRESS_CAP else "")
                ax.text(min(value, PROGRESS_CAP) + 2, row, text, va="center", fontsize=6.5)
            ax.axvline(100, color=TARGET_COLOUR, linewidth=0.8, linestyle="--")
            ax.set_yticks(y, [i + ("*" if flag else "") for i, flag in
                              zip(group["indicator_id"], group["scheduled_after_cutoff"])])
            ax.set_ylim(len(group) - 0.5, -0.5)
            ax.set_title(_text(lang, "component", id=component), loc="left", fontsize=8.5)
            ax.grid(axis="x")
        axes[-1].set_xlim(0, PROGRESS_CAP + 30)
        axes[-1].set_xlabel(_text(lang, "progress_axis"))
        extra = [Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=0.8,
                        label=_text(lang, "target") + " (100 %)")]
        if table["scheduled_after_cutoff"].any():
            extra.append(Line2D([], [], linestyle="none", label=_text(lang, "scheduled_note")))
        _status_legend(figure, table["status"], INDICATOR_STATUSES, lang, extra=extra)
        figure.suptitle(_text(lang, "progress_title", cutoff=cutoff))
    return figure


def _status_legend(figure: Figure, statuses: pd.Series, order: tuple[str, ...], lang: str,
                   extra: list | None = None) -> None:
    present = [code for code in order if code in set(statuses)]
    present += sorted(set(statuses) - set(order))
    handles = [Patch(color=status_colour(code), label=label(code, lang)) for code in present] + (extra or [])
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=7)


def draw_output_paths(progress: pd.DataFrame, indicators: pd.DataFrame, lang: str = "es", cutoff: str = "",
                      ncols: int = 6) -> Figure:
    """Small multiples: the cumulative value of each output indicator by quarter, with its target."""
    quarters = sorted(progress["quarter"].unique(), key=lambda q: parse_quarter(q).index)
    position = {q: i for i, q in enumerate(quarters)}
    info = indicators.set_index("indicator_id")
    ids = sorted(info.index, key=id_key)
    nrows = math.ceil(len(ids) / ncols)
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 1.0 * nrows + 0.7)
        axes = figure.subplots(nrows, ncols, squeeze=False)
        for index, ax in enumerate(axes.flat):
            if index >= len(ids):
                ax.set_axis_off()
                continue
            indicator = ids[index]
            rows = progress[progress["indicator_id"] == indicator]
            x = rows["quarter"].map(position).to_numpy(dtype=float)
            values = rows["value"].to_numpy(dtype=float)
            order = np.argsort(x)
            x, values = x[order], values[order]
            colour = status_colour(info.loc[indicator, "status"])
            reported = ~np.isnan(values)
            ax.plot(x[reported], values[reported], color=colour, linewidth=1.1, marker="o", markersize=2.2)
            target = float(info.loc[indicator, "target"])
            ax.axhline(target, color=TARGET_COLOUR, linewidth=0.7, linestyle="--")
            top = max(target, np.nanmax(values) if reported.any() else 0.0) * 1.18 or 1.0
            ax.set_ylim(0, top)
            ax.set_xlim(-0.5, len(quarters) - 0.5)
            close_to_zero = target / top < 0.15
            ax.set_yticks([target] if close_to_zero else [0, target],
                          [format_number(target, 1)] if close_to_zero else ["0", format_number(target, 1)],
                          fontsize=5.5)
            bottom_row = index + ncols >= len(ids)
            ax.set_xticks([0, len(quarters) - 1], [quarters[0], quarters[-1]] if bottom_row else ["", ""],
                          fontsize=5.5)
            if bottom_row:
                first_tick, last_tick = ax.get_xticklabels()
                first_tick.set_horizontalalignment("left")
                last_tick.set_horizontalalignment("right")
            ax.tick_params(length=2, pad=1)
            ax.set_title(indicator, fontsize=7, pad=2, loc="left")
        _status_legend(figure, indicators["status"], INDICATOR_STATUSES, lang,
                       extra=[Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=0.7,
                                     label=_text(lang, "target"))])
        figure.suptitle(_text(lang, "paths_title", cutoff=cutoff))
    return figure


# ---------------------------------------------------------------- outcome indicators ---------

def draw_outcome_values(indicators: pd.DataFrame, outcome_status: pd.DataFrame, lang: str = "es",
                        cutoff: str = "") -> Figure:
    """Baseline, current value and target of every outcome indicator, as % of the target (Annex 17)."""
    table = indicators.copy()
    component_of = dict(zip(outcome_status["outcome_id"], outcome_status["component_id"]))
    table["component"] = _components(table["outcome_id"], component_of)
    table = table.sort_values("indicator_id", key=lambda s: s.map(id_key), kind="stable")
    groups = sorted(((c, g) for c, g in table.groupby("component", sort=False)), key=lambda item: id_key(item[0]))
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 0.17 * len(table) + 0.45 * len(groups) + 1.0)
        grid = figure.add_gridspec(len(groups), 2, width_ratios=[3, 2], height_ratios=[len(g) for _, g in groups])
        first = None
        for row_index, (component, group) in enumerate(groups):
            ax = figure.add_subplot(grid[row_index, 0], sharex=first)
            first = first or ax
            notes = figure.add_subplot(grid[row_index, 1], sharey=ax)
            notes.set_axis_off()
            y = np.arange(len(group))
            for row, record in zip(y, group.itertuples()):
                unit = "%" if record.unit == "percent" else ""
                target = record.target
                usable = not (pd.isna(target) or target == 0)
                if usable and not pd.isna(record.baseline):
                    ax.plot(min(100 * record.baseline / target, OUTCOME_CAP), row, marker="o", markersize=4.5,
                            markerfacecolor="white", markeredgecolor=BASELINE_COLOUR, linestyle="none")
                if usable and not pd.isna(record.current):
                    share = 100 * record.current / target
                    ax.plot(min(share, OUTCOME_CAP), row, marker=">" if share > OUTCOME_CAP else "o", markersize=5,
                            color=status_colour(record.status), linestyle="none")
                elif pd.isna(record.current):
                    ax.text(3, row, _text(lang, "no_value"), va="center", fontsize=6.5,
                            color=status_colour(record.status))
                notes.text(0.0, row, _text(lang, "values", baseline=_with_unit(record.baseline, unit),
                                           current=_with_unit(record.current, unit),
                                           target=_with_unit(record.target, unit)),
                           va="center", fontsize=6.5)
            ax.axvline(100, color=TARGET_COLOUR, linewidth=0.8, linestyle="--")
            ax.set_yticks(y, group["indicator_id"].tolist())
            ax.set_ylim(len(group) - 0.5, -0.5)
            notes.set_xlim(0, 1)
            ax.set_title(_text(lang, "component", id=component), loc="left", fontsize=8.5)
            ax.grid(axis="x")
            if row_index < len(groups) - 1:
                ax.tick_params(labelbottom=False)
        first.set_xlim(-5, OUTCOME_CAP + 8)
        ax.set_xlabel(_text(lang, "outcome_axis"))
        _status_legend(figure, table["status"], INDICATOR_STATUSES, lang, extra=[
            Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor=BASELINE_COLOUR, linestyle="none",
                   label=_text(lang, "baseline")),
            Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=0.8, label=_text(lang, "target"))])
        figure.suptitle(_text(lang, "outcome_title", cutoff=cutoff))
    return figure


def _with_unit(value: object, unit: str) -> str:
    text = format_number(value, 1)
    return text if text == "—" or not unit else f"{text} {unit}"


# ---------------------------------------------------------------- status counts --------------

def draw_status_counts(tables: dict[str, pd.DataFrame], lang: str = "es", cutoff: str = "") -> Figure:
    """How many indicators, outputs and outcomes have each status (§154, §155, §157, §158)."""
    panels = [
        ("output_indicators", tables["output_indicators"], INDICATOR_STATUSES),
        ("outputs", tables["output_status"], OUTPUT_STATUSES),
        ("outcome_indicators", tables["outcome_indicators"], INDICATOR_STATUSES),
        ("outcomes", tables["outcome_status"], OUTCOME_STATUSES),
    ]
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 4.2)
        axes = figure.subplots(2, 2)
        for ax, (key, table, codes) in zip(axes.flat, panels):
            counts = status_counts(table, codes)
            y = np.arange(len(counts))
            ax.barh(y, counts["n"], color=[status_colour(c) for c in counts["status"]], height=0.65)
            top = max(int(counts["n"].max()), 1)
            for row, n, pct in zip(y, counts["n"], counts["pct"]):
                share = "" if pd.isna(pct) else f" ({format_number(round_half_up(pct), 0)} %)"
                ax.text(n + top * 0.02, row, f"{n}{share}", va="center", fontsize=7)
            ax.set_yticks(y, [label(c, lang) for c in counts["status"]])
            ax.set_ylim(len(counts) - 0.5, -0.5)
            ax.set_xlim(0, top * 1.45)
            ax.set_title(_text(lang, key, n=len(table)), loc="left", fontsize=8.5)
            ax.set_xlabel(_text(lang, "count_axis"))
            ax.grid(axis="x")
        figure.suptitle(_text(lang, "counts_title", cutoff=cutoff))
    return figure


# ---------------------------------------------------------------- finance --------------------
# The finance stage's long tables (evalpipe.finance_tables.compute_tables): ``budget`` (Tables 3-6: version, line,
# period, measure "amount" ...) and ``financial_execution`` (Annexes 19-20: line, line_type, period, measure
# "programado" / "ejecutado" / "execution_pct" ...). Charts use the exact ``value``.

def _line_names(table: pd.DataFrame, lang: str) -> dict[str, str]:
    column = f"line_name_{lang}" if f"line_name_{lang}" in table.columns else "line_name_es"
    if column not in table.columns:
        return {line: line for line in table["line"]}
    return {line: line if name in ("", line) else f"{line} {name}" for line, name in zip(table["line"], table[column])}


def draw_budget_by_item(budget: pd.DataFrame, lang: str = "es") -> Figure | None:
    """Initial and expanded budget of each item over the project's life (Tables 3 and 5, §172)."""
    if "version" not in budget.columns:
        return None
    items = ~budget["is_total"].astype(bool) if "is_total" in budget.columns else True  # no subtotal lines
    rows = budget[(budget["measure"] == BUDGET_AMOUNT) & (budget["period"] == TOTAL) & items]
    if rows.empty:
        return None
    totals = rows.pivot_table(index="line", columns="version", values="value", aggfunc="sum", sort=False).fillna(0.0)
    versions = list(dict.fromkeys(rows["version"]))
    names = _line_names(rows, lang)
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 0.32 * len(totals) + 1.4)
        ax = figure.subplots()
        y = np.arange(len(totals))
        height = 0.8 / len(versions)
        for index, version in enumerate(versions):
            offset = (index - (len(versions) - 1) / 2) * height
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            ax.barh(y + offset, totals[version], height=height * 0.95, color=colour,
                    label=_text(lang, version) if i18n.has(f"figure.{version}", lang) else version)
        ax.set_yticks(y, [names.get(line, line) for line in totals.index])
        ax.set_ylim(len(totals) - 0.5, -0.5)
        ax.xaxis.set_major_formatter(lambda value, _: format_number(value, 0))
        ax.set_xlabel(_text(lang, "usd"))
        ax.grid(axis="x")
        figure.legend(loc="outside lower center", ncols=len(versions))
        figure.suptitle(_text(lang, "budget_item_title"))
    return figure


def _cumulative(execution: pd.DataFrame, line_type: str, measures: tuple[str, ...]) -> pd.DataFrame:
    rows = execution[(execution["line_type"] == line_type) & (execution["period"] == ACUMULADO)
                     & execution["measure"].isin(measures)]
    return rows.pivot_table(index="line", columns="measure", values="value", aggfunc="sum", sort=False)


def draw_budget_by_component(execution: pd.DataFrame, lang: str = "es") -> Figure | None:
    """Programmed (whole life) and executed (to the cut-off) budget of each component (Annex 19, §179)."""
    table = _cumulative(execution, "component", (PROGRAMMED, EXECUTED))
    if table.empty or not {PROGRAMMED, EXECUTED} <= set(table.columns):
        return None
    component_of = dict(zip(execution["line"], execution.get("component_id", execution["line"])))
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 0.55 * len(table) + 1.4)
        ax = figure.subplots()
        y = np.arange(len(table))
        for offset, measure, colour in ((-0.2, PROGRAMMED, SERIES_COLOURS[0]), (0.2, EXECUTED, SERIES_COLOURS[1])):
            ax.barh(y + offset, table[measure], height=0.38, color=colour, label=_text(lang, measure))
            for row, value in zip(y, table[measure]):
                ax.text(value, row + offset, " " + format_number(value, 0), va="center", fontsize=6.5)
        ax.set_yticks(y, [_text(lang, "component", id=component_of.get(line) or line) for line in table.index])
        ax.set_ylim(len(table) - 0.5, -0.5)
        ax.set_xlim(0, float(np.nanmax(table.to_numpy())) * 1.22)
        ax.xaxis.set_major_formatter(lambda value, _: format_number(value, 0))
        ax.set_xlabel(_text(lang, "usd"))
        ax.grid(axis="x")
        figure.legend(loc="outside lower center", ncols=2)
        figure.suptitle(_text(lang, "budget_component_title"))
    return figure


def draw_execution_by_output(execution: pd.DataFrame, lang: str = "es") -> Figure | None:
    """Executed / programmed (%) of each output to the cut-off, against the project's total (Annex 19)."""
    table = _cumulative(execution, "output", (EXECUTION_PCT,))
    if table.empty:
        return None
    table = table.sort_index(key=lambda s: s.map(id_key))
    pct = table[EXECUTION_PCT].to_numpy(dtype=float)
    overall = _cumulative(execution, "total", (EXECUTION_PCT,))
    with figure_style():
        figure = new_figure(TEXT_WIDTH_IN, 0.2 * len(table) + 1.4)
        ax = figure.subplots()
        y = np.arange(len(table))
        ax.barh(y, np.nan_to_num(pct), color=SERIES_COLOURS[1], height=0.65)
        for row, value in zip(y, pct):
            ax.text((0 if math.isnan(value) else value) + 1, row,
                    "—" if math.isnan(value) else f"{format_number(round_half_up(value), 0)} %", va="center",
                    fontsize=6.5)
        extra = []
        if not overall.empty:
            total = float(overall[EXECUTION_PCT].iloc[0])
            ax.axvline(total, color=TARGET_COLOUR, linewidth=0.8, linestyle="--")
            extra.append(Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=0.8,
                                label=_text(lang, "project_total", pct=format_number(round_half_up(total), 0))))
        ax.set_yticks(y, list(table.index))
        ax.set_ylim(len(table) - 0.5, -0.5)
        ax.set_xlim(0, max(110.0, float(np.nanmax(pct)) + 15 if not np.isnan(pct).all() else 110.0))
        ax.set_xlabel(_text(lang, "execution_axis"))
        ax.grid(axis="x")
        if extra:
            figure.legend(handles=extra, loc="outside lower center")
        figure.suptitle(_text(lang, "execution_title"))
    return figure


# ---------------------------------------------------------------- registry -------------------

@dataclass(frozen=True)
class FigureSpec:
    """A figure of the run: its file name, how it is drawn, and whether it is financial (its caption is
    ``caption(name, lang)``)."""

    name: str
    draw: Callable[[FigureInputs, str], Figure | None]
    finance: bool = False


FIGURES: list[FigureSpec] = [
    FigureSpec("status_counts",
               lambda data, lang: draw_status_counts(data.tables, lang, data.cutoff)),
    FigureSpec("output_progress",
               lambda data, lang: draw_output_progress(data.tables["output_indicators"], data.tables["output_status"],
                                                       lang, data.cutoff)),
    FigureSpec("output_paths",
               lambda data, lang: (None if data.progress is None else
                                   draw_output_paths(data.progress, data.tables["output_indicators"], lang,
                                                     data.cutoff))),
    FigureSpec("outcome_values",
               lambda data, lang: draw_outcome_values(data.tables["outcome_indicators"], data.tables["outcome_status"],
                                                      lang, data.cutoff)),
    FigureSpec("budget_by_item",
               lambda data, lang: data.finance and draw_budget_by_item(data.finance["budget"], lang), finance=True),
    FigureSpec("budget_by_component",
               lambda data, lang: data.finance and draw_budget_by_component(data.finance["financial_execution"], lang),
               finance=True),
    FigureSpec("execution_by_output",
               lambda data, lang: data.finance and draw_execution_by_output(data.finance["financial_execution"], lang),
               finance=True),
]


def figure_stem(run_dir: Path, name: str, lang: str) -> Path:
    """``<run_dir>/figures/<name>`` in Spanish, ``<name>_en`` in English (the format is appended)."""
    return Path(run_dir) / FIGURES_DIR / f"{name}{lang_suffix(lang)}"


def figure_path(run_dir: Path, name: str, lang: str, fmt: str) -> Path:
    stem = figure_stem(run_dir, name, lang)
    return stem.with_name(f"{stem.name}.{fmt}")


def load_inputs(run_dir: Path, processed_dir: Path | None, manifest: dict | None = None) -> FigureInputs:
    """The run's tables, its finance tables (if any) and the tidy quarterly table of ``processed_dir``."""
    progress = None
    if processed_dir is not None:
        progress = read_tidy(Path(processed_dir) / "progress_indicators.csv")
    manifest = read_manifest(run_dir, manifest)
    # The figures draw the indicator and status tables only (the figures stage runs before the audit).
    tables = read_tables(run_dir, ("output_indicators", "output_status", "outcome_indicators", "outcome_status"))
    return FigureInputs(tables, read_finance(run_dir), progress, manifest["cutoff"])


def make_all_figures(run_dir: Path, processed_dir: Path | None, lang: str | None = None, *,
                     manifest: dict | None = None) -> list[Path]:
    """Draw every figure whose data exist and write PNG and SVG; stale files of absent figures are removed.

    ``lang`` defaults to the run's language; without ``processed_dir`` the quarterly paths are not drawn.
    """
    manifest = read_manifest(run_dir, manifest)
    lang = lang or run_lang(manifest)
    data = load_inputs(run_dir, processed_dir, manifest)
    written: list[Path] = []
    for spec in FIGURES:
        figure = spec.draw(data, lang) or None
        if figure is None:
            for fmt in FORMATS:
                figure_path(run_dir, spec.name, lang, fmt).unlink(missing_ok=True)
            continue
        written += save_figure(figure, figure_stem(run_dir, spec.name, lang), FORMATS)
    return written
