"""The comparison of two runs (evalpipe.compare): its figures recomputed from the runs' own tables, the like-for-
like recomputation of a changed definition, the follow-up of the recommendations, and the refusals.

The fast tests build published run folders in a temporary project with the library calls the stage notebooks
make (no kernels): the tables, and a manifest with the inputs' and outputs' hashes, as ``pipeline.py run``
writes them. The notebook and the end-to-end pipeline runs are marked slow.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest

from conftest import FIXTURES, ROOT, final_run, tree_hashes
from evalpipe import compare, followup
from evalpipe.drop import load_drop
from evalpipe.errors import InputError, PipelineError
from evalpipe.export import write_table
from evalpipe.runner import RunParameters, build_manifest, published_hashes, verify_run

MID, FINAL = "midterm-2020Q2", "final-2021Q4"
FINAL_RAW = "tests/fixtures/final_drop/raw"
CHANGED_RULE = ("    - cumplida\n  - column: fecha_verificacion", "    - cumplida\n    - parcialmente cumplida\n"
                "  - column: fecha_verificacion")


def build_run(project: Path, raw_rel: str, evaluation: str, cutoff: str, *, finance: bool = False) -> Path:
    """A published run folder as pipeline.py writes it (tables and manifest), made without notebooks."""
    label = f"{evaluation}-{cutoff}"
    raw = project / raw_rel
    tables = compare.compute_indicators(raw, project, cutoff)
    drop = load_drop(raw, project)
    run_dir = project / "reports" / label
    if run_dir.exists():
        shutil.rmtree(run_dir)
    for name in ("output_indicators", "output_status", "outcome_indicators", "outcome_status"):
        write_table(tables[name], run_dir / "tables" / f"{name}.csv", drop)
    if finance:
        from evalpipe.finance_read import load_finance
        from evalpipe.finance_tables import compute_tables
        from evalpipe.lfm import load_logframe
        from evalpipe.quarters import parse_quarter

        lfm = load_logframe(raw / "lfm", project)
        for name, frame in compute_tables(load_finance(raw, lfm, parse_quarter(cutoff), project)).items():
            write_table(frame, run_dir / "tables" / f"{name}.csv", drop)
    params = RunParameters(evaluation=evaluation, cutoff=cutoff, lang="es", raw_dir=raw_rel,
                           processed_dir=f"data/processed/{label}", run_dir=f"reports/{label}",
                           expectations_dirs=["expectations"])
    manifest = build_manifest(params, project, drop, [])
    manifest["outputs_sha256"] = published_hashes(params, run_dir, project / params.processed_dir)
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return run_dir


def new_project(base: Path, final_rule_changed: bool = False) -> Path:
    project = base / "project"
    shutil.copytree(ROOT / "data" / "raw", project / "data" / "raw")
    shutil.copytree(ROOT / FINAL_RAW, project / FINAL_RAW)
    shutil.copytree(FIXTURES / "project_b" / "raw", project / "tests/fixtures/project_b/raw")
    (project / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / compare.NOTEBOOK, project / "notebooks" / compare.NOTEBOOK)
    (project / "pipeline.py").write_text("# the project's root marker for the notebook\n", encoding="utf-8")
    if final_rule_changed:
        ficha = project / FINAL_RAW / "fichas" / "1.1.1.1.yaml"
        text = ficha.read_text(encoding="utf-8")
        assert CHANGED_RULE[0] in text
        ficha.write_text(text.replace(*CHANGED_RULE), encoding="utf-8")
        targets = project / FINAL_RAW / "lfm" / "output_indicators.csv"
        lines = targets.read_text(encoding="utf-8").splitlines(keepends=True)
        header = lines[0].rstrip("\n").split(",")
        cells = lines[1].rstrip("\n").split(",")
        assert cells[0] == "1.1.1.1"
        cells[header.index("target")] = str(int(float(cells[header.index("target")])) + 3)
        lines[1] = ",".join(cells) + "\n"
        targets.write_text("".join(lines), encoding="utf-8")
    build_run(project, "data/raw", "midterm", "2020Q2", finance=True)
    build_run(project, FINAL_RAW, "final", "2021Q4", finance=True)
    return project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return new_project(tmp_path_factory.mktemp("compare"))


@pytest.fixture(scope="module")
def published(project) -> Path:
    return compare.build_comparison(project, MID, FINAL, "es", notebook=False, progress=lambda _: None)


@pytest.fixture(scope="module")
def changed(tmp_path_factory) -> tuple[Path, compare.Comparison]:
    project = new_project(tmp_path_factory.mktemp("changed"), final_rule_changed=True)
    return project, compare.compare(compare.load_pair(project, MID, FINAL))


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def number(text: str) -> float:
    return float(text) if text not in ("", "nan") else float("nan")


def same(x: float, y: float) -> bool:
    return (x != x and y != y) or abs(x - y) < 1e-6


# ------------------------------------------------------------------------ figures from the runs' tables --

def test_every_indicator_at_both_cutoffs_is_read_from_the_runs_own_tables(project, published):
    changes = read(published / "tables" / "indicator_changes.csv")
    for level, name in (("output_indicator", "output_indicators"), ("outcome_indicator", "outcome_indicators")):
        a = read(project / "reports" / MID / "tables" / f"{name}.csv").set_index("indicator_id")
        b = read(project / "reports" / FINAL / "tables" / f"{name}.csv").set_index("indicator_id")
        rows = changes[changes["level"] == level].set_index("indicator_id")
        assert set(rows.index) == set(a.index) | set(b.index) and len(rows) == len(a)
        for indicator, row in rows.iterrows():
            assert row["status_a"] == a.loc[indicator, "status"] and row["status_b"] == b.loc[indicator, "status"]
            assert row["transition"] == f"{a.loc[indicator, 'status']}->{b.loc[indicator, 'status']}"
            va, vb = number(a.loc[indicator, "current"]), number(b.loc[indicator, "current"])
            assert same(number(row["value_a"]), va) and same(number(row["value_b"]), vb), indicator
            assert same(number(row["value_change"]), round(vb - va, 4)), indicator
            if level == "output_indicator":
                assert same(number(row["progress_a"]), number(a.loc[indicator, "progress_pct"])), indicator
                assert same(number(row["progress_b"]), number(b.loc[indicator, "progress_pct"])), indicator
    assert (changes["presence"] == "both").all()


def test_transition_matrix_counts_the_runs_statuses(project, published):
    matrix = read(published / "tables" / "transition_matrix.csv").astype({"n": int})
    for level, name, key in (("output_indicator", "output_indicators", "indicator_id"),
                             ("outcome_indicator", "outcome_indicators", "indicator_id"),
                             ("output", "output_status", "output_id"), ("outcome", "outcome_status", "outcome_id")):
        a = read(project / "reports" / MID / "tables" / f"{name}.csv")[[key, "status"]]
        b = read(project / "reports" / FINAL / "tables" / f"{name}.csv")[[key, "status"]]
        expected = a.merge(b, on=key, suffixes=("_a", "_b")).groupby(["status_a", "status_b"]).size()
        part = matrix[matrix["level"] == level]
        got = part[part["n"] > 0].set_index(["status_a", "status_b"])["n"]
        assert got.sort_index().to_dict() == expected.sort_index().to_dict(), level
        assert part["n"].sum() == len(a)
    counts = read(published / "tables" / "transition_counts.csv").astype({"n": int})
    outputs = counts[counts["level"] == "output_indicator"].set_index("direction")["n"]
    assert outputs["improved"] > 0 and outputs.sum() == 48 and outputs["added"] == outputs["dropped"] == 0


def executed_to_cutoff(run_dir: Path) -> dict[str, float]:
    """Each line's executed to the cut-off (Annex 19's cumulative column), from a run's own finance table."""
    execution = read(run_dir / "tables" / "financial_execution.csv")
    rows = execution[(execution["period"] == "acumulado") & (execution["measure"] == "ejecutado")]
    return {line: float(value) for line, value in zip(rows["line"], rows["value"])}


