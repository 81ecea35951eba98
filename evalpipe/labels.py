"""Human labels for the stable machine codes, in Spanish (default) and English, read from the catalog
(evalpipe/locale, see evalpipe.i18n)."""

from __future__ import annotations

from . import i18n

LANGUAGES = i18n.LANGUAGES

# Labels as the published report prints them -> codes (Annex 16 in Spanish, Table 1 in English).
PUBLISHED_INDICATOR_STATUS = {
    "entregado": "achieved",
    "en proceso": "in_progress",
    "no entregado": "no_progress",
    "avanzando": "in_progress",
    "alcanzado": "achieved",
    "sin avances": "no_progress",
    "no medido": "not_measured",
}
PUBLISHED_OUTCOME_STATUS = {
    "in progress": "in_progress",
    "no progress": "no_progress",
    "not measured": "not_measured",
    "en proceso": "in_progress",
    "avanzando": "in_progress",
    "sin avances": "no_progress",
    "no medido": "not_measured",
}
PUBLISHED_OUTPUT_STATUS = {
    "delivered": "delivered",
    "in progress": "in_progress",
    "in progress with risk": "in_progress_at_risk",
    "not delivered": "not_delivered",
    "entregado": "delivered",
    "en proceso": "in_progress",
    "en proceso con riesgo": "in_progress_at_risk",
    "no entregado": "not_delivered",
}


def label(code: str, lang: str = "es") -> str:
    """The display label of a status or evaluation code (catalog keys ``status.<code>``, ``evaluation.<code>``);
    an unknown code is shown as it is."""
    for key in (f"status.{code}", f"evaluation.{code}"):
        if i18n.has(key, lang):
            return i18n.t(key, lang)
    return code


def workbook_label(key: str, lang: str = "es") -> str:
    """A word of the Excel workbook in ``lang`` (catalog key ``workbook.<key>``): sheet names (at most 31
    characters, none of []:*?/\\), column headers, the words written in place of a missing number, the labels
    of the codes its tables hold, and the text of its first sheet."""
    return i18n.t(f"workbook.{key}", lang)


def workbook_words(lang: str = "es") -> i18n.CatalogView:
    """All the workbook's words in ``lang``, as a mapping ``key -> text`` (``workbook_label`` for each)."""
    return i18n.view("workbook.", lang)
