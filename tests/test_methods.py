"""Each calculation method against small cases computed by hand, including the edge cases."""

from __future__ import annotations


import pandas as pd
import pytest

from evalpipe import i18n, methods
from evalpipe.methods import Context, SpecError, run_method
from evalpipe.quarters import Quarter


def ctx(**tables) -> Context:
    return Context(Quarter(2020, 2), tables, {k: list(v.columns) for k, v in tables.items()})


RECS = pd.DataFrame({
    "estado": ["cumplida", "cumplida", "en proceso", "parcialmente cumplida", "no iniciada", "cumplida"],
    "tipo": ["específica"] * 5 + ["general"],
    "fecha": pd.to_datetime(["2020-01-10", "2020-09-01", "2020-03-01", None, None, "2019-05-01"]),
})


def test_share_counts_only_items_meeting_every_condition_over_items_in_scope():
    params = {"source": "recs", "filters": [{"column": "tipo", "in": ["específica"], "reason": "general"}],
              "numerator_conditions": [{"column": "estado", "in": ["cumplida"]},
                                       {"column": "fecha", "on_or_before": "cutoff"}]}
    result = run_method("share", params, ctx(recs=RECS))
    # 5 specific recommendations; only one fulfilled by 2020-06-30 (the other after the cut-off).
    assert (result.numerator, result.denominator, result.value) == (1, 5, 20.0)
    assert [(e.reason, e.n) for e in result.exclusions] == [("general", 1)]


def test_share_where_in_progress_also_counts():
    params = {"source": "recs", "numerator_conditions": [{"column": "estado", "in": ["cumplida", "en proceso"]}]}
    result = run_method("share", params, ctx(recs=RECS))
    assert (result.numerator, result.denominator) == (4, 6)
    assert result.value == pytest.approx(66.6667, abs=1e-3)


def test_share_with_everything_excluded_is_not_measured_with_a_reason():
    params = {"source": "recs", "filters": [{"column": "tipo", "in": ["otro"], "reason": "fuera de ámbito"}],
              "numerator_conditions": [{"column": "estado", "in": ["cumplida"]}]}
    result = run_method("share", params, ctx(recs=RECS))
    assert result.value is None and result.denominator == 0
    assert "denominador cero" in result.reason
    assert result.n_excluded == 6


def test_share_on_an_empty_table_is_not_measured():
    result = run_method("share", {"source": "recs", "numerator_conditions": [{"column": "estado", "in": ["x"]}]},
                        ctx(recs=RECS.iloc[0:0]))
    assert result.value is None and result.n_used == 0


def test_count_distinct_with_cutoff_filter():
    rows = pd.DataFrame({"accion": ["A", "A", "B", "", "C"],
                         "fecha": pd.to_datetime(["2019-01-01", "2019-02-01", "2020-06-30", "2019-01-01", "2020-07-01"])})
    params = {"source": "acts", "distinct": "accion",
              "filters": [{"column": "accion", "not_blank": True, "reason": "sin acción"},
                          {"column": "fecha", "on_or_before": "cutoff", "reason": "después del corte"}]}
    result = run_method("count", params, ctx(acts=rows))
    assert result.value == 2  # A (twice) and B; the blank one and C (July 2020) are left out
    assert {e.reason: e.n for e in result.exclusions} == {"sin acción": 1, "después del corte": 1,
                                                          "mismo accion contado una sola vez": 1}


def test_existence_is_one_or_zero():
    rows = pd.DataFrame({"ok": ["sí", "no"]})
    assert run_method("existence", {"source": "s", "filters": [{"column": "ok", "in": ["sí"], "reason": "r"}]},
                      ctx(s=rows)).value == 1
    assert run_method("existence", {"source": "s", "filters": [{"column": "ok", "in": ["x"], "reason": "r"}]},
                      ctx(s=rows)).value == 0


def test_pre_post_participant_uses_only_participants_with_both_tests():
    rows = pd.DataFrame({"id": ["a", "b", "c", "d"], "pre": [10.0, 12.0, None, 8.0], "post": [12.0, 15.0, 20.0, None]})
    params = {"source": "t", "pre_column": "pre", "post_column": "post", "id_column": "id"}
    result = run_method("pre_post_participant", params, ctx(t=rows))
    # a and b only: mean pre 11, mean post 13.5 -> +22.727%
    assert result.n_used == 2 and result.value == pytest.approx(100 * 2.5 / 11)
    assert result.numerator == pytest.approx(250.0) and result.denominator == pytest.approx(11.0)
    assert result.exclusions[0].n == 2


def test_pre_post_participant_with_nobody_taking_both_tests_is_not_measured():
    rows = pd.DataFrame({"id": ["a"], "pre": [10.0], "post": [None]})
    result = run_method("pre_post_participant", {"source": "t", "pre_column": "pre", "post_column": "post",
                                                 "id_column": "id"}, ctx(t=rows))
    assert result.value is None and "ambas pruebas" in result.reason


def test_pre_post_with_a_zero_mean_before_is_not_measured():
    rows = pd.DataFrame({"id": ["a"], "pre": [0.0], "post": [5.0]})
    result = run_method("pre_post_participant", {"source": "t", "pre_column": "pre", "post_column": "post",
                                                 "id_column": "id"}, ctx(t=rows))
    assert result.value is None


