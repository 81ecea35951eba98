"""The annex and the workbook speak the run's language: no machine code inside human text, no English in the
Spanish ones (the catalog's English texts and common English words), no Spanish in the English ones outside the
fichas and the names the logframe has only in Spanish. Audit rules and notes, validation descriptions and input
warnings come from the catalog (evalpipe/locale/*/LC_MESSAGES/evalpipe.po) in both languages."""

from __future__ import annotations

import json
import re
import shutil

import openpyxl
import pandas as pd
import pytest

from evalpipe import annex, audit, finance, finance_claims, i18n, progress, reviewer, smart, validation
from evalpipe.audit_finance import audit_finance
from evalpipe.runfolder import TABLES
from evalpipe.labels import label
from evalpipe.lfm import load_logframe, load_project
from evalpipe.microdata import load_sources

import pdf_inspect
from conftest import RAW, published_copy

# Words of a status or other code that must never reach a reader as the code itself.
STATUS_CODES = ("achieved", "in_progress", "no_progress", "not_measured", "delivered", "in_progress_at_risk",
                "not_delivered", "scheduled_after_cutoff", "not_applicable", "carried_forward", "missing_quarter",
                "hidden_sheet")
QUOTATION = re.compile(r"«[^»]*»")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PATH = re.compile(r"[\w.-]*(?:/[\w.-]+)+|[\w.-]+\.(?:csv|json|yaml|yml|xlsx|svg|png|pdf|ipynb|typ)\b")
ENGLISH_WORDS = {"the", "of", "and", "is", "are", "which", "with", "every", "each", "none", "shows", "printed",
                 "computed", "value", "values", "report", "status", "not", "from", "than", "its", "was", "been",
                 "carried", "forward", "identifier", "row", "rounded", "target", "progress", "annex", "output",
                 "outcome", "finding", "table", "line", "quarter", "measured", "delivered", "synthetic"}
SPANISH_WORDS = {"el", "los", "las", "del", "para", "una", "según", "está", "están", "que", "sin", "sus", "entre",
                 "informe", "valor", "meta", "avance", "estado", "producto", "cálculo", "datos"}

# Texts that other helpers own and still move into the catalog at the time of writing; the lead removes this
# list after merging their branches. Each entry: a string of the annex text that is a known leftover.
KNOWN_LEFTOVERS_ES: list[str] = []
KNOWN_LEFTOVERS_EN: list[str] = []


