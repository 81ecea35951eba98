"""The PDF annex: built by Typst from a run folder of the shipped data; every output and outcome indicator
in its text; PDF/A-2b with every font embedded; byte-identical rebuilds that ignore run timings;
Spanish by default, English on request; the finance section only with finance tables; no microdata."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from evalpipe import annex, figures
from evalpipe.microdata import load_sources, read_source
from evalpipe.runfolder import read_tables

import pdf_inspect
from conftest import RAW, published_copy, write_finance


@pytest.fixture(autouse=True)
def _dated_by_the_drop(monkeypatch):
    """Dates come from the data drop unless SOURCE_DATE_EPOCH is set; these tests expect the drop's."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_project):
    """A run folder with its Spanish figures and both annexes (the English one without figures)."""
    run_dir, processed = published_copy(tmp_path_factory.mktemp("annex"))  # the shared run, without finance
    figures.make_all_figures(run_dir, processed, "es")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        annex.build_annex(run_dir, RAW, "es")
        annex.build_annex(run_dir, RAW, "en")
    return run_dir


@pytest.fixture(scope="module")
def pages(run):
    return pdf_inspect.pages_text(run / "annex.pdf")


@pytest.fixture(scope="module")
def text(pages):
    return "\n".join(pages)


def _copy(run, tmp_path):
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    return copy


def test_every_output_and_outcome_indicator_id_is_in_the_text(run, text):
    tables = read_tables(run)
    ids = set(tables["output_indicators"]["indicator_id"]) | set(tables["outcome_indicators"]["indicator_id"])
    assert len(tables["output_indicators"]) == 48 and len(tables["outcome_indicators"]) == 38
    words = set(re.findall(r"\d+(?:\.\d+)+", text))
    assert ids <= words, sorted(ids - words)
    outputs = set(tables["output_status"]["output_id"]) | set(tables["outcome_status"]["outcome_id"])
    assert outputs <= words


def test_the_pdf_declares_pdf_a_2b_and_is_dated_by_the_data_drop(run):
    metadata = pdf_inspect.xmp(run / "annex.pdf")
    assert re.search(r"<pdfaid:part>2</pdfaid:part>", metadata)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", metadata)
    drop_date = json.loads((run / "manifest.json").read_text())["data_drop"]["drop_date"]
    assert b"/CreationDate(D:" + drop_date.replace("-", "").encode() in (run / "annex.pdf").read_bytes()
    assert drop_date in metadata


