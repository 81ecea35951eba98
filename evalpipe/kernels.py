"""Executing a stage notebook: a Jupyter kernel on local IPC sockets, Papermill, the HTML export.

``execute_stage`` runs one notebook into the staging folder, rewrites the staging paths it prints to the
published ones, exports its sanitised HTML and returns where the time went (kernel start, imports, work,
export). A notebook that raises becomes ``StageFailed``, its partial notebook kept with the failure on top.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable

from .errors import PipelineError
from .manifest import relative
from .staging import replace_paths


class StageFailed(PipelineError):
    """A notebook raised: which stage, notebook and cell, the exception, and the kept partial notebook."""

    def __init__(self, stage: str, notebook: str, cell: int | None, ename: str, evalue: str, kept: str):
        self.stage, self.notebook, self.cell, self.ename, self.evalue, self.kept = (
            stage, notebook, cell, ename, evalue, kept)
        super().__init__()

    def __str__(self) -> str:
        where = f"stage {self.stage} ({self.notebook}{f', cell {self.cell}' if self.cell else ''})"
        return f"{where}: {self.ename}: {self.evalue}"


class HtmlExporter:
    """One nbconvert HTMLExporter for the whole run (building it costs more than using it); one export at a
    time (the exporter is not thread-safe)."""

    def __init__(self) -> None:
        # Built in the background (about a second: nbconvert, its templates) while the first kernels start.
        self.lock = threading.Lock()
        self._built = threading.Event()
        self._exporter = None
        threading.Thread(target=self._build, name="html-exporter", daemon=True).start()

    def _build(self) -> None:
        from .htmlsafe import new_html_exporter

        try:
            # Sanitised: text that came from a drop is never live markup in a reviewer's browser.
            self._exporter = new_html_exporter()
        finally:
            self._built.set()

    @property
    def exporter(self):
        self._built.wait()
        if self._exporter is None:  # the build failed in the background: build here, so its error is raised
            from .htmlsafe import new_html_exporter

            self._exporter = new_html_exporter()
        return self._exporter

    def write(self, notebook_path: Path, html_path: Path) -> None:
        import nbformat

        from .htmlsafe import offline

        notebook = nbformat.read(notebook_path, as_version=4)
        exporter = self.exporter
        with self.lock:
            body, _ = exporter.from_notebook_node(notebook)
        html_path.write_text(offline(body), encoding="utf-8")


def prose_in_language(notebook_path: Path, lang: str, progress: Callable[[str], None] = print):
    """The stage notebook with its markdown cells in ``lang`` (catalog ``notebook:<stem>``), for Papermill.

    A cell the catalog does not translate (prose edited in Jupyter, not yet in the catalog) stays in English,
    and one warning line names the notebook and the cells (numbered from 1, as Jupyter shows them)."""
    import nbformat

    from . import i18n

    notebook = nbformat.read(notebook_path, as_version=4)
    untranslated = i18n.translate_notebook(notebook, Path(notebook_path).stem, lang)
    if untranslated:
        cells = ", ".join(str(index + 1) for index in untranslated)
        progress(f"warning: notebooks/{Path(notebook_path).name}: markdown cell{'s' if len(untranslated) > 1 else ''} "
                 f"{cells} not translated to {lang} (shown in English; add them to "
                 f"evalpipe/locale/{lang}/LC_MESSAGES/evalpipe.po)")
    return notebook


def execute_stage(name: str, notebook: str, root: Path, lang: str, injected: dict, executed: Path,
                  kernel_manager_class, exporter: HtmlExporter, published: list[tuple[str, str]],
                  progress: Callable[[str], None]) -> dict[str, float]:
    """Execute ``notebooks/<notebook>`` into ``executed`` with the ``injected`` parameters and export its HTML.
    Returns the seconds spent: ``kernel_start``, ``imports`` (the notebook's first code cell after its
    parameters), ``work`` (the other cells), ``export`` (paths rewritten, HTML written) and ``total``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    source = prose_in_language(root / "notebooks" / notebook, lang, progress)
    try:
        # The kernel is stopped at once after the last cell (every cell has replied and its files are closed):
        # a graceful shutdown waits about a second more per stage for nothing.
        pm.execute_notebook(source, relative(executed, root), parameters=injected,
                            kernel_name="python3", progress_bar=False, log_output=False, report_mode=False,
                            kernel_manager_class=kernel_manager_class, shutdown_kernel="immediate")
    except PapermillExecutionError as exc:
        # The failing notebook is kept with its HTML, the failure first, so it can be read without Jupyter.
        with contextlib.suppress(Exception):
            mark_failure(executed, exc.ename, str(exc.evalue), exc.exec_count)
            exporter.write(executed, executed.with_suffix(".html"))
        raise StageFailed(name, f"notebooks/{notebook}", exc.exec_count, exc.ename, str(exc.evalue), "") from None
    except Exception as exc:  # the kernel died (memory, a signal) or could not start
        raise StageFailed(name, f"notebooks/{notebook}", None, type(exc).__name__,
                          str(exc).strip().splitlines()[0] if str(exc).strip() else "the kernel stopped",
                          "") from None
    executed_at = time.perf_counter()
    # The executed notebook shows where its files are published, not the staging folder it was built in.
    replace_paths(executed, published)
    exporter.write(executed, executed.with_suffix(".html"))
    done = time.perf_counter()
    timings = cell_timings(executed)
    timings["export"] = done - executed_at
    timings["total"] = done - started
    # What Papermill spent outside the cells (translating the prose, writing the notebook, stopping the kernel).
    timings["other"] = max(0.0, executed_at - started - sum(timings[k] for k in ("kernel_start", "imports", "work")))
    return {key: round(value, 2) for key, value in timings.items()}