def test_pre_post_question_averages_per_question_shares():
    rows = pd.DataFrame({
        "q": ["P1", "P1", "P2", "P2", "P3"], "test": ["in", "out", "in", "out", "out"],
        "n": [10, 10, 10, 8, 10], "ok": [5, 6, 3, 4, 9]})
    params = {"source": "t", "question_column": "q", "test_column": "test", "pre_label": "in", "post_label": "out",
              "correct_column": "ok", "respondents_column": "n"}
    result = run_method("pre_post_question", params, ctx(t=rows))
    pre, post = (0.5 + 0.3) / 2, (0.6 + 0.5) / 2  # P3 only in the exit test: left out
    assert result.value == pytest.approx(100 * (post - pre) / pre)
    assert result.exclusions[0].n == 1 and result.n_used == 2


def test_pre_post_weighted_by_participants_per_group():
    rows = pd.DataFrame({"region": ["A", "B", "C"], "n": [10, 30, None], "pre": [10.0, 12.0, None],
                         "post": [11.0, 15.0, None]})
    params = {"source": "t", "weight_column": "n", "pre_column": "pre", "post_column": "post"}
    result = run_method("pre_post_weighted", params, ctx(t=rows))
    pre, post = (100 + 360) / 40, (110 + 450) / 40
    assert result.value == pytest.approx(100 * (post - pre) / pre)
    assert result.n_used == 40 and result.n_excluded == 1


def _residents(current_date: str) -> pd.DataFrame:
    """Residents counted at the baseline (2019-03-31) and at ``current_date``: in G1 one baseline resident has
    another problem; G2 was created by the project (its baseline count is set to zero)."""
    return pd.DataFrame({
        "care": ["G1", "G1", "G1", "G2", "G2"] + ["G1"] * 3 + ["G2"] * 4,
        "created": ["no", "no", "no", "sí", "sí"] + ["no"] * 3 + ["sí"] * 4,
        "date": pd.to_datetime(["2019-03-31"] * 5 + [current_date] * 7),
        "problem": ["trata", "trata", "otra", "trata", "trata"] + ["trata"] * 7,
    })


BASELINE_RULES = {"source": "r", "group_column": "care", "snapshot_column": "date", "baseline_snapshot": "2019-03-31",
                  "baseline_filters": [{"column": "problem", "in": ["trata"], "reason": "otra problemática"}],
                  "baseline_zero_when": {"column": "created", "in": ["sí"], "reason": "creado por el proyecto"}}


def test_percent_change_count_applies_the_baseline_rules():
    rows = _residents("2020-11-30")
    params = BASELINE_RULES | {"current_may_follow_cutoff": True}
    result = run_method("percent_change_count", params, ctx(r=rows))
    assert result.denominator == 2 and result.value == pytest.approx(100 * (7 - 2) / 2)
    # Without permission to look after the cut-off, the November 2020 count is not used.
    strict = run_method("percent_change_count", params | {"current_may_follow_cutoff": False}, ctx(r=rows))
    assert strict.value is None and strict.exclusions[0].n == 7


def test_from_output_indicator_adds_the_baseline_when_told():
    outputs = pd.DataFrame({"indicator_id": ["9.1.1.1"], "current": [3.0]})
    context = Context(Quarter(2020, 2), {}, {}, outputs)
    assert run_method("from_output_indicator", {"output_indicator": "9.1.1.1"}, context).value == 3
    assert run_method("from_output_indicator", {"output_indicator": "9.1.1.1", "add": 4}, context).value == 7
    with pytest.raises(SpecError):
        run_method("from_output_indicator", {"output_indicator": "9.9.9.9"}, context)


def test_not_measured_is_never_zero():
    result = run_method("not_measured", {"reason": "sin datos"}, ctx())
    assert result.value is None and result.reason == "sin datos"


@pytest.mark.parametrize("name, params, words", [
    ("median", {}, "unknown method"),
    ("share", {"source": "recs"}, "needs parameter"),
    ("share", {"source": "nope", "numerator_conditions": []}, "unknown source"),
    ("share", {"source": "recs", "numerator_conditions": [{"column": "colour", "in": ["x"]}]}, "unknown column"),
    ("share", {"source": "recs", "numerator_conditions": [{"column": "estado", "like": "x"}]}, "exactly one of"),
    ("count", {"source": "recs", "filters": [{"column": "estado", "in": ["x"]}]}, "has no 'reason'"),
])
def test_bad_specs_are_refused_with_a_reason(name, params, words):
    with pytest.raises(SpecError, match=words):
        run_method(name, params, ctx(recs=RECS))


def test_methods_are_a_closed_registry():
    assert set(methods.METHODS) == {"share", "count", "existence", "pre_post_participant", "pre_post_question",
                                    "pre_post_weighted", "percent_change_count", "from_output_indicator",
                                    "not_measured"}


def test_cutoff_end_is_the_last_day_of_the_quarter():
    assert ctx().cutoff_end == pd.Timestamp("2020-06-30")
    assert Context(Quarter(2020, 4), {}, {}).cutoff_end == pd.Timestamp("2020-12-31")


