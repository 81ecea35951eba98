"""Shared fixtures: the project root, the shipped logframe, and a small workbook writer."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

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


def pytest_addoption(parser):
    parser.addoption("--cpu-durations", type=int, default=None, metavar="N",
                     help="show the N tests that used the most CPU seconds (this process and the processes it "
                          "waited for: pipeline runs, kernels), setup included; 0 for all. On a shared machine "
                          "the CPU seconds vary much less than --durations' wall time.")


_CPU: dict[str, float] = {}


def _cpu_seconds() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.config.getoption("--cpu-durations") is None:
        yield
        return
    start = _cpu_seconds()
    yield
    _CPU[item.nodeid] = _cpu_seconds() - start


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = config.getoption("--cpu-durations")
    if count is None or not _CPU:
        return
    ranked = sorted(_CPU.items(), key=lambda kv: -kv[1])
    terminalreporter.write_sep("=", f"CPU seconds per test (setup and teardown included), total {sum(_CPU.values()):.0f} s")
    for nodeid, seconds in ranked[:count or None]:
        terminalreporter.write_line(f"{seconds:8.1f} s  {nodeid}")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controlling process (or a run without workers): the session's
        os.environ[_SESSION_ENV] = tempfile.mkdtemp(prefix="evalpipe-tests-")  # folder, inherited by workers
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
        # A test that reads a pipeline run made in the session (the fixture shared_project, directly or through
        # another fixture) needs notebook kernels: slow, whatever its file.
        if "shared_project" in item.fixturenames:
            item.add_marker(pytest.mark.slow)


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


def pipeline(project: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """``pipeline.py *args`` in ``project``, its output captured."""
    return subprocess.run([sys.executable, "pipeline.py", *args], cwd=project, capture_output=True, text=True,
                          timeout=timeout)


# Full pipeline runs made once per test session (a cold run costs 15-60 s), each in a folder of its own, and only
# ever read or copied by the tests, never changed. With ``pytest -n 2`` (pytest-xdist, what ``make test`` runs)
# the workers share them: the first worker that needs a run builds it under a file lock in the session's folder,
# the others wait for it and read it. The folder is named by the controlling process and removed when it ends.
_SESSION_ENV = "EVALPIPE_TEST_SESSION_DIR"


def _session_dir() -> Path:
    return Path(os.environ[_SESSION_ENV])


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput") and os.environ.get(_SESSION_ENV):  # the controlling process
        shutil.rmtree(os.environ.pop(_SESSION_ENV), ignore_errors=True)


_RUNS: dict[str, tuple[Path, subprocess.CompletedProcess | None]] = {}  # in this process, once read


def _session_project(name: str, build) -> tuple[Path, subprocess.CompletedProcess | None]:
    """``build(target)`` once per test session, whichever worker asks first: (target, what it returned)."""
    if name not in _RUNS:
        _RUNS[name] = _built(name, build)
    return _RUNS[name]


def _built(name: str, build) -> tuple[Path, subprocess.CompletedProcess | None]:
    import fcntl

    target, record = _session_dir() / name, _session_dir() / f"{name}.json"
    with open(_session_dir() / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if not record.exists():
            target.mkdir()
            try:
                result = build(target)
            except BaseException as exc:
                record.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), encoding="utf-8")
                raise
            done = None if result is None else {"args": [str(a) for a in result.args], "returncode": result.returncode,
                                                "stdout": result.stdout, "stderr": result.stderr}
            record.write_text(json.dumps({"result": done}), encoding="utf-8")
    data = json.loads(record.read_text(encoding="utf-8"))
    if "error" in data:
        raise AssertionError(f"the session's {name} failed to build (in another worker): {data['error']}")
    done = data["result"]
    return target, None if done is None else subprocess.CompletedProcess(**done)


def _bare_project(target: Path, raw: Path = ROOT / "data" / "raw") -> Path:
    """The project's notebooks, suites and pipeline.py, with ``raw`` as its data/raw/."""
    for name in ("notebooks", "expectations"):
        shutil.copytree(ROOT / name, target / name, dirs_exist_ok=True)
    shutil.copytree(raw, target / "data" / "raw", dirs_exist_ok=True)
    shutil.copy(ROOT / "pipeline.py", target / "pipeline.py")
    return target


