"""One ficha run through its method and the status rules (outcomes.evaluate_ficha, §157-158), on small tables
built by hand: the prerequisite output, the baseline added, a ficha that cannot run, the status from the value."""

from __future__ import annotations

import pandas as pd
import pytest

from evalpipe import outcomes
from evalpipe.codes import ACHIEVED, IN_PROGRESS, NO_PROGRESS, NOT_APPLICABLE, NOT_MEASURED
from evalpipe.fichas import Ficha, FichaError
from evalpipe.methods import Context
from evalpipe.quarters import Quarter

ROWS = pd.DataFrame({"estado": ["hecho", "hecho", "hecho", "no"]})
OUTPUTS = pd.DataFrame({"output_id": ["1.1.1", "1.1.2"], "status": ["delivered", "in_progress"],
                        "scheduled_after_cutoff": [False, True]})


def ficha(calculation: dict, baseline: float | None = 0.0, target: float | None = 10.0) -> Ficha:
    return Ficha("9.1.1.1", "fichas/9.1.1.1.yaml", {"origen": "annex_14"},
                 {"source": "s", **calculation}, baseline, target)


def context() -> Context:
    return Context(Quarter(2020, 2), {"s": ROWS}, {"s": list(ROWS.columns)},
                   pd.DataFrame({"indicator_id": ["9.9.9.1"], "current": [2.0]}))


COUNT_DONE = {"method": "count", "filters": [{"column": "estado", "in": ["hecho"], "reason": "no hecho"}]}


@pytest.mark.parametrize(("baseline", "target", "status"), [
    (0.0, 10.0, IN_PROGRESS), (0.0, 3.0, ACHIEVED), (3.0, 10.0, NO_PROGRESS), (None, 3.0, ACHIEVED),
    (0.0, None, IN_PROGRESS), (5.0, None, NO_PROGRESS)])
def test_the_status_follows_the_value_its_baseline_and_its_target(baseline, target, status):
    result, got, note = outcomes.evaluate_ficha(ficha(COUNT_DONE, baseline, target), context(), OUTPUTS)
    assert (result.value, got, note) == (3.0, status, "")
    assert result.reason == "" and result.n_excluded == 1


def test_a_ficha_without_a_value_is_not_measured_never_zero():
    none = ficha({"method": "share", "numerator_conditions": [{"column": "estado", "in": ["hecho"]}],
                  "filters": [{"column": "estado", "in": ["otro"], "reason": "fuera"}]})
    result, status, note = outcomes.evaluate_ficha(none, context(), None)
    assert (result.value, status, note) == (None, NOT_MEASURED, "not_measured")


def test_a_delivered_prerequisite_lets_the_ficha_run_as_usual():
    result, status, note = outcomes.evaluate_ficha(ficha(COUNT_DONE | {"requires_output": "1.1.1"}), context(),
                                                   OUTPUTS)
    assert (result.value, status, note, result.reason) == (3.0, IN_PROGRESS, "", "")


def test_a_prerequisite_not_delivered_keeps_the_computed_value_and_shows_no_progress():
    # §157: the indicator requires its output first; a value the data give is kept (Annex 17 prints it)
    result, status, note = outcomes.evaluate_ficha(ficha(COUNT_DONE | {"requires_output": "1.1.2"}, 0.0, 3.0),
                                                   context(), OUTPUTS)
    assert (result.value, status, note) == (3.0, NO_PROGRESS, "")
    assert result.reason == outcomes.requires_output_reason("1.1.2", "in_progress")
    assert result.n_excluded == 1  # the rest of the result is the method's


def test_a_prerequisite_not_delivered_without_a_value_is_not_applicable():
    waiting = ficha({"method": "not_measured", "reason": "sin datos", "requires_output": "1.1.2"})
    result, status, note = outcomes.evaluate_ficha(waiting, context(), OUTPUTS)
    assert (result.value, status, note) == (None, NO_PROGRESS, NOT_APPLICABLE)
    assert result.reason == outcomes.requires_output_reason("1.1.2", "in_progress")
    empty = ficha({"method": "share", "numerator_conditions": [{"column": "estado", "in": ["hecho"]}],
                   "filters": [{"column": "estado", "in": ["otro"], "reason": "fuera"}], "requires_output": "1.1.2"})
    result, status, note = outcomes.evaluate_ficha(empty, context(), OUTPUTS)
    assert (result.value, status, note) == (None, NO_PROGRESS, NOT_APPLICABLE)


