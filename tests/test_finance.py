"""Budget and financial execution: reproduction of Tables 3-6 and Annexes 19-20 from the raw finance files,
the reconciliation rules, bad input named by file, sheet, row and column, the suites and the audit."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evalpipe import finance, suites, validation
from evalpipe.audit_finance import audit_finance, reconcile_published
from evalpipe.finance_meaning import programmed_meaning
from evalpipe.finance_read import load_finance
from evalpipe.finance_reconcile import check_cells, reconcile
from evalpipe.finance_tables import compute_tables, execution_by_component
from evalpipe.audit import AUDIT_COLUMNS
from evalpipe.drop import load_drop
from evalpipe.errors import InputError, ValidationFailed
from evalpipe.export import write_table
from evalpipe.quarters import parse_quarter

from conftest import FIXTURES, ROOT

CUTOFF = parse_quarter("2020Q2")
REPORT_2019 = "Informe financiero OIT 2019T4 (anual).xlsx"
REPORT_2020 = "Informe financiero OIT 2020T2 (al 31-07-2020).xlsx"
INITIAL = "06.04.18 ILO Budget Narrative JTIP format approved.xlsx"
# The published cells that the rest of the report contradicts (the data follow the arithmetic).
CONTRADICTED_BUDGET = {("Table 6", "A", "2021", "usd"), ("Table 6", "K", "2019", "pct")}
CONTRADICTED_EXECUTION = {("20", "Producto MML 2018", "2020", "pct")}


@pytest.fixture(scope="module")
def data(lfm):
    return load_finance(ROOT / "data" / "raw", lfm, CUTOFF, ROOT)


@pytest.fixture(scope="module")
def tables(data):
    return compute_tables(data)


def _published(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "published" / name, dtype=str, keep_default_na=False)


def _value(text: str) -> float:
    return float(text) if text not in ("", "-") else float("nan")


def _same(a: float, b: float) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


# ------------------------------------------------------------------ reproduction

def test_tables_3_to_6_every_cell_the_data_support(tables):
    computed = tables["budget"].set_index(["version", "line", "period", "measure"])["value_rounded"]
    version = {"Table 3": "initial", "Table 4": "initial", "Table 5": "expanded", "Table 6": "expanded"}
    matched, differ = 0, set()
    for row in _published("budget_tables.csv").itertuples():
        cells = [("usd", "amount", row.usd)] + ([("pct", "share_of_total_pct", row.pct)] if row.pct else [])
        for field, measure, printed in cells:
            mine = computed[(version[row.table], row.item_code, row.year, measure)]
            if _same(mine, _value(printed)):
                matched += 1
            else:
                differ.add((row.table, row.item_code, row.year, field))
    assert differ == CONTRADICTED_BUDGET
    assert matched == 110 + 10 + 4 + 10 + 5 - len(CONTRADICTED_BUDGET)  # amounts, Table 3/5 %, distributions


def test_annexes_19_and_20_every_cell_the_data_support(tables):
    computed = tables["financial_execution"].set_index(["line_name_es", "period", "measure"])["value_rounded"]
    period = {"Acumulado": "acumulado", "saldos": "acumulado"}
    measure = {"pct": "execution_pct"}
    matched, differ = 0, set()
    for row in _published("financial_execution_annex19_20.csv").itertuples():
        mine = computed[(row.line_key, period.get(row.period, row.period), measure.get(row.measure, row.measure))]
        if _same(mine, _value(row.value)):
            matched += 1
        else:
            differ.add((row.annex, row.line_key, row.period, row.measure))
    assert differ == CONTRADICTED_EXECUTION
    assert matched == 512 - 1


def test_finding_13_and_the_shares_of_177(tables):
    table = tables["financial_execution"]
    at_cutoff = table[table["period"] == "acumulado"].set_index(["line_name_es", "measure"])["value_rounded"]
    assert [at_cutoff[(line, "execution_pct")] for line in ("TOTAL", "Componente 1", "Componente 2", "Componente 3")] \
        == [53, 57, 50, 58]
    shares = [at_cutoff[(line, "programado_share_pct")] for line in
              ("Componente 1", "Componente 2", "Componente 3", "Acciones que no terminan en productos",
               "Productos de los componentes")]
    assert shares == [14, 29, 5, 52, 48]
    assert at_cutoff[("Acciones que no terminan en productos", "programado")] == 2950644
    by_component = execution_by_component(table).set_index("line")
    assert by_component.loc["C2", "ejecutado"] == pytest.approx(830010.73)


def test_every_ratio_keeps_its_numerator_and_denominator(tables):
    for table in tables.values():
        ratios = table[table["unit"] == "%"]
        defined = ratios[ratios["denominator"] != 0]
        assert (defined["value"] - 100 * defined["numerator"] / defined["denominator"]).abs().max() < 1e-9
        assert ratios.loc[ratios["denominator"] == 0, "value"].isna().all()  # 0 of 0 is not 0%


def test_programmed_is_the_whole_life_programme(tables, data):
    table = tables["financial_execution"]
    total = table[(table["line"] == "TOTAL") & (table["measure"] == "programado")].set_index("period")["value"]
    assert total["acumulado"] == pytest.approx(total[["2018", "2019", "2020", "2021"]].sum())
    assert total["acumulado"] > total[["2018", "2019", "2020"]].sum() + 1_000_000
    meaning = programmed_meaning(data).set_index(["period", "measure"])["meaning"]
    assert meaning[("acumulado", "programado")].startswith("whole-life programme")
    assert "part of the year only" in meaning[("2020", "ejecutado")]
    assert "equals what was spent" in meaning[("2018", "programado")]
    assert "planned in the report for 2020Q2" in meaning[("2021", "programado")]
    spanish = programmed_meaning(data, "es").set_index(["period", "measure"])["meaning"]
    assert spanish[("acumulado", "programado")].startswith("programa de toda la vida del proyecto")
    assert "solo parte del año" in spanish[("2020", "ejecutado")]


def test_rounding_is_as_published(tables):
    budget = tables["budget"].set_index(["version", "line", "period", "measure"])
    assert budget.loc[("initial", "K", "2017", "share_of_total_pct"), "value_rounded"] == 0.1  # printed 0.1
    assert budget.loc[("initial", "F", "total", "share_of_total_pct"), "value_rounded"] == 1  # 0.91%, printed 1
    execution = tables["financial_execution"].set_index(["line", "period", "measure"])  # line: the code
    assert execution.loc[("TOTAL", "acumulado", "ejecutado"), "value"] == pytest.approx(3009420.50)
    assert execution.loc[("TOTAL", "acumulado", "ejecutado"), "value_rounded"] == 3009421  # half up


def test_only_reports_up_to_the_cutoff_count(lfm, raw_copy):
    (raw_copy / "finance" / "financial_reports" / "Informe financiero OIT 2020T4.xlsx").write_bytes(b"not a workbook")
    at_q2 = load_finance(raw_copy, lfm, CUTOFF)
    assert at_q2.inventory.set_index("quarter")["status"].to_dict() == {
        "2018Q4": "used", "2019Q4": "used", "2020Q2": "used", "2020Q4": "after_cutoff"}
    at_2019 = compute_tables(load_finance(raw_copy, lfm, parse_quarter("2019Q4")))
    fe = at_2019["financial_execution"]
    total = fe[fe["line"] == "TOTAL"].set_index(["period", "measure"])["value"]
    executed = total[("2018", "ejecutado")] + total[("2019", "ejecutado")]
    assert total[("acumulado", "ejecutado")] == pytest.approx(executed)
    assert "2020" not in set(fe["period"])
    with pytest.raises(InputError, match="2020T4"):
        load_finance(raw_copy, lfm, parse_quarter("2020Q4"))


def test_computed_tables_do_not_read_the_published_report(lfm, raw_copy, tables):
    shutil.rmtree(raw_copy / "published_report")
    again = compute_tables(load_finance(raw_copy, lfm, CUTOFF))
    for name in tables:
        pd.testing.assert_frame_equal(again[name].drop(columns="source"), tables[name].drop(columns="source"))


def test_tables_written_by_a_run_read_back_the_same(tables, tmp_path):
    for name, table in tables.items():
        write_table(table, tmp_path / f"{name}.csv", load_drop(ROOT / "data" / "raw"))
    again = finance.read_tables(tmp_path)
    for name, table in tables.items():
        expected = table.astype({"component_id": str, "output_id": str}) if "output_id" in table else table
        pd.testing.assert_frame_equal(again[name], expected.fillna({"currency": ""}), check_dtype=False, atol=1e-6)
    rows = audit_finance(ROOT / "data" / "raw" / "published_report", again)
    assert len(rows) == len(audit_finance(ROOT / "data" / "raw" / "published_report", tables)) == 12


def test_every_workbook_says_it_is_synthetic():
    for path in sorted((ROOT / "data" / "raw" / "finance").rglob("*.xlsx")):
        workbook = openpyxl.load_workbook(path, read_only=True)
        first = [str(c) for row in workbook.worksheets[0].iter_rows(max_row=8, values_only=True) for c in row if c]
        workbook.close()
        assert any("DATOS SINTÉTICOS" in text for text in first), path.name


# ------------------------------------------------------------------ reconciliation rules

def _cells(rows: list[tuple]) -> pd.DataFrame:
    """(line_code, line_type, parent_code, period, measure, value) rows of one table."""
    frame = pd.DataFrame(rows, columns=["line_code", "line_type", "parent_code", "period", "measure", "value"])
    return frame.assign(table="t", line=frame["line_code"], where="test", value=frame["value"].astype(float))


LINE_CASES = {
    "outputs_sum_to_component": [("C1", "component", "TOTAL"), ("1.1.1", "output", "C1"), ("1.1.2", "output", "C1")],
    "items_sum_to_operating_costs": [("OC", "operating_costs", "TOTAL"), ("OC-PER", "operating_cost", "OC"),
                                     ("OC-VIA", "operating_cost", "OC")],
    "lines_sum_to_total": [("TOTAL", "total", ""), ("C1", "component", "TOTAL"), ("PM", "pm", "TOTAL")],
    "items_sum_to_direct_costs": [("I", "direct_total", "K"), ("A", "direct", "I"), ("B", "direct", "I")],
    "direct_and_indirect_sum_to_total": [("K", "total_cost", ""), ("I", "direct_total", "K"), ("J", "indirect", "K")],
}


@pytest.mark.parametrize("rule", LINE_CASES)
@pytest.mark.parametrize("total, passed", [(101, True), (102, False)])
def test_a_total_against_its_lines(rule, total, passed):
    (top, top_type, top_parent), first, second = LINE_CASES[rule]
    cells = _cells([(top, top_type, top_parent, "2019", "ejecutado", total), (*first, "2019", "ejecutado", 60),
                    (*second, "2019", "ejecutado", 40)])
    checks = check_cells(cells, finance.PUBLISHED_UNIT)
    check = checks[checks["line"] == top].iloc[0]
    assert check["rule"] == rule and check["expected"] == 100 and check["found"] == total
    assert check["tolerance"] == 1.5  # two printed parts and a printed total, each rounded
    assert bool(check["passed"]) is passed


@pytest.mark.parametrize("period, rule", [("total", "years_sum_to_total"), ("acumulado", "years_sum_to_cumulative")])
def test_years_against_the_cumulative_figure(period, rule):
    cells = _cells([("A", "direct", "", "2018", "amount", 10), ("A", "direct", "", "2019", "amount", 20),
                    ("A", "direct", "", "2020", "amount", 30), ("A", "direct", "", period, "amount", 62)])
    check = check_cells(cells, finance.PUBLISHED_UNIT).iloc[0]
    assert check["rule"] == rule and check["difference"] == 2 and check["tolerance"] == 2 and check["passed"]
    cells.loc[3, "value"] = 63
    assert not check_cells(cells, finance.PUBLISHED_UNIT).iloc[0]["passed"]
    cells.loc[3, "value"] = 60.03  # in the raw files the tolerance is in cents
    assert not check_cells(cells, finance.RAW_UNIT).iloc[0]["passed"]


def test_balance_carried_over():
    cells = _cells([("PM", "pm", "", "2019", "programado", 100), ("PM", "pm", "", "2019", "ejecutado", 60),
                    ("PM", "pm", "", "2020", "programado", 50), ("PM", "pm", "", "2020", "ejecutado", 10),
                    ("PM", "pm", "", "2021", "programado", 500), ("PM", "pm", "", "acumulado", "ejecutado", 70),
                    ("PM", "pm", "", "acumulado", "saldos_anteriores", 80)])
    checks = check_cells(cells, finance.PUBLISHED_UNIT).set_index("rule")
    balance = checks.loc["balance_is_programmed_minus_executed"]
    assert balance["expected"] == 150 - 70 and balance["passed"]  # the 2021 programme is not a balance
    cells.loc[6, "value"] = 580
    assert not check_cells(cells, finance.PUBLISHED_UNIT).set_index("rule").loc[
        "balance_is_programmed_minus_executed", "passed"]


@pytest.mark.parametrize("printed, passed", [(57.0, True), (58.0, False), (float("nan"), False)])
def test_execution_pct(printed, passed):
    cells = _cells([("C1", "component", "", "acumulado", "programado", 781498),
                    ("C1", "component", "", "acumulado", "ejecutado", 447594),
                    ("C1", "component", "", "acumulado", "execution_pct", printed)])
    check = check_cells(cells, finance.PUBLISHED_UNIT).set_index("rule").loc["pct_is_executed_over_programmed"]
    assert check["expected"] == pytest.approx(57.2738, abs=1e-4) and bool(check["passed"]) is passed


def test_a_percentage_of_nothing_must_not_be_printed():
    cells = _cells([("X", "output", "", "2020", "programado", 0), ("X", "output", "", "2020", "ejecutado", 0),
                    ("X", "output", "", "2020", "execution_pct", 0.0)])
    check = check_cells(cells, finance.PUBLISHED_UNIT).iloc[0]
    assert check["rule"] == "pct_is_executed_over_programmed" and not check["passed"]
    cells.loc[2, "value"] = float("nan")  # printed "-"
    assert check_cells(cells, finance.PUBLISHED_UNIT).empty


@pytest.mark.parametrize("printed, passed", [(34.0, False), (33.0, True)])
def test_share_of_the_total(printed, passed):
    cells = _cells([("K", "total_cost", "", "total", "amount", 5700000), ("K", "total_cost", "", "2019", "amount",
                                                                         1908282),
                    ("K", "total_cost", "", "2019", "share_of_total_pct", printed)])
    checks = check_cells(cells, finance.PUBLISHED_UNIT, periods=False).set_index("rule")
    assert bool(checks.loc["share_is_amount_over_total", "passed"]) is passed


def test_the_shipped_raw_files_reconcile_to_the_cent(data):
    checks = reconcile(data)
    assert checks["passed"].all()
    assert set(checks["rule"]) == {"outputs_sum_to_component", "items_sum_to_operating_costs", "lines_sum_to_total",
                                   "items_sum_to_direct_costs", "direct_and_indirect_sum_to_total",
                                   "years_sum_to_total", "years_sum_to_cumulative"}
    assert checks["tolerance"].max() < 0.1
    assert checks["source_file"].str.startswith("data/raw/finance/").all()


def test_the_published_figures_break_four_rules(tables):
    checks = reconcile_published(ROOT / "data" / "raw" / "published_report", tables)
    failed = checks[~checks["passed"]]
    assert set(zip(failed["where"], failed["rule"])) == {
        ("Table 5 L1018", "years_sum_to_total"), ("Table 6 L1041", "items_sum_to_direct_costs"),
        ("Table 6 L1043", "share_is_amount_over_total"), ("Annex 20 L2378", "pct_is_executed_over_programmed")}
    assert len(checks) > 300 and (checks.loc[checks["passed"], "difference"].abs() <= 2).all()


# ------------------------------------------------------------------ bad input

def _edit(path: Path, code: str, header: str, value: object) -> tuple[str, int]:
    """Set the cell of row ``code`` (first column) and column ``header``; return sheet and row."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    header_row = next(r for r in sheet.iter_rows() if str(r[0].value) in ("Código", "Item"))
    column = next(c.column for c in header_row if str(c.value) == header)
    row = next(r[0].row for r in sheet.iter_rows(min_row=header_row[0].row + 1) if str(r[0].value) == code)
    sheet.cell(row=row, column=column, value=value)
    workbook.save(path)
    return sheet.title, row


