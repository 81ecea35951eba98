"""Figures: every figure is drawn from the run's tables in both languages, status colours are fixed,
finance charts appear only with finance tables, and the same tables give byte-identical files
(also in another process with another hash seed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import matplotlib
import pytest
from matplotlib.patches import Rectangle

from evalpipe import figures
from evalpipe.style import PNG_DPI, STATUS_COLOURS, new_figure, save_figure

from conftest import ROOT
from conftest import published_copy, write_finance

CORE = ["status_counts", "output_progress", "output_paths", "outcome_values"]
FINANCE = ["budget_by_item", "budget_by_component", "execution_by_output"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_project):
    run_dir, processed = published_copy(tmp_path_factory.mktemp("figures"))  # the shared run, without finance
    written = figures.make_all_figures(run_dir, processed, "es") + figures.make_all_figures(run_dir, processed, "en")
    return run_dir, processed, written


def _texts(figure) -> str:
    return " ".join(t.get_text() for t in figure.findobj(matplotlib.text.Text))


def test_every_core_figure_is_written_as_png_and_svg_in_both_languages(run):
    run_dir, _, written = run
    expected = {figures.figure_path(run_dir, name, lang, fmt) for name in CORE for lang in ("es", "en")
                for fmt in ("png", "svg")}
    assert set(written) == expected
    assert all(path.stat().st_size > 10_000 for path in expected)
    assert not any(figures.figure_path(run_dir, name, "es", "png").exists() for name in FINANCE)


def test_svg_carries_no_date_and_png_names_the_software(run):
    run_dir = run[0]
    svg = figures.figure_path(run_dir, "status_counts", "es", "svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "evalpipe" in svg
    assert b"evalpipe" in figures.figure_path(run_dir, "status_counts", "es", "png").read_bytes()[:400]


def test_labels_are_spanish_with_accents_by_default_and_english_on_request(published_tables):
    tables = published_tables
    indicators, status = tables["outcome_indicators"], tables["outcome_status"]
    spanish = _texts(figures.draw_outcome_values(indicators, status, "es", "2020Q2"))
    english = _texts(figures.draw_outcome_values(indicators, status, "en", "2020Q2"))
    assert "Línea de base" in spanish and "Meta alcanzada" in spanish and "Componente 1" in spanish
    assert "Baseline" in english and "Target reached" in english and "Línea de base" not in english


def test_each_status_keeps_its_colour(published_tables):
    tables = published_tables
    figure = figures.draw_output_progress(tables["output_indicators"], tables["output_status"], "es", "2020Q2")
    bars = [p for ax in figure.axes for p in ax.patches if isinstance(p, Rectangle)]
    statuses = tables["output_indicators"].sort_values("indicator_id", key=lambda s: s.map(figures.id_key))["status"]
    assert len(bars) == len(statuses) == 48
    for bar, status in zip(bars, statuses):
        assert matplotlib.colors.to_hex(bar.get_facecolor()).upper() == STATUS_COLOURS[status].upper()


def test_status_counts_match_the_tables(published_tables):
    tables = published_tables
    text = _texts(figures.draw_status_counts(tables, "es", "2020Q2"))
    n_achieved = int((tables["output_indicators"]["status"] == "achieved").sum())
    assert f"Indicadores de producto (n = {len(tables['output_indicators'])})" in text
    assert f"{n_achieved} (" in text


def test_small_multiples_have_one_panel_per_output_indicator(published_tables):
    tables = published_tables
    figure = figures.draw_output_paths(tables["progress"], tables["output_indicators"], "es", "2020Q2")
    titles = [ax.get_title(loc="left") for ax in figure.axes if ax.get_title(loc="left")]
    assert titles == sorted(tables["output_indicators"]["indicator_id"], key=figures.id_key)


def test_same_tables_give_byte_identical_figures_in_another_process(run, tmp_path):
    run_dir, processed, written = run
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("figures"))
    code = ("import sys; from pathlib import Path; from evalpipe.figures import make_all_figures; "
            "make_all_figures(Path(sys.argv[1]), Path(sys.argv[2]), 'es')")
    env = dict(os.environ, PYTHONHASHSEED="12345", MPLBACKEND="Agg")
    subprocess.run([sys.executable, "-c", code, str(copy), str(processed)], check=True, cwd=ROOT, env=env,
                   capture_output=True)
    spanish = [path for path in written if not path.stem.endswith("_en")]
    assert len(spanish) == 2 * len(CORE)
    for path in spanish:
        assert (copy / "figures" / path.name).read_bytes() == path.read_bytes(), path.name


def test_finance_figures_appear_with_the_finance_tables_and_go_away_without_them(run, tmp_path):
    run_dir, processed, _ = run
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    write_finance(copy)
    written = figures.make_all_figures(copy, processed, "es")
    names = {p.stem for p in written}
    assert set(FINANCE) <= names
    budget_text = _texts(figures.draw_budget_by_item(figures.load_inputs(copy, None).finance["budget"], "es"))
    assert "Inicial" in budget_text and "Ampliado" in budget_text and "A Personal" in budget_text
    (copy / "tables" / "budget.csv").unlink()
    figures.make_all_figures(copy, processed, "es")
    assert not any(figures.figure_path(copy, name, "es", fmt).exists() for name in FINANCE for fmt in ("png", "svg"))


def test_each_format_draws_the_figure_once_after_a_layout_measured_at_the_png_dpi(tmp_path):
    """Issue 14: the layout is solved once, on the renderer that then draws the PNG (text measured at the PNG's
    own dpi), and each file costs one draw; an empty axis label is not placed again at each draw."""
    figure = new_figure(height_in=2.0)
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_title("title", loc="left")
    ax.set_xlabel("x")
    drawn = []
    draw = figure.draw
    figure.draw = lambda renderer: (drawn.append(type(renderer).__name__), draw(renderer))[1]
    written = save_figure(figure, tmp_path / "figure")
    assert [path.suffix for path in written] == [".png", ".svg"]
    assert drawn == ["RendererAgg", "MixedModeRenderer"]  # the SVG renderer comes wrapped
    assert figure.dpi == PNG_DPI  # the dpi the constrained layout measured the text at
    assert figure.get_layout_engine() is None
    assert ax.xaxis._autolabelpos and not ax.yaxis._autolabelpos  # the x label is placed, the empty y label not
