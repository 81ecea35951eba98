"""Markup from a drop never runs in a reviewer's browser (issue 17): drop text is escaped where a notebook
renders it, and the notebooks' HTML export sanitises markdown and outputs as a second wall."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from evalpipe import htmlsafe

HOSTILE = ('<script>alert(1)</script><img src=x onerror=alert(1)> <a href="javascript:alert(2)">clic</a> '
           '[link](javascript:alert(3)) ![img](javascript:alert(4)) <iframe src="https://x.example"></iframe> '
           '<svg onload=alert(5)></svg> <div style="background:url(javascript:alert(6))">x</div>')
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "background", "poster")
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001"
    "e221bc330000000049454e44ae426082")).decode()


class Markup(HTMLParser):
    """Every start tag with its attributes, and every script's attributes and content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[tuple, str]] = []
        self._in_script: tuple | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = tuple(sorted((k, v or "") for k, v in attrs))
            self.scripts.append((self._in_script, ""))

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, content = self.scripts[-1]
            self.scripts[-1] = (attrs, content + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def parse(text: str) -> Markup:
    parser = Markup()
    parser.feed(text)
    return parser


def live_markup(page: Markup, own_scripts: set) -> list:
    """Script tags nbconvert does not write itself, event-handler attributes, javascript: URLs, iframes."""
    found = [("script", s) for s in page.scripts if s not in own_scripts]
    for tag, attrs in page.tags:
        found += [(tag, name) for name in attrs if name.lower().startswith("on")]
        found += [(tag, name, value) for name, value in attrs.items() if name in URL_ATTRIBUTES and value
                  and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "vbscript:", "data:text"))]
        found += [(tag, "style", attrs["style"]) for name in attrs if name == "style" and "url(" in attrs["style"]]
        if tag in ("iframe", "object", "embed", "svg"):
            found.append((tag,))
    return found


def hostile_notebook() -> nbformat.NotebookNode:
    frame = pd.DataFrame({"indicador": ["2.1.1.1", HOSTILE], "valor": [6, 0]})
    code = new_code_cell("display(...)", execution_count=1)
    code.outputs = [
        new_output("display_data", data={"text/markdown": f"### 2.1.1.1\n\n{HOSTILE}", "text/plain": "md"}),
        new_output("display_data", data={"text/html": HOSTILE, "text/plain": "html"}),
        new_output("display_data", data={"application/javascript": "alert(7)", "text/plain": "js"}),
        new_output("execute_result", data={"text/html": frame.to_html(), "text/plain": frame.to_string()},
                   execution_count=1),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        new_output("stream", name="stdout", text=HOSTILE),
    ]
    return new_notebook(cells=[new_markdown_cell(f"# 4. Outcome indicators\n\n{HOSTILE}"), code],
                        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


@pytest.fixture(scope="module")
def exporter():
    return htmlsafe.new_html_exporter()


@pytest.fixture(scope="module")
def own_scripts(exporter):
    body, _ = exporter.from_notebook_node(new_notebook(cells=[new_markdown_cell("# empty")]))
    return set(parse(body).scripts)


@pytest.fixture(scope="module")
def exported(exporter):
    body, _ = exporter.from_notebook_node(hostile_notebook())
    return body


def test_installed_nbconvert_has_sanitize_html():
    from nbconvert import HTMLExporter

    assert "sanitize_html" in HTMLExporter.class_trait_names()
    assert htmlsafe.new_html_exporter().sanitize_html is True


def test_exported_notebook_has_no_live_markup(exported, own_scripts):
    assert live_markup(parse(exported), own_scripts) == []
    assert "alert(7)" not in exported  # the JavaScript output is dropped


def test_the_default_exporter_would_publish_it(own_scripts):
    """The wall is needed: nbconvert's default export keeps the planted markup live."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(hostile_notebook())
    assert live_markup(parse(body), own_scripts)


def test_exported_notebook_stays_readable(exported):
    page = parse(exported)
    tags = [tag for tag, _ in page.tags]
    assert "table" in tags and "th" in tags and "td" in tags  # the DataFrame output
    assert any(a.get("class") == "dataframe" for t, a in page.tags if t == "table")
    assert "h1" in tags and "h3" in tags
    assert any(t == "img" and a.get("src", "").startswith("data:image/png;base64,") for t, a in page.tags)
    assert "clic" in exported  # the text of a removed link stays as text
    assert "2.1.1.1" in exported


@pytest.mark.parametrize("text", [HOSTILE, "**bold** _it_ `code` | a | b |\n# heading",
                                  "a & b < c > d \"q\" 'q' &amp; &#x27;", "see https://x.example or www.x.org"])
def test_escaped_text_renders_as_the_same_characters(text):
    import html

    from nbconvert.filters.markdown import markdown2html

    rendered = markdown2html(htmlsafe.escape_markdown(text))
    assert [t for t, _ in parse(rendered).tags] == ["p"]  # one paragraph of text: no tag, link, image, heading
    shown = html.unescape(rendered.replace("<p>", "").replace("</p>", ""))
    assert " ".join(shown.split()) == " ".join(text.split())


def test_markdown_template_escapes_values_only():
    out = htmlsafe.markdown("**Data drop:** {drop_id} — {n} rows", drop_id="<script>x</script>[a](b)", n=3)
    assert out.startswith("**Data drop:** &lt;script&gt;") and "\\[a\\]\\(b\\)" in out and out.endswith("3 rows")


def test_a_ficha_rendered_for_notebook_04_shows_planted_markup_as_text(own_scripts):
    from nbconvert.filters.markdown import markdown2html

    from evalpipe.fichas import Ficha
    from evalpipe.methods import Result
    from evalpipe.outcomes import ficha_markdown

    fields = {"descripcion": HOSTILE, "origen": "annex_14", "fuente": HOSTILE,
              "metodo_de_calculo": {"numerador": HOSTILE, "denominador": "[x](javascript:alert(8))",
                                    "formula_sin_etiquetas": "<b onmouseover=alert(9)>f</b>", "reglas": [HOSTILE]}}
    ficha = Ficha("2.1.1.1", "fichas/2.1.1.1.yaml", fields, {"method": "count", "source": "x"}, 0.0, 10.0)
    row = {"reference_period": HOSTILE, "current": 6.0, "value_note": "", "reason": HOSTILE, "status": "in_progress",
           "n": 6, "n_excluded": 0}
    rendered = markdown2html(ficha_markdown(ficha, row, Result(6.0, reason=HOSTILE)))
    page = parse(rendered)
    assert live_markup(page, own_scripts) == []
    assert not {"img", "iframe", "script", "b", "div", "svg"} & {t for t, _ in page.tags}
    assert all(a.get("href", "").startswith("#") for t, a in page.tags if t == "a")  # heading anchors only
    assert "<script>alert(1)</script>" in __import__("html").unescape(rendered)  # shown as text