def _error(raw_copy: Path, lfm) -> InputError:
    with pytest.raises(InputError) as caught:
        load_finance(raw_copy, lfm, CUTOFF, raw_copy.parent)
    return caught.value


def test_a_negative_executed_amount(raw_copy, lfm):
    sheet, row = _edit(raw_copy / "finance" / "financial_reports" / REPORT_2019, "1.2.1", "Ejecutado 2019 (USD)", -500)
    error = _error(raw_copy, lfm)
    assert error.file.endswith(REPORT_2019) and (error.sheet, error.row, error.column) == (
        sheet, row, "Ejecutado 2019 (USD)")
    assert "non-negative executed amount" in error.expected and "'Ajuste'" in error.expected
    assert f"row {row}" in str(error) and "column 'Ejecutado 2019 (USD)'" in str(error)


def test_an_unknown_output_code(raw_copy, lfm):
    sheet, row = _edit(raw_copy / "finance" / "financial_reports" / REPORT_2019, "2.4.1", "Código", "2.4.9")
    error = _error(raw_copy, lfm)
    assert (error.sheet, error.row, error.column, error.found) == (sheet, row, "Código", "2.4.9")
    assert "known to the LFM" in error.expected


@pytest.mark.parametrize("file, header", [(REPORT_2020, "Programado 2021 (USD)"), (INITIAL, "2020")])
def test_a_year_outside_the_project(raw_copy, lfm, file, header):
    folder = "financial_reports" if file == REPORT_2020 else "budget_narratives"
    path = raw_copy / "finance" / folder / file
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    cell = next(c for r in sheet.iter_rows() for c in r if str(c.value) == header)
    cell.value = header.replace("2021", "2022") if "2021" in header else 2024
    workbook.save(path)
    error = _error(raw_copy, lfm)
    assert error.file.endswith(file) and error.sheet == sheet.title and error.row == cell.row
    assert error.column == str(cell.value) and "within the project's life (2017-2021" in error.expected


