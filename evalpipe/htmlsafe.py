"""Text from a data drop is text in every page a run writes (issue 17).

Two walls against markup planted in a drop (a ficha's ``descripcion``, a name in the LFM, ``drop_id``...):

1. where a notebook renders drop text, it escapes it: ``escape_markdown`` (or ``markdown(template, **values)``)
   makes a value render as the characters it holds, never as HTML or as a markdown link or image;
2. the notebooks' HTML is exported with ``new_html_exporter()``: nbconvert's ``sanitize_html`` with an
   allow-list that keeps what a reviewer reads (headings, paragraphs, lists, tables, code, PNG/JPEG/SVG images
   as data) and drops scripts, event handlers, ``javascript:`` links, iframes, forms and styles.
"""

from __future__ import annotations

import html
import re

# Markdown punctuation that would make text a link, an image, emphasis, code, a table cell or a heading.
# (&, < and > are escaped as HTML entities, which markdown renders as the characters.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre",
    "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "tt", "u", "ul", "var",
})
_COMMON_ATTRIBUTES = ("class", "id", "title", "lang", "dir")
ALLOWED_ATTRIBUTES = {
    "*": list(_COMMON_ATTRIBUTES),
    "a": [*_COMMON_ATTRIBUTES, "href", "name"],
    "img": [*_COMMON_ATTRIBUTES, "src", "alt", "width", "height"],
    "table": [*_COMMON_ATTRIBUTES, "border"],
    "th": [*_COMMON_ATTRIBUTES, "colspan", "rowspan", "align", "valign", "scope"],
    "td": [*_COMMON_ATTRIBUTES, "colspan", "rowspan", "align", "valign"],
    "col": [*_COMMON_ATTRIBUTES, "span"], "colgroup": [*_COMMON_ATTRIBUTES, "span"],
    "ol": [*_COMMON_ATTRIBUTES, "start"],
}
# Links: the web, mail, anchors and relative paths (the run folder's own files). Images inside HTML
# fragments: relative paths only (no fetch from the web; the notebooks' own PNG/SVG outputs are embedded by
# nbconvert's template, not through this filter).
LINK_PROTOCOLS = ("http", "https", "mailto")
_HAS_SCHEME = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9+.\-]*:|//)")
# Whole elements whose content is not text for a reader: removed with their content before the sanitiser runs
# (the sanitiser would otherwise keep the CSS or the script as visible text; it remains the security boundary).
_DROP_WITH_CONTENT = re.compile(r"<(script|style|iframe|object|embed|template|noscript|textarea|title)\b.*?"
                                r"(</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)


def escape_markdown(text: object) -> str:
    """``text`` as it should read, for a Markdown/HTML display: no tag, link, image or emphasis survives."""
    if text is None:
        return ""
    value = html.escape(str(text), quote=False)  # quotes are text outside attributes (markdown keeps them)
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return value.replace("://", "\\://").replace("www.", "www\\.")  # no automatic link


def markdown(template: str, **values: object) -> str:
    """``template.format(**values)`` with every value escaped (the template itself is the notebook's own)."""
    return template.format(**{name: escape_markdown(value) for name, value in values.items()})


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    """Images inside HTML fragments load relative paths only (no scheme: no web, no ``data:``)."""
    if tag == "img" and name == "src" and _HAS_SCHEME.match(value):
        return None
    return value


_NH3_ATTRIBUTES = {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}


def clean_html(fragment: object) -> str:
    """A fragment of HTML reduced to the allow-list above (nbconvert's ``clean_html`` filter, stricter on
    links and images and richer in readable tags).

    The sanitiser is nh3 (the Rust ammonia library, what PyPI uses since bleach was deprecated): a browser-grade
    HTML parser, about 50 times faster than bleach on a notebook's tables."""
    import nh3

    text = fragment.decode("utf-8") if isinstance(fragment, bytes) else str(fragment)
    text = _DROP_WITH_CONTENT.sub("", text)
    return nh3.clean(text, tags=set(ALLOWED_TAGS), attributes=_NH3_ATTRIBUTES, attribute_filter=_attribute_filter,
                     url_schemes=set(LINK_PROTOCOLS), strip_comments=True, link_rel=None)


def new_html_exporter():
    """An nbconvert HTMLExporter whose markdown cells and outputs are sanitised (``sanitize_html``).

    Kept: headings, text, lists, tables (pandas DataFrames), code and text outputs, PNG/JPEG images and SVG
    figures (embedded by the template as ``<img src="data:...">``, where no script runs). Removed: script,
    style, iframe, form elements, event-handler attributes, ``javascript:``/``data:`` links, JavaScript outputs.
    """
    from nbconvert import HTMLExporter

    return HTMLExporter(sanitize_html=True, skip_svg_encoding=False, filters={"clean_html": clean_html})


_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>\s*", re.I)


def offline(page: str) -> str:
    """The exported page without the scripts nbconvert's template loads from the web (require.js, MathJax):
    our notebooks need neither (no widgets, no formulas typeset), and an archived page must read offline."""
    return _EXTERNAL_SCRIPT.sub("", page)
