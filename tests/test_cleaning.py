"""Cleaning rules: one test per rule and per messy written form seen in the progress reports."""

from __future__ import annotations

import math

import pytest

from evalpipe import cleaning
from evalpipe.cleaning import (
    BLANK,
    NOT_APPLICABLE,
    REPORTED,
    UNKNOWN,
    CellFormatError,
    CleanValue,
    code_depth,
    looks_like_code,
    normalize_code,
    normalize_text,
    parse_cumulative_value,
)

# --------------------------------------------------------------------------- codes


def test_code_with_a_trailing_dot():
    assert normalize_code("1.2.1.1.") == "1.2.1.1"


def test_code_with_a_leading_space():
    assert normalize_code(" 1.2.1.1") == "1.2.1.1"


def test_code_with_a_trailing_no_break_space():
    assert normalize_code("1.2.1.1\u00a0") == "1.2.1.1"


def test_code_with_a_space_after_a_dot():
    assert normalize_code("1. 2.1.1") == "1.2.1.1"


def test_code_with_a_space_before_a_dot():
    assert normalize_code("1 .2.1.1") == "1.2.1.1"


def test_code_with_a_narrow_no_break_space():
    assert normalize_code("\u202f1.2.1.1") == "1.2.1.1"


def test_clean_code_is_unchanged():
    assert normalize_code("1.2.1.1") == "1.2.1.1"
    assert normalize_code("2.4.2") == "2.4.2"


@pytest.mark.parametrize("cell", ["abc", "Objetivo 1", "1", "1..2", "1.2.a", "", None])
def test_normalize_code_refuses_text_that_is_not_a_code(cell):
    with pytest.raises(CellFormatError) as info:
        normalize_code(cell)
    assert "1.2.3.4" in info.value.expected
    assert info.value.found == cell


def test_normalize_code_refuses_a_code_that_excel_turned_into_a_number():
    with pytest.raises(CellFormatError) as info:
        normalize_code(1.1)
    assert "as text" in info.value.expected
    assert info.value.found == 1.1


def test_cell_format_error_is_a_value_error_with_a_readable_message():
    with pytest.raises(ValueError) as info:
        normalize_code("abc")
    assert str(info.value) == "expected an indicator code such as 1.2.3.4; found 'abc'"


@pytest.mark.parametrize("cell", ["1.2.1", "1.2.1.1.", " 1.2.1.1", "1.2.1.1\u00a0", "1. 2.1.1"])
def test_looks_like_code_accepts_dotted_numbers(cell):
    assert looks_like_code(cell)


@pytest.mark.parametrize("cell", ["Objetivo 1", "Producto 1.2.1", "1", "", None, "abc"])
def test_looks_like_code_refuses_headings_and_text(cell):
    assert not looks_like_code(cell)


@pytest.mark.parametrize("code, depth", [("1", 1), ("1.2", 2), ("1.2.1", 3), ("1.2.1.1", 4), ("1.2.1.1.1", 5)])
def test_code_depth_counts_the_parts(code, depth):
    assert code_depth(code) == depth


def test_code_depth_of_a_normalized_messy_code_is_four():
    assert code_depth(normalize_code("1.2.1.1.")) == 4


def test_normalize_text_folds_every_kind_of_space():
    assert normalize_text("  a\u00a0\u00a0b\u2007c\u202fd\t\ne ") == "a b c d e"
    assert normalize_text(None) == ""
    assert normalize_text(float("nan")) == ""
    assert normalize_text(12) == "12"


# --------------------------------------------------------------------------- cumulative values


def test_an_int_is_reported_as_a_float():
    clean = parse_cumulative_value(268)
    assert clean == CleanValue(268.0, REPORTED, False)
    assert isinstance(clean.value, float)


def test_a_float_is_reported():
    assert parse_cumulative_value(3.0) == CleanValue(3.0, REPORTED, False)


def test_zero_is_a_reported_value_not_a_blank():
    assert parse_cumulative_value(0) == CleanValue(0.0, REPORTED, False)
    assert parse_cumulative_value("0") == CleanValue(0.0, REPORTED, False)


