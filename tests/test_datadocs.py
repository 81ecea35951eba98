"""Great Expectations Data Docs read offline: every script, style, font and image comes from the run folder
(copied from installed PyPI packages), suite pages show parameter values, and headless Chromium with the
network cut renders the index's list of validations with a pass/fail status on each row."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from evalpipe import datadocs, validation
from evalpipe.datadocs import OfflineDocsError

from conftest import ROOT, project_copy

SUITE = {"name": "dates_and_codes", "expectations": [
    {"type": "expect_column_values_to_be_between",
     "kwargs": {"column": "day", "min_value": {"$PARAMETER": "project_start"}, "max_value": {"$PARAMETER": "drop_date"}},
     "meta": {}},
    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "code", "value_set": {"$PARAMETER": "known_codes"}}, "meta": {}},
]}
PARAMETERS = {"project_start": "2017-10-01", "drop_date": "2021-02-15", "known_codes": ["A-17", "B-42"]}
CDN_HEAD = """<head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css" />
<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" integrity="sha384-x" crossorigin="anonymous"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-y" crossorigin="anonymous"></script>
<style>a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') }</style>
</head><body><a href="https://greatexpectations.io">GX</a></body>"""


def _relative_targets(page: Path, text: str) -> list[Path]:
    refs = re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"([^\"#?]+)", text)
    refs += re.findall(r"url\(\s*['\"]?([^'\")#?]+)", text)
    return [page.parent / ref for ref in refs if not ref.startswith(("data:", "http:", "https:", "//"))]


def _assert_offline(site: Path) -> None:
    assert datadocs.external_loads(site) == []
    for path in list(site.rglob("*.html")) + list(site.rglob("*.css")):
        for target in _relative_targets(path, path.read_text(encoding="utf-8")):
            assert target.resolve().is_file(), f"{path.relative_to(site)} refers to missing {target}"


def test_rewrite_points_cdn_loads_at_the_vendored_copies_and_drops_the_rest():
    html = datadocs.rewrite_page(CDN_HEAD, "../../", Path("validations/x.html"))
    assert 'href="../../static/vendor/bootstrap/css/bootstrap.min.css"' in html
    assert 'src="../../static/vendor/bootstrap/js/bootstrap.bundle.min.js"' in html
    assert "popper" not in html and "bootstrap-dark" not in html
    assert "integrity" not in html and "crossorigin" not in html  # the local copy is not the CDN's bytes
    assert "url('../../static/images/logo-long.png')" in html
    assert '<a href="https://greatexpectations.io">' in html  # a link a reader may follow is no load


@pytest.mark.parametrize("snippet", [
    '<script src="https://cdn.example.org/lib.js"></script>',
    '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">',
    '<img src="https://example.org/pixel.png">',
    "<style>@import url('https://example.org/theme.css');</style>",
    '<script>vegaEmbed("#chart", spec);</script>',
])
def test_an_unknown_external_load_stops_the_build(snippet):
    with pytest.raises(OfflineDocsError, match="x.html"):
        datadocs.rewrite_page(snippet, "./", Path("x.html"))


def test_the_scan_finds_external_loads_in_html_css_and_js(tmp_path):
    (tmp_path / "a.html").write_text('<script src="https://cdn.example.org/x.js"></script>', encoding="utf-8")
    (tmp_path / "b.css").write_text("p { background: url(//example.org/x.png) }", encoding="utf-8")
    (tmp_path / "c.js").write_text("/* @import 'https://example.org/y.css'; */", encoding="utf-8")
    (tmp_path / "d.html").write_text('<a href="https://example.org">a link</a>', encoding="utf-8")
    found = datadocs.external_loads(tmp_path)
    assert [line.split(":")[0] for line in found] == ["a.html", "b.css", "c.js"]


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    """Data Docs of one suite with parameters, validated on a table with one bad date and one bad code."""
    site = tmp_path_factory.mktemp("docs") / "data_docs"
    table = pd.DataFrame({"day": pd.to_datetime(["2018-03-01", "2016-01-01", "2020-05-05"]),
                          "code": ["A-17", "B-42", "Z-99"], "source_file": "f.xlsx", "source_sheet": "s",
                          "source_row": [2, 3, 4], "source_column": "C"})
    outcome = validation.run_suite(table, SUITE, PARAMETERS, data_docs_dir=site)
    return site, outcome


def test_suite_pages_show_parameter_values_and_results_stay_right(small_site):
    site, outcome = small_site
    page = (site / "expectations" / "dates_and_codes.html").read_text(encoding="utf-8")
    assert "$PARAMETER" not in page
    for value in ("2017-10-01", "2021-02-15", "A-17", "B-42"):
        assert value in page
    assert not outcome.success
    assert outcome.summary["unexpected_count"].tolist() == [1, 1]
    assert sorted(outcome.problems["found"]) == ["2016-01-01", "Z-99"]


def test_a_site_needs_no_network_and_records_where_each_file_comes_from(small_site):
    site, _ = small_site
    _assert_offline(site)
    record = json.loads((site / "static" / "vendor" / "VENDORED.json").read_text(encoding="utf-8"))
    packages = {f["package"]: f["version"] for f in record["files"].values()}
    assert packages == datadocs.vendored_versions()
    assert {"XStatic-jQuery", "XStatic-Bootstrap", "fontawesomefree"} <= set(packages)
    for target in record["files"]:
        assert (site / "static" / "vendor" / target).stat().st_size > 1000, target
    # Versions the GX templates ask for: jQuery 3.7.1, Bootstrap 4.x, Font Awesome 6.6.0.
    assert "jQuery v3.7.1" in (site / "static/vendor/jquery/jquery.min.js").read_text(encoding="utf-8")[:300]
    assert "Bootstrap v4." in (site / "static/vendor/bootstrap/js/bootstrap.bundle.min.js").read_text(encoding="utf-8")[:300]
    assert "Font Awesome Free 6.6.0" in (site / "static/vendor/fontawesome/css/all.min.css").read_text(encoding="utf-8")[:300]


# --- in a browser, network cut -------------------------------------------------------------------------

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
                None)


def render(page: Path) -> tuple[BeautifulSoup, str]:
    """The DOM of ``page`` after its scripts ran in headless Chromium with no network, and the browser's log."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return BeautifulSoup(result.stdout, "html.parser"), result.stderr