def test_a_prerequisite_missing_from_the_output_table_counts_as_not_delivered():
    result, status, note = outcomes.evaluate_ficha(ficha(COUNT_DONE | {"requires_output": "7.7.7"}), context(),
                                                   OUTPUTS)
    assert (result.value, status) == (3.0, NO_PROGRESS)
    assert result.reason == outcomes.requires_output_reason("7.7.7", "unknown") and "7.7.7" in result.reason


def test_without_an_output_table_the_prerequisite_is_not_applied():
    result, status, _ = outcomes.evaluate_ficha(ficha(COUNT_DONE | {"requires_output": "1.1.2"}), context(), None)
    assert (result.value, status, result.reason) == (3.0, IN_PROGRESS, "")


def test_add_baseline_adds_the_fichas_baseline_and_add_the_given_number():
    added = ficha({"method": "from_output_indicator", "output_indicator": "9.9.9.1", "add_baseline": True}, 4.0, 10.0)
    assert outcomes.evaluate_ficha(added, context(), None)[0].value == 6.0
    no_baseline = ficha({"method": "from_output_indicator", "output_indicator": "9.9.9.1", "add_baseline": True},
                        None, 10.0)
    assert outcomes.evaluate_ficha(no_baseline, context(), None)[0].value == 2.0
    plain = ficha({"method": "from_output_indicator", "output_indicator": "9.9.9.1"}, 4.0, 10.0)
    assert outcomes.evaluate_ficha(plain, context(), None)[0].value == 2.0


def test_a_ficha_that_cannot_run_names_its_file_and_source():
    wrong = ficha({"method": "count", "distinct": "nombre"})
    with pytest.raises(FichaError, match=r"^ficha fichas/9.1.1.1.yaml \(source 's'\): unknown column 'nombre'"):
        outcomes.evaluate_ficha(wrong, context(), None)


def test_waits_for_and_scheduled_after_cutoff_read_the_prerequisite():
    assert outcomes._waits_for(ficha(COUNT_DONE | {"requires_output": "1.1.2"}), OUTPUTS) == "1.1.2"
    assert outcomes._waits_for(ficha(COUNT_DONE | {"requires_output": "1.1.1"}), OUTPUTS) == ""
    assert outcomes._waits_for(ficha(COUNT_DONE | {"requires_output": "7.7.7"}), OUTPUTS) == "7.7.7"
    assert outcomes._waits_for(ficha(COUNT_DONE | {"requires_output": "1.1.2"}), None) == ""
    assert outcomes._waits_for(ficha(COUNT_DONE), OUTPUTS) == ""
    assert outcomes._scheduled_after_cutoff(ficha(COUNT_DONE | {"requires_output": "1.1.2"}), OUTPUTS) is True
    assert outcomes._scheduled_after_cutoff(ficha(COUNT_DONE | {"requires_output": "1.1.1"}), OUTPUTS) is False
    assert outcomes._scheduled_after_cutoff(ficha(COUNT_DONE | {"requires_output": "7.7.7"}), OUTPUTS) is False
    assert outcomes._scheduled_after_cutoff(ficha(COUNT_DONE), OUTPUTS) is False
    assert outcomes._scheduled_after_cutoff(ficha(COUNT_DONE | {"requires_output": "1.1.2"}), None) is False


def test_a_ficha_without_a_baseline_measures_progress_from_zero():
    context = Context(Quarter(2020, 2), {}, {}, pd.DataFrame({"indicator_id": ["9.9.9.1"], "current": [0.5]}))
    half = ficha({"method": "from_output_indicator", "output_indicator": "9.9.9.1"}, None, 10.0)
    assert outcomes.evaluate_ficha(half, context, None)[1] == IN_PROGRESS


def test_a_ficha_without_a_source_that_cannot_run_says_so_plainly():
    no_outputs = Ficha("9.1.1.1", "fichas/9.1.1.1.yaml", {"origen": "annex_14"},
                       {"method": "from_output_indicator", "output_indicator": "9.9.9.9"}, 0.0, 10.0)
    with pytest.raises(FichaError, match=r"^ficha fichas/9.1.1.1.yaml \(source ''\): unknown output indicator"):
        outcomes.evaluate_ficha(no_outputs, context(), None)
