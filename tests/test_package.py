"""The reviewer's package and the archive: index.html links that resolve; one workbook sheet per table
(words, names and formats: test_workbook.py); a BagIt 1.0 bag (valid for bagit and bagit-utils, without the stage cache or
dotfiles) with an RO-Crate 1.1 that roc-validator passes offline against the RO-Crate 1.1 and Process Run
Crate 0.5 profiles, that fails on one changed payload byte, and is byte-identical when made twice from the
same run."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import bagit
import bagit_utils
import openpyxl
import pytest

from evalpipe import annex, archive, figures, reviewer
from evalpipe.drop import load_drop
from evalpipe.errors import InputError
from evalpipe.labels import workbook_words
from evalpipe.microdata import load_sources, read_source
from evalpipe.runfolder import TABLES

import rocrate_offline
from conftest import RAW, published_copy, write_finance


@pytest.fixture(autouse=True)
def _dated_by_the_drop(monkeypatch):
    """Dates come from the data drop unless SOURCE_DATE_EPOCH is set; these tests expect the drop's."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_project):
    """A run folder with figures, the annex, the workbook and index.html, as the last stage leaves it."""
    run_dir, processed = published_copy(tmp_path_factory.mktemp("package"))  # the shared run, without finance
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


def test_index_links_every_executed_notebook_with_what_it_shows(run, tmp_path):
    """The annex notebook writes index.html while it runs, before its own HTML exists: it is linked all the
    same, and every notebook has its one-line description in the run's language."""
    from evalpipe import i18n
    from evalpipe.stages import STAGES

    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    for stage in STAGES:  # every stage ran; the annex notebook is still running (no HTML yet)
        (copy / "notebooks" / stage.notebook).write_text("{}\n", encoding="utf-8")
        if stage.name != "annex":
            (copy / "notebooks" / stage.notebook.replace(".ipynb", ".html")).write_text("<html></html>\n")
    (copy / "notebooks" / "08_annex.html").unlink(missing_ok=True)  # the shared run's, written after index.html
    for lang in ("es", "en"):
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["parameters"]["lang"] = lang
        page = reviewer.write_index_html(copy, manifest=manifest).read_text(encoding="utf-8")
        items = re.findall(r'<li><a href="(notebooks/[^"]+)">[^<]*</a> — ([^<]+)</li>', page)
        stems = [stage.notebook.removesuffix(".ipynb") for stage in STAGES]
        assert [href for href, _ in items] == [f"notebooks/{stem}.html" for stem in stems]
        assert [html.unescape(text) for _, text in items] == [i18n.t(f"index.notebook.{stem}", lang) for stem in stems]
    (copy / "notebooks" / "08_annex.ipynb").unlink()  # a notebook the run did not execute is not listed
    assert "08_annex" not in reviewer.write_index_html(copy).read_text(encoding="utf-8")


def test_workbook_has_an_about_sheet_and_one_sheet_per_table_finance_only_when_present(run, tmp_path):
    """What each sheet shows is tested in test_workbook.py; here: which sheets a run with and without the
    finance tables gets."""
    workbook = openpyxl.load_workbook(run / reviewer.WORKBOOK)
    words = workbook_words("es")
    assert workbook.sheetnames == [words["sheet_about"]] + [words[f"sheet_{s.key}"] for s in reviewer.SHEETS]
    assert len(list(workbook[words["sheet_output_indicators"]].iter_rows(min_row=2))) == 48
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    write_finance(copy)
    reviewer.write_workbook(copy)
    workbook = openpyxl.load_workbook(copy / reviewer.WORKBOOK)
    assert workbook.sheetnames[len(TABLES) + 1:] == [words[f"sheet_{s.key}"] for s in reviewer.FINANCE_SHEETS]


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
def cached_run(run, tmp_path_factory):
    """The run folder as the runner leaves it: with its stage cache (.cache/) and stray dotfiles."""
    copy = tmp_path_factory.mktemp("cached") / run.name
    shutil.copytree(run, copy)
    (copy / ".cache").mkdir()
    (copy / ".cache" / "clean.json").write_text('{"key": "0123"}\n', encoding="utf-8")
    (copy / "tables" / ".~lock.output_indicators.csv#").write_text("lock\n", encoding="utf-8")
    (copy / "~$annex_tables.xlsx").write_bytes(b"owner")
    return copy


