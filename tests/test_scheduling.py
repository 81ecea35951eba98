"""Which ready stage starts first: the one with the longest chain of stages still waiting for it (issue 14)."""

from __future__ import annotations

import json

from evalpipe import stages
from evalpipe.scheduling import default_workers, previous_seconds


def test_the_figures_start_before_the_audit_when_both_are_ready():
    # Both wait for the outcome indicators; the annex waits for both; the figures take longer.
    path = stages.critical_path()
    assert path["figures"] > path["audit"]
    assert path["clean"] == max(path.values())  # everything waits for it
    assert path["annex"] == stages.stage("annex").expected  # nothing waits for the annex


def test_the_last_runs_own_times_decide_when_known():
    path = stages.critical_path({"audit": 30.0})
    assert path["audit"] > path["figures"]
    assert path["audit"] == 30.0 + stages.stage("annex").expected
    # A stage's path is its own time plus the longest path of the stages that need it.
    assert path["outcome_indicators"] == stages.stage("outcome_indicators").expected + max(path["audit"],
                                                                                           path["figures"])


def test_previous_seconds_reads_the_stages_that_ran_from_the_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"stage_reports": [
        {"stage": "clean", "action": "ran", "seconds": 2.5},
        {"stage": "validate", "action": "skipped", "seconds": 0.0}]}), encoding="utf-8")
    assert previous_seconds(tmp_path) == {"clean": 2.5}
    assert previous_seconds(tmp_path / "missing") == {}


def test_one_more_stage_than_cores_runs_at_once(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_workers() == 3
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert default_workers() == 3
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert default_workers() == 2
