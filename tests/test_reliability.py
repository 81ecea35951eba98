"""Atomic publication under SIGKILL, the run lock, and the privacy scan of every output."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, project_copy, tree_hashes

pytestmark = pytest.mark.slow
RUN = [sys.executable, "pipeline.py", "run"]
# The console script installed with the package (the project is found from the working directory).
EVALPIPE_RUN = [str(Path(sys.executable).with_name("evalpipe")), "run"]




@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("reliable"))


def _start(project: Path, *args: str, command: list[str] = RUN) -> subprocess.Popen:
    return subprocess.Popen(command + list(args), cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _kill_when(process: subprocess.Popen, trigger: str, timeout: float = 300) -> list[str]:
    """Read the run's progress lines; SIGKILL the whole process group (kernels too) when ``trigger`` shows."""
    seen, deadline = [], time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line.rstrip())
        if trigger in line or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    return seen


KILL_POINTS = ["[clean] running", "[clean] ran", "[validate] running", "[output_indicators] ran",
               "[outcome_indicators] running", "[audit] running", "[audit] ran"]


@pytest.mark.parametrize("trigger", KILL_POINTS)
def test_sigkill_at_any_point_leaves_the_last_good_reports_and_the_next_run_succeeds(project, trigger):
    reports = project / "reports" / "midterm-2020Q2"
    before = tree_hashes(reports)
    process = _start(project, "--force")
    seen = _kill_when(process, trigger)
    assert process.returncode == -signal.SIGKILL, seen
    assert any(trigger in line for line in seen), seen
    assert tree_hashes(reports) == before  # the previous complete run is intact
    after = subprocess.run(RUN, cwd=project, capture_output=True, text=True, timeout=600)
    assert after.returncode == 0, after.stderr
    assert (reports / "tables" / "outcome_indicators.csv").exists()
    assert not (project / "reports" / ".midterm-2020Q2.lock").exists()


def test_an_interrupted_swap_is_recovered(project):
    reports = project / "reports" / "midterm-2020Q2"
    previous = reports.with_name(".midterm-2020Q2.previous")
    before = tree_hashes(reports)
    os.replace(reports, previous)  # as if killed between the two renames of the swap
    result = subprocess.run([sys.executable, "pipeline.py", "status"], cwd=project, capture_output=True, text=True)
    run = subprocess.run(RUN, cwd=project, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert tree_hashes(reports) == before and not previous.exists()
    assert result.returncode == 0


def test_a_second_run_on_the_same_reports_folder_is_refused(project):
    first = _start(project, "--force")
    lines = []
    for line in first.stdout:
        lines.append(line)
        if "[clean] running" in line:
            break
    second = subprocess.run(RUN + ["--force"], cwd=project, capture_output=True, text=True, timeout=120)
    rest = first.communicate(timeout=600)[0]
    assert second.returncode == 1
    assert "another run is writing reports/midterm-2020Q2" in second.stderr
    assert first.returncode == 0, "".join(lines) + rest


def _identifiers(raw: Path) -> set[str]:
    """Every identifier in the raw microdata: pseudonymous ids and the direct identifiers planted below."""
    from evalpipe import microdata

    found = set()
    for table in microdata.read_all_sources(raw).values():
        for column in table.source.columns:
            if column.type == "id":
                found |= {str(v) for v in table.table[column.name].dropna()}
    return found


def test_no_identifier_of_the_raw_data_appears_in_any_output(project, tmp_path):
    copy = tmp_path / "p"
    shutil.copytree(project, copy)
    # A partner's file arrives with names, national id numbers, e-mails and phone numbers in it.
    victims = copy / "data" / "raw" / "microdata" / "Registro de atención de víctimas NNA.csv"
    frame = pd.read_csv(victims, dtype=str)
    frame["Nombre completo"] = [f"Nombreficticio Apellido{i:02d}" for i in range(len(frame))]
    frame["DNI"] = [f"7{i:07d}" for i in range(len(frame))]
    frame["Correo"] = [f"persona{i}@ejemplo.pe" for i in range(len(frame))]
    frame["Teléfono"] = [f"+51 9{i:08d}" for i in range(len(frame))]
    frame.to_csv(victims, index=False)
    planted = set(frame["Nombre completo"]) | set(frame["DNI"]) | set(frame["Correo"]) | set(frame["Teléfono"])
    result = subprocess.run(RUN, cwd=copy, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    identifiers = _identifiers(copy / "data" / "raw") | planted
    assert len(identifiers) > 400
    outputs = [p for p in (copy / "reports" / "midterm-2020Q2").rglob("*") if p.is_file()]
    assert len(outputs) > 40
    hits = []
    for path in outputs:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        hits += [(path.name, ident) for ident in identifiers if ident in text]
    assert hits == []
    clean = (copy / "reports" / "midterm-2020Q2" / "notebooks" / "01_clean.html").read_text(encoding="utf-8")
    assert "Nombre completo" in clean and "DNI" in clean  # the dropped columns are named, never their values


def _kernel_pids(parent: int) -> set[int]:
    """The kernels ``parent`` (a pipeline process) started: its children running ipykernel. Other kernels on
    the machine (another engineer's run) are not counted."""
    import psutil

    pids = set()
    with contextlib.suppress(psutil.NoSuchProcess):
        for process in psutil.Process(parent).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if any("ipykernel" in part for part in process.cmdline()):
                    pids.add(process.pid)
    return pids


def _alive(pids: set[int]) -> set[int]:
    import psutil

    alive = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
    return alive


@pytest.mark.parametrize("trigger, command", [("[clean] running", RUN), ("[validate] running", RUN),
                                              ("[validate] running", EVALPIPE_RUN)],
                         ids=["pipeline.py-clean", "pipeline.py-validate", "evalpipe-validate"])
def test_ctrl_c_stops_at_once_kills_the_kernels_and_publishes_nothing(project, trigger, command):
    before = tree_hashes(project / "reports" / "midterm-2020Q2")
    import threading

    assert Path(command[0]).exists(), f"{command[0]}: the console script is installed by `make install`"
    process = _start(project, "--force", command=command)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: lines.extend((time.monotonic(), line) for line in process.stdout))
    reader.start()
    deadline = time.monotonic() + 300
    while not any(trigger in line for _, line in lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # the kernel is started and working
    kernels = _kernel_pids(process.pid)
    assert kernels, "no kernel was running when Ctrl-C was sent"
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole foreground group
    process.wait(timeout=60)
    elapsed = time.monotonic() - sent
    reader.join(timeout=10)
    text = "".join(line for _, line in lines)
    assert process.returncode == 130, text
    assert "interrupted: nothing published; reports/midterm-2020Q2/ is unchanged" in text
    assert "Traceback" not in text
    assert elapsed < 6, f"took {elapsed:.1f} s to stop"
    late = [line for at, line in lines if at > sent + 0.2 and "] running" in line]
    assert late == []  # no stage starts after Ctrl-C
    time.sleep(0.5)
    assert _alive(kernels) == set()  # no kernel left behind
    assert tree_hashes(project / "reports" / "midterm-2020Q2") == before
    assert not (project / "reports" / ".staging").exists()
    assert not (project / "data" / "processed" / ".staging").exists()
