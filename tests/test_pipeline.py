"""End to end: `pipeline.py run` in a copy of the project, its outputs, the cut-off, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest

from conftest import (PROJECT_B, ROOT, english_run, final_run, project_b_run, project_copy, shared_run,
                      tree_hashes)

pytestmark = pytest.mark.slow
Q2_WORKBOOK = "data/raw/progress_reports/Informe_progreso_2020T2 (v2).xlsx"


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "pipeline.py", *args], cwd=project, capture_output=True, text=True,
                          timeout=600)




@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with the shipped drop, after one successful mid-term run (the session's shared run)."""
    return project_copy(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def small_project(tmp_path_factory) -> Path:
    """A copy of the session's run of the small fictitious project (tests/fixtures/project_b): the smallest drop
    that goes through every stage, for the tests that change something and run again."""
    target = tmp_path_factory.mktemp("small")
    shutil.copytree(project_b_run()[0], target, symlinks=True, dirs_exist_ok=True)
    return target


def test_run_publishes_notebooks_data_docs_and_tables():
    project = shared_run()  # read only
    run_dir = project / "reports" / "midterm-2020Q2"
    for stem in ("01_clean", "02_validate", "03_output_indicators", "04_outcome_indicators", "05_finance",
                 "06_consistency_audit", "07_figures", "08_annex"):
        assert (run_dir / "notebooks" / f"{stem}.ipynb").exists()
        assert (run_dir / "notebooks" / f"{stem}.html").stat().st_size > 10_000
    assert (run_dir / "data_docs" / "index.html").exists()
    indicators = pd.read_csv(run_dir / "tables" / "output_indicators.csv", dtype={"indicator_id": str})
    status = pd.read_csv(run_dir / "tables" / "output_status.csv", dtype={"output_id": str})
    audit = pd.read_csv(run_dir / "tables" / "consistency_audit.csv", dtype=str)
    outcomes = pd.read_csv(run_dir / "tables" / "outcome_indicators.csv", dtype={"indicator_id": str})
    outcome_status = pd.read_csv(run_dir / "tables" / "outcome_status.csv", dtype={"outcome_id": str})
    assert len(indicators) == 48 and len(status) == 18 and len(audit) > 0
    assert len(outcomes) == 38 and len(outcome_status) == 20
    assert {"outcome_id", "indicator_id", "unit", "baseline", "current", "target", "numerator", "denominator", "n",
            "status", "origin"} <= set(outcomes)
    assert (run_dir / "tables" / "outcome_exclusions.csv").exists()
    for name in ("annex.pdf", "index.html", "annex_tables.xlsx", "reproducibility.json"):
        assert (run_dir / name).stat().st_size > 1000, name
    assert (run_dir / "annex.pdf").read_bytes().startswith(b"%PDF")
    # progress + 23 microdata + 2 finance suites
    assert len(list((run_dir / "data_docs" / "validations").iterdir())) == 26
    for name in ("budget", "financial_execution"):
        assert len(pd.read_csv(run_dir / "tables" / f"{name}.csv")) > 100
    assert {"output_id", "indicator_id", "baseline", "current", "target", "progress_pct", "status"} <= set(indicators)
    assert set(indicators["data_origin"]) == {"synthetic"}
    assert set(status["status"]) <= {"delivered", "in_progress", "in_progress_at_risk", "not_delivered"}
    assert (project / "data" / "processed" / "midterm-2020Q2" / "progress_indicators.csv").exists()


def test_executed_notebooks_record_parameters_and_no_absolute_paths():
    project = shared_run()  # read only
    run_dir = project / "reports" / "midterm-2020Q2"
    notebook = nbformat.read(run_dir / "notebooks" / "03_output_indicators.ipynb", as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'cutoff = "2020Q2"' in injected[0].source
    for path in run_dir.rglob("*"):
        if path.suffix in (".ipynb", ".html", ".csv", ".json"):
            assert str(project) not in path.read_text(encoding="utf-8", errors="replace"), path
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["data_drop"]["data_origin"] == "synthetic"
    assert any(key.endswith(".xlsx") for key in manifest["inputs_sha256"])


def test_later_cutoff_uses_the_2020q4_report_in_its_own_folder(project):
    before = tree_hashes(project / "reports" / "midterm-2020Q2")
    result = run(project, "run", "--cutoff", "2020Q4")
    assert result.returncode == 0, result.stderr
    assert tree_hashes(project / "reports" / "midterm-2020Q2") == before
    q4 = pd.read_csv(project / "reports" / "midterm-2020Q4" / "tables" / "output_indicators.csv",
                     dtype={"indicator_id": str}).set_index("indicator_id")
    q2 = pd.read_csv(project / "reports" / "midterm-2020Q2" / "tables" / "output_indicators.csv",
                     dtype={"indicator_id": str}).set_index("indicator_id")
    assert set(q4["value_quarter"]) == {"2020Q4"} and set(q2["value_quarter"]) == {"2020Q2"}
    assert (q4["current"] >= q2["current"]).all() and (q4["current"] > q2["current"]).any()


def _set_cell(path: Path, code: str, value) -> tuple[str, int, str]:
    """Write ``value`` into the value cell of indicator ``code``; return (sheet, row, header)."""
    from evalpipe.readers import read_progress_report

    report = read_progress_report(path)
    record = next(r for r in report.records if r.indicator_id == code)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[record.source_sheet]
    headers = [cell.value for cell in sheet[report.header_row]]
    sheet.cell(row=record.source_row, column=headers.index(record.source_column) + 1, value=value)
    workbook.save(path)
    return record.source_sheet, record.source_row, record.source_column


@pytest.mark.parametrize("code, value, expected_words", [
    ("2.1.2.1", "mil cuarenta", "expected a count such as 37"),      # clean stage: unreadable value
    ("2.1.2.1", 900, "not lower than the one reported in an earlier quarter"),  # validate: goes down
])
def test_bad_input_stops_the_run_and_changes_nothing(project, tmp_path, code, value, expected_words):
    bad = tmp_path / "bad"
    shutil.copytree(project, bad)
    workbook = bad / Q2_WORKBOOK
    sheet, row, header = _set_cell(workbook, code, value)
    raw_before = tree_hashes(bad / "data" / "raw")
    reports_before = tree_hashes(bad / "reports" / "midterm-2020Q2")
    result = run(bad, "run")
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: stage ")
    assert f"file {Q2_WORKBOOK}" in first and f"sheet '{sheet}'" in first
    assert f"row {row}" in first and f"column '{header}'" in first and expected_words in first
    assert "Traceback" not in result.stderr
    assert tree_hashes(bad / "data" / "raw") == raw_before
    assert tree_hashes(bad / "reports" / "midterm-2020Q2") == reports_before
    kept = next(line for line in result.stderr.splitlines() if line.startswith("partial notebook kept: "))
    assert (bad / kept.split(": ", 1)[1]).exists()


def test_a_second_run_skips_every_stage_and_changes_nothing(project):
    before = tree_hashes(project / "reports" / "midterm-2020Q2")
    result = run(project, "run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("skipped: up to date") == 8 and "running" not in result.stdout
    assert tree_hashes(project / "reports" / "midterm-2020Q2") == before


def test_editing_one_ficha_reruns_only_what_reads_it(project, tmp_path):
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    ficha = copy / "data" / "raw" / "fichas" / "3.2.1.3.yaml"
    ficha.write_text(ficha.read_text(encoding="utf-8").replace("participante sin respuesta", "sin respuesta"),
                     encoding="utf-8")
    status = run(copy, "status")
    assert "outcome_indicators   would run: inputs changed: fichas/3.2.1.3.yaml" in status.stdout
    assert "clean                up to date" in status.stdout
    result = run(copy, "run")
    assert result.returncode == 0, result.stderr
    ran = [line for line in result.stdout.splitlines() if " ran because " in line]
    assert ran[0].startswith("[outcome_indicators] ran because inputs changed: fichas/3.2.1.3.yaml")
    # The annex re-runs too: its reproducibility page lists the SHA-256 of every raw input.
    assert [line.split("]")[0][1:] for line in ran] == ["outcome_indicators", "annex"]
    assert "[audit] skipped: up to date" in result.stdout  # the outcome table did not change
    assert "[figures] skipped: up to date" in result.stdout
    exclusions = (copy / "reports" / "midterm-2020Q2" / "tables" / "outcome_exclusions.csv").read_text()
    assert "sin respuesta" in exclusions and "participante sin respuesta" not in exclusions


def test_force_and_from_rerun_what_they_say(small_project, tmp_path):
    # On the small project (the stages are the same): `run --from outcome_indicators`, then --only with --force.
    copy = tmp_path / "p"
    shutil.copytree(small_project, copy)
    result = run(copy, *PROJECT_B, "--from", "outcome_indicators")
    assert result.returncode == 0, result.stderr
    ran = {line.split("]")[0][1:] for line in result.stdout.splitlines() if " ran because " in line}
    assert ran == {"outcome_indicators", "audit", "figures", "annex"}
    assert "[clean] skipped: up to date" in result.stdout
    result = run(copy, *PROJECT_B, "--only", "output_indicators", "--force")
    ran = {line.split("]")[0][1:] for line in result.stdout.splitlines() if " ran because " in line}
    assert result.returncode == 0 and ran == {"output_indicators"}


@pytest.mark.parametrize("args, words", [
    (["--cutoff", "2020Q3"], "no progress report for that quarter"),
    (["--cutoff", "2020-06"], "is not a quarter"),
    (["--cutoff", "2030Q1"], "the drop has 2018Q1"),
    (["--raw", "/tmp"], "outside the project"),
    (["--raw", "data/nothing"], "is not a folder"),
    (["--lang", "fr"], "expected one of es, en"),
    (["--evaluation", "interim"], "expected one of midterm, final"),
    (["--only", "publish"], "expected one of clean"),
    (["--only", "clean", "--from", "audit"], "cannot be used together"),
])
def test_bad_parameters_exit_2_before_any_notebook_runs(project, args, words):
    result = run(project, "run", *args)
    assert result.returncode == 2
    assert words in result.stderr and result.stderr.startswith("error: ")
    assert "running" not in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("content, words", [
    ("cutoff: 2020Q2\ncolour: blue\n", "unknown parameter 'colour'"),
    ("cutoff: 2020\n", "'cutoff' must be str"),
    ("suppression_threshold: three\n", "'suppression_threshold' must be int"),
    ("- a list\n", "expected a mapping"),
])
def test_a_bad_params_file_exits_2(project, tmp_path, content, words):
    params = project / "bad_params.yaml"
    params.write_text(content, encoding="utf-8")
    result = run(project, "run", "--params", "bad_params.yaml")
    assert result.returncode == 2 and words in result.stderr


def test_a_second_fictitious_project_runs_with_no_code_change():
    # The session's run of `pipeline.py run --cutoff 2023Q2 --raw tests/fixtures/project_b/raw --expectations
    # tests/fixtures/project_b/expectations` (conftest.PROJECT_B) in a project folder of its own.
    project, result = project_b_run()
    assert PROJECT_B == ("run", "--cutoff", "2023Q2", "--raw", "tests/fixtures/project_b/raw", "--expectations",
                         "tests/fixtures/project_b/expectations")
    assert result.returncode == 0, result.stderr
    assert "published reports/midterm-2023Q2/" in result.stdout
    run_dir = project / "reports" / "midterm-2023Q2"
    outcomes = pd.read_csv(run_dir / "tables" / "outcome_indicators.csv", dtype={"indicator_id": str}).set_index(
        "indicator_id")
    assert outcomes.loc["1.1.1.1", "current"] == 75          # 3 of the 4 committees registered by the cut-off
    assert outcomes.loc["1.1.1.3", "current"] == 4           # = output indicator 1.1.1.1
    assert outcomes.loc["1.2.1.1", "status"] == "no_progress" and bool(outcomes.loc["1.2.1.1", "scheduled_after_cutoff"])
    assert len(pd.read_csv(run_dir / "tables" / "consistency_audit.csv")) == 0  # nothing published to audit
    # The fixture's attendance file carries a column of names: dropped at cleaning, absent from every output.
    for path in list(run_dir.rglob("*")) + list((project / "data" / "processed" / "midterm-2023Q2").rglob("*")):
        if path.is_file():
            assert b"Persona Ficticia" not in path.read_bytes(), path
    clean = (run_dir / "notebooks" / "01_clean.html").read_text(encoding="utf-8")
    assert "nombre_presidente" in clean  # the dropped column is named for the reviewer, its values are not


def test_the_final_evaluation_runs_on_its_own_drop_into_its_own_folder():
    # The session's run of `pipeline.py run --evaluation final --cutoff 2021Q4 --raw tests/fixtures/final_drop/raw`
    # (conftest.final_run) in a copy of the shared mid-term run: the mid-term folder is left as the shared run's.
    project, result = final_run()
    assert result.returncode == 0, result.stderr
    assert "published reports/final-2021Q4/" in result.stdout
    assert tree_hashes(project / "reports" / "midterm-2020Q2") == tree_hashes(shared_run() / "reports" / "midterm-2020Q2")
    final = project / "reports" / "final-2021Q4"
    outputs = pd.read_csv(final / "tables" / "output_indicators.csv", dtype={"indicator_id": str})
    assert set(outputs["value_quarter"]) == {"2021Q4"} and len(outputs) == 48
    outcomes = pd.read_csv(final / "tables" / "outcome_indicators.csv", dtype={"indicator_id": str}).set_index("indicator_id")
    assert outcomes.loc["3.2.1.1", "current"] > 42  # contacts added in 2021 count at the final cut-off
    manifest = json.loads((final / "manifest.json").read_text())
    assert manifest["evaluation"] == "final" and manifest["data_drop"]["drop_id"] == "final-demo"


def _with_venv(copy: Path) -> Path:
    """``copy/.venv`` is the Python running the tests, as `make install` leaves it: the printed commands say
    `.venv/bin/python`."""
    if sys.prefix != sys.base_prefix:
        (copy / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    else:  # not a virtualenv: the interpreter itself
        (copy / ".venv" / "bin").mkdir(parents=True)
        (copy / ".venv" / "bin" / "python").symlink_to(sys.executable)
    return copy


def test_the_annex_rebuild_commands_work_as_printed_and_give_the_published_pdf(project, tmp_path):
    """The commands of the annex's "commands that rebuild it" section, taken from the annex data of the
    published run and run as printed in a shell from the project folder, give the published PDF byte for byte."""
    published = project / "reports" / "midterm-2020Q2"
    data = json.loads((published / "annex" / "annex_data.json").read_text(encoding="utf-8"))
    commands = data["reproducibility"]["commands"]
    assert len(commands) == 2 and all(".venv/bin/python pipeline.py " in c for c in commands), commands
    assert not any(c.startswith(("python ", "typst ")) or " typst compile" in c for c in commands)
    # The PDF prints them as they are: each on a line of its own, no invisible character to copy with them.
    import pdf_inspect

    assert set(commands) <= set("\n".join(pdf_inspect.pages_text(published / "annex.pdf")).splitlines())
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    _with_venv(copy)
    before = tree_hashes(copy / "reports" / "midterm-2020Q2")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    results = [subprocess.run(["bash", "-c", command], cwd=copy, capture_output=True, text=True, timeout=600,
                              env=env) for command in commands]
    for command, result in zip(commands, results):
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert "up to date: reports/midterm-2020Q2/" in results[0].stdout  # the same parameters: nothing to redo
    assert "byte for byte the published reports/midterm-2020Q2/annex.pdf" in results[1].stdout
    rebuilt = copy / "reports" / "_rebuilt" / "midterm-2020Q2" / "annex.pdf"
    assert rebuilt.read_bytes() == (published / "annex.pdf").read_bytes()
    assert tree_hashes(copy / "reports" / "midterm-2020Q2") == before  # the published folder is not touched
    # Typeset from changed annex data, the PDF differs, and the command says so (exit 1).
    data_file = copy / "reports" / "midterm-2020Q2" / "annex" / "annex_data.json"
    changed = json.loads(data_file.read_text(encoding="utf-8"))
    changed["reproducibility"]["commit"] = "0" * 40
    data_file.write_text(json.dumps(changed), encoding="utf-8")
    result = subprocess.run(["bash", "-c", commands[1]], cwd=copy, capture_output=True, text=True, timeout=600,
                            env=env)
    assert result.returncode == 1 and "differs from the published reports/midterm-2020Q2/annex.pdf" in result.stderr


def test_an_english_run_publishes_its_own_folder():
    # The session's `pipeline.py run --lang en` (conftest.english_run) in a copy of the shared mid-term run.
    project, result = english_run()
    assert result.returncode == 0, result.stderr
    assert "published reports/midterm-2020Q2-en/" in result.stdout
    english = project / "reports" / "midterm-2020Q2-en"
    assert (english / "annex_en.pdf").read_bytes().startswith(b"%PDF") and not (english / "annex.pdf").exists()
    data = json.loads((english / "annex" / "annex_data_en.json").read_text(encoding="utf-8"))
    assert data["reproducibility"]["commands"][0].endswith("--lang en")
    assert tree_hashes(project / "reports" / "midterm-2020Q2") == tree_hashes(shared_run() / "reports" / "midterm-2020Q2")


def test_the_readme_commands_work_as_printed_on_a_published_run(project, tmp_path):
    """The README's commands that a published project answers in seconds, run as printed in a shell from the
    project folder (the others are run by the tests test_cli.RUN_BY names)."""
    from test_cli import RUN_ON_A_PUBLISHED_RUN, readme_commands

    expected = {
        ".venv/bin/python pipeline.py run": "up to date: reports/midterm-2020Q2/",
        ".venv/bin/python pipeline.py status": "published files: all",
        ".venv/bin/python pipeline.py run --only validate": "[validate] skipped: up to date",
        ".venv/bin/python pipeline.py run --params my_run.yaml": "up to date: reports/midterm-2020Q2/",
        ".venv/bin/python pipeline.py verify midterm-2020Q2": "verified: the ",
        ".venv/bin/python pipeline.py archive midterm-2020Q2": "written and fully validated",
        ".venv/bin/python pipeline.py typeset midterm-2020Q2": "byte for byte the published",
        ".venv/bin/python pipeline.py --help": "Usage: pipeline.py [OPTIONS] COMMAND",
        ".venv/bin/python pipeline.py --version": "evalpipe ",
        ".venv/bin/evalpipe --help": "Usage: evalpipe [OPTIONS] COMMAND",
    }
    assert set(expected) == set(RUN_ON_A_PUBLISHED_RUN)
    commands = [c for c in readme_commands() if c in expected]
    assert len(commands) == len(expected)
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    _with_venv(copy)
    # The README's example parameters file (keys: the option names).
    (copy / "my_run.yaml").write_text("evaluation: midterm\ncutoff: 2020Q2\nlang: es\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    for command in commands:
        result = subprocess.run(["bash", "-c", command], cwd=copy, capture_output=True, text=True, timeout=600,
                                env=env)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert expected[command] in result.stdout + result.stderr, f"{command}\n{result.stdout}\n{result.stderr}"
    assert (copy / "reports" / "bags" / "midterm-2020Q2" / "bagit.txt").exists()
