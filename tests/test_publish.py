"""Publication of a run: both folders together or neither, recovery, the lock, operating-system errors."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, tree_hashes
from evalpipe import publish
from evalpipe.errors import PipelineError


def _folder(path: Path, text: str) -> Path:
    (path / "tables").mkdir(parents=True)
    (path / "tables" / "t.csv").write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def layout(tmp_path):
    reports, processed = tmp_path / "reports" / "run", tmp_path / "data" / "processed" / "run"
    _folder(reports, "old report")
    _folder(processed, "old data")
    staging_r = _folder(tmp_path / "reports" / ".staging" / "run", "new report")
    staging_p = _folder(tmp_path / "data" / "processed" / ".staging" / "run", "new data")
    return reports, processed, staging_r, staging_p


def _text(folder: Path) -> str:
    return (folder / "tables" / "t.csv").read_text(encoding="utf-8")


def test_publish_replaces_both_folders_and_leaves_nothing_beside_them(layout):
    reports, processed, staging_r, staging_p = layout
    warnings = publish.publish([(staging_p, processed), (staging_r, reports)], journal_for=reports)
    assert warnings == []
    assert (_text(reports), _text(processed)) == ("new report", "new data")
    assert sorted(p.name for p in reports.parent.iterdir()) == [".staging", "run"]
    assert not staging_r.exists() and not staging_p.exists()


@pytest.mark.parametrize("failing_call", [1, 2, 3, 4])
def test_a_failure_at_any_move_publishes_neither_folder(layout, monkeypatch, failing_call):
    reports, processed, staging_r, staging_p = layout
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) == failing_call:
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", replace)
    with pytest.raises(publish.FolderError, match="nothing was published") as caught:
        publish.publish([(staging_p, processed), (staging_r, reports)], journal_for=reports)
    monkeypatch.setattr(publish.os, "replace", real_replace)
    assert "Permission denied" in str(caught.value)
    assert (_text(reports), _text(processed)) == ("old report", "old data")
    assert not reports.with_name(".run.publishing").exists()
    assert not reports.with_name(".run.previous").exists() and not processed.with_name(".run.previous").exists()


def test_a_previous_folder_that_cannot_be_removed_is_a_warning_and_the_next_command_removes_it(layout, monkeypatch):
    reports, processed, staging_r, staging_p = layout
    real_rmtree = publish.shutil.rmtree

    def rmtree(path, *args, **kwargs):
        if Path(path).name.endswith(".previous") and not kwargs.get("ignore_errors"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(publish.shutil, "rmtree", rmtree)
    warnings = publish.publish([(staging_p, processed), (staging_r, reports)], journal_for=reports)
    monkeypatch.setattr(publish.shutil, "rmtree", real_rmtree)
    assert len(warnings) == 2 and all("removed by the next command" in w for w in warnings)
    assert (_text(reports), _text(processed)) == ("new report", "new data")
    publish.recover(reports, processed)
    assert not reports.with_name(".run.previous").exists() and not processed.with_name(".run.previous").exists()
    assert (_text(reports), _text(processed)) == ("new report", "new data")


def test_a_publication_killed_before_its_commit_is_undone_by_the_next_command(layout):
    reports, processed, staging_r, staging_p = layout
    # As if killed after both moves but before the journal was removed.
    reports.with_name(".run.publishing").write_text("{}", encoding="utf-8")
    os.replace(processed, processed.with_name(".run.previous"))
    os.replace(staging_p, processed)
    os.replace(reports, reports.with_name(".run.previous"))
    os.replace(staging_r, reports)
    done = publish.recover(reports, processed)
    assert len(done) == 2
    assert (_text(reports), _text(processed)) == ("old report", "old data")
    assert not reports.with_name(".run.publishing").exists()


def test_a_read_only_folder_is_named_before_any_stage_runs(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(publish.tempfile, "mkstemp", refuse)
    with pytest.raises(publish.FolderError) as caught:
        publish.probe_writable(tmp_path / "reports", tmp_path)
    message = str(caught.value)
    assert message.startswith("cannot write in reports: Permission denied; make it writable")


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"),
                                         (errno.ENAMETOOLONG, "path is too long"), (errno.EBUSY, "close it")])
def test_operating_system_errors_say_what_to_do(tmp_path, code, words):
    exc = OSError(code, os.strerror(code), str(tmp_path / "reports" / "x.csv"))
    message = publish.os_error_message(exc, "write", tmp_path)
    assert message.startswith("cannot write reports/x.csv: ") and words in message


def test_a_run_while_another_holds_the_lock_is_refused_even_when_up_to_date(tmp_path):
    """No answer from a cache another run is rewriting: the lock is taken before anything is decided."""
    from evalpipe.runner import RunParameters, run_pipeline

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "raw").symlink_to(ROOT / "data" / "raw")
    (project / "reports").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (project / "reports" / ".midterm-2020Q2.lock").write_text(str(holder.pid))
        params = RunParameters("midterm", "2020Q2", "es", "data/raw", "data/processed/midterm-2020Q2",
                               "reports/midterm-2020Q2", ["expectations"])
        before = tree_hashes(project / "reports")
        with pytest.raises(PipelineError, match="another run is writing reports/midterm-2020Q2"):
            run_pipeline(params, project, progress=lambda line: None)
        assert tree_hashes(project / "reports") == before
    finally:
        holder.kill()
        holder.wait()


def test_an_unreadable_drop_file_is_one_message_without_a_traceback(tmp_path, monkeypatch):
    """An operating-system error outside any stage (here reading drop.yaml) ends with one located line."""
    from click.testing import CliRunner

    import pipeline

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(ROOT / "data" / "raw" / "drop.yaml"))

    monkeypatch.setattr("evalpipe.runner.run_pipeline", refuse)
    result = CliRunner().invoke(pipeline.app, ["run"])
    assert result.exit_code == 1
    assert "cannot read or write data/raw/drop.yaml: Permission denied" in result.output
    assert "Traceback" not in result.output
