"""The executed notebooks and index.html speak the run's language (issue 11): a Spanish run and an English run of
the shipped drop are read back as a reviewer sees them (markdown cells and outputs, not code) and scanned:

* no English in the Spanish ones: none of the catalog's English texts, none of a list of English function
  words, outside the data's own texts (file names, quotations of the report);
* no Spanish in the English ones outside what exists only in Spanish: the logframe's names without an English
  name, the fichas' text, the data's file names and texts;
* no status code shown as such, no NaN and no text cut with "..." by pandas.

The annex PDF and the workbook are scanned the same way in tests/test_annex_language.py."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from conftest import english_run
from evalpipe import i18n

pytestmark = pytest.mark.slow

STATUS_CODES = ("achieved", "in_progress", "no_progress", "not_measured", "in_progress_at_risk", "not_delivered",
                "scheduled_after_cutoff", "not_applicable", "carried_forward", "missing_quarter", "hidden_sheet")
ENGLISH_WORDS = ("the", "of", "and", "is", "are", "which", "with", "from", "each", "every", "been", "was")
SPANISH_WORDS = ("el", "los", "las", "del", "para", "una", "según", "está", "están", "que", "sin", "entre")
QUOTATION = re.compile(r"«[^»]*»")
PATH = re.compile(r"[\w.()-]*(?:/[\w. ()-]+)+\.\w+|[\w. ()-]+\.(?:csv|json|yaml|yml|xlsx|svg|png|pdf|ipynb|typ)\b|"
                   r"[\w.-]*(?:/[\w.<>-]+)+/?")


@pytest.fixture(scope="module")
def runs() -> dict[str, Path]:
    """The session's English run (conftest.english_run: `pipeline.py run --lang en` in a copy of the shared
    Spanish run), read only."""
    project, _ = english_run()
    return {"es": project / "reports" / "midterm-2020Q2", "en": project / "reports" / "midterm-2020Q2-en",
            "project": project}


def _text_of_html(markup: str) -> str:
    markup = re.sub(r"<(style|script)\b[^>]*>.*?</\1>", " ", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def _reviewer_text(notebook: Path) -> str:
    """What a reviewer reads in an executed notebook: markdown cells and outputs (the code is code)."""
    nb = nbformat.read(notebook, as_version=4)
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            data = output.get("data", {})
            if "text/html" in data:
                parts.append(_text_of_html(data["text/html"]))
            elif "text/markdown" in data:  # markdown escapes undone, so the fichas' text is found as written
                parts.append(re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", data["text/markdown"]))
            elif "text/plain" in data:
                parts.append(data["text/plain"])
            if output.get("output_type") == "error":
                parts.append(output.get("evalue", ""))
    return "\n".join(parts)


def _spanish_only_texts(project: Path) -> list[str]:
    """Texts that exist only in Spanish: logframe names without an English one, every string of the fichas,
    names and texts of the data (file names, sheet texts)."""
    texts: list[str] = []
    lfm = project / "data" / "raw" / "lfm"
    for path in lfm.glob("*.csv"):
        table = pd.read_csv(path, dtype=str).fillna("")
        for column in table.columns:
            if column.startswith("name") or column in ("description", "unit", "note", "source", "basis"):
                texts += [v for v in table[column] if v]
    for path in (project / "data" / "raw" / "fichas").glob("*.yaml"):
        def strings(node):
            if isinstance(node, str):
                yield node
            elif isinstance(node, dict):
                for value in node.values():
                    yield from strings(value)
            elif isinstance(node, list):
                for value in node:
                    yield from strings(value)
        texts += list(strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
    sources = yaml.safe_load((project / "data" / "raw" / "microdata" / "sources.yaml").read_text(encoding="utf-8"))
    texts += [str(v) for v in _leaves(sources)]
    from evalpipe.finance_read import load_finance
    from evalpipe.lfm import load_logframe
    from evalpipe.quarters import parse_quarter

    data = load_finance(project / "data" / "raw", load_logframe(lfm), parse_quarter("2020Q2"), project)
    texts += [v for v in data.inventory["period_text"] if v]  # the financial reports' own period cells
    return sorted({t.strip() for t in texts if t and len(t.strip()) > 2}, key=len, reverse=True)


def _leaves(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    elif node is not None:
        yield node


def _without(text: str, strings) -> str:
    text = re.sub(r"\s+", " ", text)
    for s in strings:
        text = text.replace(re.sub(r"\s+", " ", s), " ")
    return PATH.sub(" ", QUOTATION.sub(" ", text))


def _hits(text: str, words) -> list[str]:
    found = []
    for word in words:
        for match in re.finditer(rf"(?<![\w/.-]){re.escape(word)}(?![\w/.-])", text):
            found.append(text[max(0, match.start() - 60):match.end() + 60])
            break
    return found


def _pages(run_dir: Path) -> dict[str, str]:
    pages = {path.name: _reviewer_text(path) for path in sorted((run_dir / "notebooks").glob("*.ipynb"))}
    pages["index.html"] = _text_of_html((run_dir / "index.html").read_text(encoding="utf-8"))
    return pages


def _catalog_english() -> list[str]:
    """The catalog's English texts that differ from their Spanish ones, without placeholders (long enough to be
    prose)."""
    texts = []
    for key in i18n.keys("en"):
        english, spanish = i18n.t(key, "en"), i18n.t(key, "es")
        if english == spanish:
            continue
        for piece in re.split(r"\{[^}]*\}", english):
            if len(piece.strip()) >= 25:
                texts.append(piece.strip())
    return texts


def _published_texts(project: Path) -> list[str]:
    """What the report printed, as extracted into the drop (the audit shows it as published, in English where the
    report is English)."""
    texts = []
    for path in (project / "data" / "raw" / "published_report").glob("*.csv"):
        table = pd.read_csv(path, dtype=str).fillna("")
        for column in table.columns:
            texts += [v for v in table[column] if len(v) > 2]
    return sorted(set(texts), key=len, reverse=True)


def test_the_spanish_notebooks_and_index_have_no_english(runs):
    english = _catalog_english()
    published = _published_texts(runs["project"])
    problems = {}
    for name, text in _pages(runs["es"]).items():
        plain = _without(text, published)
        found = _hits(plain, ENGLISH_WORDS) + [e for e in english if e in plain]
        if found:
            problems[name] = found[:5]
    assert not problems, problems


def test_the_english_notebooks_and_index_have_no_spanish_outside_names_fichas_and_data(runs):
    spanish_only = _spanish_only_texts(runs["project"])
    problems = {}
    for name, text in _pages(runs["en"]).items():
        found = _hits(_without(text, spanish_only), SPANISH_WORDS)
        if found:
            problems[name] = found[:5]
    assert not problems, problems


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_status_code_nan_or_cut_text_reaches_a_reviewer(runs, lang):
    problems = {}
    for name, text in _pages(runs[lang]).items():
        plain = re.sub(r"`[^`]*`", " ", _without(text, []))  # a code named as code (`achieved`) is not prose
        found = _hits(plain, STATUS_CODES) + _hits(plain, ("NaN", "nan", "None"))
        found += [plain[max(0, m.start() - 60):m.end() + 10] for m in re.finditer(r"\w\.\.\.(?!\S)", plain)]
        if found:
            problems[name] = found[:5]
    assert not problems, problems


def test_every_notebook_is_linked_from_the_index_with_what_it_shows(runs):
    for lang in ("es", "en"):
        index = (runs[lang] / "index.html").read_text(encoding="utf-8")
        for notebook in sorted((runs[lang] / "notebooks").glob("*.ipynb")):
            assert f'href="notebooks/{notebook.stem}.html"' in index, (lang, notebook.stem)
            assert _text_of_html(i18n.t(f"index.notebook.{notebook.stem}", lang)).strip() in _text_of_html(index)
