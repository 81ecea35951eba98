"""Warm kernels: a process that imports what the stage notebooks import once, then forks a Jupyter kernel per stage.

Starting an IPython kernel and importing pandas, IPython and the package costs every stage about two seconds of
CPU (``make bench`` shows it as kernel_start and imports). The runner starts this fork server when a run has
stages to run, while it checks the drop; each stage's kernel is then a fork of it: the same Python, the same
installed packages, modules already in memory, and a fresh kernel (its own process, sockets, namespace and
environment) that runs the notebook exactly as a spawned one would. Only imports happen before the fork: no
data is read, no code of a notebook runs, no thread is started.

Protocol (one JSON object per line): the server writes ``{"ready": true}`` once its imports are done; then, for
each ``{"argv": [...], "cwd": ..., "env": {...}}`` the runner writes on its stdin, it forks and writes back
``{"pid": N}`` (or ``{"error": "..."}``). The server exits when its stdin closes (the run ended, or was killed),
after killing and waiting for any kernel still alive; a kernel also ends when the server does
(``PR_SET_PDEATHSIG`` on Linux, and ipykernel's parent poller). Run as
``python -m evalpipe.kernel_forkserver NOTEBOOKS_FOLDER``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

# What every stage kernel needs besides the package (the import cells, the tables' Styler, pyplot, ipykernel's
# shell), imported before any fork. The package modules are those the stage notebooks use (``package_modules``).
# They import Great Expectations and Typst only inside the functions that use them: a stage that does not validate
# or typeset does not pay for them, and the validation stage imports them in its own kernel.
PRELOAD = ("pandas", "pandas.io.formats.style", "IPython.display", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "ipykernel.zmqshell", "ipykernel.debugger", "matplotlib.pyplot", "matplotlib_inline.backend_inline")


def package_modules(notebooks: Path) -> list[str]:
    """The package modules the stage notebooks in ``notebooks`` use: the modules that key each stage's cache
    (``stages.module_closure``)."""
    import evalpipe
    from evalpipe import stages

    package = Path(evalpipe.__file__).parent
    names: set[str] = set()
    for stage in stages.STAGES:
        if (notebooks / stage.notebook).exists():
            names |= set(stages.module_closure(notebooks / stage.notebook, package))
    return [f"evalpipe.{name}" for name in sorted(names - {"__init__"})]


def _child(request: dict) -> None:
    """In the forked child: become the kernel ``ipykernel_launcher`` would have started. Never returns."""
    code = 1
    try:
        _die_with_parent()
        os.setsid()  # its own session, as jupyter_client starts kernels (interrupts go to its group only)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's subprocesses are waited for normally
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)  # stderr stays the server's: the run's kernel log
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # the kernel stops when the fork server does
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 stays open for the kernel's lifetime
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        if sys.path and sys.path[0] in ("", request["cwd"]):
            del sys.path[0]  # as ipykernel_launcher does; the kernel puts the working directory back
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=request["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - whatever stopped the kernel goes to its log
        traceback.print_exc()
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    """Linux: this process is killed when its parent (the fork server) ends, even by SIGKILL; if the parent
    already ended, end now."""
    parent = os.getppid()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent or parent == 1:
        os._exit(1)


def serve(notebooks: Path) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle; it then closes our stdin
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # what ipykernel sets
    for name in (*PRELOAD, *package_modules(notebooks)):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that does not import is imported (and fails) in the kernel
            pass
    if threading.active_count() != 1:  # forking a process with threads is unsafe: serve nothing, say why
        _reply({"ready": False, "why": "a preloaded module started a thread"})
        return
    _reply({"ready": True})
    # Each kernel is waited for as soon as it ends (no zombie), so its CPU time counts in this process's children,
    # and this process's in the run's (``/usr/bin/time``, ``pytest --cpu-durations`` see the kernels).
    kernels: set[int] = set()
    signal.signal(signal.SIGCHLD, lambda *_: _reap(kernels))
    for line in sys.stdin:
        try:
            request = json.loads(line)
            pid = os.fork()
        except (ValueError, OSError) as exc:
            _reply({"error": str(exc)})
            continue
        if pid == 0:
            _child(request)
        kernels.add(pid)
        _reply({"pid": pid})
    # The run has ended (or died): stop what is left of its kernels, and wait for them.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for pid in kernels:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while True:
            os.wait()


def _reap(kernels: set[int]) -> None:
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            kernels.discard(pid)


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
