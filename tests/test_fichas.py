"""Fichas técnicas as data: faithful to Annex 14, complete for the LFM, refused when they cannot run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from evalpipe import fichas, microdata
from evalpipe.fichas import FichaError

from conftest import FIXTURES, ROOT

TEXT_KEYS = ("descripcion", "resultado", "proposito", "unidad_de_medida", "observaciones", "nivel_de_desagregacion",
             "procedencia_de_los_datos", "periodo_de_referencia", "responsable", "documentos_utilizados")


def load(raw_dir: Path, lfm):
    return fichas.load_fichas(raw_dir, microdata.load_sources(raw_dir), lfm.outcome_indicators, ROOT)


def test_one_ficha_per_outcome_indicator_with_every_field(lfm):
    specs = load(ROOT / "data" / "raw", lfm)
    assert list(specs) == sorted(lfm.outcome_indicators["indicator_id"], key=lambda i: [int(p) for p in i.split(".")])
    for ficha in specs.values():
        assert set(fichas.REQUIRED_FIELDS) <= set(ficha.fields)
        assert ficha.target is not None  # from the LFM


def test_the_15_fichas_of_annex_14_are_transcribed_faithfully(lfm):
    published = yaml.safe_load((FIXTURES / "published" / "fichas_tecnicas.yaml").read_text(encoding="utf-8"))
    specs = load(ROOT / "data" / "raw", lfm)
    assert len(published) == 15
    for entry in published:
        ficha = specs[str(entry["indicador"])]
        assert ficha.origin == "annex_14"
        for key in TEXT_KEYS:
            assert ficha.fields[key] == entry[key], (ficha.indicator_id, key)
        assert ficha.fields["metodo_de_calculo"] == entry["metodo_de_calculo"], ficha.indicator_id
    assert sum(f.origin == "reconstructed" for f in specs.values()) == 23


def test_the_reference_period_follows_the_cutoff(lfm):
    specs = load(ROOT / "data" / "raw", lfm)
    assert "2021Q4" in specs["1.1.1.1"].reference_period("2021Q4")
    assert "2020Q2" in specs["1.1.1.1"].reference_period("2020Q2")


def _edit(raw: Path, indicator: str, change) -> None:
    path = raw / "fichas" / f"{indicator}.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("indicator, change, words", [
    ("1.1.1.1", lambda c: c["calculo"].update(method="average"), "key 'calculo.method': expected a method among"),
    ("1.1.1.1", lambda c: c["calculo"].update(source="recomendaciones"), "key 'calculo.source': expected a source among"),
    ("1.1.1.1", lambda c: c["calculo"]["filters"][0].update(column="category"), "a column of source"),
    ("2.1.1.2", lambda c: c["calculo"].update(pre_column="nota_inicial"), "calculo.pre_column"),
    ("1.1.1.1", lambda c: c["calculo"]["filters"][0].pop("reason"), "a 'reason'"),
    ("1.1.1.1", lambda c: c.pop("proposito"), "expected the key 'proposito'"),
    ("1.1.1.1", lambda c: c["calculo"].pop("numerator_conditions"), "calculo.numerator_conditions"),
    ("1.1.1.1", lambda c: c.update(origen="invented"), "key 'origen': expected one of 'annex_14'"),
    ("1.1.1.1", lambda c: c.update(indicador="9.9.9.9"), "an outcome indicator of lfm"),
    ("2.2.2.1", lambda c: c["calculo"].pop("requires_output_basis"),
     "key 'calculo.requires_output_basis': expected the key 'requires_output_basis' beside requires_output 2.2.2"),
    ("2.2.2.1", lambda c: c["calculo"].update(requires_output_basis=" "),
     "key 'calculo.requires_output_basis': expected the key 'requires_output_basis'"),
])
def test_a_ficha_that_cannot_run_stops_with_its_name_file_and_expectation(raw_copy, lfm, indicator, change, words):
    _edit(raw_copy, indicator, change)
    with pytest.raises(FichaError) as caught:
        load(raw_copy, lfm)
    message = str(caught.value)
    assert f"fichas/{indicator}.yaml" in message and "expected" in message and words in message


def test_a_prerequisite_with_its_basis_is_accepted(raw_copy, lfm):
    specs = load(raw_copy, lfm)
    assert specs["2.2.2.1"].calculation["requires_output"] == "2.2.2"
    assert specs["2.2.2.1"].calculation["requires_output_basis"].startswith("§157 Outcome 2.2.2")


def test_a_missing_ficha_is_named(raw_copy, lfm):
    (raw_copy / "fichas" / "3.3.2.2.yaml").unlink()
    with pytest.raises(FichaError, match="missing 3.3.2.2"):
        load(raw_copy, lfm)


def test_a_ficha_that_is_not_yaml_is_refused(raw_copy, lfm):
    (raw_copy / "fichas" / "1.1.1.1.yaml").write_text("indicador: [1.1.1.1\n", encoding="utf-8")
    with pytest.raises(FichaError, match="valid YAML"):
        load(raw_copy, lfm)


def test_the_package_names_no_project_and_no_indicator_id(lfm):
    """The logic is not tied to PER/17/51/USA: ids and names live in the data and the fichas."""
    ids = set(lfm.output_indicators["indicator_id"]) | set(lfm.outcome_indicators["indicator_id"])
    ids |= set(lfm.outputs["output_id"]) | set(lfm.outcomes["outcome_id"])
    for path in (ROOT / "evalpipe").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "PER/17" not in text, path.name
        named = {code for code in re.findall(r"(?<![\d.])\d+(?:\.\d+){2,3}(?![\d.])", text) if code in ids}
        assert not named, (path.name, named)
        assert "Gracia" not in text and "INABIF" not in text, path.name
