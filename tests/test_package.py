"""The reviewer's package and the archive: index.html links that resolve; one workbook sheet per table
with formulas neutralised; a BagIt bag with an RO-Crate that validates, fails on one changed payload
byte, and is byte-identical when made twice from the same run."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pandas as pd
import pytest

from evalpipe import annex, archive, figures, reviewer
from evalpipe.microdata import load_sources, read_source
from evalpipe.runfolder import FINANCE_TABLES, TABLES

from published_run import RAW, build_run, write_finance


@pytest.fixture(autouse=True)
def _dated_by_the_drop(monkeypatch):
    """Dates come from the data drop unless SOURCE_DATE_EPOCH is set; these tests expect the drop's."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder with figures, the annex, the workbook and index.html, as the last stage leaves it."""
    run_dir, processed = build_run(tmp_path_factory.mktemp("package"))
    figures.make_all_figures(run_dir, processed, "es")
    annex.build_annex(run_dir, RAW, "es")
    reviewer.write_workbook(run_dir)
    reviewer.write_index_html(run_dir)
    return run_dir


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src"):
                self.targets.append(value)


def _links(path: Path) -> list[str]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.targets


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_index_links_resolve_and_cover_notebooks_data_docs_tables_figures_and_the_annex(run):
    targets = _links(run / "index.html")
    missing = [t for t in targets if not (run / unquote(t)).is_file()]
    assert targets and not missing, missing
    for expected in ("annex.pdf", "notebooks/01_clean.html", "data_docs/index.html", "tables/output_indicators.csv",
                     "validation/summary.csv", "figures/output_progress.png", "figures/output_progress.svg",
                     reviewer.WORKBOOK, "manifest.json"):
        assert expected in targets, expected
    assert "validation/problems.csv" not in targets  # record-level diagnostics are not handed to reviewers
    assert all(not re.match(r"^[a-z]+:|^/", t) for t in targets)  # relative links: the folder can move


def test_index_says_the_data_are_synthetic(run):
    page = (run / "index.html").read_text(encoding="utf-8")
    assert "DATOS SINTÉTICOS DE DEMOSTRACIÓN" in page and '<html lang="es">' in page


def test_index_of_an_english_run_is_in_english(run, tmp_path):
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["parameters"]["lang"] = "en"
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    page = reviewer.write_index_html(copy).read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Executed notebooks" in page and "SYNTHETIC DEMONSTRATION DATA" in page


