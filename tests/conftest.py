"""Shared fixtures: the project root, the shipped logframe, and a small workbook writer."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Test files whose tests render figures, typeset the PDF annex or run external validators (seconds each): marked
# ``render`` here, so that ``make test-fast`` (-m "not slow and not render") leaves them to ``make test``.
RENDERING = {
    "test_figures.py": "draws every figure with matplotlib",
    "test_annex.py": "typesets the PDF annex with Typst",
    "test_package.py": "builds the workbook and index, runs roc-validator and bagit",
    "test_compare.py": "builds comparison runs with figures",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "render: renders figures or the PDF annex, or runs an external validator "
                                       "(seconds each); not in make test-fast")


def pytest_ignore_collect(collection_path, config):
    # -m "... not render": those files are not even imported (matplotlib, seaborn, typst take seconds).
    if collection_path.name in RENDERING and "not render" in (config.option.markexpr or ""):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in RENDERING:
            item.add_marker(pytest.mark.render)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def lfm():
    from evalpipe.lfm import load_logframe

    return load_logframe(ROOT / "data" / "raw" / "lfm", ROOT)


@pytest.fixture(scope="session")
def annex16() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "published" / "output_indicators_q2_2020.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def table1() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "published" / "output_status_table1.csv", dtype=str, keep_default_na=False)


HEADER = ["Código", "Indicador", "Meta", "Valor acumulado", "Comentarios"]


def write_workbook(path: Path, rows: list[list], sheet: str = "Indicadores", title: list[str] | None = None,
                   header: list[str] | None = HEADER, extra_sheets: dict[str, list[list]] | None = None) -> Path:
    """A progress-report-like workbook: title lines, a header row, then ``rows``."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    for line in title if title is not None else ["Informe de progreso trimestral", "Periodo: abril - junio 2020", ""]:
        ws.append([line])
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    for name, content in (extra_sheets or {}).items():
        other = workbook.create_sheet(name)
        for row in content:
            other.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def workbook_writer():
    return write_workbook


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped data drop."""
    target = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw", target)
    return target


@pytest.fixture(scope="session")
def annex17() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "published" / "outcome_indicators_q2_2020.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def table2() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "published" / "outcome_status_table2.csv", dtype=str, keep_default_na=False)


def compute_outcomes(raw_dir: Path, lfm, cutoff: str = "2020Q2"):
    """Run the clean-to-outcomes chain in memory (no notebooks): (indicators, exclusions, results, status)."""
    from evalpipe import fichas, methods, microdata, outcomes, outputs
    from evalpipe.progress import build_progress_table
    from evalpipe.quarters import parse_quarter

    quarter = parse_quarter(cutoff)
    progress, _, _ = build_progress_table(raw_dir, lfm, quarter, ROOT)
    output_indicators = outputs.compute_output_indicators(progress, lfm, quarter)
    output_status = outputs.compute_output_status(output_indicators, lfm)
    tables = microdata.read_all_sources(raw_dir, ROOT)
    sources = {k: t.source for k, t in tables.items()}
    context = methods.Context(quarter, {k: t.table for k, t in tables.items()},
                              {k: s.column_names for k, s in sources.items()}, output_indicators)
    specs = fichas.load_fichas(raw_dir, sources, lfm.outcome_indicators, ROOT)
    indicators, exclusions, results = outcomes.compute_outcome_indicators(
        specs, context, lfm.outcome_indicators, output_status, {k: s.file for k, s in sources.items()})
    return indicators, exclusions, results, outcomes.compute_outcome_status(indicators, lfm.outcomes)


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder``: to show that a folder was left byte for byte as it was."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


_SHARED_RUN: list[Path] = []


def shared_run() -> Path:
    """A project (notebooks, suites, shipped drop, pipeline.py) after one successful ``pipeline.py run``,
    made once per test session (a cold run costs 30-60 s) and only ever copied, never changed."""
    if not _SHARED_RUN:
        target = Path(tempfile.mkdtemp(prefix="evalpipe-shared-run-"))
        atexit.register(shutil.rmtree, target, True)
        for name in ("notebooks", "expectations", "data/raw"):
            shutil.copytree(ROOT / name, target / name)
        shutil.copy(ROOT / "pipeline.py", target / "pipeline.py")
        result = subprocess.run([sys.executable, "pipeline.py", "run"], cwd=target, capture_output=True, text=True,
                                timeout=900)
        assert result.returncode == 0, result.stderr
        _SHARED_RUN.append(target)
    return _SHARED_RUN[0]


def project_copy(target: Path, extra: tuple[str, ...] = ()) -> Path:
    """A copy of the project (notebooks, suites, shipped drop, pipeline.py) after one successful run: a copy of
    the session's shared run (its stages are up to date in the copy: ``tests/test_shared_run.py``), plus the
    folders ``extra`` of this project."""
    shutil.copytree(shared_run(), target, symlinks=True, dirs_exist_ok=True)
    for name in extra:
        shutil.copytree(ROOT / name, target / name)
    return target
