"""What is published is what was computed: output hashes, verify, notebooks run by hand, failed runs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import project_copy, tree_hashes

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
RUN = "reports/midterm-2020Q2"
PROCESSED = "data/processed/midterm-2020Q2"


def pipeline(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "pipeline.py", *args], cwd=project, capture_output=True, text=True,
                          timeout=900)


def published(project: Path) -> dict[str, str]:
    return tree_hashes(project / RUN) | {f"processed/{k}": v for k, v in tree_hashes(project / PROCESSED).items()}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("trust"))


def test_the_manifest_records_the_hash_of_every_published_file(project):
    manifest = json.loads((project / RUN / "manifest.json").read_text(encoding="utf-8"))
    recorded = manifest["outputs_sha256"]
    on_disk = {f"{RUN}/{k}": v for k, v in tree_hashes(project / RUN).items()
               if k != "manifest.json" and not k.startswith(".cache/")}
    on_disk |= {f"{PROCESSED}/{k}": v for k, v in tree_hashes(project / PROCESSED).items()}
    assert recorded == on_disk
    assert f"{RUN}/tables/output_indicators.csv" in recorded and f"{PROCESSED}/progress_indicators.csv" in recorded


def test_every_published_file_is_owned_by_exactly_one_stage(project):
    from evalpipe import stages

    roots = {"run": project / RUN, "processed": project / PROCESSED}
    owners: dict[str, list[str]] = {}
    for stage in stages.STAGES:
        for name in stages.output_files(stage, roots):
            owners.setdefault(name, []).append(stage.name)
    files = {f"run:{k}" for k in tree_hashes(project / RUN)
             if k not in ("manifest.json", "reproducibility.json") and not k.startswith(".cache/")}
    files |= {f"processed:{k}" for k in tree_hashes(project / PROCESSED)}
    assert sorted(files - set(owners)) == []
    assert {name: who for name, who in owners.items() if len(who) > 1} == {}


def test_no_staging_folder_is_left_and_notebooks_show_the_published_paths(project):
    assert not (project / "reports" / ".staging").exists()
    assert not (project / "data" / "processed" / ".staging").exists()
    for path in sorted((project / RUN / "notebooks").iterdir()):
        text = path.read_text(encoding="utf-8")
        assert ".staging" not in text, path.name
    injected = (project / RUN / "notebooks" / "03_output_indicators.ipynb").read_text(encoding="utf-8")
    assert f'run_dir = \\"{RUN}\\"' in injected
    assert f'processed_dir = \\"{PROCESSED}\\"' in injected


def test_verify_names_a_tampered_table_and_the_next_run_reruns_the_stage_that_owns_it(project):
    result = pipeline(project, "verify", "midterm-2020Q2")
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout
    table = project / RUN / "tables" / "output_indicators.csv"
    original = table.read_bytes()
    table.write_bytes(original.replace(b",achieved,", b",no_progress,", 1))
    assert table.read_bytes() != original
    result = pipeline(project, "verify", "midterm-2020Q2")
    assert result.returncode == 1
    assert f"changed: {RUN}/tables/output_indicators.csv" in result.stderr
    status = pipeline(project, "status")
    assert "output_indicators    would run: its output tables/output_indicators.csv differs" in status.stdout
    assert "published files: changed" in status.stdout
    rerun = pipeline(project, "run")
    assert rerun.returncode == 0, rerun.stderr
    assert "[output_indicators] ran because its output tables/output_indicators.csv differs" in rerun.stdout
    assert "[clean] skipped: up to date" in rerun.stdout
    assert table.read_bytes() == original
    assert pipeline(project, "verify", "midterm-2020Q2").returncode == 0


def test_a_deleted_processed_file_reruns_the_clean_stage(project):
    target = project / PROCESSED / "progress_indicators.csv"
    original = hashlib.sha256(target.read_bytes()).hexdigest()
    target.unlink()
    result = pipeline(project, "verify", "midterm-2020Q2")
    assert result.returncode == 1 and f"missing: {PROCESSED}/progress_indicators.csv" in result.stderr
    rerun = pipeline(project, "run")
    assert rerun.returncode == 0, rerun.stderr
    assert "[clean] ran because its output progress_indicators.csv differs" in rerun.stdout
    assert hashlib.sha256(target.read_bytes()).hexdigest() == original


def test_verify_refuses_a_run_that_does_not_exist(project):
    result = pipeline(project, "verify", "final-2031Q1")
    assert result.returncode == 2 and "no published run folder" in result.stderr


def test_a_notebook_executed_with_nbconvert_from_notebooks_writes_to_scratch_only(project):
    before = published(project)
    result = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                             "03_output_indicators.ipynb", "--output-dir", str(project / "by-hand")],
                            cwd=project / "notebooks", capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert published(project) == before
    assert (project / "reports/_scratch/midterm-2020Q2/tables/output_indicators.csv").exists()
    executed = (project / "by-hand" / "03_output_indicators.ipynb").read_text(encoding="utf-8")
    assert "ejecutado a mano: escribe en reports/_scratch/midterm-2020Q2/" in executed  # the default lang, es


def test_papermill_cli_with_another_cutoff_leaves_the_published_run_byte_identical(project):
    before = published(project)
    (project / "by-hand").mkdir(exist_ok=True)
    for notebook in ("01_clean", "03_output_indicators"):
        result = subprocess.run([str(BIN / "papermill"), f"notebooks/{notebook}.ipynb", f"by-hand/{notebook}.ipynb",
                                 "--cwd", ".", "-p", "cutoff", "2019Q4"], cwd=project, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    assert published(project) == before
    table = (project / "reports/_scratch/midterm-2019Q4/tables/output_indicators.csv").read_text(encoding="utf-8")
    assert "2019Q4" in table
    status = pipeline(project, "status")
    assert "would run" not in status.stdout and "all" in status.stdout


def test_a_notebook_run_by_hand_into_a_published_folder_is_refused(project):
    before = published(project)
    (project / "by-hand").mkdir(exist_ok=True)
    result = subprocess.run([str(BIN / "papermill"), "notebooks/03_output_indicators.ipynb", "by-hand/refused.ipynb",
                             "--cwd", ".", "-p", "run_dir", RUN], cwd=project, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode != 0
    assert "is a published folder" in result.stderr
    assert published(project) == before


def test_a_failed_run_keeps_the_failing_notebook_as_html_with_the_failure_at_the_top(project):
    data = project / "data/raw/microdata/Participantes cursos de las escuelas.csv"
    original = data.read_text(encoding="utf-8")
    before = published(project)
    try:  # a category outside the suite's set: the validate stage fails inside its notebook
        assert "PCE-002,CUR-MP,fiscal," in original
        data.write_text(original.replace("PCE-002,CUR-MP,fiscal,", "PCE-002,CUR-MP,astronauta,"), encoding="utf-8")
        result = pipeline(project, "run")
    finally:
        data.write_text(original, encoding="utf-8")
    assert result.returncode == 1
    kept = next(line.split(": ", 1)[1] for line in result.stderr.splitlines() if line.startswith("partial notebook"))
    html = (project / kept).with_suffix(".html")
    assert html.exists()
    text = html.read_text(encoding="utf-8")
    assert "This stage failed" in text and "ValidationFailed" in text
    assert text.index("This stage failed") < text.index("An Exception was encountered") < text.index("Parameters")
    assert ".staging" not in text
    assert published(project) == before
    assert not (project / "reports" / ".staging").exists()
