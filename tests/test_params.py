"""Parameter validation (no kernel, no heavy import): each invalid parameter is refused in words."""

from __future__ import annotations

import subprocess
import sys

import pytest

from evalpipe.errors import ParameterError
from evalpipe.params import drop_quarters, validate

from conftest import ROOT


def test_defaults_give_the_midterm_run():
    checked = validate({}, ROOT)
    assert (checked.label, checked.raw_dir, checked.expectations_dirs) == ("midterm-2020Q2", "data/raw", ["expectations"])


def test_english_runs_get_their_own_folder():
    assert validate({"lang": "en"}, ROOT).label == "midterm-2020Q2-en"


def test_the_drop_quarters_come_from_the_file_names():
    quarters = [str(q) for q in drop_quarters(ROOT / "data" / "raw")]
    assert quarters[0] == "2018Q1" and quarters[-1] == "2020Q4" and "2020Q3" not in quarters


@pytest.mark.parametrize("values, words", [
    ({"cutoff": "2020Q3"}, "no progress report for that quarter"),
    ({"cutoff": "2020T2"}, "exactly like 2020Q2"),
    ({"cutoff": "mid 2020"}, "is not a quarter"),
    ({"evaluation": "mid"}, "midterm, final"),
    ({"lang": "fr"}, "es, en"),
    ({"raw": "../"}, "outside the project"),
    ({"expectations": "/etc"}, "outside the project"),
    ({"suppression_threshold": 1}, "from 2 to 100"),
])
def test_invalid_parameters(values, words):
    with pytest.raises(ParameterError, match=words):
        validate(values, ROOT)


def test_outside_paths_need_explicit_permission(tmp_path):
    raw = tmp_path / "raw"
    (raw / "progress_reports").mkdir(parents=True)
    (raw / "progress_reports" / "informe_2021T4.xlsx").write_bytes(b"")
    with pytest.raises(ParameterError):
        validate({"raw": str(raw), "cutoff": "2021Q4"}, ROOT)
    assert validate({"raw": str(raw), "cutoff": "2021Q4", "allow_outside_paths": True}, ROOT).raw_dir == str(raw)


def test_parameter_check_imports_nothing_heavy():
    """The CLI answers a bad parameter before pandas, papermill or Great Expectations are imported."""
    code = ("import sys; sys.argv=['pipeline.py','run','--cutoff','1999Q1']\n"
            "import runpy\ntry:\n    runpy.run_path('pipeline.py', run_name='__main__')\nexcept SystemExit as e:\n"
            "    heavy = [m for m in ('pandas', 'papermill', 'great_expectations', 'nbconvert') if m in sys.modules]\n"
            "    print('EXIT', e.code, 'HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "EXIT 2 HEAVY []" in result.stdout, result.stdout + result.stderr