def assert_finance_at_both_cutoffs(finance: pd.DataFrame, project: Path) -> None:
    """The finance comparison of the shipped drops: both runs have finance, and what was executed in between
    is, line by line, executed at the later cut-off minus executed at the earlier one, from the runs' tables."""
    assert set(finance["available"]) == {"both"}
    assert finance["line_type"].iloc[0] == "total" and {"component", "output"} <= set(finance["line_type"])
    a, b = executed_to_cutoff(project / "reports" / MID), executed_to_cutoff(project / "reports" / FINAL)
    for row in finance.itertuples():
        assert same(number(row.executed_a), a[row.line]) and same(number(row.executed_b), b[row.line]), row.line
        assert same(number(row.executed_between), round(b[row.line] - a[row.line], 2)), row.line
    total = finance.iloc[0]
    assert number(total.executed_between) > 0 and number(total.execution_pct_b) > number(total.execution_pct_a)
    assert same(number(total.programmed_a), number(total.programmed_b))  # the 2021 programme as planned


def test_finance_inputs_and_recommendations_tables(project, published):
    finance = read(published / "tables" / "finance_changes.csv")
    assert_finance_at_both_cutoffs(finance, project)
    inputs = read(published / "tables" / "input_changes.csv").set_index("path")
    assert inputs.loc[followup.FOLLOWUP_FILE, "state"] == "added"
    assert inputs.loc["lfm/project.yaml", "state"] == "unchanged"
    assert (inputs.loc[[p for p in inputs.index if p.startswith("progress_reports/")], "state"] == "added").sum() == 5
    states = read(published / "tables" / "recommendation_states.csv").set_index("state")["n"].astype(int)
    source = read(project / FINAL_RAW / followup.FOLLOWUP_FILE)
    assert states.to_dict() == {s: int((source["state"] == s).sum()) for s in followup.STATES}
    by = read(published / "tables" / "recommendation_addressees.csv").astype({"n": int})
    assert by.groupby("addressee")["n"].sum().to_dict() == {"ilo_country_office": 3, "project": 4}
    assert set(read(published / "tables" / "runs.csv")["project"]) == {"PER/17/51/USA"}