@pytest.fixture(scope="module")
def run_site(tmp_path_factory) -> Path:
    """The Data Docs of one pipeline run on the shipped drop."""
    project = tmp_path_factory.mktemp("project")
    project_copy(project)
    return project / "reports" / "midterm-2020Q2" / "data_docs"


@pytest.mark.slow
def test_a_run_s_data_docs_load_nothing_from_the_web(run_site):
    _assert_offline(run_site)
    for page in run_site.rglob("*.html"):
        assert "$PARAMETER" not in page.read_text(encoding="utf-8"), page


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
def test_offline_browser_lists_every_validation_with_its_status(run_site):
    dom, log = render(run_site / "index.html")
    assert "Uncaught" not in log, log[-2000:]
    suites = sorted(p.name for p in (run_site / "validations").iterdir())
    assert len(suites) == 26
    rows = dom.select("table.ge-index-page-validation-results-table tbody tr")
    assert len(rows) == len(suites)  # the rows exist only if jQuery and the table script ran
    shown = []
    for row in rows:
        cells = row.find_all("td")
        assert cells[0].select("i.ge-success-icon, i.ge-failed-icon"), row  # pass/fail status
        shown.append(cells[-1].get_text(strip=True))
        assert (run_site / row["data-href"]).is_file()
    assert sorted(shown) == suites
    suite_rows = dom.select("table.ge-index-page-expectation_suites-table tbody tr")
    assert sorted(r.get_text(strip=True) for r in suite_rows) == sorted(p.stem for p in (run_site / "expectations").glob("*.html"))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
def test_offline_browser_renders_suite_and_validation_pages(run_site):
    dom, log = render(run_site / "expectations" / "actividades_chs_lima.html")
    assert "Uncaught" not in log, log[-2000:]
    text = dom.get_text(" ", strip=True)
    assert "greater than or equal to 2017-10-01" in text and "PARAMETER" not in text
    page = next((run_site / "validations" / "progress_indicators").rglob("*.html"))
    dom, log = render(page)
    assert "Uncaught" not in log, log[-2000:]
    count = len(validation.load_suite_json(ROOT / "expectations", "progress_indicators")["expectations"])
    text = dom.get_text(" ", strip=True)
    assert "Status: Succeeded" in text and f"Evaluated Expectations {count}" in text
    assert len(dom.select("i.fa-check-circle.text-success")) == count + 1  # the page's status, then each expectation
