"""The command line as a user meets it: both entry points (`pipeline.py` and the `evalpipe` console script),
`--help` with defaults and stage names, `--version`, the Makefile's Python check, and the README's commands."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalpipe import __version__
from evalpipe.stages import STAGE_NAMES

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
EVALPIPE = Path(sys.executable).with_name("evalpipe")  # installed beside the interpreter by `make install`
ENTRY_POINTS = {"pipeline.py": [sys.executable, "pipeline.py"], "evalpipe": [str(EVALPIPE)]}
NEED_PYTHON = "3.11"


def cli(entry: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    assert EVALPIPE.exists(), f"{EVALPIPE}: the console script is installed by `make install`"
    command = ENTRY_POINTS[entry]
    if entry == "pipeline.py":
        command = [sys.executable, str(ROOT / "pipeline.py")]
    return subprocess.run(command + list(args), cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=os.environ | {"COLUMNS": "100"})


def flat(text: str) -> str:
    """Help text with its line wrapping undone."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------- help --

@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_run_help_shows_every_default_flags_as_flags_and_the_stage_names(entry):
    result = cli(entry, "run", "--help")
    assert result.returncode == 0, result.stderr
    text = flat(result.stdout)
    for option, default in (("--evaluation", "midterm"), ("--cutoff", "2020Q2"), ("--lang", "es"),
                            ("--raw", "data/raw"), ("--expectations", "(none)"), ("--params", "(none)"),
                            ("--only", "(every stage)"), ("--from", "(none)")):
        assert re.search(rf"{option} \S+ (?:(?! --[a-z]).)*\[default: {re.escape(default)}\]", text), (option, text)
    assert "<bool>" not in text and "[default: False]" not in text
    for flag in ("--force", "--debug", "--allow-outside-paths"):
        assert re.search(rf"(^|\n)\s+{flag}\s+[A-Z]", result.stdout), (flag, result.stdout)
    for option in ("--only", "--from"):
        described = text.split(f"{option} STAGE", 1)[1].split("[default:", 1)[0]
        assert all(name in described for name in STAGE_NAMES), (option, described)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("stage", ["clean", "validate", "audit", "annex"])
def test_each_stage_command_names_the_stages_and_shows_its_defaults(entry, stage):
    text = flat(cli(entry, stage, "--help").stdout)
    assert f"Runs the stage {stage} alone" in text
    assert f"Stages, in order: {', '.join(STAGE_NAMES)}." in text
    assert "[default: midterm]" in text and "[default: 2020Q2]" in text and "<bool>" not in text


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_the_top_help_lists_the_commands_and_the_stages(entry):
    result = cli(entry, "--help")
    assert result.returncode == 0, result.stderr
    text = flat(result.stdout)
    for command in ("run", "status", "verify", "archive", "typeset", "stages", "--version"):
        assert command in text
    assert f"Stages, in order: {', '.join(STAGE_NAMES)}." in text
    expected = "pipeline.py" if entry == "pipeline.py" else "evalpipe"
    assert text.startswith(f"Usage: {expected} [OPTIONS] COMMAND")


# ------------------------------------------------------------------------------------------- version --

def _git_head() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_version_names_the_package_version_and_the_git_commit(entry):
    result = cli(entry, "--version")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    head = _git_head()
    assert head, "the project is a git checkout here"
    assert re.fullmatch(rf"evalpipe {re.escape(__version__)} \(git commit {head}(-dirty)?\)", line), line


def _bare_project(folder: Path) -> Path:
    """The markers of a project folder (pipeline.py, notebooks/, data/), outside any git checkout."""
    (folder / "notebooks").mkdir(parents=True)
    (folder / "data").mkdir()
    shutil.copy(ROOT / "pipeline.py", folder / "pipeline.py")
    return folder


