"""The session's shared pipeline run (``conftest.shared_run``), which every end-to-end test file copies instead of
running the pipeline again: a copy must be as good as a run made in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import project_copy, shared_run, tree_hashes

pytestmark = pytest.mark.slow


def test_a_copy_of_the_shared_run_is_up_to_date_where_it_lands(tmp_path):
    project = project_copy(tmp_path / "copy")
    status = subprocess.run([sys.executable, "pipeline.py", "status"], cwd=project, capture_output=True, text=True,
                            timeout=300)
    assert status.returncode == 0, status.stderr
    assert "would run" not in status.stdout and "published files: all" in status.stdout, status.stdout
    before = tree_hashes(project / "reports" / "midterm-2020Q2")
    run = subprocess.run([sys.executable, "pipeline.py", "run"], cwd=project, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "ran because" not in run.stdout and "up to date" in run.stdout, run.stdout
    assert tree_hashes(project / "reports" / "midterm-2020Q2") == before


def test_the_shared_run_names_no_absolute_path_of_the_folder_it_was_built_in():
    # Copies land elsewhere, so a test looking for its own copy's path in the outputs would pass whatever
    # happened: the folder the run was really made in is checked here.
    built_in = shared_run()
    for folder in (built_in / "reports", built_in / "data" / "processed"):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                assert str(built_in) not in path.read_text(encoding="utf-8", errors="replace"), path