@pytest.fixture(scope="module")
def bag(cached_run, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        return archive.archive_run(cached_run, tmp_path_factory.mktemp("archive"))


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
    applications = [e for e in graph.values() if e.get("@type") == "SoftwareApplication"]
    software = {e["name"]: e["version"] for e in applications}
    assert software["pandas"] == manifest["software"]["pandas"] and "evalpipe" in software
    # Process Run Crate: a url and one version (not also softwareVersion) on every application.
    assert all(e.get("url") and "softwareVersion" not in e for e in applications)
    assert graph["https://pypi.org/project/pandas/" + manifest["software"]["pandas"] + "/"]["name"] == "pandas"
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


def test_two_archives_of_the_same_run_are_byte_identical(cached_run, bag, tmp_path):
    again = archive.archive_run(cached_run, tmp_path / "again")
    assert _tree(again) == _tree(bag)


def test_the_crate_declares_ro_crate_1_1_and_the_process_run_crate_profile_it_extends(bag):
    crate = json.loads((bag / "data" / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    assert crate["@context"][0] == "https://w3id.org/ro/crate/1.1/context"
    assert graph["ro-crate-metadata.json"]["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    assert graph["./"]["conformsTo"] == {"@id": archive.PROCESS_RUN_PROFILE}
    profile = graph[archive.PROCESS_RUN_PROFILE]
    assert profile["@type"] == "CreativeWork" and profile["version"] == "0.5"
    # Every term the graph uses is defined by the 1.1 context or the crate's own additions (sha256).
    assert crate["@context"][1] == archive.EXTRA_TERMS


def test_the_crate_names_licence_author_publisher_and_the_run_s_agent_and_end(run, bag):
    crate = json.loads((bag / "data" / "ro-crate-metadata.json").read_text(encoding="utf-8"))
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    manifest = json.loads((run / "manifest.json").read_text())
    drop = load_drop(RAW)
    root = graph["./"]
    licence = graph[root["license"]["@id"]]
    assert root["license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    assert licence["identifier"] == drop.license == "CC-BY-4.0" and licence["@type"] == "CreativeWork"
    author = graph[root["author"]["@id"]]
    publisher = graph[root["publisher"]["@id"]]
    assert (author["@type"], author["name"]) == ("Organization", drop.custodian)
    assert author["@id"] == drop.custodian_url
    assert (publisher["@type"], publisher["name"]) == ("Organization", "ILO Evaluation Office (EVAL)")
    action = next(e for e in graph.values() if e.get("@type") == "CreateAction")
    assert graph[action["instrument"]["@id"]]["name"] == "evalpipe"
    assert action["agent"] == {"@id": publisher["@id"]}
    assert action["endTime"] == f"{manifest['data_drop']['drop_date']}T00:00:00+00:00"
    assert root["mentions"] == {"@id": action["@id"]}


@pytest.mark.parametrize("profile", rocrate_offline.PROFILES)
def test_roc_validator_passes_the_crate_at_required_level_with_no_network(bag, profile, tmp_path):
    code, printed, report = rocrate_offline.validate_offline(bag / "data", profile, tmp_path)
    assert code == 0, printed
    assert report["passed"] and not report["issues"], report["issues"]
    statistics = report["statistics"]
    # Every check ran: with the context missing from the cache they would be skipped, not passed.
    assert statistics["total_checks"] > 30 and statistics["total_skipped_checks"] == 0
    assert statistics["total_passed_checks"] == statistics["total_checks"]
    assert profile in statistics["profiles"] and "ro-crate-1.1" in statistics["profiles"]


def test_roc_validator_offline_fails_without_the_shipped_context(bag, tmp_path, monkeypatch):
    """The offline set-up is what makes the validation pass: with an empty cache the same run fails."""
    monkeypatch.setattr(rocrate_offline, "CONTEXTS", {})
    code, printed, report = rocrate_offline.validate_offline(bag / "data", "ro-crate-1.1", tmp_path)
    assert code != 0 and not report["passed"]
    assert "ro/crate/1.1/context" in json.dumps(report["issues"])


def test_the_bag_is_bagit_1_0_and_validates_with_bagit_and_bagit_utils(bag):
    assert (bag / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    loaded = bagit.Bag(str(bag))
    assert loaded.version_info == (1, 0)
    loaded.validate(processes=1, fast=False)
    report = bagit_utils.Bag(bag, load=True).validate()
    assert report.valid and not report.issues, str(report)
    tags = sorted(line.split("  ", 1)[1] for line in (bag / "tagmanifest-sha256.txt").read_text().splitlines())
    assert tags == ["bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"]


def test_no_cache_lock_or_dot_file_reaches_the_payload(cached_run, bag):
    payload = _tree(bag / "data")
    assert (cached_run / ".cache" / "clean.json").is_file()
    assert not [p for p in payload if any(part.startswith((".", "~$")) for part in p.split("/"))]
    manifests = (bag / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert ".cache" not in manifests and ".~lock" not in manifests and "~$" not in manifests
    crate = (bag / "data" / "ro-crate-metadata.json").read_text(encoding="utf-8")
    assert ".cache" not in crate and "~$" not in crate


def test_the_drop_names_custodian_publisher_and_licence_with_defaults(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "drop.yaml").write_text('drop_id: "x"\ndata_origin: real\ndrop_date: "2024-01-31"\n', encoding="utf-8")
    drop = load_drop(raw)
    assert (drop.publisher, drop.license) == ("ILO Evaluation Office (EVAL)", "CC-BY-4.0")
    assert drop.custodian == "Custodian of the data drop x"
    (raw / "drop.yaml").write_text('drop_id: "x"\ndata_origin: real\ndrop_date: "2024-01-31"\n'
                                   "publisher: [a, b]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"drop.yaml.*publisher.*one line of text"):
        load_drop(raw)


def test_the_archive_refuses_to_write_inside_the_run_folder(run):
    with pytest.raises(archive.ArchiveError, match="inside the run folder"):
        archive.archive_run(run, run / "archive")