# ------------------------------------------------------------------ the registries own their texts --

ROW = {"numerator": 9.0, "denominator": 20.0, "current": 45.0, "unit": "percent"}


def _fmt(value, digits):
    return f"<{value:g}|{digits}>"


@pytest.mark.parametrize("name, written", [
    ("share", "<9|2> / <20|2> × 100 = <45|2> %"),
    ("pre_post_participant", "(<9|4>) / <20|4> = <45|2> %"),
    ("pre_post_question", "(<9|4>) / <20|4> = <45|2> %"),
    ("pre_post_weighted", "(<9|4>) / <20|4> = <45|2> %"),
    ("percent_change_count", "(<9|2>) / <20|2> = <45|2> %"),
    ("count", "<45|2> %"), ("existence", "<45|2> %"), ("from_output_indicator", "<45|2> %"),
    ("not_measured", "<45|2> %"), ("unknown", "<45|2> %"),
])
def test_each_method_writes_its_registered_formula_with_the_numbers_given(name, written):
    assert methods.write_formula(name, ROW, _fmt) == written
    assert methods.write_formula(name, ROW | {"unit": "count"}, _fmt) == written.removesuffix(" %")


def test_a_missing_value_shows_no_unit():
    assert methods.write_formula("count", ROW | {"current": None}, lambda v, d: "—") == "—"


def test_the_notes_are_catalog_keys_of_the_methods_that_need_one():
    from evalpipe import i18n

    notes = {name: methods.formula_note(name) for name in methods.METHODS}
    assert notes["share"] is None and notes["count"] is None and methods.formula_note("unknown") is None
    assert {notes[n] for n in ("pre_post_participant", "pre_post_question", "pre_post_weighted")} == {
        "outcome.pre_post_note"}
    assert notes["percent_change_count"] == "outcome.percent_change_note"
    for key in filter(None, notes.values()):
        assert i18n.t(key, "en") != i18n.t(key, "es")


def test_the_registry_views_follow_the_registry():
    assert methods.REQUIRED_PARAMS["share"] == ("source", "numerator_conditions")
    assert methods.METHODS["count"] is methods.REGISTRY["count"].function
    assert len(methods.METHODS) == len(methods.REGISTRY) == 9 and "median" not in methods.METHODS


def test_a_formula_may_name_only_the_numbers_of_the_outcome_table():
    with pytest.raises(ValueError, match="numerator, denominator, value"):
        methods.method("bad", formula="{n} / {denominator}")
    assert "bad" not in methods.REGISTRY


def test_operators_are_one_registry_with_their_operand_kinds():
    from evalpipe import operators

    assert {name: op.operand for name, op in operators.OPERATORS.items()} == {
        "in": "values", "not_in": "values", "not_blank": "true", "on_or_before": "date", "after": "date",
        "on_or_after": "date", "greater_than": "number"}
    with pytest.raises(ValueError) as caught:
        operators.operator("like", "pattern")
    assert str(caught.value) == ("operator 'like': operand kind 'pattern' is not one of values, true, date, "
                                 "number")
    assert "like" not in operators.OPERATORS


@pytest.mark.parametrize("condition, kept", [
    ({"in": ["a", "b"]}, [True, True, False, False, False]),
    ({"not_in": ["a"]}, [False, True, True, True, False]),
    ({"not_blank": True}, [True, True, True, False, False]),
])
def test_each_text_operator_keeps_the_rows_it_names(condition, kept):
    frame = pd.DataFrame({"c": ["a", "b", "c", " ", None]})
    mask = methods.condition_mask(frame, {"column": "c", **condition}, ctx())
    assert mask.tolist() == kept


@pytest.mark.parametrize("condition, kept", [
    ({"on_or_before": "2020-06-30"}, [True, True, False, False]),
    ({"on_or_before": "cutoff"}, [True, True, False, False]),
    ({"after": "cutoff"}, [False, False, True, False]),
    ({"on_or_after": "2020-06-30"}, [False, True, True, False]),
    ({"greater_than": 5}, [False, True, True, False]),
])
def test_each_date_and_number_operator_keeps_the_rows_it_names(condition, kept):
    column = "n" if "greater_than" in condition else "d"
    frame = pd.DataFrame({"d": pd.to_datetime(["2020-06-29", "2020-06-30", "2020-07-01", None]),
                          "n": [5, 5.5, "9", "nueve"]})
    mask = methods.condition_mask(frame, {"column": column, **condition}, ctx())
    assert mask.fillna(False).tolist() == kept