def test_the_comparison_folder_has_figures_and_a_manifest_that_verifies(project, published):
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    from evalpipe.drop import sha256_file

    assert manifest["runs"]["a"]["manifest_sha256"] == sha256_file(project / "reports" / MID / "manifest.json")
    assert manifest["runs"]["b"]["manifest_sha256"] == sha256_file(project / "reports" / FINAL / "manifest.json")
    for name in compare.FIGURES:
        assert (published / "figures" / f"{name}.png").stat().st_size > 10_000
        assert f"reports/{published.name}/figures/{name}.svg" in manifest["outputs_sha256"]
    assert len([k for k in manifest["outputs_sha256"] if "/tables/" in k]) == len(compare.TABLE_NAMES)
    assert verify_run(published, project).ok
    assert not (project / "reports" / ".staging").exists()
    section = compare.annex_section(published, "en")
    assert section["title"] == "Progress since the mid-term evaluation" and "2020Q2" in section["lead"]
    assert set(section["figures"]) == set(compare.FIGURES) and len(section["tables"]["recommendations"]) == 4
    assert section["summary"]["output_indicator.improved"] > 0


def test_the_same_runs_give_the_same_bytes(project, published):
    before = tree_hashes(published)
    compare.build_comparison(project, MID, FINAL, "es", notebook=False, progress=lambda _: None)
    after = tree_hashes(published)
    assert {k: v for k, v in after.items() if k != "manifest.json"} == \
        {k: v for k, v in before.items() if k != "manifest.json"}


# ------------------------------------------------------------------------------------- like for like ----

def test_a_changed_rule_is_flagged_with_the_published_and_the_comparable_midterm_value(changed):
    project, comparison = changed
    definitions = comparison.tables["definition_changes"]
    rule = definitions[(definitions["indicator_id"] == "1.1.1.1") & (definitions["field"] == "calculo")
                       & (definitions["level"] == "outcome_indicator")]
    assert len(rule) == 1 and "+  - parcialmente cumplida" in rule["diff"].iloc[0]
    assert "numerator_conditions" in rule["value_b"].iloc[0]
    like = comparison.tables["like_for_like"].set_index(["level", "indicator_id"])
    row = like.loc[("outcome_indicator", "1.1.1.1")]
    assert bool(row["definition_changed"]) and row["changed_fields"] == "calculo" and row["basis"] == "recomputed"
    published_mid = read(project / "reports" / MID / "tables" / "outcome_indicators.csv").set_index("indicator_id")
    assert same(row["published_value_a"], number(published_mid.loc["1.1.1.1", "current"]))
    # The comparable mid-term value: the later rule on the later drop's data, at the earlier cut-off.
    expected = compare.compute_indicators(project / FINAL_RAW, project, "2020Q2")["outcome_indicators"]
    comparable = float(expected.set_index("indicator_id").loc["1.1.1.1", "current"])
    assert same(row["comparable_value_a"], comparable) and comparable > row["published_value_a"]
    final = read(project / "reports" / FINAL / "tables" / "outcome_indicators.csv").set_index("indicator_id")
    assert same(row["change_comparable"], round(number(final.loc["1.1.1.1", "current"]) - comparable, 4))
    # The output indicator whose target changed.
    target = definitions[(definitions["level"] == "output_indicator") & (definitions["field"] == "target")]
    assert target["indicator_id"].tolist() == ["1.1.1.1"]
    out = like.loc[("output_indicator", "1.1.1.1")]
    assert bool(out["definition_changed"]) and out["changed_fields"] == "target"
    assert not bool(like.loc[("outcome_indicator", "1.2.1.2"), "definition_changed"])