def test_a_currency_other_than_the_declared_one(raw_copy, lfm):
    path = raw_copy / "finance" / "financial_reports" / REPORT_2020
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    cell = next(c for r in sheet.iter_rows() for c in r if str(c.value).startswith("Moneda"))
    cell.value = "Moneda: PEN"
    workbook.save(path)
    error = _error(raw_copy, lfm)
    assert (error.sheet, error.row, error.column, error.found) == (sheet.title, cell.row, "A", "Moneda: PEN")
    assert "amounts in USD" in error.expected


def test_a_currency_in_a_header(raw_copy, lfm):
    path = raw_copy / "finance" / "financial_reports" / REPORT_2019
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    cell = next(c for r in sheet.iter_rows() for c in r if c.value == "Ejecutado 2019 (USD)")
    cell.value = "Ejecutado 2019 (PEN)"
    workbook.save(path)
    error = _error(raw_copy, lfm)
    assert (error.row, error.column) == (cell.row, "Ejecutado 2019 (PEN)") and "amounts in USD" in error.expected


@pytest.mark.parametrize("folder, file, code, header, change, rule", [
    ("financial_reports", REPORT_2019, "C1", "Ejecutado 2019 (USD)", 1000, "outputs of a component add up"),
    ("financial_reports", REPORT_2020, "OC", "Programado 2021 (USD)", -0.05, "operating-cost items add up"),
    ("financial_reports", REPORT_2020, "3.2.1", "Ejecutado acumulado (USD)", 250, "years add up to the cumulative"),
    ("budget_narratives", INITIAL, "I", "2019", 2, "items A-G add up to the total direct costs"),
    ("budget_narratives", INITIAL, "E", "Total", -1, "years add up to the item's total"),
])
def test_totals_that_do_not_add_up(raw_copy, lfm, folder, file, code, header, change, rule):
    path = raw_copy / "finance" / folder / file
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    header_row = next(r for r in sheet.iter_rows() if str(r[0].value) in ("Código", "Item"))
    column = next(c.column for c in header_row if str(c.value) == header)
    row = next(r[0].row for r in sheet.iter_rows(min_row=header_row[0].row + 1) if str(r[0].value) == code)
    sheet.cell(row=row, column=column).value += change
    workbook.save(path)
    error = _error(raw_copy, lfm)
    assert error.file.endswith(file) and (error.sheet, error.row, error.column) == (sheet.title, row, header)
    assert rule in error.expected and "within 0.0" in error.expected