def test_pre_post_weighted_applies_its_filters_and_leaves_out_groups_without_both_results():
    from evalpipe import i18n

    rows = pd.DataFrame({"taller": ["A", "B", "C", "D", "E", "F"], "n": [10, 30, 0, None, 5, 1],
                         "pre": [10.0, 20.0, 99.0, 99.0, None, 12.0], "post": [12.0, 26.0, 99.0, 99.0, 15.0, 18.0],
                         "region": ["x", "x", "x", "x", "x", "y"]})
    params = {"source": "t", "weight_column": "n", "pre_column": "pre", "post_column": "post", "label_column": "taller",
              "filters": [{"column": "region", "in": ["x"], "reason": "otra región"}]}
    result = run_method("pre_post_weighted", params, ctx(t=rows))
    # A and B only: C has no participants, D no weight, E no entry test; F is another region
    mean_pre, mean_post = (10 * 10 + 30 * 20) / 40, (10 * 12 + 30 * 26) / 40
    assert result.n_used == 40 and result.denominator == pytest.approx(mean_pre)
    assert result.value == pytest.approx(100 * (mean_post - mean_pre) / mean_pre)
    assert [(e.reason, e.n) for e in result.exclusions] == [
        ("otra región", 1), (i18n.t("reason.without_both_results", "es"), 3)]
    assert result.detail["taller"].tolist() == ["A", "B"]
    everyone = run_method("pre_post_weighted", {k: v for k, v in params.items() if k != "filters"}, ctx(t=rows))
    assert everyone.n_used == 41 and [e.n for e in everyone.exclusions] == [3]
    usable = run_method("pre_post_weighted", params, ctx(t=rows.iloc[:2]))
    assert usable.exclusions == [] and usable.n_used == 40  # nothing left out: no exclusion row, not a 0


def test_not_measured_uses_no_row():
    result = run_method("not_measured", {"reason": "sin datos"}, ctx())
    assert result.n_used == 0 and result.n_excluded == 0 and result.numerator is None


def test_a_method_registered_without_formula_writes_its_value():
    methods.method("plain_value", "source")(lambda params, context: methods.Result(1.0))
    try:
        spec = methods.REGISTRY["plain_value"]
        assert (spec.name, spec.required, spec.formula, spec.note, spec.columns) == (
            "plain_value", ("source",), "{value}", None, ())
        assert methods.write_formula("plain_value", ROW, _fmt) == "<45|2> %"
        methods.method("noted_value", formula="{numerator}", note="outcome.note", columns=("c",))(lambda p, c: None)
        assert (methods.formula_note("noted_value"), methods.REGISTRY["noted_value"].columns) == ("outcome.note", ("c",))
    finally:
        methods.REGISTRY.pop("plain_value")
        methods.REGISTRY.pop("noted_value", None)


def test_an_operator_registers_its_mask_and_operand_kind():
    from evalpipe import operators

    def starts_with(values, operand):
        return values.astype(str).str.startswith(tuple(operand))

    assert operators.operator("starts_with", "values")(starts_with) is starts_with
    try:
        assert operators.OPERATORS["starts_with"] == operators.Operator("starts_with", "values", starts_with)
        mask = methods.condition_mask(pd.DataFrame({"c": ["ab", "ba"]}), {"column": "c", "starts_with": ["a"]}, ctx())
        assert mask.tolist() == [True, False]
    finally:
        operators.OPERATORS.pop("starts_with")


def test_a_registry_view_reads_one_attribute_of_each_method():
    view = methods._View("note")
    assert view["pre_post_question"] == "outcome.pre_post_note" and list(view) == list(methods.REGISTRY)
    assert len(view) == len(methods.REGISTRY)


# ---------------------------------------------------------------- what mutation testing found untested (docs/mutation.md)

ACTS = pd.DataFrame({"accion": ["A", "A", "B", "C", "D"], "region": ["norte", "norte", "norte", "sur", "sur"]})


def test_count_without_breakdown_gives_its_numbers_and_no_detail_table():
    result = run_method("count", {"source": "acts"}, ctx(acts=ACTS))
    assert (result.value, result.numerator, result.denominator, result.n_used) == (5.0, 5.0, None, 5)
    assert result.detail is None and result.exclusions == [] and result.reason == ""


def test_count_breakdown_counts_rows_or_distinct_values_per_group():
    rows = run_method("count", {"source": "acts", "breakdown": "region"}, ctx(acts=ACTS))
    assert rows.detail.to_dict("records") == [{"region": "norte", "n": 3}, {"region": "sur", "n": 2}]
    distinct = run_method("count", {"source": "acts", "breakdown": "region", "distinct": "accion"}, ctx(acts=ACTS))
    assert distinct.detail.to_dict("records") == [{"region": "norte", "n": 2}, {"region": "sur", "n": 2}]
    assert (distinct.value, distinct.n_used) == (4.0, 5)
    assert [(e.reason, e.n) for e in distinct.exclusions] == [("mismo accion contado una sola vez", 1)]


def test_count_breakdown_of_an_empty_selection_has_no_detail_table():
    params = {"source": "acts", "breakdown": "region",
              "filters": [{"column": "accion", "in": ["Z"], "reason": "otra acción"}]}
    result = run_method("count", params, ctx(acts=ACTS))
    assert result.value == 0.0 and result.detail is None
    assert [(e.reason, e.n) for e in result.exclusions] == [("otra acción", 5)]


def test_count_distinct_of_an_unknown_column_names_it():
    with pytest.raises(SpecError, match="unknown column 'nombre' for 'distinct'"):
        run_method("count", {"source": "acts", "distinct": "nombre"}, ctx(acts=ACTS))