def test_workbook_has_one_sheet_per_table_with_numbers_as_numbers(run):
    workbook = openpyxl.load_workbook(run / reviewer.WORKBOOK)
    assert workbook.sheetnames == list(TABLES)
    sheet = workbook["output_indicators"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["output_id", "indicator_id", "unit"] and "status_label" in header
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 48
    first = dict(zip(header, rows[0]))
    assert first["indicator_id"] == "1.1.1.1" and isinstance(first["target"], (int, float))
    assert first["status_label"] == "Meta alcanzada"
    counts = [row[2] for row in workbook["outcome_exclusions"].iter_rows(min_row=2, values_only=True)]
    assert "<5" in counts  # suppressed as published, not turned into a number or a blank
    assert all(isinstance(n, (int, float)) for n in counts if n != "<5")


def test_workbook_neutralises_formulas_and_includes_finance_tables_when_present(run, tmp_path):
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    audit_path = copy / TABLES["consistency_audit"].path
    audit = pd.read_csv(audit_path, dtype=str, keep_default_na=False)
    audit.loc[0, "note"] = '=HYPERLINK("http://example.org","x")'
    audit.loc[1, "note"] = "@SUM(A1:A2)"
    audit.to_csv(audit_path, index=False, lineterminator="\n")
    write_finance(copy)
    reviewer.write_workbook(copy)
    workbook = openpyxl.load_workbook(copy / reviewer.WORKBOOK)
    assert workbook.sheetnames == list(TABLES) + list(FINANCE_TABLES)
    sheet = workbook["consistency_audit"]
    column = [c.value for c in sheet[1]].index("note") + 1
    cells = [sheet.cell(row=2, column=column), sheet.cell(row=3, column=column)]
    assert [c.value for c in cells] == ["'=HYPERLINK(\"http://example.org\",\"x\")", "'@SUM(A1:A2)"]
    assert all(c.data_type == "s" for c in cells)


def test_workbook_and_index_are_byte_identical_when_rebuilt(run, tmp_path):
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    reviewer.write_workbook(copy)
    reviewer.write_index_html(copy)
    assert (copy / reviewer.WORKBOOK).read_bytes() == (run / reviewer.WORKBOOK).read_bytes()
    assert (copy / "index.html").read_bytes() == (run / "index.html").read_bytes()


def test_no_identifier_of_a_microdata_row_reaches_the_workbook_or_the_index(run):
    identifiers = set()
    for source in load_sources(RAW).values():
        table = read_source(RAW, source).table
        for column in (c.name for c in source.columns if c.type == "id"):
            identifiers |= {str(v) for v in table[column].dropna() if len(str(v)) >= 4}
    workbook = openpyxl.load_workbook(run / reviewer.WORKBOOK)
    cells = {str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row if c is not None}
    page = (run / "index.html").read_text(encoding="utf-8")
    assert not identifiers & cells
    assert not [v for v in identifiers if v in page]


@pytest.fixture(scope="module")
def bag(run, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        return archive.archive_run(run, tmp_path_factory.mktemp("archive"))


def test_the_bag_validates_fully_and_holds_the_run_and_an_ro_crate(run, bag):
    archive.validate_bag(bag)
    payload = bag / "data"
    assert _tree(run).keys() <= _tree(payload).keys()
    assert (payload / "ro-crate-metadata.json").is_file()
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    drop_date = json.loads((run / "manifest.json").read_text())["data_drop"]["drop_date"]
    assert f"Bagging-Date: {drop_date}" in info and "External-Identifier: midterm-2020Q2" in info


def test_the_crate_describes_inputs_parameters_outputs_and_software(run, bag):
    crate = json.loads((bag / "data" / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    manifest = json.loads((run / "manifest.json").read_text())
    root = graph["./"]
    assert root["datePublished"] == manifest["data_drop"]["drop_date"]
    inputs = [e for e in graph.values() if e["@id"].startswith("#input:")]
    assert {e["name"]: e["sha256"] for e in inputs} == manifest["inputs_sha256"]
    parameters = {e["name"]: e["value"] for e in graph.values() if e.get("@type") == "PropertyValue"}
    assert parameters["cutoff"] == "2020Q2" and parameters["evaluation"] == "midterm"
    software = {e["name"]: e["softwareVersion"] for e in graph.values() if e.get("@type") == "SoftwareApplication"}
    assert software["pandas"] == manifest["software"]["pandas"] and "evalpipe" in software
    action = next(e for e in graph.values() if e.get("@type") == "CreateAction")
    results = {r["@id"] for r in action["result"]}
    assert {"annex.pdf", "tables/output_indicators.csv", "figures/status_counts.svg"} <= results
    assert {o["@id"] for o in action["object"]} >= {e["@id"] for e in inputs}
    assert graph["annex.pdf"]["encodingFormat"] == "application/pdf"


def test_the_bag_fails_validation_when_one_payload_byte_changes(bag, tmp_path):
    copy = tmp_path / "bag"
    shutil.copytree(bag, copy)
    target = copy / "data" / "tables" / "output_indicators.csv"
    data = bytearray(target.read_bytes())
    data[40] = ord("9") if data[40] != ord("9") else ord("8")
    target.write_bytes(bytes(data))
    with pytest.raises(archive.ArchiveError, match="output_indicators.csv"):
        archive.validate_bag(copy)


def test_two_archives_of_the_same_run_are_byte_identical(run, bag, tmp_path):
    again = archive.archive_run(run, tmp_path / "again")
    assert _tree(again) == _tree(bag)


def test_the_archive_refuses_to_write_inside_the_run_folder(run):
    with pytest.raises(archive.ArchiveError, match="inside the run folder"):
        archive.archive_run(run, run / "archive")