def cell_timings(executed: Path) -> dict[str, float]:
    """Kernel start, imports and work of an executed notebook, from the times Papermill records: the kernel
    starts between the notebook's start and its first cell; "imports" is the first code cell after the
    parameters (each stage notebook's import cell); "work" the cells after it."""
    import nbformat

    def when(value) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    notebook = nbformat.read(executed, as_version=4)
    meta = notebook.metadata.get("papermill", {})
    cells = [(cell, cell.metadata.get("papermill", {})) for cell in notebook.cells if cell.cell_type == "code"]
    cells = [(cell, m) for cell, m in cells if m.get("start_time") and m.get("end_time")]
    if not cells or not meta.get("start_time"):
        return {"kernel_start": 0.0, "imports": 0.0, "work": 0.0}
    first_start = min(when(m["start_time"]) for _, m in cells)
    tags = [set(cell.metadata.get("tags", [])) for cell, _ in cells]
    after = max((i for i, t in enumerate(tags) if t & {"parameters", "injected-parameters"}), default=-1) + 1
    imports = cells[after:after + 1]
    work = cells[after + 1:]

    def seconds(chosen) -> float:
        return sum((when(m["end_time"]) - when(m["start_time"])).total_seconds() for _, m in chosen)

    return {"kernel_start": max(0.0, (first_start - when(meta["start_time"])).total_seconds()),
            "imports": seconds(imports), "work": seconds(work)}


def mark_failure(notebook_path: Path, ename: str, evalue: str, cell: int | None) -> None:
    """Put the failure at the top of a failed notebook, as text (the message may quote the drop)."""
    import nbformat

    from .htmlsafe import escape_markdown

    notebook = nbformat.read(notebook_path, as_version=4)
    where = f" in cell [{cell}]" if cell else ""
    text = (f"## This stage failed{where}: nothing was published\n\n"
            f"**{escape_markdown(ename)}**: {escape_markdown(evalue.strip().splitlines()[0] if evalue.strip() else '')}"
            "\n\nThe cell that failed is marked below; the last good run is unchanged.")
    cell_node = nbformat.v4.new_markdown_cell(text)
    cell_node.metadata["tags"] = ["evalpipe-failure"]
    notebook.cells.insert(0, cell_node)
    nbformat.write(notebook, notebook_path)


def kill_kernels(manager_class) -> None:
    """Kill every kernel a run started that is still alive (Ctrl-C): no kernel is left behind (the runner then
    stops the fork server, as at the end of every run)."""
    for process in list(getattr(manager_class, "launched", [])):
        with contextlib.suppress(Exception):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)