def test_existence_gives_numerator_n_and_a_reason_when_nothing_meets_the_conditions():
    rows = pd.DataFrame({"ok": ["sí", "sí", "no"]})
    found = run_method("existence", {"source": "s", "filters": [{"column": "ok", "in": ["sí"], "reason": "r"}]},
                       ctx(s=rows))
    assert (found.value, found.numerator, found.denominator, found.n_used, found.reason) == (1.0, 1.0, None, 2, "")
    assert [(e.reason, e.n) for e in found.exclusions] == [("r", 1)]
    none = run_method("existence", {"source": "s", "filters": [{"column": "ok", "in": ["x"], "reason": "r"}]},
                      ctx(s=rows))
    assert (none.value, none.numerator, none.n_used) == (0.0, 0.0, 0)
    assert none.reason == "ninguna evidencia cumple las condiciones"  # the tables hold Spanish reasons
    from evalpipe.outcomes import reason_text

    assert reason_text(none.reason, "en") == "no evidence meets the conditions"  # and the English run says it so


def test_pre_post_participant_gives_every_number_its_exclusions_and_its_detail():
    rows = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "grupo": ["x", "x", "y", "y", "y"],
                         "pre": [10.0, 12.0, 4.0, None, 8.0], "post": [12.0, 15.0, 6.0, 20.0, None]})
    params = {"source": "t", "pre_column": "pre", "post_column": "post", "id_column": "id",
              "one_test_reason": "solo una prueba"}
    result = run_method("pre_post_participant", params, ctx(t=rows))
    # a, b, c: mean pre 26/3, mean post 33/3 -> (11 - 26/3) / (26/3) × 100
    assert result.value == pytest.approx(100 * (11 - 26 / 3) / (26 / 3))
    assert (result.n_used, result.reason) == (3, "")
    assert [(e.reason, e.n) for e in result.exclusions] == [("solo una prueba", 2)]
    assert result.detail.to_dict("list") == {"test": ["pre", "post"], "participants": [3, 3],
                                             "mean_score": [pytest.approx(26 / 3), pytest.approx(11.0)]}
    default = run_method("pre_post_participant", params | {"one_test_reason": None}, ctx(t=rows))
    assert [e.reason for e in default.exclusions] == [i18n.t("reason.one_test", "es")]
    grouped = run_method("pre_post_participant", params | {"breakdown": "grupo"}, ctx(t=rows))
    assert grouped.detail.to_dict("records") == [
        {"grupo": "x", "participants": 2, "mean_pre": 11.0, "mean_post": 13.5},
        {"grupo": "y", "participants": 1, "mean_pre": 4.0, "mean_post": 6.0}]
    assert grouped.value == pytest.approx(result.value)


def test_pre_post_participant_with_everyone_taking_both_tests_excludes_nobody():
    rows = pd.DataFrame({"id": ["a", "b"], "pre": [10.0, 10.0], "post": [15.0, 5.0]})
    result = run_method("pre_post_participant", {"source": "t", "pre_column": "pre", "post_column": "post",
                                                 "id_column": "id"}, ctx(t=rows))
    assert result.exclusions == [] and result.value == pytest.approx(0.0) and result.n_used == 2


def test_percent_change_count_gives_every_number_its_note_and_its_detail():
    rows = pd.DataFrame({
        "care": ["G1", "G1", "G2"] + ["G1", "G2", "G2", "G3"] + ["G1"] * 9,
        "date": pd.to_datetime(["2019-03-31"] * 3 + ["2020-03-31"] * 4 + ["2020-11-30"] * 9),
    })
    params = {"source": "r", "group_column": "care", "snapshot_column": "date", "baseline_snapshot": "2019-03-31"}
    result = run_method("percent_change_count", params, ctx(r=rows))
    # The cut-off is 2020Q2: the March 2020 count (4) is the current one; November 2020's 9 are left out.
    assert result.value == pytest.approx(100 * (4 - 3) / 3)
    assert (result.numerator, result.denominator, result.n_used) == (100.0, 3.0, 7)
    assert [(e.reason, e.n) for e in result.exclusions] == [
        (i18n.t("reason.count_after_cutoff", "es"), 9)]
    assert result.reason == "línea de base 2019-03-31, conteo actual 2020-03-31"
    assert result.detail.to_dict("records") == [{"care": "G1", "baseline": 2, "current": 1},
                                                {"care": "G2", "baseline": 1, "current": 2},
                                                {"care": "G3", "baseline": 0, "current": 1}]


def test_percent_change_count_with_a_zero_baseline_or_no_later_count_is_not_measured():
    rows = pd.DataFrame({"care": ["G1", "G1"], "date": pd.to_datetime(["2019-03-31", "2020-03-31"]),
                         "created": ["sí", "no"]})
    params = {"source": "r", "group_column": "care", "snapshot_column": "date", "baseline_snapshot": "2019-03-31",
              "baseline_zero_when": {"column": "created", "in": ["sí"]}}
    zero = run_method("percent_change_count", params, ctx(r=rows))
    assert (zero.value, zero.numerator, zero.denominator, zero.n_used) == (None, 1.0, 0.0, 1)
    assert [(e.reason, e.n) for e in zero.exclusions] == [(i18n.t("reason.baseline_set_to_zero", "es"), 1)]
    assert zero.reason == "conteo de línea de base igual a cero (línea de base 2019-03-31, conteo actual 2020-03-31)"
    only_baseline = run_method("percent_change_count", params, ctx(r=rows.iloc[:1]))
    assert (only_baseline.value, only_baseline.n_used, only_baseline.exclusions) == (None, 0, [])
    assert only_baseline.reason == i18n.t("reason.no_count_after_baseline", "es")