def test_source_date_epoch_overrides_the_drop_date(run, tmp_path, monkeypatch):
    copy = _copy(run, tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    annex.build_annex(copy, RAW, "es")
    assert b"/CreationDate(D:20231114" in (copy / "annex.pdf").read_bytes()  # the document is dated, not timed


def test_every_font_is_embedded_and_comes_with_the_typst_package(run):
    found = pdf_inspect.fonts(run / "annex.pdf")
    assert found and all(font["embedded"] for font in found), found
    families = {re.sub(r"^[A-Z]{6}\+", "", font["name"]).split("-")[0] for font in found}
    assert families <= {"LibertinusSerif", "DejaVuSansMono", "NewCMMath", "NewCM10"}, families
    assert "LibertinusSerif" in families


def test_every_character_has_a_glyph_so_accents_render(run):
    assert pdf_inspect.notdef_glyphs(run / "annex.pdf") == 0
    assert pdf_inspect.notdef_glyphs(run / "annex_en.pdf") == 0


def test_two_builds_from_the_same_run_are_byte_identical(run, tmp_path):
    copy = _copy(run, tmp_path)
    (copy / "annex.pdf").unlink()
    annex.build_annex(copy, RAW, "es")
    assert (copy / "annex.pdf").read_bytes() == (run / "annex.pdf").read_bytes()
    assert (copy / "annex" / "annex_data.json").read_bytes() == (run / "annex" / "annex_data.json").read_bytes()


def test_a_stage_that_runs_before_the_manifest_is_written_passes_it(run, tmp_path):
    copy = _copy(run, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").unlink()
    (copy / "annex.pdf").unlink()
    annex.build_annex(copy, RAW, manifest=manifest)
    assert (copy / "annex.pdf").read_bytes() == (run / "annex.pdf").read_bytes()


def test_the_annex_does_not_depend_on_recorded_timings(run, tmp_path):
    copy = _copy(run, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    for report in manifest["stage_reports"]:
        report["seconds"] = report["seconds"] * 7 + 1
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    annex.build_annex(copy, RAW, "es")
    assert (copy / "annex.pdf").read_bytes() == (run / "annex.pdf").read_bytes()


def test_spanish_by_default_with_accents_page_numbers_and_a_table_of_contents(pages, text):
    for phrase in ("Anexo de evaluación", "Datos sintéticos de demostración", "Resumen de estados",
                   "Fichas técnicas",
                   "Auditoría de consistencia", "Validación de los datos", "Reproducibilidad", "Meta alcanzada",
                   "Contenido"):
        assert phrase in text, phrase
    assert "Target reached" not in text
    total = len(pages) - 1  # the cover has no number
    assert total > 40
    for number in (1, 2, total):
        assert f"{number} / {total}" in pages[number], number


def test_dashboard_headers_repeat_on_every_page_the_table_runs_over(pages):
    start = next(i for i, p in enumerate(pages) if "Tablero de indicadores de producto" in p)
    end = next(i for i, p in enumerate(pages) if "Estado de los productos (como la Tabla 1" in p and i > start)
    dashboard_pages = [p for p in pages[start:end + 1] if re.search(r"\n1\.\d\.\d\.\d\n|\n[23]\.\d\.\d\.\d\n", p)]
    assert len(dashboard_pages) >= 2
    assert all("Valor actual" in p and "Valor meta" in p and "Progreso" in p for p in dashboard_pages)


def test_one_ficha_per_outcome_indicator_with_its_computed_numbers(run, text):
    tables = read_tables(run)
    for indicator_id in tables["outcome_indicators"]["indicator_id"]:
        title = re.escape(f"Ficha técnica del indicador de resultado {indicator_id}")
        assert len(re.findall(title + r" ?\n", text)) == 2, indicator_id  # its page and the table of contents
    assert "9 / 20 × 100 = 45 %" in text  # 1.1.1.1: numerator / denominator
    assert "recomendación general, no específica" in text  # an exclusion reason under its ficha


def test_suppressed_counts_of_victims_stay_suppressed_under_their_ficha(run, text):
    exclusions = read_tables(run)["outcome_exclusions"]
    assert "<5" in set(exclusions["n"])  # written by the outcome stage for rows about children
    assert re.search(r"línea de base cero \(Gracia II, Annex 14\)\n<5\n", text)


def test_english_annex_has_english_labels_and_keeps_the_fichas_as_written(run):
    text = "\n".join(pdf_inspect.pages_text(run / "annex_en.pdf"))
    for phrase in ("Evaluation annex", "Synthetic demonstration data", "Target reached",
                   "Ficha técnica of outcome indicator",
                   "Consistency audit against the published report"):
        assert phrase in text, phrase
    assert "Porcentaje de recomendaciones del Informe del estudio de casos" in text  # ficha text in Spanish
    assert "Resumen de estados" not in text
    assert "Figure not available in this run: status_counts_en.svg" in text  # English figures were not drawn


def test_an_english_run_gets_an_english_annex_by_default(run, tmp_path):
    copy = _copy(run, tmp_path)
    (copy / "annex_en.pdf").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["parameters"]["lang"] = "en"
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    assert annex.build_annex(copy, RAW) == copy / "annex_en.pdf"
    assert "Evaluation annex" in pdf_inspect.pages_text(copy / "annex_en.pdf")[0]


def test_the_synthetic_banner_appears_only_for_synthetic_data(run, tmp_path):
    copy = _copy(run, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["data_drop"]["data_origin"] = "real"
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    annex.build_annex(copy, RAW, "es")
    text = "\n".join(pdf_inspect.pages_text(copy / "annex.pdf"))
    assert "Datos sintéticos de demostración" not in text and "Anexo de evaluación" in text


def test_the_financial_section_is_a_note_without_finance_tables_and_tables_with_them(run, text, tmp_path):
    assert "La etapa financiera no produjo tablas" in text
    copy = _copy(run, tmp_path)
    write_finance(copy)
    figures.make_all_figures(copy, None, "es")
    annex.build_annex(copy, RAW, "es")
    finance_text = "\n".join(pdf_inspect.pages_text(copy / "annex.pdf"))
    assert "La etapa financiera no produjo tablas" not in finance_text
    assert "Presupuesto inicial: monto (USD)" in finance_text and "Presupuesto ampliado: monto (USD)" in finance_text
    assert "A Personal" in finance_text and "276,182" in finance_text  # Table 4: personnel, 2018
    assert "Ejecución financiera: % de ejecución" in finance_text and "Componente 1" in finance_text
    assert "Presupuesto inicial y ampliado por partida" in finance_text  # the chart's caption
    data = json.loads((copy / "annex" / "annex_data.json").read_text())
    assert data["figures"]["budget_by_item"]["path"] == "/figures/budget_by_item.svg"


def test_no_identifier_of_a_microdata_row_reaches_the_annex(text):
    identifiers = set()
    for source in load_sources(RAW).values():
        table = read_source(RAW, source).table
        for column in (c.name for c in source.columns if c.type == "id"):
            identifiers |= {str(v) for v in table[column].dropna() if len(str(v)) >= 4}
    assert len(identifiers) > 100
    leaked = sorted(v for v in identifiers if v in text)
    assert not leaked, leaked[:5]


def test_cells_neutralised_for_spreadsheets_print_as_written_in_the_pdf():
    from evalpipe.export import neutralise_cell

    for value in ("-", "=1+1", "@x", "+3"):
        assert annex._text(neutralise_cell(value)) == value
    assert annex._text("'quoted'") == "'quoted'" and annex._text(float("nan")) == ""
