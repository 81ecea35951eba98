"""Text from a drop is text in every page a run writes: markup planted in each place never runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.slow
MARK = "PLANTED"
PAYLOAD = f'<script>alert("{MARK}")</script><img src=x onerror="alert(\'{MARK}\')">'


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


def _plant(raw: Path) -> None:
    drop = raw / "drop.yaml"
    drop.write_text(drop.read_text(encoding="utf-8").replace('drop_id: "midterm-demo"',
                                                             f"drop_id: {json.dumps('demo ' + PAYLOAD)}"),
                    encoding="utf-8")
    ficha = raw / "fichas" / "1.1.1.1.yaml"
    content = yaml.safe_load(ficha.read_text(encoding="utf-8"))
    content["descripcion"] = f"{PAYLOAD} {content['descripcion']}"
    ficha.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    outputs = raw / "lfm" / "outputs.csv"
    text = outputs.read_text(encoding="utf-8")
    outputs.write_text(text.replace("Informe de análisis de casos de trata de NNA.",
                                    f"Informe {PAYLOAD.replace(chr(34), '')}", 1), encoding="utf-8")
    claims = raw / "published_report" / "table1_output_status.csv"
    lines = claims.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    last = len(header) - 1
    cells[last] = f"{cells[last]} {PAYLOAD.replace(chr(34), '')}"
    claims.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    report = raw / "progress_reports" / "Informe_progreso_2019T1.xlsx"
    report.rename(report.with_name("Informe_progreso_2019T1 <b onmouseover=alert(1)>.xlsx"))


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("markup")
    for name in ("notebooks", "expectations", "data/raw"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy(ROOT / "pipeline.py", project / "pipeline.py")
    _plant(project / "data" / "raw")
    result = subprocess.run([sys.executable, "pipeline.py", "run"], cwd=project, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr
    return project / "reports" / "midterm-2020Q2"


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
