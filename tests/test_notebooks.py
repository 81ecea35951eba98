"""The stage notebooks as text people edit: each .ipynb paired with its jupytext percent script, no outputs in
git, every markdown cell translated, prose printed through the catalog, tables shown whole for reviewers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest

from evalpipe import i18n, notebook
from evalpipe.runner import prose_in_language

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RESYNC = ".venv/bin/jupytext --sync notebooks/*.ipynb"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_stage_notebook_has_its_script():
    assert len(NOTEBOOKS) == 9  # eight stages and the comparison of two runs (09_compare)
    for path in NOTEBOOKS:
        assert path.with_suffix(".py").exists(), f"{path.name} has no paired script: run {RESYNC}"
    assert 'formats = "ipynb,py:percent"' in (ROOT / "notebooks" / "jupytext.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_script_hold_the_same_cells(path):
    script = jupytext.read(path.with_suffix(".py"))
    ipynb = nbformat.read(path, as_version=4)
    assert _cells(script) == _cells(ipynb), (
        f"notebooks/{path.name} and notebooks/{path.with_suffix('.py').name} differ: run {RESYNC}")
    tags = [c.metadata.get("tags", []) for c in ipynb.cells]
    assert tags == [c.metadata.get("tags", []) for c in script.cells], f"cell tags differ: run {RESYNC}"


def test_no_notebook_in_git_carries_outputs():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked
    for name in tracked:
        nb = nbformat.read(ROOT / name, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, (
                    f"{name} cell {index + 1} has outputs or an execution count: clear them before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != i18n.SOURCE_LANGUAGE])
def test_every_markdown_cell_is_translated(path, lang):
    nb = nbformat.read(path, as_version=4)
    missing = i18n.translate_notebook(nb, path.stem, lang)
    assert not missing, (f"notebooks/{path.name}: markdown cell(s) {', '.join(str(i + 1) for i in missing)} "
                         f"have no {lang} translation (msgctxt \"notebook:{path.stem}\" in "
                         f"evalpipe/locale/{lang}/LC_MESSAGES/evalpipe.po)")


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_notebook_key_has_both_languages(lang):
    other = next(code for code in i18n.LANGUAGES if code != lang)
    assert set(i18n.keys(lang, "notebook.")) == set(i18n.keys(other, "notebook."))
    assert len(i18n.keys(lang, "notebook.")) > 20


def test_tolerance_is_a_real_sentence_in_both_languages():
    for lang in i18n.LANGUAGES:
        text = i18n.t("notebook.finance.tolerance", lang, raw=0.01, published=1.0, currency="USD")
        assert "{}" not in text and "0.01 USD" in text and "1.0 USD" in text


def test_runner_translates_markdown_and_names_untranslated_cells(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / "03_output_indicators.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_markdown_cell("A note written in Jupyter, not yet translated."))
    edited = tmp_path / "03_output_indicators.ipynb"
    nbformat.write(nb, edited)
    lines = []
    translated = prose_in_language(edited, "es", lines.append)
    assert translated.cells[0].source.startswith("# 3. Indicadores de producto")
    assert translated.cells[2].source == "A note written in Jupyter, not yet translated."
    assert len(lines) == 1 and "03_output_indicators.ipynb" in lines[0] and "cell 3 " in lines[0], lines
    lines.clear()
    english = prose_in_language(edited, "en", lines.append)
    assert english.cells[0].source.startswith("# 3. Output indicators") and not lines


def test_show_never_truncates_and_says_why_a_value_is_missing(lfm):
    long_reason = "recomendación general, no específica " * 8
    frame = pd.DataFrame({"outcome_id": ["1.1.1", "1.1.2"], "indicator_id": ["1.1.1.1", "1.1.2.1"],
                          "current": [45.0, float("nan")], "baseline": [float("nan"), float("nan")],
                          "status": ["in_progress", "no_progress"], "value_note": [None, "not_applicable"],
                          "reason": [long_reason, ""]})
    shown = notebook.prepare(frame, "es", lfm=lfm)
    assert list(shown.columns[:4]) == ["Resultado", "Nombre del resultado", "Indicador", "Nombre del indicador"]
    assert shown.iloc[1]["Valor actual"] == "— no aplica" and shown.iloc[0]["Valor actual"] == "45"
    assert shown.iloc[0]["Línea de base"] == "— sin dato"
    assert shown.iloc[0]["Estado"] == "En proceso"
    english = notebook.prepare(frame, "en", lfm=lfm)
    assert english.iloc[1]["Current value"] == "— not applicable"
    assert english.iloc[0]["Outcome name"] == lfm.names("outcomes", "en")["1.1.1"]
    html = notebook.prepare(frame, "es", lfm=lfm).to_html()
    assert long_reason.strip() in html and "NaN" not in html and "..." not in html


def test_show_refuses_a_column_without_words_and_a_row_level_table():
    with pytest.raises(i18n.MissingTranslation, match="notebook.col.mystery"):
        notebook.prepare(pd.DataFrame({"mystery": [1]}), "es")
    with pytest.raises(ValueError, match="aggregate"):
        notebook.prepare(pd.DataFrame({"n": range(500)}), "es")


def test_show_suppresses_small_counts_in_sensitive_rows():
    frame = pd.DataFrame({"indicator_id": ["a", "b"], "n": [3, 3]})
    shown = notebook.prepare(frame, "es", suppress="n", sensitive=pd.Series([True, False]), threshold=5)
    assert list(shown["Casos usados"]) == ["<5", "3"]
