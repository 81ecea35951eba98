"""The privacy rules as functions (no file read): small-count suppression, the shapes of direct identifiers,
masking in text and in messages. ``test_privacy_inputs.py`` checks them along a run's reading path."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from evalpipe import privacy


def test_suppression_guesses_the_count_columns_and_leaves_totals_text_and_fractions():
    table = pd.DataFrame({"label": ["a", "b", "c"], "n": [1, 7, 0], "share": [0.5, 2.0, 3.0],
                          "whole": [3.0, 8.0, None]})
    out, hidden = privacy.suppress_small_counts(table)
    assert out["n"].tolist() == ["<5", 7, 0]
    assert out["share"].tolist() == [0.5, 2.0, 3.0]  # not counts: a fraction among them
    assert out["whole"].tolist()[:2] == ["<5", 8.0] and pd.isna(out["whole"].tolist()[2])
    assert out["label"].tolist() == ["a", "b", "c"] and hidden == 2
    assert table["n"].tolist() == [1, 7, 0]  # the caller's table is not changed


def test_suppression_of_named_columns_only():
    table = pd.DataFrame({"n": [1, 2], "m": [1, 2]})
    out, hidden = privacy.suppress_small_counts(table, 5, columns=["m"])
    assert out["n"].tolist() == [1, 2] and out["m"].tolist() == ["<5", "<5"] and hidden == 2
    out, hidden = privacy.suppress_small_counts(pd.DataFrame({"n": [5, 9]}))
    assert out["n"].tolist() == [5, 9] and hidden == 0


def test_suppress_where_leaves_other_columns_and_rows_and_counts_what_it_hid():
    table = pd.DataFrame({"n": [1, None, 3], "other": [1, 1, 1]})
    out, hidden = privacy.suppress_where(table, pd.Series([True, True, False]), "n", 4)
    assert out["n"].tolist()[0] == "<4" and pd.isna(out["n"].tolist()[1]) and out["n"].tolist()[2] == 3
    assert out["other"].tolist() == [1, 1, 1] and hidden == 1


def test_sensitive_indicators_are_those_drawn_from_sensitive_sources():
    fichas = {"a": SimpleNamespace(source_key="v"), "b": SimpleNamespace(source_key="p"),
              "c": SimpleNamespace(source_key=None)}
    sources = {"v": SimpleNamespace(sensitive=True), "p": SimpleNamespace(sensitive=False)}
    assert privacy.sensitive_indicators(fichas, sources) == {"a"}


@pytest.mark.parametrize("value, kind", [
    ("71234561", "DNI"), (71234561.0, "DNI"), ("7123 4561", "DNI"), ("ana.p@correo.pe", "e-mail"),
    ("987654321", "phone"), ("+51 987 654 321", "phone"), ("51987654321", "phone"), ("(987) 654-321", "phone"),
    ("VR-001", None), ("1234567", None), ("887654321", None), ("123456789", None), (None, None),
    (float("nan"), None), ("ana@", None),
])
def test_identifier_kind(value, kind):
    assert privacy.identifier_kind(value) == kind


def test_mask_identifiers_in_text_counts_every_hit():
    text, hits = privacy.mask_identifiers("Ana (DNI 71234561), ana@x.pe, cel. 987 654 321 y 912345678")
    assert text == "Ana (DNI [DNI]), [EMAIL], cel. [PHONE] y [PHONE]" and hits == 4
    assert privacy.mask_identifiers("sin datos") == ("sin datos", 0)
    assert privacy.mask_identifiers(12) == (12, 0)


@pytest.mark.parametrize("value, shown", [
    ("71234561", "7******1 (8 digits)"), (71234561.0, "7******1 (8 digits)"),
    ("ana@x.pe", "a******e (an e-mail address)"), (" VR-001 ", "V****1 (6 characters)"),
    ("abc", "*** (3 characters)"), ("abcd", "a**d (4 characters)"), ("", "(blank)"), ("  ", "(blank)"),
    (None, "(blank)"), (float("nan"), "(blank)"), (12, "** (2 digits)"),
])
def test_mask_value(value, shown):
    assert privacy.mask_value(value) == shown


def test_private_types_come_from_the_column_type_registry():
    from evalpipe.column_types import COLUMN_TYPES

    assert set(privacy.PRIVATE_TYPES) == {"id", "text"}
    assert all(COLUMN_TYPES[name].private for name in privacy.PRIVATE_TYPES)


def test_suppression_keeps_whole_counts_whole():
    """A count kept is the count as it was (an int stays an int: "5", never "5.0", in the CSV)."""
    out, _ = privacy.suppress_small_counts(pd.DataFrame({"n": [1, 5, 12]}))
    assert [type(v) for v in out["n"].tolist()] == [str, int, int]
    out, _ = privacy.suppress_where(pd.DataFrame({"n": [1, 5]}), pd.Series([True, True]), "n")
    assert [type(v) for v in out["n"].tolist()] == [str, int] and out["n"].tolist() == ["<5", 5]


def test_public_exclusions_use_the_threshold_given():
    exclusions = pd.DataFrame({"indicator_id": ["a", "a"], "reason": ["r1", "r2"], "n": [2, 4]})
    fichas = {"a": SimpleNamespace(source_key="v")}
    sources = {"v": SimpleNamespace(sensitive=True)}
    out, hidden = privacy.public_exclusions(exclusions, fichas, sources, 3)
    assert out["n"].tolist() == ["<3", 4] and hidden == 1