def test_unchanged_definitions_are_not_flagged(project, published):
    assert len(read(published / "tables" / "definition_changes.csv")) == 0
    like = read(published / "tables" / "like_for_like.csv")
    assert (like["definition_changed"] == "False").all() and (like["basis"] == "recomputed").all()


def test_an_indicator_in_one_logframe_only_is_added_or_dropped():
    def table(ids, statuses):
        return pd.DataFrame({"output_id": ["1.1"] * len(ids), "indicator_id": ids, "current": [1.0] * len(ids),
                             "target": [2.0] * len(ids), "progress_pct": [50.0] * len(ids), "status": statuses})

    changes = compare.indicator_changes(table(["1.1.1", "1.1.2"], ["in_progress", "no_progress"]),
                                        table(["1.1.2", "1.1.3"], ["achieved", "in_progress"]), "output_indicator")
    by = changes.set_index("indicator_id")
    assert by.loc["1.1.1", "presence"] == "dropped" and by.loc["1.1.1", "transition"] == "in_progress->absent"
    assert by.loc["1.1.3", "presence"] == "added" and by.loc["1.1.3", "direction"] == "added"
    assert by.loc["1.1.2", "transition"] == "no_progress->achieved" and by.loc["1.1.2", "direction"] == "improved"
    matrix = compare.transition_matrix(changes, "output_indicator").set_index(["status_a", "status_b"])["n"]
    assert matrix[("in_progress", "absent")] == 1 and matrix[("absent", "in_progress")] == 1
    like = compare.like_for_like(changes, pd.DataFrame(columns=["level", "indicator_id", "field"]), None, False)
    assert like.set_index("indicator_id")["basis"].to_dict() == {"1.1.1": "dropped", "1.1.2": "not_covered",
                                                                 "1.1.3": "added"}


def test_finance_changes_give_what_was_executed_in_between():
    def run(executed: float, programmed: float) -> dict:
        rows = [{"line": "C1", "line_type": "component", "component_id": "1", "output_id": "", "line_name_es": "C 1",
                 "line_name_en": "C 1", "period": "acumulado", "measure": m, "value": v}
                for m, v in (("programado", programmed), ("ejecutado", executed),
                             ("execution_pct", 100 * executed / programmed))]
        return {"financial_execution": pd.DataFrame(rows)}

    table = compare.finance_changes(run(40.0, 100.0), run(90.0, 120.0))
    row = table.iloc[0]
    assert row["available"] == "both" and row["executed_between"] == 50.0 and row["programmed_change"] == 20.0
    assert row["execution_pct_a"] == 40.0 and row["execution_pct_b"] == 75.0


# ------------------------------------------------------------------------------------------ refusals ----

def _nothing_written(project: Path) -> None:
    reports = project / "reports"
    assert not [p for p in reports.iterdir() if p.name.startswith((compare.COMPARE_PREFIX, ".staging",
                                                                    ".compare"))]


