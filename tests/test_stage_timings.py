"""Where a stage's time goes (kernel start, imports, work, export), as the manifest records it. Structure only:
no timed assertion (``make bench`` prints the numbers)."""

from __future__ import annotations

import json

import nbformat
import pytest

from conftest import shared_run

PARTS = ("kernel_start", "imports", "work", "export", "other", "total")


def _cell(source: str, start: str, end: str, tags=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["papermill"] = {"start_time": start, "end_time": end}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_imports_is_the_first_code_cell_after_the_parameters(tmp_path):
    from evalpipe.kernels import cell_timings

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00.000000"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        _cell("cutoff = None", "2026-01-01T00:00:02.000000", "2026-01-01T00:00:02.100000", ["parameters"]),
        _cell("cutoff = '2020Q2'", "2026-01-01T00:00:02.100000", "2026-01-01T00:00:02.200000",
              ["injected-parameters"]),
        _cell("import pandas", "2026-01-01T00:00:02.200000", "2026-01-01T00:00:05.200000"),
        _cell("work()", "2026-01-01T00:00:05.200000", "2026-01-01T00:00:06.200000"),
        _cell("more()", "2026-01-01T00:00:06.200000", "2026-01-01T00:00:06.700000"),
    ]
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    timings = cell_timings(path)
    assert timings == pytest.approx({"kernel_start": 2.0, "imports": 3.0, "work": 1.5})


def test_a_notebook_without_papermill_times_counts_nothing(tmp_path):
    from evalpipe.kernels import cell_timings

    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)
    assert cell_timings(path) == {"kernel_start": 0.0, "imports": 0.0, "work": 0.0}


@pytest.mark.slow
def test_every_stage_that_ran_records_where_its_time_went():
    manifest = json.loads((shared_run() / "reports" / "midterm-2020Q2" / "manifest.json").read_text(encoding="utf-8"))
    ran = [r for r in manifest["stage_reports"] if r["action"] == "ran"]
    assert {r["stage"] for r in ran} == {s["stage"] for s in manifest["stages"]}
    for report in ran:
        timings = report["timings"]
        assert set(timings) == set(PARTS), report
        assert all(timings[k] >= 0 for k in PARTS), report
        assert timings["imports"] > 0 and timings["kernel_start"] > 0, report
        # The parts add up to the stage's time (rounded to hundredths each).
        assert sum(timings[k] for k in PARTS[:-1]) == pytest.approx(timings["total"], abs=0.06), report
        assert timings["total"] <= report["seconds"] + 0.01, report