@pytest.mark.parametrize("cell, value", [("268", 268.0), (" 876 ", 876.0), ("876\u00a0", 876.0)])
def test_a_number_typed_as_text(cell, value):
    assert parse_cumulative_value(cell) == CleanValue(value, REPORTED, False)


@pytest.mark.parametrize("cell", ["1,046", "1.046", "1 046", "1\u00a0046", "1'046"])
def test_thousands_separators(cell):
    assert parse_cumulative_value(cell) == CleanValue(1046.0, REPORTED, False)


def test_several_thousands_groups():
    assert parse_cumulative_value("1,046,000").value == 1046000.0


@pytest.mark.parametrize("cell, value", [("268*", 268.0), ("7**", 7.0), ("12(1)", 12.0), ("12¹", 12.0), ("5†", 5.0)])
def test_footnote_marks_are_cut_and_flagged(cell, value):
    assert parse_cumulative_value(cell) == CleanValue(value, REPORTED, True)


def test_footnote_mark_after_a_space_and_after_a_thousands_separator():
    assert parse_cumulative_value("268 *") == CleanValue(268.0, REPORTED, True)
    assert parse_cumulative_value("1,046*") == CleanValue(1046.0, REPORTED, True)


@pytest.mark.parametrize("cell", ["NA", "N/A", "n/a", "na", " NA ", "no aplica"])
def test_not_applicable(cell):
    assert parse_cumulative_value(cell) == CleanValue(None, NOT_APPLICABLE, False)


@pytest.mark.parametrize("cell", ["¿?", "?", "s.d."])
def test_unknown(cell):
    assert parse_cumulative_value(cell) == CleanValue(None, UNKNOWN, False)


@pytest.mark.parametrize("cell", [None, "", "   ", "-", "\u00a0"])
def test_blank(cell):
    assert parse_cumulative_value(cell) == CleanValue(None, BLANK, False)


def test_nan_float_is_blank():
    clean = parse_cumulative_value(float("nan"))
    assert clean.flag == BLANK
    assert clean.value is None
    assert not (isinstance(clean.value, float) and math.isnan(clean.value))


def test_value_flags_are_the_documented_codes():
    assert cleaning.VALUE_FLAGS == ("reported", "not_applicable", "unknown", "blank", "not_reported")


@pytest.mark.parametrize("cell", ["2,5", "1,04", "1.046,5"])
def test_a_decimal_comma_is_refused(cell):
    with pytest.raises(CellFormatError) as info:
        parse_cumulative_value(cell)
    assert info.value.expected  # says which forms are accepted
    assert "1,250" in info.value.expected
    assert info.value.found == cell


@pytest.mark.parametrize("cell", ["abc", "*", "(1)", "12.5.3", "muchos"])
def test_text_that_is_no_value_is_refused(cell):
    with pytest.raises(CellFormatError) as info:
        parse_cumulative_value(cell)
    assert "37" in info.value.expected
    assert "NA" in info.value.expected
    assert info.value.found == cell


@pytest.mark.parametrize("cell", [True, False])
def test_a_boolean_is_refused_not_read_as_one_or_zero(cell):
    with pytest.raises(CellFormatError) as info:
        parse_cumulative_value(cell)
    assert "a number" in info.value.expected
    assert info.value.found is cell


def test_refusal_message_names_what_was_expected_and_found():
    with pytest.raises(CellFormatError) as info:
        parse_cumulative_value("2,5")
    message = str(info.value)
    assert message.startswith("expected a count")
    assert message.endswith("found '2,5'")


@pytest.mark.parametrize("cell", ["2.5", "1.04", 2.5, 0.3])
def test_a_fraction_is_refused_because_cumulative_values_are_counts(cell):
    with pytest.raises(cleaning.CellFormatError):
        cleaning.parse_cumulative_value(cell)


@pytest.mark.parametrize("cell, expected", [("12.0", 12.0), (12.0, 12.0), (7, 7.0)])
def test_whole_numbers_written_with_a_decimal_point_are_accepted(cell, expected):
    assert cleaning.parse_cumulative_value(cell).value == expected