def test_refusals_write_nothing(tmp_path):
    project = new_project(tmp_path)
    build_run(project, "tests/fixtures/project_b/raw", "midterm", "2023Q2")
    cases = {
        ("midterm-2019Q4", FINAL): "no published run folder reports/midterm-2019Q4/",
        (MID, "midterm-2023Q2"): "only two runs of one project can be compared",
        (FINAL, MID): "must have a later cut-off",
        ("../x", FINAL): "expected the name of a published run folder",
    }
    for (a, b), message in cases.items():
        with pytest.raises(compare.CompareError, match=re.escape(message)):
            compare.build_comparison(project, a, b, notebook=False, progress=lambda _: None)
        _nothing_written(project)
    # A tampered run: one of its tables edited after publication.
    table = project / "reports" / FINAL / "tables" / "output_indicators.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("achieved", "in_progress", 1), encoding="utf-8")
    with pytest.raises(compare.CompareError, match=r"reports/final-2021Q4/ does not match its manifest \(1 changed"):
        compare.build_comparison(project, MID, FINAL, notebook=False, progress=lambda _: None)
    _nothing_written(project)
    build_run(project, FINAL_RAW, "final", "2021Q4")
    # The drop's documentation edited after its run: no stage reads it, so the run is still comparable.
    readme = project / FINAL_RAW / "followup" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA note added later.\n", encoding="utf-8")
    compare.load_run(project, FINAL)
    # A drop edited after its run: the comparison would read a logframe the run did not.
    lfm = project / FINAL_RAW / "lfm" / "outcome_indicators.csv"
    lfm.write_text(lfm.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(compare.CompareError, match="changed since reports/final-2021Q4/ was made"):
        compare.build_comparison(project, MID, FINAL, notebook=False, progress=lambda _: None)
    _nothing_written(project)
    assert issubclass(compare.CompareError, PipelineError)


def test_a_failure_while_writing_publishes_nothing(tmp_path, monkeypatch):
    project = new_project(tmp_path)

    def broken(*args, **kwargs):
        raise compare.CompareError("boom")

    monkeypatch.setattr(compare, "draw_transition_matrix", broken)
    with pytest.raises(compare.CompareError, match="boom"):
        compare.build_comparison(project, MID, FINAL, notebook=False, progress=lambda _: None)
    _nothing_written(project)


# ------------------------------------------------------------------------------------------ follow-up ---

def test_the_recommendations_table_is_checked_row_by_row(tmp_path):
    raw = tmp_path / "raw"
    (raw / "followup").mkdir(parents=True)
    source = ROOT / FINAL_RAW / followup.FOLLOWUP_FILE
    table = followup.load_recommendations(ROOT / FINAL_RAW)
    assert table["recommendation_id"].tolist() == ["1", "2", "3", "4"] and set(table["state"]) <= set(followup.STATES)
    assert table["response_en"].str.startswith("SYNTHETIC").all()  # labelled synthetic like the rest of the drop
    text = source.read_text(encoding="utf-8")
    (raw / followup.FOLLOWUP_FILE).write_text(text.replace(",implemented,2021Q4", ",done,2021Q4", 1), encoding="utf-8")
    with pytest.raises(InputError) as error:
        followup.load_recommendations(raw)
    assert error.value.row == 3 and error.value.column == "state" and "implemented" in error.value.expected
    (raw / followup.FOLLOWUP_FILE).write_text(text.replace("ilo_country_office;project", "ministry", 1),
                                              encoding="utf-8")
    with pytest.raises(InputError, match="row 2, column 'addressee'"):
        followup.load_recommendations(raw)
    assert followup.load_recommendations(tmp_path) is None


# ------------------------------------------------------------------------------------------ notebook ----

def test_the_notebook_pair_agrees_and_has_no_outputs():
    nb = nbformat.read(ROOT / "notebooks" / compare.NOTEBOOK, as_version=4)
    pair = jupytext.read(ROOT / "notebooks" / "09_compare.py")
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c.cell_type, c.source) for c in pair.cells]
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and all(f"{p} =" in parameters[0].source for p in ("run_a", "run_b", "lang"))
    from evalpipe import i18n

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert i18n.has(cell.source.strip(), "es", context="notebook:09_compare"), cell.source[:40]
    for key in i18n.keys("en", "compare."):
        assert i18n.has(key, "es")


@pytest.mark.slow
def test_run_compare_executes_the_notebook_into_the_comparison_folder(project, published):
    folder = compare.run_compare(project, MID, FINAL, "en", progress=lambda _: None)
    assert folder.name == f"{published.name}-en"
    html = (folder / "notebooks" / "09_compare.html").read_text(encoding="utf-8")
    assert "Progress since the mid-term evaluation" in html and "like_for_like" not in html.split("<body")[0]
    executed = nbformat.read(folder / "notebooks" / compare.NOTEBOOK, as_version=4)
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    assert ".staging" not in (folder / "notebooks" / compare.NOTEBOOK).read_text(encoding="utf-8")
    for name in compare.TABLE_NAMES:  # the notebook writes the same tables as the package alone
        assert (folder / "tables" / f"{name}.csv").read_bytes() == (published / "tables" / f"{name}.csv").read_bytes()
    assert (folder / "figures" / "transition_matrix_en.png").exists()
    assert "Progress since the mid-term evaluation" in pdf_text(folder / "annex_compare_en.pdf")
    assert verify_run(folder, project).ok


