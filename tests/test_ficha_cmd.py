"""``pipeline.py ficha ID``: one outcome indicator (or one outcome) computed in-process from its ficha on a
published run's processed data, printed with formula, numbers, exclusions (counts only, suppressed as the
published tables suppress them) and status, in the run's language; nothing written."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, project_copy, tree_hashes

RUN = "midterm-2020Q2"
PARAMETERS = {"evaluation": "midterm", "cutoff": "2020Q2", "lang": "es", "raw_dir": "data/raw",
              "processed_dir": f"data/processed/{RUN}", "run_dir": f"reports/{RUN}",
              "expectations_dirs": ["expectations"], "suppression_threshold": 5, "allow_outside_paths": False}


def invoke(project: Path, *args: str):
    """The CLI on ``project`` in this process (as ``pipeline.py`` would run it there)."""
    from evalpipe import cli

    previous = cli._root
    cli.set_root(project)
    try:
        return CliRunner().invoke(cli.app, ["ficha", *args])
    finally:
        cli._root = previous


@pytest.fixture
def manifest_only(tmp_path: Path) -> Path:
    """A project with the shipped drop and a published run's manifest (no tables, no processed data): enough
    for the checks that come before any number is computed."""
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "data" / "raw")
    (tmp_path / "reports" / RUN).mkdir(parents=True)
    (tmp_path / "reports" / RUN / "manifest.json").write_text(json.dumps({"parameters": PARAMETERS}),
                                                              encoding="utf-8")
    return tmp_path


def test_without_a_published_run_it_says_to_run_the_pipeline_first(tmp_path):
    result = invoke(tmp_path, "2.1.1.1")
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: ficha --run '{RUN}': no published run folder reports/{RUN}/ (run "
                                     "`pipeline.py run` first: the ficha is computed on the run's processed data)")


def test_an_unknown_id_is_one_line_naming_the_logframe(manifest_only):
    result = invoke(manifest_only, "9.9.9")
    assert result.exit_code == 1
    assert result.output.startswith("error: ficha '9.9.9': no outcome indicator or outcome of the logframe "
                                    "(data/raw/lfm/)"), result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_a_bad_ficha_gives_the_located_error_the_pipeline_gives(manifest_only):
    """The same one line as the run's schema check: file, line, key path, expected and found."""
    from evalpipe.errors import InputError
    from evalpipe.schemas import check_drop

    ficha = manifest_only / "data" / "raw" / "fichas" / "2.1.1.1.yaml"
    text = ficha.read_text(encoding="utf-8")
    assert "method: " in text
    ficha.write_text(text.replace("method: ", "method: no_such_method_", 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        check_drop(manifest_only / "data" / "raw", manifest_only)
    result = invoke(manifest_only, "2.1.1.1")
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {caught.value}"
    assert "data/raw/fichas/2.1.1.1.yaml" in result.output and "calculo.method" in result.output


def test_only_the_fichas_asked_for_are_read(manifest_only):
    """Another ficha that is broken does not stop the loop on this one (the full run still refuses it)."""
    from evalpipe.ficha_loop import FichaLoopError, compute

    (manifest_only / "data" / "raw" / "fichas" / "3.1.1.1.yaml").write_text("calculo: [", encoding="utf-8")
    # It gets past the fichas to the run's tables, which this skeleton lacks.
    with pytest.raises(Exception) as caught:
        compute(manifest_only, RUN, "2.1.1.1")
    assert not isinstance(caught.value, FichaLoopError)
    assert "3.1.1.1" not in str(caught.value)


# ------------------------------------------------------------------ on a real run (the session's shared run) ---

@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("ficha") / "project")


def published(project: Path, table: str) -> list[dict]:
    with (project / "reports" / RUN / "tables" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> str:
    return f"{float(text):,.4f}".rstrip("0").rstrip(".") if text else "—"


@pytest.mark.slow
def test_an_outcome_prints_the_published_numbers(project):
    """Outcome 2.2.1.2 (its id is also one of its indicators'): both its indicators, every number the
    published one, and nothing written."""
    before = tree_hashes(project / "reports")
    result = invoke(project, "2.2.1.2")
    assert result.exit_code == 0, result.output
    assert tree_hashes(project / "reports") == before  # nothing written
    rows = [r for r in published(project, "outcome_indicators") if r["outcome_id"] == "2.2.1.2"]
    assert [r["indicator_id"] for r in rows] == ["2.2.1.2", "2.2.1.3"]
    from evalpipe.labels import label

    blocks = result.output.split("\n2.2.1.3 — ")
    assert len(blocks) == 2 and blocks[0].startswith("2.2.1.2 — ")
    for row, block in zip(rows, blocks):
        assert "(resultado 2.2.1.2; data/raw/fichas/" in block.splitlines()[0]
        assert (f"numerador = {number(row['numerator'])}, denominador = {number(row['denominator'])}; "
                f"filas usadas n = {row['n']}") in block, block
        assert f"Estado al corte: {label(row['status'], 'es')}" in block
    assert result.output.rstrip().splitlines()[-1].startswith(
        f"2 indicador(es) calculado(s) sobre la corrida {RUN} en ")


@pytest.mark.slow
def test_small_counts_about_child_victims_are_suppressed_as_published(project):
    """Indicator 2.2.1.4 is drawn from the residents of the CAREs (a file about child victims): a count under 5
    is printed as the published exclusions table prints it, "<5" — never the count."""
    result = invoke(project, "2.2.1.4")
    assert result.exit_code == 0, result.output
    exclusions = [r for r in published(project, "outcome_exclusions") if r["indicator_id"] == "2.2.1.4"]
    assert any(r["n"] == "<5" for r in exclusions), "the shipped drop has a suppressed exclusion in 2.2.1.4"
    for exclusion in exclusions:
        assert f"    - {exclusion['reason']}: {exclusion['n']}\n" in result.output
    assert "los conteos de 1 a 4 se muestran como <5" in result.output


@pytest.mark.slow
def test_an_edited_ficha_is_seen_at_once_in_the_run_language(project, tmp_path):
    """The loop reads the ficha as it is now (not the run's) and speaks the run's language."""
    other = shutil.copytree(project, tmp_path / "edited", symlinks=True)
    manifest = other / "reports" / RUN / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["parameters"]["lang"] = "en"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    before = invoke(other, "2.1.1.1")
    assert before.exit_code == 0, before.output
    assert "Status at the cut-off:" in before.output and "Estado" not in before.output
    ficha = other / "data" / "raw" / "fichas" / "2.1.1.1.yaml"
    ficha.write_text(ficha.read_text(encoding="utf-8").replace("descripcion: ", "descripcion: EDITED ", 1),
                     encoding="utf-8")
    after = invoke(other, "2.1.1.1")
    assert after.exit_code == 0, after.output
    assert "2.1.1.1 — EDITED " in after.output


@pytest.mark.slow
def test_the_loop_imports_nothing_heavy(project):
    """No Great Expectations, matplotlib, seaborn, papermill or kernel: what keeps it near a second."""
    code = ("import sys; from evalpipe import cli; cli.set_root(sys.argv[1]); from evalpipe.ficha_loop import compute;"
            " compute(cli.project_root(), 'midterm-2020Q2', '2.1.1');"
            " print(sorted(m for m in ('great_expectations', 'matplotlib', 'seaborn', 'papermill', 'nbclient',"
            " 'jupyter_client', 'typst') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_readme_ficha_commands_as_printed(project):
    """README: `pipeline.py ficha 2.1.1.1` and `pipeline.py ficha 2.1.1 --run midterm-2020Q2`, in a shell-like
    subprocess from the project folder; the seconds it took are printed by the command itself."""
    one = subprocess.run([sys.executable, "pipeline.py", "ficha", "2.1.1.1"], cwd=project, capture_output=True,
                         text=True, timeout=120)
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("2.1.1.1 — ") and "2.1.1.2 — " not in one.stdout
    outcome = subprocess.run([sys.executable, "pipeline.py", "ficha", "2.1.1", "--run", "midterm-2020Q2"],
                             cwd=project, capture_output=True, text=True, timeout=120)
    assert outcome.returncode == 0, outcome.stderr
    expected = [r["indicator_id"] for r in published(project, "outcome_indicators") if r["outcome_id"] == "2.1.1"]
    assert [line.split(" — ")[0] for line in outcome.stdout.splitlines() if " — " in line
            and not line.startswith(" ")] == expected