def test_pre_post_question_within_courses_gives_every_number_and_its_detail():
    # Two courses ask a question "P1" each: a question is identified within its course (group_column).
    rows = pd.DataFrame({
        "curso": ["a", "a", "b", "b", "b"], "q": ["P1", "P1", "P1", "P1", "P2"],
        "test": ["in", "out", "in", "out", "in"], "n": [10, 10, 4, 4, 5], "ok": [5, 8, 1, 2, 5]})
    params = {"source": "t", "question_column": "q", "test_column": "test", "pre_label": "in", "post_label": "out",
              "correct_column": "ok", "respondents_column": "n", "group_column": "curso"}
    result = run_method("pre_post_question", params, ctx(t=rows))
    pre, post = (0.5 + 0.25) / 2, (0.8 + 0.5) / 2  # b/P2 has no exit test
    assert result.value == pytest.approx(100 * (post - pre) / pre)
    assert result.numerator == pytest.approx(100 * (post - pre)) and result.denominator == pytest.approx(pre)
    assert (result.n_used, result.reason) == (2, "")
    assert [(e.reason, e.n) for e in result.exclusions] == [(i18n.t("reason.question_not_in_both_tests", "es"), 1)]
    assert result.detail.to_dict("records") == [{"curso": "a", "q": "P1", "in": 0.5, "out": 0.8},
                                                {"curso": "b", "q": "P1", "in": 0.25, "out": 0.5}]
    # Without the course, the two "P1" are one question (their shares averaged).
    merged = run_method("pre_post_question", params | {"group_column": None}, ctx(t=rows))
    assert merged.n_used == 1 and merged.detail.to_dict("records") == [{"q": "P1", "in": 0.375, "out": 0.65}]


def test_pre_post_question_without_an_exit_test_is_not_measured():
    rows = pd.DataFrame({"q": ["P1", "P2"], "test": ["in", "in"], "n": [10, 10], "ok": [5, 6]})
    params = {"source": "t", "question_column": "q", "test_column": "test", "pre_label": "in", "post_label": "out",
              "correct_column": "ok", "respondents_column": "n"}
    result = run_method("pre_post_question", params, ctx(t=rows))
    assert (result.value, result.numerator, result.denominator, result.n_used) == (None, None, None, 0)
    assert result.reason == i18n.t("reason.no_question_in_both_tests", "es")
    assert [(e.reason, e.n) for e in result.exclusions] == [(i18n.t("reason.question_not_in_both_tests", "es"), 2)]
    assert list(result.detail.columns) == ["q", "in", "out"] and result.detail.empty


def test_pre_post_weighted_gives_every_number_its_exclusions_and_its_detail():
    rows = pd.DataFrame({"region": ["A", "B", "C", "D"], "n": [10, 30, 0, 5], "pre": [10.0, 12.0, 9.0, None],
                         "post": [11.0, 15.0, 9.0, 8.0]})
    params = {"source": "t", "weight_column": "n", "pre_column": "pre", "post_column": "post",
              "label_column": "region"}
    result = run_method("pre_post_weighted", params, ctx(t=rows))
    pre, post = (100 + 360) / 40, (110 + 450) / 40  # C weighs nothing, D has no entry result
    assert result.value == pytest.approx(100 * (post - pre) / pre)
    assert result.numerator == pytest.approx(100 * (post - pre)) and result.denominator == pytest.approx(pre)
    assert (result.n_used, result.reason) == (40, "")
    assert [(e.reason, e.n) for e in result.exclusions] == [(i18n.t("reason.without_both_results", "es"), 2)]
    assert result.detail.to_dict("records") == [{"region": "A", "n": 10, "pre": 10.0, "post": 11.0},
                                                {"region": "B", "n": 30, "pre": 12.0, "post": 15.0}]
    nobody = run_method("pre_post_weighted", params, ctx(t=rows.iloc[2:3]))
    assert (nobody.value, nobody.n_used) == (None, 0)
    assert nobody.reason == i18n.t("reason.no_group_with_both_results", "es")


def test_pct_change_of_a_missing_or_zero_mean_before_has_no_value():
    assert methods._pct_change(12.0, 10.0) == (pytest.approx(20.0), pytest.approx(200.0), 10.0)
    assert methods._pct_change(12.0, 0.0) == (None, None, 0.0)
    value, numerator, denominator = methods._pct_change(12.0, float("nan"))
    assert value is None and numerator is None and denominator != denominator
    assert methods._pct_change(12.0, None) == (None, None, None)