# ------------------------------------------------------------------ Great Expectations suites

@pytest.fixture(scope="module")
def parameters(data, lfm):
    return suites.finance_parameters(data, lfm)


@pytest.mark.parametrize("name, attribute", [("finance_budget", "budget"), ("finance_reports", "reports")])
def test_the_shipped_finance_data_pass_their_suites(data, parameters, name, attribute):
    suite = validation.find_suite(name, [ROOT / "expectations"], "finance")
    assert all(e["meta"]["expected"] for e in suite["expectations"])
    outcome = validation.run_suite(getattr(data, attribute), suite, parameters)
    assert outcome.success, outcome.problems.to_string()


def test_the_reports_suite_names_the_cell_of_each_problem(data, parameters):
    bad = data.reports.copy()
    ordinary = bad.index[(bad["entry"] == "ordinario") & ~bad["stated"] & (bad["measure"] == "ejecutado")]
    bad.loc[ordinary[3], "amount"] = -10.0
    bad.loc[ordinary[4], "output_id"] = "9.9.9"
    bad.loc[ordinary[5], "year"] = 2016.0
    bad.loc[ordinary[6], "currency"] = "PEN"
    outcome = validation.run_suite(bad, validation.find_suite("finance_reports", [ROOT / "expectations"], "finance"),
                                   parameters)
    problems = outcome.problems.set_index("found")
    assert {"-10.0", "9.9.9", "2016.0", "PEN"} <= set(problems.index)
    assert problems.loc["9.9.9", "source_column"] == "Código"  # the code cell, not the amount
    assert problems.loc["-10.0", "source_row"] == bad.loc[ordinary[3], "source_row"]
    with pytest.raises(ValidationFailed, match=r"sheet '.*', row \d+, column '"):
        validation.raise_on_failure(outcome)


