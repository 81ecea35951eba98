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


# ------------------------------------------------------------------ the catalog's texts --------------------
import ast
import re
import string
from pathlib import Path

from evalpipe import outcomes, outputs
from evalpipe.methods import METHODS

PACKAGE = Path(i18n.__file__).parent
KEYED = {lang: {key: i18n.t(key, lang) for key in i18n.keys(lang)} for lang in i18n.LANGUAGES}

# Keys whose Spanish text is rightly the English one: a symbol, a word both languages spell alike, a
# pure format. Keep it short: any other identical pair is an untranslated text.
SAME_IN_BOTH = {
    "annex.n",  # n
    "annex.share",  # %
    "annex.total", "annex.finance_codes.total", "workbook.field_total",  # Total / total
    "annex.software",  # Software (a Spanish word too)
    "annex.finance_table",  # {table}: {measure}
    "figure.usd",  # USD
    "notebook.col.total", "notebook.col.2021",  # Total; a year
    "workbook.no",  # No
    "workbook.report_validation_summary",  # — (no table of the report)
}
# Stable codes of the pipeline's tables. A code with "_" is caught as snake_case; a one-word code is
# caught in the texts of the language it is not a word of (Spanish codes in English text, English
# codes in Spanish text).
SNAKE_CASE = re.compile(r"(?<![\w{])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w}])")
SPANISH_CODES = {"programado", "ejecutado", "acumulado"}
ENGLISH_CODES = {"achieved", "delivered", "midterm", "initial", "expanded", "amount", "budget", "share", "count",
                 "existence", "reported", "unknown", "blank", "reconstructed", "synthetic", "real"}


def _codes() -> set[str]:
    codes = {*outputs.INDICATOR_STATUSES, *outputs.OUTPUT_STATUSES, *outcomes.OUTCOME_STATUSES,
             outcomes.NOT_APPLICABLE, "not_measured", "scheduled_after_cutoff", *METHODS}
    for lang in i18n.LANGUAGES:  # the codes the catalog names: status.<code>, annex.finance_codes.<code>, ...
        for key in i18n.keys(lang):
            for prefix in ("status.", "evaluation.", "annex.finance_codes.", "annex.finance_titles."):
                if key.startswith(prefix):
                    codes.add(key.removeprefix(prefix))
    return codes


def _outside_placeholders(text: str) -> str:
    return re.sub(r"\{[^{}]*\}", "{}", text)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_catalog_holds_the_package_texts():
    for prefix in ("annex.", "banner.", "evaluation.", "figure.", "figure.caption.", "index.", "index.notebook.",
                   "outcome.", "status.", "workbook."):
        assert i18n.keys("es", prefix), prefix
    from evalpipe.stages import STAGES

    for stage in STAGES:
        stem = stage.notebook.removesuffix(".ipynb")
        for lang in i18n.LANGUAGES:
            assert i18n.t(f"index.notebook.{stem}", lang).strip()


def test_no_message_is_empty():
    for lang, messages in KEYED.items():
        raw = {m.id: m.string for m in i18n.catalog(lang) if m.id and not m.context}
        assert not [key for key, text in raw.items() if not text.strip()], lang


def test_no_machine_code_in_human_text():
    codes = _codes()
    snake_codes = {code for code in codes if "_" in code}
    assert {"not_measured", "in_progress_at_risk", "scheduled_after_cutoff", "saldos_anteriores"} <= snake_codes
    for lang, messages in KEYED.items():
        foreign = ENGLISH_CODES if lang == "es" else SPANISH_CODES
        assert foreign <= codes | ENGLISH_CODES  # the lists name real codes
        for key, text in messages.items():
            shown = _outside_placeholders(text)
            found = SNAKE_CASE.findall(shown) + [w for w in re.findall(r"[a-zñ]+", shown) if w in foreign]
            assert not found, f"{lang} {key}: machine code {found} in {text!r}"


def test_code_check_catches_codes():
    assert SNAKE_CASE.findall(_outside_placeholders("su estado al corte es not_delivered")) == ["not_delivered"]
    assert SNAKE_CASE.findall(_outside_placeholders("Método: {not_measured} de {a_b}")) == []
    assert SNAKE_CASE.findall(_outside_placeholders("tables/consistency_audit.csv")) == ["consistency_audit"]


def test_placeholders_are_the_same_in_every_language():
    for key in KEYED["es"]:
        assert _placeholders(KEYED["es"][key]) == _placeholders(KEYED["en"][key]), key


def test_spanish_is_not_the_english_text():
    same = {key for key in KEYED["es"] if KEYED["es"][key] == KEYED["en"][key]}
    assert same <= SAME_IN_BOTH, sorted(same - SAME_IN_BOTH)


def test_catalog_files_are_in_canonical_order():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(PACKAGE.parent / "scripts" / "tidy_catalog.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _translation_dictionaries(source: str) -> list[int]:
    """Lines of ``source`` holding a text per language: a dict literal keyed by "es" and "en", or a
    conditional expression choosing between two literal texts on the language."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if {"es", "en"} & keys:
                found.append(node.lineno)
        if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Compare):
            compared = [c.value for c in [node.test.left, *node.test.comparators] if isinstance(c, ast.Constant)]
            literal = [isinstance(b, (ast.Constant, ast.JoinedStr)) for b in (node.body, node.orelse)]
            if set(compared) & {"es", "en"} and all(literal) and any(
                    isinstance(b, ast.Constant) and b.value for b in (node.body, node.orelse)):
                found.append(node.lineno)
    return found


def test_package_holds_no_other_translation_dictionaries():
    assert _translation_dictionaries('T = {"es": {"a": "b"}, "en": {"a": "c"}}') == [1]
    assert _translation_dictionaries("x = 'Ficha' if lang == 'es' else 'Sheet'") == [1]
    assert _translation_dictionaries('s = "" if lang == "es" else f"-{lang}"') == []
    offending = {}
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "i18n.py":
            continue
        lines = _translation_dictionaries(path.read_text(encoding="utf-8"))
        if lines:
            offending[path.name] = lines
    assert not offending, f"texts per language outside the catalog: {offending}"
    assert not list((PACKAGE / "templates").glob("*.yaml")), "annex texts belong in the catalog"


def test_reasons_the_package_writes_are_shown_in_the_output_language():
    from evalpipe import methods
    from evalpipe.fichas import period_text

    stored = outcomes.requires_output_reason("1.1.2", "not_delivered")  # the tables hold Spanish
    assert stored == "requiere que el producto 1.1.2 esté entregado; su estado al corte es «No entregado» (§157)"
    assert outcomes.reason_text(stored, "en") == ('requires output 1.1.2 to be delivered; its status at the cut-off '
                                                  'is "Not delivered" (§157)')
    assert outcomes.reason_text(stored, "es") == stored
    added = methods._reason("output_indicator_value_added", indicator="2.5.1.1", value="3", added="2",
                            why=methods._reason("added"))
    assert outcomes.reason_text(added, "en") == "output indicator 2.5.1.1 = 3 + 2 (added)"
    assert outcomes.reason_text("institución que no es miembro", "en") == "institución que no es miembro"  # ficha text
    assert period_text("hasta el corte (2020Q2)", "en") == "up to the cut-off (2020Q2)"
    assert period_text("hasta 2018 (estudio de casos)", "en") == "hasta 2018 (estudio de casos)"  # ficha text