def test_pre_post_participant_applies_the_fichas_filters_first():
    rows = pd.DataFrame({"id": ["a", "b", "c"], "rol": ["juez", "fiscal", "juez"],
                         "pre": [10.0, 50.0, 12.0], "post": [12.0, 10.0, 15.0]})
    params = {"source": "t", "pre_column": "pre", "post_column": "post", "id_column": "id",
              "filters": [{"column": "rol", "in": ["juez"], "reason": "otro rol"}]}
    result = run_method("pre_post_participant", params, ctx(t=rows))
    assert result.value == pytest.approx(100 * 2.5 / 11) and result.n_used == 2
    assert [(e.reason, e.n) for e in result.exclusions] == [("otro rol", 1)]


def test_pre_post_without_anyone_usable_keeps_its_exclusions_and_detail():
    rows = pd.DataFrame({"id": ["a"], "pre": [10.0], "post": [None]})
    result = run_method("pre_post_participant", {"source": "t", "pre_column": "pre", "post_column": "post",
                                                 "id_column": "id"}, ctx(t=rows))
    assert (result.value, result.n_used, result.n_excluded) == (None, 0, 1)
    assert result.detail.to_dict("list") == {"test": ["pre", "post"], "participants": [0, 0],
                                             "mean_score": [pytest.approx(float("nan"), nan_ok=True)] * 2}
    weighted = run_method("pre_post_weighted", {"source": "t", "weight_column": "n", "pre_column": "pre",
                                                "post_column": "post"},
                          ctx(t=pd.DataFrame({"n": [4], "pre": [None], "post": [3.0]})))
    assert (weighted.value, weighted.n_used, weighted.n_excluded) == (None, 0, 1)
    assert list(weighted.detail.columns) == ["n", "pre", "post"] and weighted.detail.empty


def test_existence_of_a_single_row_counts_it():
    result = run_method("existence", {"source": "s"}, ctx(s=pd.DataFrame({"ok": ["sí"]})))
    assert (result.value, result.numerator, result.n_used) == (1.0, 1.0, 1)


def test_percent_change_count_keeps_a_count_on_the_last_day_of_the_cutoff_quarter():
    rows = pd.DataFrame({"care": ["G1", "G1", "G1"],
                         "date": pd.to_datetime(["2019-03-31", "2020-06-30", "2020-06-30"])})
    params = {"source": "r", "group_column": "care", "snapshot_column": "date", "baseline_snapshot": "2019-03-31",
              "baseline_filters": [{"column": "date", "on_or_before": "cutoff", "reason": "después del corte"}],
              "baseline_zero_when": {"column": "date", "after": "cutoff"}}
    result = run_method("percent_change_count", params, ctx(r=rows))
    assert (result.value, result.n_used, result.exclusions) == (pytest.approx(100.0), 3, [])


def test_percent_change_count_numbers_and_exclusions_with_the_baseline_rules():
    result = run_method("percent_change_count", BASELINE_RULES, ctx(r=_residents("2020-05-31")))
    assert (result.value, result.numerator, result.denominator, result.n_used) == (250.0, 500.0, 2.0, 9)
    assert [(e.reason, e.n) for e in result.exclusions] == [("otra problemática", 1), ("creado por el proyecto", 2)]
    assert result.detail.to_dict("records") == [{"care": "G1", "baseline": 2, "current": 3},
                                                {"care": "G2", "baseline": 0, "current": 4}]
    assert all(str(dtype) == "int64" for dtype in result.detail[["baseline", "current"]].dtypes)


def test_percent_change_count_with_a_zero_baseline_keeps_its_detail():
    rows = pd.DataFrame({"care": ["G1", "G1", "G2"], "date": pd.to_datetime(["2019-03-31", "2020-03-31", "2020-03-31"]),
                         "created": ["sí", "no", "no"]})
    params = {"source": "r", "group_column": "care", "snapshot_column": "date", "baseline_snapshot": "2019-03-31",
              "baseline_zero_when": {"column": "created", "in": ["sí"]}}
    result = run_method("percent_change_count", params, ctx(r=rows))
    assert (result.value, result.numerator, result.denominator) == (None, 2.0, 0.0)
    assert result.detail.to_dict("records") == [{"care": "G1", "baseline": 0, "current": 1},
                                                {"care": "G2", "baseline": 0, "current": 1}]


def test_pre_post_question_detail_has_plain_column_names():
    rows = pd.DataFrame({"q": ["P1", "P1"], "test": ["in", "out"], "n": [10, 10], "ok": [5, 6]})
    params = {"source": "t", "question_column": "q", "test_column": "test", "pre_label": "in", "post_label": "out",
              "correct_column": "ok", "respondents_column": "n"}
    result = run_method("pre_post_question", params, ctx(t=rows))
    assert result.detail.columns.name is None and list(result.detail.columns) == ["q", "in", "out"]


def test_from_output_indicator_refusals_say_what_is_missing():
    with pytest.raises(SpecError, match="^output indicators are not available to this calculation$"):
        run_method("from_output_indicator", {"output_indicator": "9.1.1.1"}, Context(Quarter(2020, 2), {}, {}))
    outputs = pd.DataFrame({"indicator_id": ["9.1.1.1"], "current": [3.0]})
    with pytest.raises(SpecError, match=r"^unknown output indicator '9\.9\.9\.9'$"):
        run_method("from_output_indicator", {"output_indicator": "9.9.9.9"}, Context(Quarter(2020, 2), {}, {}, outputs))


