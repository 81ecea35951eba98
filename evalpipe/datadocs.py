"""Great Expectations Data Docs that work offline.

GX writes pages that load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and images from CDNs.
:func:`make_offline` rewrites every such load to a copy inside the site (``static/vendor/``), copied from
installed PyPI packages, and drops what the pages never use. ``static/vendor/VENDORED.json`` records
where each copied file comes from (package and version) and which CDN address it replaces.

An external load this module does not know (say, after a GX upgrade) stops the build with
:class:`OfflineDocsError` rather than leaving a page that breaks without network.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import PipelineError

VENDOR = "static/vendor"


class OfflineDocsError(PipelineError):
    """A Data Docs page loads something from the web that has no local copy."""


@dataclass(frozen=True)
class Vendored:
    """One file copied into ``static/vendor/<target>`` from an installed package."""

    target: str
    distribution: str  # the PyPI name, for its version
    module: str  # the importable package holding the file
    path: str  # inside that package


_BOOTSTRAP = "XStatic-Bootstrap"
_FONTAWESOME = "fontawesomefree"
_FA_DIR = "static/fontawesomefree"
FILES = [
    Vendored("jquery/jquery.min.js", "XStatic-jQuery", "xstatic.pkg.jquery", "data/jquery.min.js"),
    Vendored("bootstrap/css/bootstrap.min.css", _BOOTSTRAP, "xstatic.pkg.bootstrap", "data/css/bootstrap.min.css"),
    # Bootstrap's bundle carries Popper 1.x, which the CDN pages load apart.
    Vendored("bootstrap/js/bootstrap.bundle.min.js", _BOOTSTRAP, "xstatic.pkg.bootstrap",
             "data/js/bootstrap.bundle.min.js"),
    Vendored("fontawesome/css/all.min.css", _FONTAWESOME, "fontawesomefree", f"{_FA_DIR}/css/all.min.css"),
    *[Vendored(f"fontawesome/webfonts/{name}", _FONTAWESOME, "fontawesomefree", f"{_FA_DIR}/webfonts/{name}")
      for name in [f"fa-{face}.{ext}" for face in ("brands-400", "regular-400", "solid-900", "v4compatibility")
                   for ext in ("woff2", "ttf")]],
    Vendored("datadocs_table.js", "evalpipe", "evalpipe", "static/datadocs_table.js"),
]

# CDN address (regular expression) -> the vendored file that replaces it, or None: the tag is dropped.
CDN = [
    (r"https://code\.jquery\.com/jquery-3\.[\d.]+(\.min)?\.js", "jquery/jquery.min.js"),
    (r"https://[a-z.]+/bootstrap/4\.[\d.]+/css/bootstrap(\.min)?\.css", "bootstrap/css/bootstrap.min.css"),
    (r"https://[a-z.]+/bootstrap/4\.[\d.]+/js/bootstrap(\.bundle)?(\.min)?\.js", "bootstrap/js/bootstrap.bundle.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/popper\.js/1\.[\d.]+/umd/popper(\.min)?\.js", None),  # in the bundle
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/6\.[\d.]+/css/all(\.min)?\.css",
     "fontawesome/css/all.min.css"),
    # The index's two tables: rendered by evalpipe's stand-in (filters included, so no filter-control
    # extension, datepicker or bootstrap-table stylesheet is needed).
    (r"https://unpkg\.com/bootstrap-table@1\.[\d.]+/dist/bootstrap-table(\.min)?\.js", "datadocs_table.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.[\d.]+/dist/bootstrap-table(\.min)?\.css", None),
    (r"https://unpkg\.com/bootstrap-table@1\.[\d.]+/dist/extensions/filter-control/[\w.-]+\.(js|css)", None),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.[\d.]+/(js|css)/[\w.-]+\.(js|css)", None),
    # A dark theme for readers whose system prefers one: the pages read fine without it.
    (r"https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark@[\d.]+/dist/css/[\w.-]+\.css", None),
    # Vega: only for charts, which no page of these suites draws (checked: a page calling vegaEmbed stops).
    (r"https://cdn\.jsdelivr\.net/npm/vega(-lite|-embed)?@\d+", None),
]
# GX's logo, which the site also carries in static/images/.
LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[\w.-]+\.amazonaws\.com/[\w.-]+\.png(\?[^\"')\s]*)?")
LOCAL_LOGO = "static/images/logo-long.png"

_TAG = re.compile(r"<(script|link)\b[^>]*?\b(src|href)=\"(https?://[^\"]+)\"[^>]*>(\s*</script>)?", re.I)
_IMG = re.compile(r"(<img\b[^>]*?\bsrc=\")(https?://[^\"]+)(\")", re.I)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(https?://[^'\")]+)\1\s*\)", re.I)
_IMPORT = re.compile(r"@import\s+(url\()?\s*['\"]?https?://", re.I)
_LOCAL_STATIC = re.compile(r"(<(?:script|link|img)\b[^>]*?\b(?:src|href)=\")(?:\./|(?:\.\./)+)static/", re.I)
_SRI = re.compile(r"\s+(integrity|crossorigin)=\"[^\"]*\"", re.I)


def _source(item: Vendored) -> Path:
    return Path(str(importlib.resources.files(item.module).joinpath(item.path)))


def vendored_versions() -> dict[str, str]:
    """Version of each package the vendored files come from."""
    return {d: importlib.metadata.version(d) for d in sorted({f.distribution for f in FILES})}


def _copy_vendor(site: Path) -> None:
    versions = vendored_versions()
    for item in FILES:
        target = site / VENDOR / item.target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_source(item), target)
    replaces: dict[str, list[str]] = {}
    for pattern, target in CDN:
        replaces.setdefault(target or "(dropped: not needed offline)", []).append(pattern)
    record = {
        "files": {item.target: {"package": item.distribution, "version": versions[item.distribution],
                                "path_in_package": f"{item.module.replace('.', '/')}/{item.path}",
                                "replaces": replaces.get(item.target, [])} for item in FILES},
        "dropped": replaces.get("(dropped: not needed offline)", []),
        "logo": {"replaces": LOGO.pattern, "with": LOCAL_LOGO},
    }
    (site / VENDOR / "VENDORED.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _replacement(url: str) -> tuple[bool, str | None]:
    """(known, vendored target or None for a dropped load)."""
    for pattern, target in CDN:
        if re.fullmatch(pattern, url):
            return True, target
    return False, None


def _rewrite_css(text: str, prefix: str, where: Path) -> str:
    def url(match: re.Match) -> str:
        if LOGO.fullmatch(match.group(2)):
            return f"url('{prefix}{LOCAL_LOGO}')"
        raise OfflineDocsError(f"{where}: loads {match.group(2)} from the web; expected a local copy")

    if _IMPORT.search(text):
        raise OfflineDocsError(f"{where}: @imports a stylesheet from the web; expected a local copy")
    return _CSS_URL.sub(url, text)


def rewrite_page(html: str, prefix: str, where: Path) -> str:
    """The page with every CDN load pointing at ``<prefix>static/vendor/...`` (``prefix``: the way from
    the page's folder to the site root, such as ``./`` or ``../../../``)."""
    if "vegaEmbed(" in html:
        raise OfflineDocsError(f"{where}: draws a Vega chart, whose library has no local copy")

    def tag(match: re.Match) -> str:
        known, target = _replacement(match.group(3))
        if not known:
            raise OfflineDocsError(f"{where}: loads {match.group(3)} from the web; expected a local copy")
        if target is None:
            return ""
        text = _SRI.sub("", match.group(0))  # the local copy is not byte-identical to the CDN's
        return text.replace(match.group(3), f"{prefix}{VENDOR}/{target}")

    def img(match: re.Match) -> str:
        if LOGO.fullmatch(match.group(2)):
            return f"{match.group(1)}{prefix}{LOCAL_LOGO}{match.group(3)}"
        raise OfflineDocsError(f"{where}: shows the image {match.group(2)} from the web; expected a local copy")

    html = _TAG.sub(tag, html)
    html = _IMG.sub(img, html)
    # GX's own static files: validation pages are one folder deeper than GX counts (its favicon link is broken).
    html = _LOCAL_STATIC.sub(lambda m: f"{m.group(1)}{prefix}static/", html)
    return _rewrite_css(html, prefix, where)


def make_offline(site: Path) -> None:
    """Copy the vendored assets into the Data Docs site ``site`` and point every page at them."""
    site = Path(site)
    if not (site / "index.html").exists():
        return
    _copy_vendor(site)
    for page in sorted(site.rglob("*.html")):
        prefix = os.path.relpath(site, page.parent).replace(os.sep, "/") + "/"  # "./" or "../../../"
        text = page.read_text(encoding="utf-8")
        page.write_text(rewrite_page(text, prefix, page.relative_to(site)), encoding="utf-8")
    for sheet in sorted((site / "static" / "styles").glob("*.css")):
        text = sheet.read_text(encoding="utf-8")
        sheet.write_text(_rewrite_css(text, "../../", sheet.relative_to(site)), encoding="utf-8")


EXTERNAL_LOAD = [
    re.compile(r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*\b(src|href)=[\"']?(https?:)?//", re.I),
    re.compile(r"url\(\s*['\"]?(https?:)?//", re.I),
    re.compile(r"@import\s+(url\()?\s*['\"]?(https?:)?//", re.I),
]


def external_loads(site: Path) -> list[str]:
    """``file: excerpt`` for each load from the web left in the site's HTML, CSS and JS files."""
    found = []
    for path in sorted(Path(site).rglob("*")):
        if path.suffix.lower() not in (".html", ".css", ".js") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in EXTERNAL_LOAD:
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(site)}: {text[match.start():match.end() + 60]!r}")
    return found
