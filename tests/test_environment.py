"""The set-up files agree with each other, and the notebooks in git are clean sources."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_lists_the_same_pins_as_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = {}
    for entry in pip_section:
        if entry.startswith("-e"):
            continue
        name, _, version = entry.partition("==")
        conda_pins[name.lower().replace("_", "-")] = version
    assert conda_pins == _requirements()
    assert "python=3.11" in env["dependencies"]


def test_every_direct_dependency_is_pinned():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"dependencies = \[(.*?)\]", pyproject, re.S).group(1)
    direct = [name.lower() for name in re.findall(r'"([A-Za-z0-9_.-]+)"', block)]
    pins = _requirements()
    missing = [name for name in direct if name.replace("_", "-") not in pins]
    assert not missing
    assert pins["great-expectations"].startswith("1.")
    assert pins["pandas"].startswith("2.")  # chosen knowingly: GX 1.x type checks on pandas 3 str columns


def test_every_optional_dependency_is_pinned():
    """The test tools (pyproject's optional group ``test``: the archive validators, mutmut) are pinned too."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^test = \[(.*?)\]", pyproject, re.S | re.M).group(1)
    optional = [name.lower() for name in re.findall(r'"([A-Za-z0-9_.-]+)"', block)]
    assert "mutmut" in optional
    pins = _requirements()
    assert not [name for name in optional if name.replace("_", "-") not in pins]


def test_installed_versions_match_the_lock():
    from importlib import metadata

    for name in ("pandas", "great-expectations", "papermill", "nbconvert", "openpyxl", "click", "nh3"):
        assert metadata.version(name) == _requirements()[name], name


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_in_git_carry_no_outputs_and_have_a_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = (("run_a", "run_b", "lang", "out_dir") if path.name == "09_compare.ipynb"  # two runs compared
             else ("evaluation", "cutoff", "lang", "raw_dir", "processed_dir", "run_dir"))
    for name in names:
        assert re.search(rf"^{name} = ", tagged[0].source, re.M), name


def test_gitignore_keeps_outputs_out_of_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert "reports/*" in ignored and "data/processed/*" in ignored
