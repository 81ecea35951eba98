"""Quarters: the codes written in file names and title blocks, their order and ranges."""

from __future__ import annotations

import pytest

from evalpipe.quarters import Quarter, find_quarter, parse_quarter, quarter_from_period, quarter_range


@pytest.mark.parametrize(
    "text",
    ["2020Q2", "2020T2", "2020-T2", "2020_T2", "2020 T2", "2020q2", "T2 2020", "Q2_2020", "Q2-2020", "q2 2020"],
)
def test_parse_quarter_accepts_the_written_forms(text):
    assert parse_quarter(text) == Quarter(2020, 2)


@pytest.mark.parametrize(
    "stem, expected",
    [
        ("Informe_progreso_2019T4_final", Quarter(2019, 4)),
        ("InformeProgreso_2018T1", Quarter(2018, 1)),
        ("Informe_progreso_2018-T2", Quarter(2018, 2)),
        ("informe_progreso_2018_T3", Quarter(2018, 3)),
        ("Informe progreso 2018T4", Quarter(2018, 4)),
        ("Informe_progreso_2020T2 (v2)", Quarter(2020, 2)),
    ],
)
def test_parse_quarter_finds_the_quarter_inside_a_file_name(stem, expected):
    assert parse_quarter(stem) == expected


@pytest.mark.parametrize(
    "text",
    ["abc", "", "2020", "abril 2020", "2020Q5", "2020Q0", "Q0 2020", "2020Q12", "20Q2", "1850Q2", "XQ2 2020"],
)
def test_parse_quarter_rejects_text_without_a_quarter(text):
    with pytest.raises(ValueError, match="not a quarter"):
        parse_quarter(text)


def test_parse_quarter_error_quotes_the_text():
    with pytest.raises(ValueError) as info:
        parse_quarter("Informe_final")
    assert "'Informe_final'" in str(info.value)
    assert "2020Q2" in str(info.value)  # says what was expected


def test_find_quarter_returns_none_instead_of_raising():
    assert find_quarter("Informe_progreso_final") is None
    assert find_quarter("Informe_progreso_2020T1") == Quarter(2020, 1)


def test_quarter_rejects_a_quarter_number_out_of_range():
    with pytest.raises(ValueError):
        Quarter(2020, 5)
    with pytest.raises(ValueError):
        Quarter(2020, 0)


def test_quarter_prints_as_yyyyqn():
    assert str(Quarter(2020, 2)) == "2020Q2"
    assert str(parse_quarter("T4 2019")) == "2019Q4"


def test_quarters_are_ordered_by_year_then_quarter():
    assert Quarter(2019, 4) < Quarter(2020, 1)
    assert Quarter(2020, 1) < Quarter(2020, 2)
    assert Quarter(2020, 3) > Quarter(2019, 4)
    assert Quarter(2020, 2) <= Quarter(2020, 2)
    assert not Quarter(2020, 2) < Quarter(2020, 2)
    shuffled = [Quarter(2020, 1), Quarter(2018, 3), Quarter(2019, 4), Quarter(2018, 1)]
    assert sorted(shuffled) == [Quarter(2018, 1), Quarter(2018, 3), Quarter(2019, 4), Quarter(2020, 1)]


def test_quarters_are_hashable_and_equal_by_value():
    assert {parse_quarter("2020T2"), parse_quarter("Q2_2020"), Quarter(2020, 2)} == {Quarter(2020, 2)}


def test_next_moves_one_quarter_and_rolls_over_the_year():
    assert Quarter(2020, 1).next() == Quarter(2020, 2)
    assert Quarter(2020, 3).next() == Quarter(2020, 4)
    assert Quarter(2019, 4).next() == Quarter(2020, 1)


def test_index_differs_by_one_between_consecutive_quarters():
    assert Quarter(2020, 1).index - Quarter(2019, 4).index == 1
    assert Quarter(2020, 2).index - Quarter(2020, 1).index == 1


def test_quarter_range_is_inclusive_across_years():
    assert quarter_range(Quarter(2019, 3), Quarter(2020, 2)) == [
        Quarter(2019, 3), Quarter(2019, 4), Quarter(2020, 1), Quarter(2020, 2),
    ]


def test_quarter_range_of_one_quarter_and_of_a_reversed_pair():
    assert quarter_range(Quarter(2020, 2), Quarter(2020, 2)) == [Quarter(2020, 2)]
    assert quarter_range(Quarter(2020, 3), Quarter(2020, 2)) == []


def test_quarter_range_covers_the_shipped_reporting_period():
    quarters = quarter_range(Quarter(2018, 1), Quarter(2020, 4))
    assert len(quarters) == 12
    assert quarters[0] == Quarter(2018, 1) and quarters[-1] == Quarter(2020, 4)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Periodo: julio - setiembre 2018", Quarter(2018, 3)),
        ("Periodo: julio - septiembre 2018", Quarter(2018, 3)),
        ("Periodo: enero - marzo 2019", Quarter(2019, 1)),
        ("enero - marzo 2019", Quarter(2019, 1)),
        ("Periodo: abril - junio 2020", Quarter(2020, 2)),
        ("Periodo: octubre - diciembre 2018", Quarter(2018, 4)),
        ("Período: Abril - Junio 2020", Quarter(2020, 2)),  # accent and capitals
        ("PERIODO: ENERO-MARZO 2021", Quarter(2021, 1)),
        ("Trimestre: 2019-T3", Quarter(2019, 3)),
        ("Trimestre: T4 2019", Quarter(2019, 4)),
    ],
)
def test_quarter_from_period_reads_spanish_month_ranges_and_codes(text, expected):
    assert quarter_from_period(text) == expected


@pytest.mark.parametrize("text", ["Informe de progreso trimestral", "Periodo:", "Periodo: julio - setiembre", ""])
def test_quarter_from_period_returns_none_without_a_period(text):
    assert quarter_from_period(text) is None


def test_quarter_from_period_uses_the_year_of_the_last_month_of_a_range_across_years():
    # A period that ends in March 2020 ends in 2020Q1. The function takes the last month of the
    # range but the *first* year in the text, and answers 2019Q1, a quarter that lies before the
    # whole period; the reader then refuses a correctly named "..._2020T1.xlsx" as mismatched.
    assert quarter_from_period("Periodo: octubre 2019 - marzo 2020") == Quarter(2020, 1)


def test_a_quarter_code_wins_over_month_names_in_a_period_line():
    assert quarter_from_period("Trimestre: 2019-T3 (enviado en enero 2020)") == Quarter(2019, 3)