@pytest.mark.slow
def test_end_to_end_make_run_the_final_run_then_the_comparison(tmp_path):
    """From the project's own commands: the mid-term run, the final drop's run, then the comparison."""
    # The final run is the session's (conftest.final_run: the shared mid-term run's project, then `pipeline.py run
    # --evaluation final --cutoff 2021Q4 --raw tests/fixtures/final_drop/raw`), copied: the comparison is made here.
    project = tmp_path / "e2e"
    shutil.copytree(final_run()[0], project, symlinks=True)
    result = subprocess.run([sys.executable, "pipeline.py", "compare", "midterm-2020Q2", "final-2021Q4"],
                            cwd=project, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    folder = project / "reports" / f"compare-{MID}-vs-{FINAL}"
    assert f"published reports/compare-{MID}-vs-{FINAL}/" in result.stdout
    changes = read(folder / "tables" / "indicator_changes.csv")
    for level, name in (("output_indicator", "output_indicators"), ("outcome_indicator", "outcome_indicators")):
        a = read(project / "reports" / MID / "tables" / f"{name}.csv").set_index("indicator_id")["status"]
        b = read(project / "reports" / FINAL / "tables" / f"{name}.csv").set_index("indicator_id")["status"]
        rows = changes[changes["level"] == level].set_index("indicator_id")
        assert rows["status_a"].to_dict() == a.to_dict() and rows["status_b"].to_dict() == b.to_dict()
    # The final run's finance stage ran on the final drop's finance/; the comparison shows finance at both
    # cut-offs and what was executed in between, from the two runs' own finance tables.
    final_manifest = json.loads((project / "reports" / FINAL / "manifest.json").read_text(encoding="utf-8"))
    assert any(k.startswith(f"{FINAL_RAW}/finance/financial_reports/") and "2021T4" in k
               for k in final_manifest["inputs_sha256"])
    audit = read(project / "reports" / FINAL / "tables" / "consistency_audit.csv")
    finance_checks = {"budget_cell", "execution_cell", "not_computed", "published_arithmetic", "narrative_value",
                      "narrative_not_computed", "narrative_currency"}  # evalpipe.audit_finance.audit_finance
    assert not set(audit["check"]) & finance_checks  # the final drop publishes no finance figures to audit
    assert_finance_at_both_cutoffs(read(folder / "tables" / "finance_changes.csv"), project)
    assert verify_run(folder, project).ok
    # The runs in the wrong order: one line, exit 1, no traceback.
    again = subprocess.run([sys.executable, "pipeline.py", "compare", FINAL, MID], cwd=project, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 1 and again.stderr.startswith("error: ") and "Traceback" not in again.stderr


# ------------------------------------------------------------------------------------- annex section ----

import pdf_inspect  # noqa: E402
from evalpipe import compare_annex  # noqa: E402
from evalpipe.labels import label  # noqa: E402
from evalpipe.runfolder import fixed_timestamp  # noqa: E402

# Codes of the comparison's tables that the PDF must show in words: statuses, transitions, bases, states (the
# snake_case ones, looked for in both languages; the one-word ones, English words, in the Spanish text).
MACHINE_CODES = {code for code in {*compare.STATUS_CODES["output"], *compare.STATUS_CODES["output_indicator"],
                                   "not_covered", "a_only", "b_only", *followup.STATES, *followup.ADDRESSEES,
                                   *followup.PRIORITIES, "definition_changed", "data_revised", "line_type",
                                   "executed_between"} if "_" in code}
ENGLISH_CODES = {"improved", "unchanged", "worsened", "added", "dropped", "recomputed", "absent", "achieved",
                 "implemented", "project", "synthetic"}  # (run folders such as midterm-2020Q2 are names)


def pdf_text(path: Path) -> str:
    """The PDF's text, words hyphenated at a line end joined again (the hyphen is a line of its own), and codes
    broken after "_" (common.typ's `breakable` sets the break in another font, so the text splits there) too."""
    return re.sub(r"_\n(?=\S)", "_", re.sub(r"\s*\n-\n", "", "\n".join(pdf_inspect.pages_text(path))))


def cells(*values) -> str:
    """A table row as the PDF's text holds it: one cell a line."""
    return r"\s*\n\s*".join(re.escape(str(v)) for v in values)


@pytest.fixture(scope="module")
def annex_pdf(published) -> Path:
    return published / compare_annex.compare_annex_pdf_path(published).name


@pytest.fixture(scope="module")
def annex_text(annex_pdf) -> str:
    return pdf_text(annex_pdf)


@pytest.fixture(scope="module")
def english_annex(project, published) -> Path:
    folder = compare.build_comparison(project, MID, FINAL, "en", notebook=False, progress=lambda _: None)
    return folder / "annex_compare_en.pdf"


def test_the_annex_section_is_published_with_the_comparison(published, annex_pdf):
    assert annex_pdf.name == "annex_compare.pdf" and annex_pdf.stat().st_size > 20_000
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    for name in ("annex_compare.pdf", "annex/annex_compare_data.json", "annex/compare.typ", "annex/common.typ"):
        assert f"reports/{published.name}/{name}" in manifest["outputs_sha256"], name
    assert manifest["runs"]["b"]["data_origin"] == "synthetic" and manifest["runs"]["a"]["drop_date"]


def test_the_annex_section_is_pdf_a_with_the_typst_fonts_only(published, annex_pdf):
    metadata = pdf_inspect.xmp(annex_pdf)
    assert re.search(r"<pdfaid:part>2</pdfaid:part>", metadata)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", metadata)
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    day = fixed_timestamp(manifest).strftime("%Y%m%d")  # the later drop's date, or SOURCE_DATE_EPOCH
    assert b"/CreationDate(D:" + day.encode() in annex_pdf.read_bytes()
    found = pdf_inspect.fonts(annex_pdf)
    assert found and all(font["embedded"] for font in found), found
    families = {re.sub(r"^[A-Z]{6}\+", "", font["name"]).split("-")[0] for font in found}
    assert "LibertinusSerif" in families and families <= {"LibertinusSerif", "DejaVuSansMono", "NewCMMath", "NewCM10"}
    assert pdf_inspect.notdef_glyphs(annex_pdf) == 0


def test_the_annex_section_is_titled_in_each_language(annex_text, english_annex):
    assert "Avance desde la evaluación intermedia" in annex_text
    assert "Datos sintéticos de demostración" in annex_text and "Las dos corridas comparadas" in annex_text
    assert "Progress since the mid-term evaluation" not in annex_text
    english = pdf_text(english_annex)
    assert "Progress since the mid-term evaluation" in english and "Synthetic demonstration data" in english
    assert "Avance desde la evaluación intermedia" not in english
    assert "Target reached" in english and "Meta alcanzada" in annex_text
    assert pdf_inspect.notdef_glyphs(english_annex) == 0


def _directions(a: pd.DataFrame, b: pd.DataFrame, key: str, level: str) -> dict[str, int]:
    """How many improved, stayed, worsened, were added or dropped: recomputed from the runs' own tables."""
    rank = compare.RANK[level]
    statuses = a[[key, "status"]].merge(b[[key, "status"]], on=key, how="outer", suffixes=("_a", "_b"))
    out = dict.fromkeys(("improved", "unchanged", "worsened", "added", "dropped"), 0)
    for sa, sb in zip(statuses["status_a"], statuses["status_b"]):
        if not isinstance(sa, str):
            out["added"] += 1
        elif not isinstance(sb, str):
            out["dropped"] += 1
        else:
            out["unchanged" if sa == sb else "improved" if rank[sb] > rank[sa] else "worsened"] += 1
    return out


LEVEL_FILES = (("output_indicator", "output_indicators", "indicator_id", "Indicadores de producto"),
               ("outcome_indicator", "outcome_indicators", "indicator_id", "Indicadores de resultado"),
               ("output", "output_status", "output_id", "Productos"),
               ("outcome", "outcome_status", "outcome_id", "Resultados"))


def test_the_annex_figures_are_recomputed_from_the_runs_tables(project, published, annex_text):
    summary = annex_text[annex_text.index("Resumen de los cambios"):annex_text.index("Indicadores a cada corte")]
    matrices = annex_text[annex_text.index("Matrices de transición"):annex_text.index("Figuras")]
    moved = 0
    for level, name, key, title in LEVEL_FILES:
        a = read(project / "reports" / MID / "tables" / f"{name}.csv")
        b = read(project / "reports" / FINAL / "tables" / f"{name}.csv")
        counts = _directions(a, b, key, level)
        moved += counts["improved"] + counts["worsened"]
        assert re.search(cells(title, *counts.values(), len(a)), summary), (level, counts)
        # The transition matrix: each earlier status's row, the later statuses across.
        codes = list(compare.STATUS_CODES[level])
        pairs = a[[key, "status"]].merge(b[[key, "status"]], on=key, suffixes=("_a", "_b"))
        grid = pairs.groupby(["status_a", "status_b"]).size()
        part = matrices[matrices.index(title):]
        for code in codes:
            row = [int(grid.get((code, other), 0)) for other in codes]
            assert re.search(cells(label(code, "es"), *row), part), (level, code, row)
    assert moved > 0  # the figures are not all zero
    # The recommendations followed up: state counts from the drop's own table.
    source = read(project / FINAL_RAW / followup.FOLLOWUP_FILE)
    states = annex_text[annex_text.index("Recomendaciones por estado"):]
    for state in followup.STATES:
        assert re.search(cells(compare._t(f"state.{state}", "es"), int((source["state"] == state).sum())), states)
    for recommendation in source.itertuples():
        assert f"§{recommendation.paragraph}" in annex_text
    # Every indicator of either run, and the inputs added between the drops (five progress reports).
    ids = set(read(published / "tables" / "indicator_changes.csv")["indicator_id"])
    assert ids <= set(re.findall(r"\d+(?:\.\d+)+", annex_text))
    assert re.search(cells("progress_reports/", 5, 0, 0), annex_text.replace("\u200b", ""))


def test_no_machine_code_in_the_annex_text(annex_text, english_annex):
    for lang, text in (("es", annex_text), ("en", pdf_text(english_annex))):
        found = sorted(code for code in MACHINE_CODES if re.search(rf"(?<![\w/]){re.escape(code)}(?![\w/])", text))
        assert not found, (lang, found)
        assert "->" not in text, lang
    spanish_words = set(re.findall(r"[a-zñ]+", annex_text))  # lowercase: codes are lowercase, words capitalised
    assert not spanish_words & ENGLISH_CODES, spanish_words & ENGLISH_CODES
    assert {"not_measured", "in_progress_at_risk", "partially_implemented", "ilo_country_office"} <= MACHINE_CODES


def test_a_second_build_of_the_annex_section_is_byte_identical(project, published, annex_pdf, tmp_path):
    copy = tmp_path / published.name
    shutil.copytree(published, copy)
    (copy / annex_pdf.name).unlink()
    shutil.rmtree(copy / "annex")
    assert compare_annex.build_compare_annex(copy, root=project) == copy / annex_pdf.name
    assert (copy / annex_pdf.name).read_bytes() == annex_pdf.read_bytes()
    assert (copy / "annex" / "annex_compare_data.json").read_bytes() == \
        (published / "annex" / "annex_compare_data.json").read_bytes()


def test_the_annex_shows_a_changed_definition_with_both_midterm_figures(changed):
    project, _ = changed
    folder = compare.build_comparison(project, MID, FINAL, "es", notebook=False, progress=lambda _: None)
    text = pdf_text(folder / "annex_compare.pdf")
    like = read(folder / "tables" / "like_for_like.csv").set_index(["level", "indicator_id"])
    row = like.loc[("outcome_indicator", "1.1.1.1")]
    from evalpipe.style import format_number

    published_value, comparable = format_number(float(row["published_value_a"])), format_number(
        float(row["comparable_value_a"]))
    assert published_value != comparable
    like_part = text[text.index("Cifras publicadas y comparables"):]
    assert re.search(cells("1.1.1.1", "Indicadores de resultado", "Cálculo de la ficha", published_value,
                           comparable, format_number(float(row["value_b"]))), like_part)
    assert "Diferencia en el cálculo de la ficha 1.1.1.1" in text
    assert re.search(r"\n\+\s*- parcialmente cumplida\n", text)  # the line the rule gained, as a diff shows it
    definitions = read(folder / "tables" / "definition_changes.csv")
    target = definitions[definitions["field"] == "target"].iloc[0]
    assert re.search(cells("1.1.1.1", "Meta", target["value_a"], target["value_b"]), text)
    assert "Ninguna definición cambió" not in text