def test_outside_a_git_checkout_the_version_has_no_commit(tmp_path):
    project = _bare_project(tmp_path / "p")
    for entry, command in (("evalpipe", [str(EVALPIPE)]), ("pipeline.py", [sys.executable, "pipeline.py"])):
        result = subprocess.run(command + ["--version"], cwd=project, capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == f"evalpipe {__version__}", (entry, result.stdout, result.stderr)


# ------------------------------------------------------------------------------------ project root --

def test_the_console_script_finds_the_project_from_a_subfolder(tmp_path):
    result = cli("evalpipe", "verify", "no-such-run", cwd=ROOT / "evalpipe" / "templates")
    assert result.returncode == 2 and "no published run folder reports/no-such-run/" in result.stderr
    outside = subprocess.run([str(EVALPIPE), "status"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert outside.returncode == 2
    assert outside.stderr.strip() == (f"error: no project folder (one with pipeline.py, notebooks, data) at or above "
                                      f"{tmp_path.resolve()}: run evalpipe from inside the project")
    assert "Traceback" not in outside.stderr


def test_pipeline_py_works_on_its_own_folder_wherever_it_is_started(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "pipeline.py"), "verify", "no-such-run"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no published run folder reports/no-such-run/" in result.stderr


def test_a_bad_stage_name_is_refused_with_the_stage_names():
    result = cli("evalpipe", "run", "--only", "publish")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --only 'publish': expected one of {', '.join(STAGE_NAMES)}"


# ---------------------------------------------------------------------------------------- Makefile --

def _shim(path: Path, version: str, log: Path) -> Path:
    """A fake interpreter: answers `-c` version queries with ``version``, records every other call in ``log``,
    and for `-m venv DIR` makes DIR/bin/python a fake of the same version (so nothing real is installed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""#!/bin/sh
if [ "$1" = "-c" ]; then echo "{version}"; exit 0; fi
echo "$0 $*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
exit 0
""", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def make_copy(tmp_path) -> Path:
    """The set-up files of the project in a folder of their own."""
    if shutil.which("make") is None:
        pytest.fail("make is needed: it is one of the README's two commands")
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.txt"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def _make(copy: Path, *args: str) -> subprocess.CompletedProcess:
    # Under `make test` (what CI runs) the parent make's variables would make this one a sub-make, which
    # prints "Entering directory" lines: run it as a user would, from a shell.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    return subprocess.run(["make", *args], cwd=copy, capture_output=True, text=True, timeout=120, env=env)


def test_the_makefile_reads_the_python_it_needs_from_pyproject(make_copy):
    requires = re.search(r'^requires-python = ">=(\d+\.\d+),', (ROOT / "pyproject.toml").read_text(), re.M)
    assert requires and requires.group(1) == NEED_PYTHON
    result = _make(make_copy, "--eval", "need: ; @echo $(NEED_PYTHON)", "need")
    assert result.stdout.strip() == NEED_PYTHON


@pytest.mark.parametrize("target", ["install", "run", "test"])
def test_make_refuses_a_wrong_python_before_installing_anything(make_copy, target):
    log = make_copy / "calls.log"
    wrong = _shim(make_copy / "bin" / "python3.12", "3.12", log)
    result = _make(make_copy, target, f"PYTHON={wrong}")
    assert result.returncode != 0
    assert (f"error: this project needs Python {NEED_PYTHON} (found 3.12 at {wrong}); "
            f"run: make {target} PYTHON=python{NEED_PYTHON}") in result.stderr
    assert not (make_copy / ".venv").exists()
    assert not log.exists(), log.read_text()  # the wrong Python was only asked its version


def test_make_names_a_python_that_does_not_run(make_copy):
    result = _make(make_copy, "install", "PYTHON=no-such-python3")
    assert result.returncode != 0 and not (make_copy / ".venv").exists()
    assert (f"error: this project needs Python {NEED_PYTHON} (found no working no-such-python3); "
            f"run: make install PYTHON=python{NEED_PYTHON}") in result.stderr


def test_make_rebuilds_a_venv_made_by_another_python_and_reuses_a_good_one(make_copy):
    old_log, new_log = make_copy / "old.log", make_copy / "new.log"
    _shim(make_copy / ".venv" / "bin" / "python", "3.12", old_log)  # left by `make install` under Python 3.12
    (make_copy / ".venv" / "left-over").write_text("from the 3.12 venv")
    (make_copy / ".venv" / ".installed").touch()  # newer than requirements.txt: make would reuse it
    right = _shim(make_copy / "bin" / f"python{NEED_PYTHON}", NEED_PYTHON, new_log)
    result = _make(make_copy, "install", f"PYTHON={right}")
    assert result.returncode == 0, result.stderr
    assert f".venv was made by Python 3.12, not {NEED_PYTHON}: rebuilding it with {right}" in result.stdout
    assert not (make_copy / ".venv" / "left-over").exists() and not old_log.exists()
    calls = new_log.read_text().splitlines()
    assert calls[0] == f"{right} -m venv .venv"
    assert any("-m pip install" in c and "-r requirements.txt" in c for c in calls[1:])
    assert any("-m pip install" in c and "-e ." in c for c in calls[1:])
    assert (make_copy / ".venv" / ".installed").exists()
    again = _make(make_copy, "install", f"PYTHON={right}")
    assert again.returncode == 0 and new_log.read_text().splitlines() == calls  # a good .venv is reused


def test_make_with_the_real_python_would_create_the_venv(make_copy):
    """The real interpreter passes the check (a dry run prints what `make install` would do)."""
    base = Path(sys.base_prefix) / "bin" / f"python{NEED_PYTHON}"
    python = str(base if base.exists() else sys.executable)
    assert _make(make_copy, "check-python", f"PYTHON={python}").returncode == 0
    dry = _make(make_copy, "-n", "install", f"PYTHON={python}")
    assert dry.returncode == 0, dry.stderr
    assert f"{python} -m venv .venv" in dry.stdout and "-r requirements.txt" in dry.stdout


# ------------------------------------------------------------------------------- README's commands --

def readme_commands() -> list[str]:
    """Every command of README.md's ```bash blocks, without its comment."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


# Run as printed, in a shell from the folder of a published project, by
# test_pipeline.py::test_the_readme_commands_work_as_printed_on_a_published_run.
RUN_ON_A_PUBLISHED_RUN = (
    ".venv/bin/python pipeline.py run",
    ".venv/bin/python pipeline.py status",
    ".venv/bin/python pipeline.py run --only validate",
    ".venv/bin/python pipeline.py run --params my_run.yaml",
    ".venv/bin/python pipeline.py verify midterm-2020Q2",
    ".venv/bin/python pipeline.py archive midterm-2020Q2",
    ".venv/bin/python pipeline.py typeset midterm-2020Q2",
    ".venv/bin/python pipeline.py --help",
    ".venv/bin/python pipeline.py --version",
    ".venv/bin/evalpipe --help",
)
# Run by another test, or by a session fixture of conftest.py that tests share (file::function): the function's
# code holds the command's arguments.
RUN_BY = {
    ".venv/bin/python pipeline.py compare midterm-2020Q2 final-2021Q4":
        "test_compare.py::test_end_to_end_make_run_the_final_run_then_the_comparison",
    ".venv/bin/python pipeline.py ficha 2.1.1.1": "test_ficha_cmd.py::test_the_readme_ficha_commands_as_printed",
    ".venv/bin/python pipeline.py ficha 2.1.1 --run midterm-2020Q2":
        "test_ficha_cmd.py::test_the_readme_ficha_commands_as_printed",
    ".venv/bin/python pipeline.py run --cutoff 2020Q4":
        "test_pipeline.py::test_later_cutoff_uses_the_2020q4_report_in_its_own_folder",
    ".venv/bin/python pipeline.py run --lang en":  # made once per session, checked by
        "conftest.py::english_run",  # test_pipeline.py::test_an_english_run_publishes_its_own_folder
    ".venv/bin/python pipeline.py run --force":
        "test_reliability.py::test_a_second_run_on_the_same_reports_folder_is_refused",
    ".venv/bin/python pipeline.py run --from outcome_indicators": "test_pipeline.py::test_force_and_from_rerun_what_they_say",
    # made once per session, checked by test_pipeline.py::test_the_final_evaluation_runs_on_its_own_drop_into_its_own_folder
    ".venv/bin/python pipeline.py run --evaluation final --cutoff 2021Q4 --raw tests/fixtures/final_drop/raw":
        "conftest.py::final_run",
    ".venv/bin/jupyter nbconvert --to notebook --execute notebooks/03_output_indicators.ipynb":
        "test_trust.py::test_a_notebook_executed_with_nbconvert_from_notebooks_writes_to_scratch_only",
    ".venv/bin/papermill notebooks/01_clean.ipynb out-01.ipynb -p cutoff 2019Q4":
        "test_trust.py::test_papermill_cli_with_another_cutoff_leaves_the_published_run_byte_identical",
    ".venv/bin/papermill notebooks/03_output_indicators.ipynb out-03.ipynb -p cutoff 2019Q4":
        "test_trust.py::test_papermill_cli_with_another_cutoff_leaves_the_published_run_byte_identical",
}
# Arguments that name an example (a file the reader makes) rather than something the test must use.
EXAMPLE_ARGUMENTS = {"out-01.ipynb", "out-03.ipynb"}
# Not run by any test, and why.
NOT_RUN = {
    "make run": "= `make install` (tested above with fake interpreters) + `pipeline.py run` with the default "
                "parameters spelled out; a real install takes minutes",
    "make test": "what CI runs (.ci/run): the test suite itself",
}




def _test_source(reference: str) -> str:
    file, function = reference.split("::")
    tree = ast.parse((TESTS / file).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return ast.get_source_segment((TESTS / file).read_text(encoding="utf-8"), node)
    raise AssertionError(f"{reference}: no such test")


def test_every_readme_command_is_run_by_a_test_or_listed_with_the_reason():
    commands = readme_commands()
    assert len(commands) >= 15
    unaccounted = [c for c in commands if c not in RUN_ON_A_PUBLISHED_RUN and c not in RUN_BY and c not in NOT_RUN]
    assert unaccounted == [], "README commands no test runs: add them to a test, or to NOT_RUN with the reason"
    stale = [c for c in (*RUN_ON_A_PUBLISHED_RUN, *RUN_BY, *NOT_RUN) if c not in commands]
    assert stale == [], "commands listed here that the README no longer prints"
    for command, reference in RUN_BY.items():
        source = _test_source(reference)
        words = shlex.split(command)
        arguments = words[2:] if words[1] == "pipeline.py" else words[1:]
        missing = [a for a in arguments if a not in EXAMPLE_ARGUMENTS and f'"{a}"' not in source
                   and Path(a).stem not in source]
        assert missing == [], (command, reference, missing)
    assert set(NOT_RUN) <= {"make run", "make test"}


def test_readme_commands_use_the_project_s_python_or_the_console_script():
    for command in readme_commands():
        program = shlex.split(command)[0]
        assert program == "make" or program.startswith(".venv/bin/"), command
    assert "python pipeline.py" not in (ROOT / "README.md").read_text(encoding="utf-8").replace(
        ".venv/bin/python pipeline.py", "")


def test_a_good_venv_is_used_whatever_the_default_python_and_a_named_wrong_python_is_refused(make_copy):
    venv_log, other_log = make_copy / "venv.log", make_copy / "other.log"
    _shim(make_copy / ".venv" / "bin" / "python", NEED_PYTHON, venv_log)
    (make_copy / ".venv" / ".installed").touch()
    # The default Python (python3.11 on the PATH) is not 3.11 here: a good .venv needs no Python at all.
    _shim(make_copy / "path" / f"python{NEED_PYTHON}", "3.12", other_log)
    env = os.environ | {"PATH": f"{make_copy / 'path'}:{os.environ['PATH']}"}
    result = subprocess.run(["make", "install"], cwd=make_copy, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert not venv_log.exists() and not other_log.exists()
    # A Python named on the command line is checked even so, and the .venv is left as it is.
    wrong = _shim(make_copy / "bin" / "python3.12", "3.12", other_log)
    result = _make(make_copy, "install", f"PYTHON={wrong}")
    assert result.returncode != 0 and f"(found 3.12 at {wrong})" in result.stderr
    assert (make_copy / ".venv" / ".installed").exists() and not venv_log.exists() and not other_log.exists()