class ForkedKernel:
    """The ``subprocess.Popen`` jupyter_client expects, for a kernel forked by the fork server (not our child:
    the server waits for it as it ends, so it is alive while its pid exists)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # the pid was reused by another user's process: ours is gone
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The run's warm-kernel launcher (:mod:`evalpipe.kernel_forkserver`): started early, used by every stage's
    kernel manager, stopped when the run ends. Falls back to spawning kernels when it cannot serve."""

    def __init__(self, log: Path, notebooks: Path):
        """Start the server; it and its kernels write their own log (stderr) to ``log``, and it imports what the
        stage notebooks in ``notebooks`` import."""
        self.lock = threading.Lock()
        self.ready: bool | None = None
        stderr = open(log, "ab")  # noqa: SIM115 - the child keeps its own copy
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "evalpipe.kernel_forkserver", str(notebooks)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=stderr, start_new_session=True, text=True, bufsize=1)
        finally:
            stderr.close()

    def launch(self, argv: list[str], env: dict, cwd: str) -> int | None:
        """Fork a kernel running ``ipykernel_launcher`` with ``argv``; its pid, or None to spawn one instead."""
        with self.lock:
            try:
                if self.ready is None:
                    self.ready = bool(json.loads(self.process.stdout.readline() or "{}").get("ready"))
                if not self.ready:
                    return None
                self.process.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n")
                self.process.stdin.flush()
                return json.loads(self.process.stdout.readline() or "{}").get("pid")
            except (OSError, ValueError):
                self.ready = False
                return None

    def stop(self) -> None:
        """End the server: it kills and waits for any kernel still alive (the runner has stopped them), then
        exits; killed if it does not within seconds."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(Exception):
                self.process.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.process.stdout.close()


def warm_kernels() -> bool:
    """Whether a run forks its kernels from a warm server (POSIX; ``EVALPIPE_WARM_KERNELS=0`` spawns each
    kernel as Jupyter does by default, e.g. to compare)."""
    return os.name == "posix" and os.environ.get("EVALPIPE_WARM_KERNELS", "1") != "0"


def _forkable(kernel_cmd: list[str]) -> list[str] | None:
    """The ipykernel arguments of a kernel command of this Python, else None (that kernel is spawned)."""
    if len(kernel_cmd) >= 3 and kernel_cmd[1:3] == ["-m", "ipykernel_launcher"] and \
            os.path.realpath(kernel_cmd[0]) == os.path.realpath(sys.executable):
        return list(kernel_cmd[3:])
    return None


def ipc_kernel_manager_class(socket_dir: Path, fork_server: ForkServer | None = None):
    """A kernel manager that talks to the kernel over Unix sockets in a private temporary folder, and takes
    its kernel from ``fork_server`` when there is one (a warm kernel), else spawns it.

    Local IPC instead of TCP: nothing listens on a network port while a notebook runs.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        launched: list = []  # the kernels' processes, killed on Ctrl-C
        server = fork_server

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            # One socket prefix per kernel: kernels started side by side must not share socket names.
            kwargs.setdefault("ip", str(Path(socket_dir) / f"k{uuid.uuid4().hex[:10]}"))
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            argv = _forkable(kernel_cmd) if self.server is not None else None
            pid = self.server.launch(argv, dict(kw.get("env") or os.environ),
                                     str(kw.get("cwd") or os.getcwd())) if argv is not None else None
            if pid:
                provisioner = self.provisioner
                provisioner.process = ForkedKernel(pid)
                provisioner.pid = provisioner.pgid = pid  # the kernel leads its own session
                provisioner.cwd = kw.get("cwd") or os.getcwd()
                self._reconcile_connection_info(provisioner.connection_info)
            else:
                # The kernel's own log (e.g. "KeyboardInterrupt caught" at shutdown) goes to a file beside
                # the sockets, not to the consultant's console; cell errors still reach Papermill.
                log = open(Path(socket_dir) / "kernel.log", "ab")  # noqa: SIM115 - the child keeps its own copy
                kw["stderr"] = log
                try:
                    await super()._async_launch_kernel(kernel_cmd, **kw)
                finally:
                    log.close()
            process = getattr(self.provisioner, "process", None)
            if process is not None:
                IPCKernelManager.launched.append(process)

    return IPCKernelManager