def test_the_budget_suite_catches_an_unknown_item(data, parameters):
    bad = data.budget.copy()
    bad.loc[0, "item_code"] = "H"
    outcome = validation.run_suite(bad, validation.find_suite("finance_budget", [ROOT / "expectations"], "finance"),
                                   parameters)
    assert not outcome.success and "H" in set(outcome.problems["found"])


# ------------------------------------------------------------------ audit

def test_the_audit_lists_every_published_figure_that_does_not_follow(tables):
    rows = audit_finance(ROOT / "data" / "raw" / "published_report", tables)
    assert all(list(row) == AUDIT_COLUMNS for row in rows)
    found = {(r["check"], r["source"], r["field"], r["published_value"], r["computed_value"]) for r in rows}
    assert found == {
        ("budget_cell", "Table 6 L1034", "2021 amount", "149,692", "410,875"),
        ("budget_cell", "Table 6 L1043", "2019 share_of_total_pct", "34", "33"),
        ("execution_cell", "Annex 20 L2378", "2020 execution_pct", "0", "-"),
        ("published_arithmetic", "Table 5 L1018", "total amount", "1,303,172", "1,041,989"),
        ("published_arithmetic", "Table 6 L1041", "2021 amount", "1,073,565", "812,380"),
        ("published_arithmetic", "Table 6 L1043", "2019 share_of_total_pct", "34", "33.48"),
        ("published_arithmetic", "Annex 20 L2378", "2020 execution_pct", "0", "-"),
        ("narrative_currency", "§179 L1084 (s179_total_executed)", "currency", "PEN", "USD"),
        ("narrative_value", "Finding 13 L244 (f13_fund_share)", "acumulado saldos_share_pct", "14", "27"),
        ("narrative_value", "§183 L1089 (s183_fund_share)", "acumulado saldos_share_pct", "14", "27"),
        ("narrative_value", "§183 L1089 (s183_remainder_amount)", "2021 programado", "1,545,021", "1,134,694"),
        ("narrative_currency", "§183 L1089 (s183_remainder_amount)", "currency", "PEN", "USD"),
    }
    remainder = next(r for r in rows if r["source"].endswith("(s183_remainder_amount)") and r["field"] != "currency")
    assert "computed TOTAL acumulado saldos_anteriores" in remainder["note"]  # the figure printed in the wrong place


