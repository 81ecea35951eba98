"""Issue 17, classes A-C: hostile or broken YAML, every input described by a schema, confinement to the drop.

All in-process and fast: no pipeline run. Each case fails on the code before the change (YAML read by
yaml.safe_load, hand-written checks, paths not confined).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from evalpipe import fichas, microdata
from evalpipe.errors import InputError, ParameterError
from evalpipe.schemas import check_drop

from conftest import FIXTURES, ROOT

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")


def load_fichas(raw: Path, lfm):
    return fichas.load_fichas(raw, microdata.load_sources(raw), lfm.outcome_indicators, raw.parent, lfm=lfm)


def ficha_path(raw: Path, indicator: str = "1.1.1.1") -> Path:
    return raw / "fichas" / f"{indicator}.yaml"


def edit_ficha(raw: Path, indicator: str, change) -> Path:
    path = ficha_path(raw, indicator)
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def refused(call, *words: str) -> str:
    """Run ``call``; it must raise one InputError whose one-line message holds every word."""
    with pytest.raises(InputError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, (word, message)
    return message


# ================================================================== A. hostile or broken YAML

def test_a_duplicate_key_is_refused_naming_the_key_and_both_lines(raw_copy, lfm):
    path = ficha_path(raw_copy)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  filters:")) + 1
    path.write_text(text + "  filters: []\n", encoding="utf-8")  # the second would silently win
    message = refused(lambda: load_fichas(raw_copy, lfm), "fichas/1.1.1.1.yaml", "'filters'",
                      f"first on line {first}", f"line {len(lines) + 1}")
    assert "each key once" in message


def test_a_duplicate_key_is_also_a_ficha_error(raw_copy, lfm):
    path = ficha_path(raw_copy)
    path.write_text(path.read_text(encoding="utf-8") + "responsable: otro\n", encoding="utf-8")
    with pytest.raises(fichas.FichaError, match="'responsable'"):
        load_fichas(raw_copy, lfm)


BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] +
                 [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)])


def test_an_alias_bomb_is_refused_at_once(raw_copy, lfm):
    path = ficha_path(raw_copy)
    path.write_text(path.read_text(encoding="utf-8") + "extra:\n  " + BOMB.replace("\n", "\n  ") + "\n",
                    encoding="utf-8")
    # Refused before anything is expanded (expanding it would hold 9**9 strings: the test would never end).
    refused(lambda: load_fichas(raw_copy, lfm), "fichas/1.1.1.1.yaml", "no YAML anchors", "&a", "line ")


def test_an_alias_is_refused_even_without_a_bomb(tmp_path):
    from evalpipe.safeyaml import load_yaml

    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: *a\n", encoding="utf-8")  # an undefined alias: refused as an alias, line 2
    refused(lambda: load_yaml(path, "x.yaml"), "x.yaml", "line 2", "no YAML aliases", "*a")


def test_a_yaml_file_over_the_size_limit_is_refused_before_parsing(raw_copy):
    path = raw_copy / "drop.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# " + "x" * (1024 * 1024) + "\n", encoding="utf-8")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "drop.yaml", "at most 1024 KiB")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['echo hacked > hacked.txt']",
                                 "!!python/name:os.system", "!include other.yaml", "!!binary aGVsbG8="])
def test_python_and_non_standard_tags_are_refused(raw_copy, tag):
    path = raw_copy / "drop.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('drop_id: "midterm-demo"', f"drop_id: {tag}"),
                    encoding="utf-8")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "drop.yaml", "without YAML tags", "line 2")
    assert not (Path.cwd() / "hacked.txt").exists()


def test_a_syntax_error_names_file_line_and_column(raw_copy):
    path = raw_copy / "drop.yaml"
    path.write_text('drop_id: "midterm-demo\ndata_origin: [synthetic\n', encoding="utf-8")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "drop.yaml", "expected valid YAML", "line ", "column ")


def test_a_windows_1252_accent_names_file_line_offset_and_says_save_as_utf8(raw_copy, lfm):
    path = ficha_path(raw_copy)
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("cp1252"))
    first_accent = next(i for i, ch in enumerate(text) if ord(ch) > 127)
    line = text[:first_accent].count("\n") + 1
    offset = len(text[:first_accent].encode("cp1252"))
    refused(lambda: load_fichas(raw_copy, lfm), "fichas/1.1.1.1.yaml", f"line {line}", f"byte offset {offset}",
            "save it as UTF-8")


def test_a_windows_1252_drop_yaml_is_an_input_error(raw_copy):
    path = raw_copy / "drop.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").replace("demo", "demostración").encode("cp1252"))
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "drop.yaml", "UTF-8")


def test_deep_nesting_is_a_message_not_a_recursion_error(raw_copy):
    (raw_copy / "drop.yaml").write_text("drop_id: " + "[" * 20000 + "\n", encoding="utf-8")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "drop.yaml")


def test_an_impossible_bare_date_is_located(raw_copy, lfm):
    path = ficha_path(raw_copy, "1.1.1.1")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("on_or_before: cutoff", "on_or_before: 2021-02-30", 1), encoding="utf-8")
    assert "2021-02-30" in path.read_text(encoding="utf-8")
    refused(lambda: load_fichas(raw_copy, lfm), "fichas/1.1.1.1.yaml", "real calendar date", "2021-02-30", "line ")


def test_a_ficha_saved_as_yml_is_read_like_yaml(raw_copy, lfm):
    ficha_path(raw_copy).rename(raw_copy / "fichas" / "1.1.1.1.yml")
    loaded = load_fichas(raw_copy, lfm)
    assert loaded["1.1.1.1"].path.endswith("fichas/1.1.1.1.yml")
    assert len(loaded) == len(lfm.outcome_indicators)


def test_the_same_ficha_as_yaml_and_yml_is_refused_naming_both(raw_copy, lfm):
    shutil.copy(ficha_path(raw_copy), raw_copy / "fichas" / "1.1.1.1.yml")
    refused(lambda: load_fichas(raw_copy, lfm), "1.1.1.1.yml", "fichas/1.1.1.1.yaml", "one ficha per indicator")


def test_a_params_file_with_a_duplicate_key_is_a_parameter_error(tmp_path):
    from evalpipe.params import load_params_file

    path = tmp_path / "run.yaml"
    path.write_text("cutoff: 2020Q2\ncutoff: 2020Q4\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="'cutoff'"):
        load_params_file(path)


# ================================================================== B. every input described by a schema

def test_every_shipped_drop_passes_check_drop():
    for raw in (ROOT / "data" / "raw", FIXTURES / "final_drop" / "raw", FIXTURES / "project_b" / "raw"):
        checked = check_drop(raw, ROOT)
        assert len(checked.fichas) == len(checked.lfm.outcome_indicators)
        assert checked.progress_reports and checked.warnings == []


def test_in_written_as_a_text_is_refused_with_its_key_path(raw_copy, lfm):
    edit_ficha(raw_copy, "1.1.1.1", lambda c: c["calculo"]["numerator_conditions"][0].update({"in": "cumplida"}))
    refused(lambda: load_fichas(raw_copy, lfm), "fichas/1.1.1.1.yaml", "key 'calculo.numerator_conditions[0].in'",
            "expected a list", "found 'cumplida'", "line ")


def test_an_impossible_quoted_date_in_a_filter_is_refused(raw_copy, lfm):
    edit_ficha(raw_copy, "1.1.1.1",
               lambda c: c["calculo"]["numerator_conditions"][1].update(on_or_before="2021-02-30"))
    refused(lambda: load_fichas(raw_copy, lfm), "key 'calculo.numerator_conditions[1].on_or_before'",
            "real calendar date",
            "'2021-02-30'")


def test_a_word_in_a_numeric_filter_is_refused(raw_copy, lfm):
    def change(content):
        content["calculo"]["filters"].append({"column": "fecha_verificacion", "greater_than": "diez", "reason": "x"})
    edit_ficha(raw_copy, "1.1.1.1", change)
    refused(lambda: load_fichas(raw_copy, lfm), "key 'calculo.filters[1].greater_than'", "expected a number",
            "'diez'")


def test_a_misspelt_calculation_key_is_refused(raw_copy, lfm):
    edit_ficha(raw_copy, "1.1.1.1", lambda c: c["calculo"].update(filter=c["calculo"].pop("filters")))
    refused(lambda: load_fichas(raw_copy, lfm), "key 'calculo.filter'", "unknown key 'filter'")


def test_two_operators_in_one_condition_are_refused(raw_copy, lfm):
    edit_ficha(raw_copy, "1.1.1.1", lambda c: c["calculo"]["filters"][0].update(not_blank=True))
    refused(lambda: load_fichas(raw_copy, lfm), "key 'calculo.filters[0]'", "exactly one of", "'in, not_blank'")


def test_a_calculation_naming_an_unknown_output_is_refused(raw_copy, lfm):
    edit_ficha(raw_copy, "1.1.1.1", lambda c: c["calculo"].update(requires_output="9.9.9"))
    refused(lambda: load_fichas(raw_copy, lfm), "key 'calculo.requires_output'", "an output of lfm/outputs.csv")


def test_drop_date_in_day_month_year_is_refused_by_the_schema(raw_copy):
    path = raw_copy / "drop.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('drop_date: "2021-02-15"', "drop_date: 15/02/2021"),
                    encoding="utf-8")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "raw/drop.yaml", "key 'drop_date'", "YYYY-MM-DD",
            "found '15/02/2021'", "line 8")


def test_drop_yaml_keeps_metadata_keys(raw_copy):
    path = raw_copy / "drop.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "author: Someone\ncontact: evaluation team\n", encoding="utf-8")
    assert check_drop(raw_copy, raw_copy.parent).drop.drop_id == "midterm-demo"


def test_a_quarter_typo_in_project_yaml_names_the_file_and_key(raw_copy):
    path = raw_copy / "lfm" / "project.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('last_quarter: "2021Q4"', 'last_quarter: "2021T5"'),
                    encoding="utf-8")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "raw/lfm/project.yaml", "key 'last_quarter'",
            "a quarter written like 2020Q2", "'2021T5'")


def test_a_source_column_type_typo_names_the_key_path(raw_copy):
    path = raw_copy / "microdata" / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("rec_id: {type: id}", "rec_id: {type: identifier}", 1), encoding="utf-8")
    refused(lambda: microdata.load_sources(raw_copy, raw_copy.parent),
            "raw/microdata/sources.yaml", "key 'recomendaciones_estudio_casos.columns.rec_id.type'", "'identifier'")


def test_a_misspelt_source_key_is_refused(raw_copy):
    path = raw_copy / "microdata" / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  sheet: Resultados", "  hoja: Resultados", 1), encoding="utf-8")
    refused(lambda: microdata.load_sources(raw_copy), "unknown key 'hoja'", "examenes_litigacion_oral.hoja")


def test_the_finance_catalogue_is_checked_by_its_schema(raw_copy):
    from evalpipe.finance_read import load_declaration

    path = raw_copy / "finance" / "finance.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("parent: I}", "parent: Z}", 1), encoding="utf-8")
    refused(lambda: load_declaration(raw_copy / "finance", raw_copy.parent), "raw/finance/finance.yaml",
            "key 'budget_items.A.parent'", "'Z'")
    path.write_text(text.replace("currency: USD", "currency: dollars"), encoding="utf-8")
    refused(lambda: load_declaration(raw_copy / "finance", raw_copy.parent), "key 'currency'", "'dollars'")


def test_an_lfm_id_with_spaces_is_trimmed_with_a_warning(raw_copy):
    from evalpipe.lfm import load_logframe

    path = raw_copy / "lfm" / "output_indicators.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",", " ,", 1)  # "1.1.2.1 ,1.1.2,..."
    path.write_text("".join(lines), encoding="utf-8")
    clean = load_logframe(ROOT / "data" / "raw" / "lfm")
    spaced = load_logframe(raw_copy / "lfm", raw_copy.parent)
    assert spaced.output_indicators.equals(clean.output_indicators)
    assert len(spaced.warnings) == 1 and "row 4, column 'indicator_id'" in spaced.warnings[0]


def test_an_lfm_csv_separated_by_semicolons_is_read_the_same(raw_copy):
    import csv

    from evalpipe.lfm import load_logframe

    path = raw_copy / "lfm" / "output_indicators.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    clean = load_logframe(ROOT / "data" / "raw" / "lfm")
    spaced = load_logframe(raw_copy / "lfm", raw_copy.parent)
    assert spaced.output_indicators.equals(clean.output_indicators)
    assert any("';'" in w for w in spaced.warnings)


def test_a_bad_number_in_an_lfm_row_names_row_and_column(raw_copy):
    from evalpipe.lfm import load_logframe

    path = raw_copy / "lfm" / "outcome_indicators.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    head = lines[0].split(",")
    cells = lines[2].split(",")
    cells[head.index("target")] = "cincuenta"
    lines[2] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    refused(lambda: load_logframe(raw_copy / "lfm", raw_copy.parent), "raw/lfm/outcome_indicators.csv", "row 3",
            "column 'target'", "a number", "'cincuenta'")


# ================================================================== C. confinement

@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    shutil.copy(ROOT / "data" / "raw" / "microdata" / "Recomendaciones estudio de casos.csv", folder / "x.csv")
    return folder


def _point_source(raw: Path, file: str) -> None:
    path = raw / "microdata" / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("file: Recomendaciones estudio de casos.csv", f'file: "{file}"', 1), encoding="utf-8")


def test_a_source_file_outside_the_drop_is_refused(raw_copy, outside):
    _point_source(raw_copy, "../../outside/x.csv")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "outside/x.csv", "inside the drop folder",
            "--allow-outside-paths")
    source = microdata.load_sources(raw_copy)["recomendaciones_estudio_casos"]
    refused(lambda: microdata.read_source(raw_copy, source), "inside the drop folder")
    # the flag lifts it: the same file is read
    table = microdata.read_source(raw_copy, source, allow_outside=True)
    assert len(table.table) > 0


def test_an_absolute_source_path_is_refused(raw_copy, outside):
    _point_source(raw_copy, str(outside / "x.csv"))
    source = microdata.load_sources(raw_copy)["recomendaciones_estudio_casos"]
    refused(lambda: microdata.read_source(raw_copy, source), str(outside / "x.csv"), "inside the drop folder")


def test_a_microdata_file_that_links_out_is_refused(raw_copy, outside):
    target = raw_copy / "microdata" / "Recomendaciones estudio de casos.csv"
    target.unlink()
    target.symlink_to(outside / "x.csv")
    source = microdata.load_sources(raw_copy)["recomendaciones_estudio_casos"]
    refused(lambda: microdata.read_source(raw_copy, source, raw_copy.parent),
            "raw/microdata/Recomendaciones estudio de casos.csv", "through a symbolic link", str(outside / "x.csv"))


def test_a_link_inside_the_drop_is_accepted(raw_copy):
    target = raw_copy / "microdata" / "Recomendaciones estudio de casos.csv"
    moved = raw_copy / "microdata" / "real.csv"
    target.rename(moved)
    target.symlink_to(moved)
    source = microdata.load_sources(raw_copy)["recomendaciones_estudio_casos"]
    assert len(microdata.read_source(raw_copy, source).table) > 0


def test_a_progress_report_that_links_out_is_refused(raw_copy, tmp_path):
    from evalpipe.progress import list_progress_reports

    folder = raw_copy / "progress_reports"
    report = folder / "Informe_progreso_2019T1.xlsx"
    elsewhere = tmp_path / "elsewhere.xlsx"
    shutil.move(report, elsewhere)
    report.symlink_to(elsewhere)
    refused(lambda: list_progress_reports(raw_copy, raw_copy.parent), "Informe_progreso_2019T1.xlsx",
            "inside the drop folder")
    assert len(list_progress_reports(raw_copy, raw_copy.parent, allow_outside=True)) == 11


def test_a_progress_reports_folder_that_links_out_is_refused(raw_copy, tmp_path):
    from evalpipe.progress import build_progress_table
    from evalpipe.quarters import parse_quarter

    folder = raw_copy / "progress_reports"
    shutil.move(folder, tmp_path / "reports_elsewhere")
    folder.symlink_to(tmp_path / "reports_elsewhere", target_is_directory=True)
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "raw/progress_reports", "a folder inside the drop")
    lfm = check_drop(raw_copy, raw_copy.parent, allow_outside=True).lfm
    refused(lambda: build_progress_table(raw_copy, lfm, parse_quarter("2020Q2"), raw_copy.parent),
            "inside the drop folder")


def test_a_ficha_that_links_out_is_refused(raw_copy, lfm, tmp_path):
    path = ficha_path(raw_copy)
    shutil.move(path, tmp_path / "1.1.1.1.yaml")
    path.symlink_to(tmp_path / "1.1.1.1.yaml")
    refused(lambda: load_fichas(raw_copy, lfm), "fichas/1.1.1.1.yaml", "inside the drop folder")


def test_a_finance_narrative_outside_the_drop_is_refused(raw_copy):
    from evalpipe.finance_read import load_declaration

    path = raw_copy / "finance" / "finance.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('file: "budget_narratives/06.04.18', 'file: "../../../06.04.18', 1), encoding="utf-8")
    refused(lambda: load_declaration(raw_copy / "finance", raw_copy.parent), "budget_narratives.initial.file",
            "inside the drop folder")


def test_a_drop_yaml_that_links_out_is_refused(raw_copy, tmp_path):
    shutil.move(raw_copy / "drop.yaml", tmp_path / "drop.yaml")
    (raw_copy / "drop.yaml").symlink_to(tmp_path / "drop.yaml")
    refused(lambda: check_drop(raw_copy, raw_copy.parent), "raw/drop.yaml", "inside the drop folder")


# ------------------------------------------------------------ operators and column types: one registry each --

def test_the_condition_schema_accepts_exactly_the_registered_operators():
    from evalpipe.operators import OPERATORS
    from evalpipe.schemas import Condition, validate

    operand = {"values": ["x"], "true": True, "date": "cutoff", "number": 3}
    for name, op in OPERATORS.items():
        validate(Condition, {"column": "c", name: operand[op.operand]}, "f.yaml")
    with pytest.raises(InputError, match="exactly one of in, not_in, not_blank, on_or_before, after"):
        validate(Condition, {"column": "c", "in": ["x"], "after": "cutoff"}, "f.yaml")
    with pytest.raises(InputError, match="unknown key 'like'"):
        validate(Condition, {"column": "c", "like": "x"}, "f.yaml")
    with pytest.raises(InputError, match="not_blank: true"):
        validate(Condition, {"column": "c", "not_blank": False}, "f.yaml")


def test_the_sources_schema_accepts_exactly_the_registered_column_types():
    from evalpipe.column_types import COLUMN_TYPES
    from evalpipe.schemas import SOURCES, validate

    declared = {"s": {"file": "a.csv", "columns": {name: {"type": name} for name in COLUMN_TYPES}}}
    assert set(validate(SOURCES, declared, "sources.yaml")["s"].columns) == set(COLUMN_TYPES)
    with pytest.raises(InputError, match="one of 'id', 'text', 'category', 'number' or 'date'|one of"):
        validate(SOURCES, {"s": {"file": "a.csv", "columns": {"c": {"type": "money"}}}}, "sources.yaml")


def test_each_column_type_parses_writes_and_reads_back():
    import pandas as pd

    from evalpipe.column_types import COLUMN_TYPES, CellProblem

    number, date = COLUMN_TYPES["number"], COLUMN_TYPES["date"]
    assert number.parse("1.250,5", ",") == 1250.5 and number.parse("3,5", ".") == 3.5 and number.parse(7, ".") == 7.0
    with pytest.raises(CellProblem, match="a number"):
        number.parse("siete", ".")
    assert date.parse("31/01/2020", ".") == pd.Timestamp(2020, 1, 31) == date.parse("2020-01-31", ".")
    with pytest.raises(CellProblem) as caught:
        date.parse("31/02/2020", ".")
    assert caught.value.expected == "a calendar date" and not caught.value.masked
    typed = date.column([pd.Timestamp(2020, 1, 31), None], pd.RangeIndex(2))
    written = date.write(typed)
    assert written.tolist()[0] == "2020-01-31"
    assert date.read(pd.Series(["2020-01-31", None])).tolist()[0] == pd.Timestamp(2020, 1, 31)
    assert number.read(pd.Series(["2.5", None])).dtype == "float64"
    assert COLUMN_TYPES["text"].column(["a", None], pd.RangeIndex(2)).dtype == object
    assert [name for name, kind in COLUMN_TYPES.items() if kind.private] == ["id", "text"]