@pytest.fixture(autouse=True)
def _dated_by_the_drop(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def _warnings() -> pd.DataFrame:
    """One input warning of each kind, as the clean stage writes them."""
    rows = [progress._warning(progress.HIDDEN_SHEET, "data/raw/progress_reports/informe_2020T1.xlsx", "Hoja2", 4,
                              "", "hidden_sheet", {"quarter": "2020Q1", "sheet": "Hoja2"}),
            progress._warning(progress.MISSING_QUARTER, "data/raw/progress_reports", key="missing_quarter_between",
                              fields={"quarter": "2019Q2", "before": "2019Q1", "after": "2019Q3", "cutoff": "2020Q2"}),
            progress._warning(progress.CARRIED_FORWARD, "data/raw/progress_reports/informe_2020T2.xlsx",
                              "Indicadores", 6, "Valor acumulado", "carried_forward_empty_from", {
                                  "indicator": "1.1.1.2", "quarter": "2020Q2", "written": "", "flag": "blank",
                                  "earlier": "2020Q1", "value": "30",
                                  "file": "data/raw/progress_reports/informe_2020T1.xlsx", "row": 6})]
    return pd.DataFrame(rows, columns=progress.WARNING_COLUMNS)


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_project):
    """A run folder with finance tables, the finance audit rows, input warnings of each kind, both annexes and
    both workbooks (annex_tables.xlsx in Spanish, annex_tables_en.xlsx beside it)."""
    run_dir, _ = published_copy(tmp_path_factory.mktemp("annexlang"), finance=True)  # the session's shared run
    # The audit stage wrote the finance audit's rows and the finance claims' rows beside the others.
    findings = pd.read_csv(run_dir / TABLES["consistency_audit"].path, dtype=str, keep_default_na=False)
    computed = finance.read_tables(run_dir / "tables")
    finance_checks = {row["check"] for row in audit_finance(RAW / "published_report", computed)
                      + finance_claims.findings(RAW / "published_report", computed)}
    assert finance_checks and finance_checks <= set(findings["check"])
    _warnings().to_csv(run_dir / "validation" / progress.WARNINGS_FILE, index=False, lineterminator="\n")
    table = smart.load(RAW / "published_report")  # Annexes 12-13, as the audit notebook writes them
    smart.summary(table).to_csv(run_dir / "tables" / "smart_summary.csv", index=False, lineterminator="\n")
    smart.indicator_table(table).to_csv(run_dir / "tables" / smart.INDICATORS_FILE, index=False,
                                        lineterminator="\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        annex.build_annex(run_dir, RAW, "es")
        annex.build_annex(run_dir, RAW, "en")
        reviewer.write_workbook(run_dir, "en", raw_dir=RAW)
        shutil.move(run_dir / reviewer.WORKBOOK, run_dir / "annex_tables_en.xlsx")
        reviewer.write_workbook(run_dir, "es", raw_dir=RAW)
    return run_dir


def _normalise(text: str) -> str:
    """Page text as a reader reads it: hyphenation joined, zero-width breaks removed, one space between words."""
    text = text.replace("\u200b", "").replace("\u00ad", "").replace("\u2060", "")
    text = re.sub(r"\n-\n", "", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ?_ ?", "_", text)  # an identifier broken after "_" in a narrow cell


def _sections(pdf, lang: str) -> str:
    """The annex text before the reproducibility section (commands, paths and hashes), without the fichas'
    calculation syntax (shown as code)."""
    pages = [_normalise(p) for p in pdf_inspect.pages_text(pdf)]
    heading = "8 Reproducibilidad" if lang == "es" else "8 Reproducibility"
    start = next(i for i, p in enumerate(pages) if heading in p and i > 2)  # past the table of contents
    text = " ".join(pages[:start]) + " " + pages[start].split(heading)[0]
    words = annex.annex_text(lang)
    title = re.escape(words["ficha"].split("{")[0].strip())
    return re.sub(rf"{re.escape(words['syntax'])}.*?(?={title}|\d {re.escape(words['finance'])})", " ", text)


def _words(text: str) -> set[str]:
    """The words of a text, lower case; an identifier (a_b, a/b, a.b) is not a word of the language."""
    tokens = re.findall(r"[\w./-]+", text.lower())
    return {w for w in (t.strip("./-") for t in tokens) if re.fullmatch(r"[a-záéíóúñü]+", w)}


def _context(text: str, words) -> list[str]:
    """Where each word found stands in the text (for the failure message)."""
    return [text[max(0, m.start() - 80):m.end() + 40] for w in sorted(words)
            for m in list(re.finditer(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I))[:2]]


def _without(text: str, strings) -> str:
    """The text without the given strings (whole words at their ends; numbers and 1-2 letter strings kept)."""
    strings = {_normalise(str(s)).strip() for s in strings}
    for s in sorted((s for s in strings if len(s) > 2 and re.search(r"[A-Za-z]", s)), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(s)}(?!\w)", " ", text)
    return text


def _quotations(run) -> list[str]:
    """What the annex quotes as printed: the report's sentences and cells, and the names of finance lines."""
    claims = pd.read_csv(RAW / "published_report" / "narrative_claims.csv", dtype=str, keep_default_na=False)
    money = pd.read_csv(RAW / "published_report" / "finance_narrative.csv", dtype=str, keep_default_na=False)
    money = pd.concat([money, pd.read_csv(RAW / "published_report" / "finance_claims.csv", dtype=str,
                                          keep_default_na=False)], ignore_index=True)
    findings = pd.read_csv(run / TABLES["consistency_audit"].path, dtype=str, keep_default_na=False)
    finance_rows = findings["check"].isin(["budget_cell", "execution_cell", "published_arithmetic", "not_computed",
                                           "narrative_value", "narrative_currency", "narrative_not_computed"])
    # The audit stage's notes quote the report (its sentences, the comments of Annexes 12-13) as fields.
    quoted = [value for fields in findings["note_fields"] if fields
              for key, value in json.loads(fields).items() if key in ("quote", "basis")]
    comments = list(smart.indicator_table(smart.load(RAW / "published_report"))["comment"])  # Annexes 12-13
    return (list(claims["quote"]) + list(money["quote"]) + comments + list(findings["published_value"])
            + list(findings.loc[finance_rows, "item_id"]) + quoted)


def _data_texts(run) -> list[str]:
    """Texts of the data drop shown as written (the fichas' fields, reasons and exclusions, in Spanish; they
    may cite the report's English names, "Annex 14", "Outcome 1.2.2")."""
    data = json.loads(annex.annex_data_path(run, "es").read_text(encoding="utf-8"))
    texts = []
    for ficha in data["fichas"]:
        texts += [ficha["description"], ficha["origin"]] + [e["reason"] for e in ficha["exclusions"]]
        for field in ficha["fields"]:
            texts += field.get("paragraphs", []) + field.get("list", []) + field.get("rules", [])
            texts += [m[1] for m in field.get("method", [])]
        texts += [c[1] for c in ficha["computed"]]
    indicators = pd.read_csv(run / TABLES["outcome_indicators"].path, dtype=str, keep_default_na=False)
    periods = list(indicators["ficha_period"]) if "ficha_period" in indicators else []  # a ficha's own words
    return texts + list(indicators["reason"]) + [p for p in periods if p]


def _identifiers(run) -> set[str]:
    """Names of the data shown as such: suites and data columns (validation table, exclusion reasons)."""
    summary = pd.read_csv(run / "validation" / "summary.csv", dtype=str, keep_default_na=False)
    sources = load_sources(RAW)
    columns = {c for source in sources.values() for c in source.column_names}
    return set(summary["suite"]) | set(summary["column"]) | set(sources) | columns


def _codes_in(text: str, allowed: set[str]) -> set[str]:
    text = PATH.sub(" ", text)
    return {w for w in SNAKE.findall(text) if w not in allowed} | {
        c for c in STATUS_CODES if re.search(rf"\b{c}\b", text) and "_" in c}


def _catalog_english() -> list[str]:
    """Fixed fragments (three words or more) of every English catalog text that differs in Spanish."""
    fragments = []
    for key in i18n.keys("en"):
        english, spanish = i18n.t(key, "en"), i18n.t(key, "es")
        if english == spanish:
            continue
        for part in re.split(r"\{\w+\}", english):
            part = part.strip(" .,;:'\"()")
            if len(part.split()) >= 3:
                fragments.append(part)
    return fragments


def _workbook_text(path, skip_columns=()) -> str:
    """Every text cell of the workbook but the About sheet's file paths and the given columns (by header)."""
    book = openpyxl.load_workbook(path)
    texts = []
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for cell, name in zip(row, header + [None] * len(row)):
                if isinstance(cell.value, str) and name not in skip_columns:
                    texts.append(cell.value)
    return _normalise(" \n ".join(texts))


# ------------------------------------------------------------------------------------------ tests --

def test_no_machine_code_in_the_human_text_of_either_annex(run):
    allowed = _identifiers(run)
    for lang, pdf in (("es", run / "annex.pdf"), ("en", run / "annex_en.pdf")):
        text = _without(_sections(pdf, lang), _quotations(run))
        assert not _codes_in(text, allowed), (lang, sorted(_codes_in(text, allowed)))


def _names() -> list[str]:
    """Proper names of the project (the donor's is English)."""
    project = load_project(RAW).model_dump()
    return [project.get("donor", ""), project.get("symbol", "")]


def test_the_spanish_annex_has_no_english_outside_quotations_of_the_report(run):
    text = _without(_sections(run / "annex.pdf", "es"), _quotations(run) + _names() + sorted(_identifiers(run))
                    + _data_texts(run) + KNOWN_LEFTOVERS_ES)
    # A quotation of the report that a page break cuts (the table's header repeats inside it) is not found whole
    # above: what stands between « and » is the report's own words.
    text = QUOTATION.sub(" ", text)
    found = [f for f in _catalog_english() if f in text]
    assert not found, found
    words = _words(text) & ENGLISH_WORDS
    assert not words, _context(text, words)


def test_the_english_annex_has_no_spanish_outside_fichas_names_and_quotations(run):
    lfm = load_logframe(RAW / "lfm")
    spanish_names = (list(lfm.output_indicators["name_es"]) + list(lfm.outcome_indicators["name_es"])
                     + [n for n, en in zip(lfm.outputs["name_es"], lfm.outputs["name_en"]) if not en]
                     + [n for n, en in zip(lfm.outcomes["name_es"], lfm.outcomes["name_en"]) if not en])
    text = _sections(run / "annex_en.pdf", "en")
    words = annex.annex_text("en")
    fichas_start = text.rindex("4 " + words["fichas"])  # the fichas section is the Spanish text as written
    finance_start = text.rindex("5 " + words["finance"])  # (the first ones are the table of contents)
    text = text[:fichas_start] + text[finance_start:]
    data = json.loads(annex.annex_data_path(run, "en").read_text(encoding="utf-8"))
    values = [r["description"].split("one of: ", 1)[1] for r in data["validation"]["rows"]
              if r["description"].startswith("one of: ")]  # the data's own categories
    lines = [r["line"] for block in data["finance"]["tables"] for r in block["rows"]]
    text = _without(text, spanish_names + _quotations(run) + values + lines + _names() + sorted(_identifiers(run))
                    + _data_texts(run) + KNOWN_LEFTOVERS_EN)
    words = _words(text) & SPANISH_WORDS
    assert not words, _context(text, words)
    assert i18n.t("annexlang.fichas_in_spanish", "en") in _normalise(" ".join(pdf_inspect.pages_text(
        run / "annex_en.pdf")))


def test_english_names_where_the_logframe_has_them_and_the_language_of_each_name_is_tagged(run):
    lfm = load_logframe(RAW / "lfm")
    data = json.loads(annex.annex_data_path(run, "en").read_text(encoding="utf-8"))
    english = dict(zip(lfm.outputs["output_id"], lfm.outputs["name_en"]))
    assert all(o["name"] == english[o["id"]] and o["name_lang"] == "en" for o in data["outputs"] if english[o["id"]])
    assert {r["name_lang"] for r in data["outcome_status"]} == {"en"}
    spanish = json.loads(annex.annex_data_path(run, "es").read_text(encoding="utf-8"))
    assert {r["name_lang"] for r in spanish["output_status"]} == {"es"} and spanish["fichas_language_note"] == ""
    template = "".join((run / "annex" / name).read_text(encoding="utf-8")  # the annex and the look it imports
                       for name in (annex.TEMPLATE, annex.COMMON))
    assert 'text(lang: "es"' in template and "named(o)" in template and "es(field-content(x))" in template


def test_the_workbook_has_no_machine_code_and_no_english_in_spanish(run):
    identifiers = ("Regla (Great Expectations)", "Rule (Great Expectations)", "Archivo de origen", "Source file",
                   "Fuente", "Source")  # identifiers and file names shown as such
    for name, lang in (("annex_tables.xlsx", "es"), ("annex_tables_en.xlsx", "en")):
        text = _without(_workbook_text(run / name, identifiers), _quotations(run))
        assert not _codes_in(text, _identifiers(run)), (lang, sorted(_codes_in(text, _identifiers(run))))
    spanish = _without(_workbook_text(run / "annex_tables.xlsx", identifiers), _quotations(run) + _names()
                       + sorted(_identifiers(run)) + _data_texts(run) + KNOWN_LEFTOVERS_ES)
    assert not [f for f in _catalog_english() if f in spanish]
    assert not _words(spanish) & ENGLISH_WORDS, _context(spanish, _words(spanish) & ENGLISH_WORDS)
    english = _without(_workbook_text(run / "annex_tables_en.xlsx", identifiers), _quotations(run))
    assert "su estado al corte es" not in english and 'its status at the cut-off is "Not delivered"' in english


# ---------------------------------------------------------------------- catalog-backed texts --

def test_every_audit_validation_and_warning_key_has_both_languages_and_the_same_placeholders():
    for prefix in ("audit.", "validation.", "warning.", "annexlang."):
        es, en = i18n.keys("es", prefix), i18n.keys("en", prefix)
        assert es == en and es, prefix
        for key in es:
            placeholders = [set(re.findall(r"\{(\w+)\}", i18n.t(key, lang))) for lang in ("es", "en")]
            assert placeholders[0] == placeholders[1], key


def test_every_shipped_expectation_description_is_in_the_catalog(root):
    described = set()
    for path in sorted((root / "expectations").rglob("*.json")):
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            described.add(expectation["meta"]["expected"])
    for text in described:
        spanish = validation.description_text(text, "es")
        assert spanish != text and validation.description_text(text, "en") == text, text
    assert validation.description_text("each caso_id once (the same case or person listed twice)", "es") == \
        "cada caso_id una sola vez (el mismo caso o persona listado dos veces)"
    assert validation.description_text("a rule of a drop's own suite", "es") == "a rule of a drop's own suite"


def test_input_warnings_are_shown_in_the_annex_language(run):
    spanish = json.loads(annex.annex_data_path(run, "es").read_text(encoding="utf-8"))["validation"]["warnings"]
    english = json.loads(annex.annex_data_path(run, "en").read_text(encoding="utf-8"))["validation"]["warnings"]
    assert [w["kind"] for w in spanish] == ["hoja oculta", "trimestre sin informe", "valor arrastrado"]
    assert "hoja oculta «Hoja2»" in spanish[0]["message"] and "vacía" in spanish[2]["message"]
    assert english[2]["message"] == _warnings()["message"].iloc[2]  # the English message of the CSV
    assert "blank" not in spanish[2]["message"] and "read as empty" in english[2]["message"]


def test_audit_rules_and_notes_in_both_languages_with_codes_kept_in_the_table(run):
    findings = pd.read_csv(run / TABLES["consistency_audit"].path, dtype=str, keep_default_na=False)
    assert {"check", "rule_code", "note_code", "note_fields"} <= set(findings.columns)
    assert findings["rule_code"].ne("").all()
    for lang in ("es", "en"):
        shown = audit.in_words(findings, lang)
        assert shown["rule"].ne("").all()
        for code in set(findings["rule_code"]):
            assert i18n.has(audit.catalog_key(code, "rule"), lang)
    spanish = audit.in_words(findings, "es")
    row = spanish[findings["check"].eq("output_status")].iloc[0]
    assert row["computed_value"] == label("not_delivered", "es") and "«No entregado»" in row["note"]
    assert row["source"].startswith("Tabla 1 línea")


def test_an_output_that_is_not_measured_is_not_called_not_delivered_and_nan_is_a_dash():
    """Issue 13: the audit row of an output with no measured indicator said "§155 gives 'not delivered'" and
    printed nan as a computed value."""
    published = pd.DataFrame({"output_id": ["9.9.9"], "status_en": ["Not delivered"], "source_line": ["1"]})
    computed = pd.DataFrame({"output_id": ["9.9.9"], "status": ["not_measured"], "n_indicators": [2],
                             "n_achieved": [0], "n_in_progress": [0], "n_no_progress": [0], "n_not_measured": [2],
                             "scheduled_after_cutoff": [False]})
    rows = pd.DataFrame(audit.audit_table1(published, computed))
    assert rows["note"].iloc[0].startswith("none of its 2 indicators has a value up to the cut-off")
    assert "not delivered" not in rows["note"].iloc[0].lower().replace("'not measured'", "")
    spanish = audit.in_words(rows, "es").iloc[0]
    assert spanish["computed_value"] == "No medido" and "No entregado" not in spanish["note"]
    indicators = pd.DataFrame({"indicator_id": ["9.9.9.1"], "output_id": ["9.9.9"], "current": [float("nan")],
                               "target": [4.0], "progress_pct": [float("nan")], "status": ["not_measured"],
                               "scheduled_after_cutoff": [False]})
    annex16 = pd.DataFrame({"indicator_id": ["9.9.9.1"], "output_id": ["9.9.9"], "current_raw": ["1"],
                            "target_raw": ["4"], "progress_raw": ["25%"], "status_es": ["No medido"],
                            "source_line": ["7"]})
    rows = pd.DataFrame(audit.audit_annex16(annex16, indicators))
    current = rows[rows["check"] == "current_value"].iloc[0]
    assert current["computed_value"] == "" and "nan" not in rows.to_csv()
    assert audit.in_words(rows, "es").loc[current.name, "computed_value"] == "—"


def test_the_validation_table_has_room_for_every_column_name(run, tmp_path):
    """The column names of the validation table stay inside their cell: the table gives them a fifth of the
    width and no longer prints the expectation's type (it is in the Data Docs and the workbook)."""
    template = "".join((run / "annex" / name).read_text(encoding="utf-8")  # the annex and the look it imports
                       for name in (annex.TEMPLATE, annex.COMMON))
    table = template[template.index("header-row[#T.suite][#T.column][#T.description]") - 200:]
    assert "columns: (22%, 20%, 1fr, auto, auto)" in table[:300]
    assert "mono(r.expectation)" not in template