def _succeeded(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def shared_run() -> Path:
    """A project (notebooks, suites, shipped drop, pipeline.py) after one successful ``pipeline.py run``,
    made once per test session and only ever copied, never changed."""
    def build(target: Path) -> subprocess.CompletedProcess:
        return _succeeded(pipeline(_bare_project(target), "run"))

    return _session_project("shared-run", build)[0]


def project_copy(target: Path, extra: tuple[str, ...] = ()) -> Path:
    """A copy of the project (notebooks, suites, shipped drop, pipeline.py) after one successful run: a copy of
    the session's shared run (its stages are up to date in the copy: ``tests/test_shared_run.py``), plus the
    folders ``extra`` of this project."""
    shutil.copytree(shared_run(), target, symlinks=True, dirs_exist_ok=True)
    for name in extra:
        shutil.copytree(ROOT / name, target / name)
    return target


def english_run() -> tuple[Path, subprocess.CompletedProcess]:
    """The shared run's project after ``pipeline.py run --lang en`` too (README: an English run), once per
    session: (project, what the English run printed). reports/midterm-2020Q2/ is the shared run's."""
    return _session_project("english-run", lambda target: _succeeded(
        pipeline(project_copy(target), "run", "--lang", "en")))


def final_run() -> tuple[Path, subprocess.CompletedProcess]:
    """The shared run's project with the final-evaluation drop, after ``pipeline.py run --evaluation final
    --cutoff 2021Q4 --raw tests/fixtures/final_drop/raw`` (README), once per session: (project, its output)."""
    return _session_project("final-run", lambda target: _succeeded(
        pipeline(project_copy(target, ("tests/fixtures/final_drop",)), "run", "--evaluation", "final", "--cutoff",
                 "2021Q4", "--raw", "tests/fixtures/final_drop/raw")))


PROJECT_B = ("run", "--cutoff", "2023Q2", "--raw", "tests/fixtures/project_b/raw", "--expectations",
             "tests/fixtures/project_b/expectations")


def project_b_run() -> tuple[Path, subprocess.CompletedProcess]:
    """A project whose only drop is the small fictitious project of tests/fixtures/project_b/ (README), after one
    successful run (reports/midterm-2023Q2/), once per session: (project, its output). The smallest drop that
    goes through every stage (no finance/): mutations that need a real run but not the shipped drop use it."""
    def build(target: Path) -> subprocess.CompletedProcess:
        for name in ("notebooks", "expectations"):
            shutil.copytree(ROOT / name, target / name)
        shutil.copy(ROOT / "pipeline.py", target / "pipeline.py")
        shutil.copytree(FIXTURES / "project_b", target / "tests" / "fixtures" / "project_b")
        return _succeeded(pipeline(target, *PROJECT_B))

    return _session_project("project-b-run", build)


MIDTERM = "midterm-2020Q2"
RAW = ROOT / "data" / "raw"
FINANCE_TABLES = ("budget", "financial_execution")  # the finance stage's outputs (evalpipe.stages)


def published_copy(base: Path, finance: bool = False) -> tuple[Path, Path]:
    """The shared run's tables, validation, executed notebooks, Data Docs and manifest as the stages up to the
    audit leave them, copied to ``<base>/reports/midterm-2020Q2/`` and ``<base>/processed/midterm-2020Q2/``:
    (run_dir, processed_dir). Without the figures, the annex, the workbook and index.html (the tests build those),
    and, unless ``finance``, without the finance stage's tables (as a drop without finance/ leaves a run)."""
    project = shared_run()
    run_dir, processed = Path(base) / "reports" / MIDTERM, Path(base) / "processed" / MIDTERM
    shutil.copytree(project / "data" / "processed" / MIDTERM, processed)
    source = project / "reports" / MIDTERM
    left_out = {".cache", "figures", "annex", "index.html"}
    shutil.copytree(source, run_dir, ignore=lambda folder, names: [
        n for n in names if Path(folder) == source and (n in left_out or n.startswith("annex"))])
    if not finance:
        for name in FINANCE_TABLES:
            (run_dir / "tables" / f"{name}.csv").unlink()
    return run_dir, processed


def write_finance(run_dir: Path) -> None:
    """Add the finance stage's tables of the shared run to a run folder."""
    for name in FINANCE_TABLES:
        shutil.copy(shared_run() / "reports" / MIDTERM / "tables" / f"{name}.csv", Path(run_dir) / "tables")


@pytest.fixture(scope="session")
def shared_project() -> Path:
    """The session's shared run (``shared_run()``), read only. A test that uses it, directly or through another
    fixture, is marked slow."""
    return shared_run()


@pytest.fixture(scope="session")
def published_tables(shared_project) -> dict[str, pd.DataFrame]:
    """The shared run's tables as the stage notebooks wrote them, read as the figures stage reads them, and its
    tidy quarterly table (``progress``)."""
    from evalpipe.progress import read_tidy
    from evalpipe.runfolder import read_tables

    project = shared_project
    return read_tables(project / "reports" / MIDTERM) | {
        "progress": read_tidy(project / "data" / "processed" / MIDTERM / "progress_indicators.csv")}


# ------------------------------------------------------------------ a run of a drop with planted content --
# One run serves two scans of everything it publishes: markup planted in each place where drop text reaches a page
# (tests/test_markup.py) and direct identifiers planted in a partner's file (tests/test_reliability.py).
MARK = "PLANTED"
PAYLOAD = f'<script>alert("{MARK}")</script><img src=x onerror="alert(\'{MARK}\')">'
VICTIMS = Path("microdata") / "Registro de atención de víctimas NNA.csv"


def plant_markup(raw: Path) -> None:
    """Markup in the drop's id, a ficha's description, an output's name, a published claim and a file name."""
    drop = raw / "drop.yaml"
    drop.write_text(drop.read_text(encoding="utf-8").replace('drop_id: "midterm-demo"',
                                                             f"drop_id: {json.dumps('demo ' + PAYLOAD)}"),
                    encoding="utf-8")
    ficha = raw / "fichas" / "1.1.1.1.yaml"
    content = yaml.safe_load(ficha.read_text(encoding="utf-8"))
    content["descripcion"] = f"{PAYLOAD} {content['descripcion']}"
    ficha.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    outputs = raw / "lfm" / "outputs.csv"
    text = outputs.read_text(encoding="utf-8")
    outputs.write_text(text.replace("Informe de análisis de casos de trata de NNA.",
                                    f"Informe {PAYLOAD.replace(chr(34), '')}", 1), encoding="utf-8")
    claims = raw / "published_report" / "table1_output_status.csv"
    lines = claims.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    last = len(header) - 1
    cells[last] = f"{cells[last]} {PAYLOAD.replace(chr(34), '')}"
    claims.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    report = raw / "progress_reports" / "Informe_progreso_2019T1.xlsx"
    report.rename(report.with_name("Informe_progreso_2019T1 <b onmouseover=alert(1)>.xlsx"))


PLANTED_COLUMNS = ("Nombre completo", "DNI", "Correo", "Teléfono")


def plant_identifiers(raw: Path) -> set[str]:
    """A partner's file arrives with names, national id numbers, e-mails and phone numbers in it: returns them."""
    victims = raw / VICTIMS
    frame = pd.read_csv(victims, dtype=str)
    frame["Nombre completo"] = [f"Nombreficticio Apellido{i:02d}" for i in range(len(frame))]
    frame["DNI"] = [f"7{i:07d}" for i in range(len(frame))]
    frame["Correo"] = [f"persona{i}@ejemplo.pe" for i in range(len(frame))]
    frame["Teléfono"] = [f"+51 9{i:08d}" for i in range(len(frame))]
    frame.to_csv(victims, index=False)
    return {value for column in PLANTED_COLUMNS for value in frame[column]}


def planted_run() -> tuple[Path, set[str]]:
    """A project whose shipped drop has markup (plant_markup) and direct identifiers (plant_identifiers) planted,
    after one successful ``pipeline.py run``, once per session: (project, the planted identifiers)."""
    def build(target: Path) -> subprocess.CompletedProcess:
        _bare_project(target)
        plant_markup(target / "data" / "raw")
        plant_identifiers(target / "data" / "raw")
        return _succeeded(pipeline(target, "run"))

    project = _session_project("planted-run", build)[0]
    planted = pd.read_csv(project / "data" / "raw" / VICTIMS, dtype=str)  # what plant_identifiers wrote
    return project, {value for column in PLANTED_COLUMNS for value in planted[column]}
