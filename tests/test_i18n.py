"""The translation catalog (evalpipe/i18n.py, evalpipe/locale/): every key in every language."""

import pytest

from evalpipe import i18n
from evalpipe.labels import label


def test_every_key_has_every_language():
    key_sets = {lang: set(i18n.keys(lang)) for lang in i18n.LANGUAGES}
    for lang, found in key_sets.items():
        for other, theirs in key_sets.items():
            assert not theirs - found, f"{lang} lacks {sorted(theirs - found)[:10]} that {other} has"


def test_labels_come_from_the_catalog():
    assert label("achieved", "es") == "Meta alcanzada"
    assert label("achieved", "en") == "Target reached"
    assert label("midterm", "en") == "Mid-term evaluation"
    assert label("no_such_code", "es") == "no_such_code"


def test_missing_message_is_an_error_naming_the_catalog():
    with pytest.raises(i18n.MissingTranslation, match=r"es catalog .*evalpipe\.po.* no message 'no.such.key'"):
        i18n.t("no.such.key", "es")
    with pytest.raises(i18n.MissingTranslation, match="language 'fr' has no catalog"):
        i18n.t("status.achieved", "fr")


def test_markdown_cells_are_translated_and_untranslated_ones_reported():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("An English cell nobody translated."),
                                         nbformat.v4.new_code_cell("x = 1")])
    assert i18n.translate_notebook(nb, "99_none", "es") == [0]
    assert nb.cells[0].source == "An English cell nobody translated."
    assert i18n.translate_notebook(nb, "99_none", "en") == []