def test_a_changed_published_figure_is_listed_with_both_numbers(tables, tmp_path):
    published = tmp_path / "published_report"
    shutil.copytree(ROOT / "data" / "raw" / "published_report", published)
    table = pd.read_csv(published / "financial_execution.csv", dtype=str, keep_default_na=False)
    where = (table["annex"] == "19") & (table["line_key"] == "Producto 2.2.1") & (table["measure"] == "ejecutado")
    table.loc[where, ["value_raw", "value"]] = ["459,999", "459999"]
    table.to_csv(published / "financial_execution.csv", index=False)
    rows = audit_finance(published, tables)
    cell = [r for r in rows if r["item_id"] == "Producto 2.2.1" and r["check"] == "execution_cell"]
    assert [(r["published_value"], r["computed_value"]) for r in cell] == [("459,999", "459,186")]
    assert any(r["check"] == "published_arithmetic" and r["item_id"] == "Componente 2" for r in rows)


def test_nothing_published_nothing_to_audit(tables, tmp_path):
    assert audit_finance(tmp_path, tables) == []


# ------------------------------------------------------------------ one job per module

def test_each_finance_module_is_small():
    """finance was one module of ~1050 lines doing six jobs; each job is its own module of at most 300 lines."""
    package = ROOT / "evalpipe"
    modules = sorted(package.glob("finance*.py")) + [package / "audit_finance.py"]
    assert {p.stem for p in modules} >= {"finance", "finance_read", "finance_workbooks", "finance_reconcile",
                                          "finance_tables", "finance_meaning", "audit_finance"}
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    assert all(n <= 300 for n in sizes.values()), sizes