def test_share_gives_every_number_and_its_detail_with_and_without_breakdown():
    params = {"source": "recs", "numerator_conditions": [{"column": "estado", "in": ["cumplida"]}]}
    result = run_method("share", params, ctx(recs=RECS))
    assert (result.value, result.numerator, result.denominator, result.n_used, result.reason) == (50.0, 3, 6, 6, "")
    assert result.detail.to_dict("list") == {"counted_in_numerator": [True, False], "n": [3, 3]}
    rows = RECS.assign(tipo=["específica", None, "específica", "específica", "específica", "general"])
    grouped = run_method("share", params | {"breakdown": "tipo"}, ctx(recs=rows))
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in grouped.detail.to_dict("records")]
    assert records == [{"tipo": "específica", "counted_in_numerator": False, "n": 3},
                       {"tipo": "específica", "counted_in_numerator": True, "n": 1},
                       {"tipo": "general", "counted_in_numerator": True, "n": 1},
                       {"tipo": None, "counted_in_numerator": True, "n": 1}]  # a blank group is kept (dropna=False)
    empty = run_method("share", params | {"filters": [{"column": "tipo", "in": ["x"], "reason": "fuera"}]},
                       ctx(recs=RECS))
    assert (empty.numerator, empty.denominator, empty.n_used) == (0, 0, 0)
    assert empty.detail.to_dict("list") == {"counted_in_numerator": [True, False], "n": [0, 0]}


def test_from_output_indicator_gives_its_note_and_numbers():
    outputs = pd.DataFrame({"indicator_id": ["9.1.1.1", "9.1.1.2"], "current": [3.0, float("nan")]})
    context = Context(Quarter(2020, 2), {}, {}, outputs)
    plain = run_method("from_output_indicator", {"output_indicator": "9.1.1.1"}, context)
    assert (plain.value, plain.numerator, plain.denominator, plain.n_used, plain.exclusions) == (3.0, 3.0, None, 1, [])
    assert plain.reason == i18n.t("reason.output_indicator_value", "es", indicator="9.1.1.1", value="3")
    added = run_method("from_output_indicator", {"output_indicator": "9.1.1.1", "add": 4, "add_reason": "línea de base"},
                       context)
    assert (added.value, added.numerator) == (7.0, 7.0)
    assert added.reason == i18n.t("reason.output_indicator_value_added", "es", indicator="9.1.1.1", value="3",
                                  added="4", why="línea de base")
    default_why = run_method("from_output_indicator", {"output_indicator": "9.1.1.1", "add": 4}, context)
    assert default_why.reason == i18n.t("reason.output_indicator_value_added", "es", indicator="9.1.1.1", value="3",
                                        added="4", why=i18n.t("reason.added", "es"))
    missing = run_method("from_output_indicator", {"output_indicator": "9.1.1.2"}, context)
    assert (missing.value, missing.numerator, missing.denominator, missing.n_used, missing.exclusions) == (
        None, None, None, 0, [])
    assert missing.reason == i18n.t("reason.output_indicator_not_measured", "es", indicator="9.1.1.2")


def test_spec_errors_list_what_is_known():
    frame = pd.DataFrame({"estado": ["x"], "source_file": ["f.csv"], "fecha": [None]})
    with pytest.raises(SpecError, match=r"^unknown column 'nada' \(columns: estado, fecha\)$"):
        methods.condition_mask(frame, {"column": "nada", "in": ["x"]}, ctx())
    with pytest.raises(SpecError, match=r"^condition on 'estado' needs exactly one of in, not_in, "):
        methods.condition_mask(frame, {"column": "estado"}, ctx())
    with pytest.raises(SpecError, match=r"^filter on 'estado' has no 'reason' \(shown to reviewers\)$"):
        methods.apply_filters(frame, [{"column": "estado", "in": ["x"]}], ctx())
    with pytest.raises(SpecError, match=r"^unknown method 'otro' \(known: count, existence, "):
        run_method("otro", {}, ctx())
    with pytest.raises(SpecError, match=r"^method 'pre_post_participant' needs parameter\(s\) post_column, id_column$"):
        run_method("pre_post_participant", {"source": "s", "pre_column": "a"}, ctx())


def test_pre_post_question_applies_the_fichas_filters_first():
    rows = pd.DataFrame({"curso": ["a", "a", "b", "b"], "q": ["P1", "P1", "P1", "P1"], "test": ["in", "out"] * 2,
                         "n": [10, 10, 10, 10], "ok": [5, 6, 1, 9]})
    params = {"source": "t", "question_column": "q", "test_column": "test", "pre_label": "in", "post_label": "out",
              "correct_column": "ok", "respondents_column": "n",
              "filters": [{"column": "curso", "in": ["a"], "reason": "otro curso"}]}
    result = run_method("pre_post_question", params, ctx(t=rows))
    assert result.value == pytest.approx(20.0) and result.n_used == 1
    assert [(e.reason, e.n) for e in result.exclusions] == [("otro curso", 2)]
