"""Atomic publication under SIGKILL, the run lock, and the privacy scan of every output.

The kill, lock and Ctrl-C tests run on copies of the session's run of the small fictitious project
(tests/fixtures/project_b: every stage but finance, on the smallest drop); the privacy scan reads the session's
run of the shipped drop with identifiers planted (conftest.planted_run)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import conftest
from conftest import PROJECT_B, project_b_run, tree_hashes

pytestmark = pytest.mark.slow
# The small project's run (conftest.PROJECT_B: `pipeline.py run --cutoff 2023Q2 --raw tests/fixtures/project_b/raw
# --expectations tests/fixtures/project_b/expectations`).
RUN = [sys.executable, "pipeline.py", *PROJECT_B]
LABEL = "midterm-2023Q2"
REPORT = "tests/fixtures/project_b/raw/progress_reports/informe_2023T2.xlsx"
# The console script installed with the package (the project is found from the working directory).
EVALPIPE_RUN = [str(Path(sys.executable).with_name("evalpipe")), *PROJECT_B]




def _small_copy(target: Path) -> Path:
    """A copy of the session's run of the small project: published, every stage up to date."""
    shutil.copytree(project_b_run()[0], target, symlinks=True, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _small_copy(tmp_path_factory.mktemp("reliable"))


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


def _change_a_reported_value(project: Path) -> None:
    """Indicator 1.1.1.2 reported at 48 instead of 45 in the 2023Q2 report: every stage but finance (the small
    project has none) must run again, and output_indicators.csv changes."""
    import openpyxl

    workbook = openpyxl.load_workbook(project / REPORT)
    sheet = workbook["Indicadores"]
    header = [cell.value for cell in sheet[4]]
    cell = sheet.cell(row=7, column=header.index("Valor acumulado") + 1)
    assert sheet.cell(row=7, column=header.index("Código") + 1).value.strip(" .") == "1.1.1.2" and cell.value == 45
    cell.value = 48
    workbook.save(project / REPORT)


def _current(project: Path, indicator: str) -> float:
    table = pd.read_csv(project / "reports" / LABEL / "tables" / "output_indicators.csv", dtype={"indicator_id": str})
    return float(table.set_index("indicator_id").loc[indicator, "current"])


@pytest.fixture(scope="module")
def killed_runs(tmp_path_factory) -> dict:
    """A new progress report value, then one run SIGKILLed at each kill point in turn, each started from what the
    one before left (its staging folder, its lock), then a run left to finish. Every one of these runs has real
    work to do: the published run is the one from before the change until the last run publishes."""
    project = _small_copy(tmp_path_factory.mktemp("killed"))
    reports = project / "reports" / LABEL
    before = tree_hashes(reports)
    _change_a_reported_value(project)
    killed = []
    for trigger in KILL_POINTS:
        process = _start(project)
        seen = _kill_when(process, trigger)
        killed.append({"trigger": trigger, "returncode": process.returncode, "seen": seen,
                       "intact": tree_hashes(reports) == before})
    last = subprocess.run(RUN, cwd=project, capture_output=True, text=True, timeout=600)
    verify = subprocess.run([sys.executable, "pipeline.py", "verify", LABEL], cwd=project, capture_output=True,
                            text=True, timeout=120)
    return {"project": project, "killed": killed, "last": last, "verify": verify, "before": before}


def _reran_because_the_report_changed(lines: list[str]) -> bool:
    return any(line.startswith("[clean] running notebooks/01_clean.ipynb (inputs changed: ") and
               "informe_2023T2.xlsx" in line for line in lines)


@pytest.mark.parametrize("trigger", KILL_POINTS)
def test_sigkill_at_any_point_leaves_the_last_good_reports_and_the_next_run_reruns(killed_runs, trigger):
    index = KILL_POINTS.index(trigger)
    this = killed_runs["killed"][index]
    assert this["returncode"] == -signal.SIGKILL, this["seen"]
    assert any(trigger in line for line in this["seen"]), this["seen"]
    assert this["intact"]  # the previous complete run is intact
    # This run started from what the kill before it left, and ran the changed input again (not "up to date").
    assert _reran_because_the_report_changed(this["seen"]), this["seen"]
    # So did the next one, which started from what this kill left: the next killed run, or the last run.
    after = (killed_runs["killed"][index + 1]["seen"] if index + 1 < len(KILL_POINTS)
             else killed_runs["last"].stdout.splitlines())
    assert _reran_because_the_report_changed(after), after


def test_after_the_last_kill_the_next_run_reruns_every_changed_stage_and_publishes_a_verified_run(killed_runs):
    project, last = killed_runs["project"], killed_runs["last"]
    assert last.returncode == 0, last.stdout + last.stderr
    ran = [line.split("]")[0][1:] for line in last.stdout.splitlines() if " ran because " in line]
    assert sorted(ran) == sorted(["clean", "validate", "output_indicators", "outcome_indicators", "audit", "figures",
                                  "annex"]), last.stdout
    assert "[clean] ran because inputs changed: " in last.stdout and "informe_2023T2.xlsx" in last.stdout
    assert f"published reports/{LABEL}/" in last.stdout
    assert tree_hashes(project / "reports" / LABEL) != killed_runs["before"]
    assert _current(project, "1.1.1.2") == 48  # the new value, published
    manifest = json.loads((project / "reports" / LABEL / "manifest.json").read_text(encoding="utf-8"))
    records = {r["stage"]: r for r in manifest["stage_reports"]}
    assert {name for name, r in records.items() if r["action"] == "ran"} == set(ran)
    assert records["clean"]["reason"].startswith("inputs changed: ") and records["finance"]["action"] == "skipped"
    assert any(key.endswith("informe_2023T2.xlsx") for key in manifest["inputs_sha256"])
    assert killed_runs["verify"].returncode == 0, killed_runs["verify"].stderr
    assert "verified" in killed_runs["verify"].stdout
    assert not (project / "reports" / f".{LABEL}.lock").exists()
    assert not (project / "reports" / ".staging").exists()
    again = subprocess.run(RUN, cwd=project, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and again.stdout.count("skipped: up to date") == 7, again.stdout  # finance: no
    assert " ran because " not in again.stdout and "[finance] skipped: the drop has no finance/" in again.stdout


def test_an_interrupted_swap_is_recovered(project):
    reports = project / "reports" / LABEL
    previous = reports.with_name(f".{LABEL}.previous")
    before = tree_hashes(reports)
    os.replace(reports, previous)  # as if killed between the two renames of the swap
    result = subprocess.run([sys.executable, "pipeline.py", "status", *PROJECT_B[1:]], cwd=project,
                            capture_output=True, text=True)
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
    assert f"another run is writing reports/{LABEL}" in second.stderr
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


def test_no_identifier_of_the_raw_data_appears_in_any_output():
    # The session's run of the shipped drop in which a partner's file arrives with names, national id numbers,
    # e-mails and phone numbers in it (conftest.plant_identifiers; markup is planted in the same run).
    copy, planted = conftest.planted_run()
    frame = pd.read_csv(copy / "data" / "raw" / conftest.VICTIMS, dtype=str)
    assert {"Nombre completo", "DNI", "Correo", "Teléfono"} <= set(frame)
    assert len(planted) == 4 * len(frame) > 100  # every planted value is distinct
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


def _kernel_pids(parent: int, servers: bool = False) -> set[int]:
    """The kernels ``parent`` (a pipeline process) started: its descendants running ipykernel, spawned, or
    forked by the run's warm-kernel server (they keep its command line). With ``servers``: the warm-kernel
    server itself. Other kernels on the machine (another engineer's run) are not counted."""
    import psutil

    pids = set()
    with contextlib.suppress(psutil.NoSuchProcess):
        for process in psutil.Process(parent).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                forkserver = any("kernel_forkserver" in part for part in process.cmdline())
                forked = forkserver and any("kernel_forkserver" in part for part in process.parent().cmdline())
                if (servers and forkserver and not forked) or (not servers and (
                        forked or any("ipykernel" in part for part in process.cmdline()))):
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
    before = tree_hashes(project / "reports" / LABEL)
    import threading

    assert Path(command[0]).exists(), f"{command[0]}: the console script is installed by `make install`"
    process = _start(project, "--force", command=command)
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=lambda: lines.extend((time.monotonic(), line) for line in process.stdout))
    reader.start()
    deadline = time.monotonic() + 300
    while not any(trigger in line for _, line in lines) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    # Ctrl-C as soon as the stage's kernel runs (a warm kernel is forked once the server's imports are done; the
    # small project's stages take a second or two, so no time is left for the stage to end first).
    while not _kernel_pids(process.pid) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    kernels, servers = _kernel_pids(process.pid), _kernel_pids(process.pid, servers=True)
    assert kernels, "no kernel was running when Ctrl-C was sent:\n" + "".join(line for _, line in lines)
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole foreground group
    process.wait(timeout=60)
    elapsed = time.monotonic() - sent
    reader.join(timeout=10)
    text = "".join(line for _, line in lines)
    assert process.returncode == 130, text
    assert f"interrupted: nothing published; reports/{LABEL}/ is unchanged" in text
    assert "Traceback" not in text
    # At once: the interrupted stage does not run to its end, no stage starts after Ctrl-C. (The stage threads
    # notice their killed kernel within a second or two; the bound leaves room for a busy machine.)
    stage = trigger.split("]")[0] + "]"
    assert not any(line.startswith(f"{stage} ran because") for _, line in lines), text
    assert elapsed < 15, f"took {elapsed:.1f} s to stop"
    late = [line for at, line in lines if at > sent + 0.2 and "] running" in line]
    assert late == []  # no stage starts after Ctrl-C
    time.sleep(0.5)
    assert _alive(kernels) == set()  # no kernel left behind
    assert _alive(servers) == set()  # nor the server that forked them
    assert tree_hashes(project / "reports" / LABEL) == before
    assert not (project / "reports" / ".staging").exists()
    assert not (project / "data" / "processed" / ".staging").exists()
