"""One translation catalog for every human text the pipeline writes (Babel / gettext ``.po`` catalogs).

The catalog is ``evalpipe/locale/<lang>/LC_MESSAGES/evalpipe.po``, one file per language, read with Babel
(``babel.messages.pofile``); no compiled ``.mo`` is needed.

Two kinds of message live in it:

* **Keyed texts** written by the package (labels, annex text, the index page, figure captions, validation
  descriptions, audit rules and notes): the msgid is a stable dotted key (``status.achieved``,
  ``annex.title``) and *every* language has a msgstr. ``t(key, lang, **fields)`` returns it with its
  ``{placeholders}`` filled in; ``view(prefix, lang)`` gives one group as a read-only mapping. The key's first
  part says where the text appears: ``annex.`` (the PDF annex; ``annex.finance_codes.`` names the finance
  tables' codes), ``banner.`` (the synthetic-data warning), ``evaluation.`` and ``status.`` (labels of codes),
  ``figure.`` (titles, axes, legends; ``figure.caption.<name>``), ``index.`` (index.html;
  ``index.notebook.<stem>`` says what each notebook shows a reviewer), ``outcome.`` (the fichas as notebooks
  print them), ``reason.`` (reasons and notes the package writes into the outcome tables: stored in Spanish,
  shown in the output's language by ``outcomes.reason_text``), ``workbook.`` (the Excel workbook).
* **Notebook prose**: the markdown cells of ``notebooks/*.ipynb`` are written in English; their msgid is the
  cell's text and their msgctxt ``notebook:<stem>``. The runner replaces each markdown cell with its
  translation before papermill executes the notebook (``translate_notebook``). English is the source
  language, so only the other languages carry these messages.

A missing key or language is an error (``MissingTranslation``), never a silent fallback to another
language; tests check that every key has every language.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from importlib import resources

LANGUAGES = ("es", "en")
SOURCE_LANGUAGE = "en"
DOMAIN = "evalpipe"
NOTEBOOK_CONTEXT = "notebook:{stem}"


class MissingTranslation(KeyError):
    """A message the code asks for that the catalog of a language does not hold."""

    def __str__(self) -> str:  # KeyError quotes its argument; say it as a sentence
        return str(self.args[0])


def catalog_path(lang: str):
    """The ``.po`` file of ``lang`` inside the installed package."""
    return resources.files("evalpipe") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=None)
def catalog(lang: str):
    """The Babel catalog of ``lang`` (read once per process)."""
    from babel.messages.pofile import read_po

    if lang not in LANGUAGES:
        raise MissingTranslation(f"language {lang!r} has no catalog; expected one of {', '.join(LANGUAGES)}")
    with catalog_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


@functools.lru_cache(maxsize=None)
def _messages(lang: str) -> dict[tuple[str | None, str], str]:
    return {(m.context, m.id): m.string for m in catalog(lang) if m.id and m.string and not m.fuzzy}


def has(key: str, lang: str, context: str | None = None) -> bool:
    return (context, key) in _messages(lang)


def t(key: str, lang: str, /, context: str | None = None, **fields) -> str:
    """The text of ``key`` in ``lang``, with ``{placeholders}`` filled from ``fields``."""
    messages = _messages(lang)
    try:
        text = messages[(context, key)]
    except KeyError:
        where = f" (context {context!r})" if context else ""
        raise MissingTranslation(f"the {lang} catalog ({catalog_path(lang)}) has no message {key!r}{where}") from None
    return text.format(**fields) if fields else text


def keys(lang: str, prefix: str = "") -> list[str]:
    """The keyed messages of ``lang`` starting with ``prefix`` (no notebook prose)."""
    return sorted(key for (context, key) in _messages(lang) if context is None and key.startswith(prefix))


class CatalogView(Mapping):
    """The keyed messages of ``lang`` under ``prefix`` as a read-only mapping, the prefix taken off.

    ``view("annex.", "es")["title"]`` is ``t("annex.title", "es")``. A key with a further dot is a
    sub-mapping: ``view("annex.", "es")["finance_codes"]`` is the view of ``annex.finance_codes.``.
    """

    def __init__(self, prefix: str, lang: str) -> None:
        self.prefix, self.lang = prefix, lang
        catalog(lang)  # an unknown language fails here, not at the first lookup

    def _children(self) -> dict[str, bool]:
        """Each name directly under the prefix, and whether it is a sub-mapping."""
        names: dict[str, bool] = {}
        for key in keys(self.lang, self.prefix):
            head, dot, _ = key[len(self.prefix):].partition(".")
            names[head] = names.get(head, False) or bool(dot)
        return names

    def __getitem__(self, name: str):
        if has(self.prefix + name, self.lang):
            return t(self.prefix + name, self.lang)
        if self._children().get(name):
            return CatalogView(f"{self.prefix}{name}.", self.lang)
        raise MissingTranslation(f"the {self.lang} catalog ({catalog_path(self.lang)}) has no message "
                                 f"{self.prefix + name!r}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._children())

    def __len__(self) -> int:
        return len(self._children())

    def to_dict(self) -> dict:
        """A plain (JSON-ready) dict, sub-mappings as nested dicts."""
        return {name: (value.to_dict() if isinstance(value, CatalogView) else value) for name, value in self.items()}


def view(prefix: str, lang: str) -> CatalogView:
    """The messages of ``lang`` whose key starts with ``prefix`` (e.g. ``"workbook."``), without it."""
    return CatalogView(prefix, lang)


def translate_markdown(text: str, stem: str, lang: str) -> str:
    """A notebook's markdown cell in ``lang``; the English source cell is returned as it is for English."""
    if lang == SOURCE_LANGUAGE:
        return text
    return t(text.strip(), lang, context=NOTEBOOK_CONTEXT.format(stem=stem))


def translate_notebook(nb, stem: str, lang: str) -> list[int]:
    """Replace every markdown cell of ``nb`` (an nbformat notebook) with its ``lang`` translation, in place.

    A cell the catalog does not hold (prose edited in Jupyter and not yet translated) stays in English; the
    indices of those cells are returned so the runner can say so. The tests require every shipped cell
    to be translated.
    """
    untranslated = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or not cell.source.strip():
            continue
        try:
            cell.source = translate_markdown(cell.source, stem, lang)
        except MissingTranslation:
            untranslated.append(index)
    return untranslated
