"""Adding a calculation method is one decorated function and one ficha (README, "Adding a calculation method").

The method below is registered here, in a test module, with its formula text; a ficha of a copy of project B's
drop uses it. Nothing else is edited: the ficha schema accepts it (its new column parameter is checked against
the source), the outcome is computed, and the notebook and the PDF annex both write its formula with numbers."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, ROOT, compute_outcomes
from evalpipe import methods
from evalpipe.errors import InputError
from evalpipe.safeyaml import load_yaml

FICHA = """\
indicador: 1.1.1.2
origen: reconstructed
fuente: fixture
descripcion: Nota media de salida de los miembros
resultado: '1.1.1: Comités gestionan mejor el agua'
proposito: Medir lo aprendido.
unidad_de_medida: Nota de 0 a 20
metodo_de_calculo: {numerador: Suma de las notas de salida, denominador: Miembros con nota de salida, reglas: []}
observaciones: ''
nivel_de_desagregacion: Total
procedencia_de_los_datos: Pruebas de salida
periodo_de_referencia: Al corte
responsable: Equipo del proyecto
documentos_utilizados: []
notas_al_pie: []
calculo: {method: mean_score, source: pruebas, score_column: nota_salida}
"""


@pytest.fixture
def mean_score():
    """The new method, as the README shows it: one function with its formula text."""

    @methods.method("mean_score", "source", "score_column", columns=("score_column",),
                    formula="{numerator} / {denominator:0} = {value}")
    def mean_score(params: dict, context: methods.Context) -> methods.Result:
        """The mean of a score column over the rows meeting the filters (rows without a score left out)."""
        rows, exclusions = methods.apply_filters(context.table(params["source"]), params.get("filters", []),
                                                 context)
        scores = rows[params["score_column"]]
        if int(scores.isna().sum()):
            exclusions.append(methods.Exclusion("sin nota", int(scores.isna().sum())))
        scores = scores.dropna()
        if scores.empty:
            return methods.Result(None, None, None, 0, exclusions, "ninguna nota")
        return methods.Result(float(scores.mean()), float(scores.sum()), float(len(scores)), len(scores),
                              exclusions)

    yield mean_score
    methods.REGISTRY.pop("mean_score")  # the shipped registry is what the other tests see


@pytest.fixture
def drop_b(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "project_b" / "raw", raw)
    (raw / "fichas" / "1.1.1.2.yaml").write_text(FICHA, encoding="utf-8")
    return raw


def _lfm(raw):
    from evalpipe.lfm import load_logframe

    return load_logframe(raw / "lfm", ROOT)


def test_a_method_registered_in_one_function_runs_from_a_ficha_and_both_renderers_show_its_formula(mean_score,
                                                                                                   drop_b):
    from evalpipe import annex, outcomes

    indicators, _, _, _ = compute_outcomes(drop_b, _lfm(drop_b), "2023Q2")
    row = indicators.set_index("indicator_id").loc["1.1.1.2"].to_dict()
    assert row["method"] == "mean_score"
    scores = load_scores(drop_b)
    assert row["n"] == len(scores) and row["current"] == pytest.approx(round(sum(scores) / len(scores), 4))
    numerator = outcomes._fmt(row["numerator"])
    expected = f"{numerator} / {len(scores)} = {outcomes._fmt(row['current'])} %"  # the LFM unit is percent
    assert outcomes.formula_line(row, "en") == expected
    assert annex.formula_text(row, "en") == (f"{annex.format_number(row['numerator'])} / {len(scores)} = "
                                             f"{annex.format_number(row['current'])} %")


def load_scores(raw) -> list[float]:
    from evalpipe import microdata

    table = microdata.read_all_sources(raw, ROOT)["pruebas"].table
    return table["nota_salida"].dropna().tolist()


def test_the_schema_checks_the_new_methods_column_parameter(mean_score, drop_b):
    from evalpipe import fichas, microdata

    sources = microdata.load_sources(drop_b, ROOT)
    lfm = _lfm(drop_b)
    assert fichas.load_fichas(drop_b, sources, lfm.outcome_indicators, ROOT)["1.1.1.2"].method == "mean_score"
    assert "nota_salida" in fichas.columns_used(load_yaml(drop_b / "fichas" / "1.1.1.2.yaml", "f")["calculo"])
    (drop_b / "fichas" / "1.1.1.2.yaml").write_text(FICHA.replace("score_column: nota_salida",
                                                                  "score_column: nota_final"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        fichas.load_fichas(drop_b, sources, lfm.outcome_indicators, ROOT)
    assert "calculo.score_column" in str(caught.value) and "nota_final" in str(caught.value)
    (drop_b / "fichas" / "1.1.1.2.yaml").write_text(FICHA.replace(", score_column: nota_salida", ""),
                                                    encoding="utf-8")
    with pytest.raises(InputError, match="score_column"):
        fichas.load_fichas(drop_b, sources, lfm.outcome_indicators, ROOT)


def test_without_the_function_the_ficha_is_refused(drop_b):
    from evalpipe import fichas, microdata

    sources = microdata.load_sources(drop_b, ROOT)
    with pytest.raises(InputError, match="a method among"):
        fichas.load_fichas(drop_b, sources, _lfm(drop_b).outcome_indicators, ROOT)
