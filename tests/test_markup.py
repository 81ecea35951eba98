"""Text from a drop is text in every page a run writes: markup planted in each place never runs."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

import conftest
from conftest import MARK

pytestmark = pytest.mark.slow


class LiveMarkup(HTMLParser):
    """Collects scripts whose code mentions the planted mark and elements with the planted handler."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
        for name, value in attrs:
            if name.startswith("on") and MARK in (value or ""):
                self.found.append(f"<{tag} {name}=...>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.found.append("<script> with the planted code")


@pytest.fixture(scope="module")
def planted_run() -> Path:
    """The session's run of the shipped drop with markup planted in each place (conftest.plant_markup; direct
    identifiers are planted in the same run for tests/test_reliability.py)."""
    return conftest.planted_run()[0] / "reports" / "midterm-2020Q2"


def test_the_planted_text_reaches_the_pages_as_text(planted_run):
    notebook = (planted_run / "notebooks" / "01_clean.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert" in notebook  # shown to the reviewer, as text
    ficha = (planted_run / "notebooks" / "04_outcome_indicators.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert" in ficha


def test_no_published_page_runs_markup_from_the_drop(planted_run):
    pages = sorted(planted_run.rglob("*.html"))
    assert len(pages) > 30  # notebooks, index, Data Docs
    found = {}
    for page in pages:
        parser = LiveMarkup()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        if parser.found:
            found[str(page.relative_to(planted_run))] = parser.found
    assert found == {}


def test_no_notebook_page_loads_anything_from_the_web(planted_run):
    from evalpipe.datadocs import external_loads

    assert external_loads(planted_run / "notebooks") == []
    assert external_loads(planted_run) == []
