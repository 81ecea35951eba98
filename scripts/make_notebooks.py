"""Write the stage notebooks in notebooks/ from the cell sources below (no outputs).

The notebooks are the reviewer's view of each stage; keeping their source here lets a change to a
notebook be reviewed as a diff of text. Run: python scripts/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = '''# Parameters (pipeline.py injects the run's values after this cell; paths are relative to the project root)
evaluation = "midterm"
cutoff = "2020Q2"
lang = "es"
raw_dir = "data/raw"
processed_dir = None  # None: run by hand, writes to data/processed/_scratch/<evaluation>-<cutoff>/
run_dir = None  # None: run by hand, writes to reports/_scratch/<evaluation>-<cutoff>/ (only pipeline.py publishes)
expectations_dirs = ["expectations"]
suppression_threshold = 5
allow_outside_paths = False  # True only with pipeline.py --allow-outside-paths: files may lie outside the drop'''

SETUP = '''from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from evalpipe.drop import load_drop
from evalpipe.htmlsafe import escape_markdown
from evalpipe.workspace import locate

paths = locate(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir)
raw_dir, processed_dir, run_dir = paths.raw_dir, paths.processed_dir, paths.run_dir
print(paths.describe())

pd.set_option("display.max_columns", 30)
pd.set_option("display.width", 160)
drop = load_drop(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
display(Markdown(f"**{escape_markdown(drop.banner(lang))}**" if drop.synthetic
                 else f"Data drop: {escape_markdown(drop.drop_id)}"))
print(f"evaluation={evaluation} cutoff={cutoff} lang={lang} drop={drop.drop_id} ({drop.data_origin}, {drop.drop_date})")'''


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:02d}"
    return nb


def parameters_cell():
    cell = new_code_cell(PARAMETERS)
    cell.metadata["tags"] = ["parameters"]
    return cell


CLEAN = notebook([
    new_markdown_cell("""# 1. Clean: quarterly progress reports → one tidy table

The project team reports the cumulative value of every output indicator in a workbook each quarter (§38, §153).
This stage reads every workbook **up to the cut-off quarter** (later reports are listed, never opened), finds the
indicator table under the title block, and writes one row per indicator × quarter to
`data/processed/<run>/progress_indicators.csv`, each value with its provenance (file, sheet, row, column).

The cleaning rules live in `evalpipe.cleaning` and `evalpipe.readers` (tested in `tests/`); this notebook only
shows what they did."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_markdown_cell("""## Every input checked first
Before anything is computed, every declaration of the drop is checked against its schema (`evalpipe/schemas.py`):
`drop.yaml`, the logframe, `microdata/sources.yaml`, every ficha técnica and its `calculo` (methods, columns,
operators, the type of every value), the progress reports found and the finance catalogue. YAML is read safely
(no duplicate keys, no aliases, no tags, at most 1 MiB), and every file must lie inside the drop. The first problem
stops the run with a message naming the file, the key or row, what was expected and what was found."""),
    new_code_cell('''from evalpipe.schemas import check_drop

checked = check_drop(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
print(f"checked: drop.yaml, project.yaml, {len(checked.lfm.output_indicators)} output and "
      f"{len(checked.lfm.outcome_indicators)} outcome indicators, {len(checked.sources)} microdata sources, "
      f"{len(checked.fichas)} fichas, {len(checked.progress_reports)} progress reports"
      + (", the finance catalogue" if checked.finance is not None else ""))
pd.DataFrame({"warning": checked.warnings}) if checked.warnings else print("warnings: none")'''),
    new_markdown_cell("## What was read\nThe logframe (LFM 2019) and the progress reports found in the drop."),
    new_code_cell('''from evalpipe import progress
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
cutoff_quarter = parse_quarter(cutoff)
table, inventory, reports = progress.build_progress_table(Path(raw_dir), lfm, cutoff_quarter, Path("."), allow_outside=allow_outside_paths)
print(f"LFM: {len(lfm.outputs)} outputs, {len(lfm.output_indicators)} output indicators")
inventory.as_frame()'''),
    new_code_cell('''progress.report_summary(reports)'''),
    new_markdown_cell("""## Warnings: nothing changes silently
A value missing from the cut-off report (row deleted, or written `n.d.`, `N/A`, `--`, empty) takes the cumulative
value of the last earlier report (§38, §153: values are cumulative), and says so here, in the run's summary line and
in the annex; so do a quarter's report missing from the sequence and an indicator table read from a hidden sheet.
Merged cells over values, codes or categories are refused."""),
    new_code_cell('''warnings = progress.input_warnings(table, inventory)
print(progress.warnings_line(warnings) or "warnings: none")
warnings'''),
    new_markdown_cell("""## Cleaning rules applied
| written form | read as | flag |
|---|---|---|
| `1.2.1.1.`, ` 1.2.1.1`, `1.2.1.1` + no-break space | `1.2.1.1` | (code respelled) |
| `1,046`, `1.046`, `1 046` | 1046 | `reported` |
| `268*`, `7**`, `12(1)` (footnote marks) | 268, 7, 12 | `reported` + `footnote_mark` |
| `NA`, `N/A` | no value | `not_applicable` (indicator not yet in the LFM) |
| `¿?`, `?`, `s.d.` | no value | `unknown` |
| empty cell, `-` | no value | `blank` |
| indicator missing from a report | no value | `not_reported` |
| value missing from the cut-off report | the last earlier report's value, `carried_from` that quarter | warning `carried_forward` |
| `Objetivo 1`, `1.2.1` (section and output headings) | skipped | |

Counts of each flag by quarter:"""),
    new_code_cell('''progress.flag_summary(table)'''),
    new_markdown_cell("""## Outcome microdata
The files the fichas técnicas cite (declared in `microdata/sources.yaml`). Only declared columns are kept: any
other column (a partner may leave names, ID numbers or e-mails in a file) is dropped here and listed below by
name — its values never reach the processed data or the reports. Declared free-text columns that no ficha uses
are withheld (replaced by codes `withheld-1`, `withheld-2`, …); DNI numbers, e-mails and phone numbers found in the
text and category values that are kept are masked (`[DNI]`, `[EMAIL]`, `[PHONE]`) and counted below."""),
    new_code_cell('''from evalpipe import microdata

micro = microdata.read_all_sources(Path(raw_dir), Path("."), allow_outside=allow_outside_paths,
                                   suite_dirs=expectations_dirs)
microdata.sources_summary(micro)'''),
    new_markdown_cell("## Result\nThe tidy table (one row per indicator × quarter) and the typed microdata are written for the validation stage."),
    new_code_cell('''out_dir = Path(processed_dir)
out_dir.mkdir(parents=True, exist_ok=True)
table.to_csv(out_dir / "progress_indicators.csv", index=False, lineterminator="\\n")
inventory.as_frame().to_csv(out_dir / "progress_reports_read.csv", index=False, lineterminator="\\n")
progress.write_input_warnings(warnings, out_dir)
for source_table in micro.values():
    microdata.write_processed(source_table, out_dir)
print(f"{len(table)} rows = {table['indicator_id'].nunique()} indicators x {table['quarter'].nunique()} quarters")
table.groupby("quarter").agg(rows=("indicator_id", "size"), with_value=("value", "count"))'''),
])

VALIDATE = notebook([
    new_markdown_cell("""# 2. Validate: Great Expectations suites

The suite `expectations/progress_indicators.json` states what the tidy table must satisfy: its columns and types,
indicator codes known to the LFM, quarters within the project's life, values non-negative, cumulative values
that never go down, one value per indicator and quarter. What depends on the drop (the LFM's codes, the project's
quarters) is passed as suite parameters. A failed expectation stops the run with one message naming the file,
sheet, row and column of the first problem; all problems are saved in `validation/problems.csv`."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''import json

from evalpipe import cleaning, progress, validation
from evalpipe.lfm import load_logframe, load_project
from evalpipe.quarters import parse_quarter, quarter_range

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
project = load_project(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
table = progress.read_tidy(Path(processed_dir) / "progress_indicators.csv")
suite = validation.find_suite("progress_indicators", expectations_dirs)
suite_parameters = {
    "known_indicator_ids": lfm.output_indicator_ids,
    "project_quarters": [str(q) for q in quarter_range(project.first_quarter, project.last_quarter)],
    "value_flags": list(cleaning.VALUE_FLAGS),
}
print(f"suite {suite['name']}: {len(suite['expectations'])} expectations on {len(table)} rows")
print(f"project quarters {suite_parameters['project_quarters'][0]}..{suite_parameters['project_quarters'][-1]}")'''),
    new_code_cell('''out_dir = Path(run_dir) / "validation"
out_dir.mkdir(parents=True, exist_ok=True)
gx_context = validation.new_context(data_docs_dir=Path(run_dir) / "data_docs")
outcome = validation.run_suite(table, suite, suite_parameters, context=gx_context)
(out_dir / f"{outcome.suite}_result.json").write_text(json.dumps(outcome.result_json, indent=1, default=str), encoding="utf-8")
outcome.summary[["expectation", "column", "description", "success", "unexpected_count"]]'''),
    new_markdown_cell("""## Outcome microdata
One suite per microdata file (`expectations/microdata/<source>.json`): declared columns, unique identifiers,
allowed categories, test scores within the 0–20 scale, counts not negative, dates within the project's life and
not after the data drop. When the drop has finance data, the two finance suites (`expectations/finance/`) run
here too: amounts numeric and non-negative, the declared currency, codes known to the LFM, years within the
project's life."""),
    new_code_cell('''from evalpipe import microdata

drop_parameters = {"project_start": str(project.first_quarter.start_date),
                   "drop_date": drop.drop_date}
outcomes_by_suite = {outcome.suite: outcome}
for key, source in microdata.load_sources(Path(raw_dir), Path("."), allow_outside=allow_outside_paths).items():
    frame = microdata.read_processed(Path(processed_dir), source)
    suite_json = validation.find_suite(source.suite, expectations_dirs, "microdata")
    outcomes_by_suite[source.suite] = validation.run_suite(frame, suite_json, drop_parameters, context=gx_context)
if (Path(raw_dir) / "finance").is_dir():  # the budget and the ILO financial reports (issue of finance)
    from evalpipe import finance

    fin = finance.load_finance(Path(raw_dir), lfm, parse_quarter(cutoff), Path("."), allow_outside=allow_outside_paths)
    finance_parameters = finance.suite_parameters(fin, lfm)
    for name, frame in (("finance_budget", fin.budget), ("finance_reports", fin.reports)):
        outcomes_by_suite[name] = validation.run_suite(frame, validation.find_suite(name, expectations_dirs, "finance"),
                                                       finance_parameters, context=gx_context)
validation.build_data_docs(gx_context)
summary = pd.concat([o.summary for o in outcomes_by_suite.values()], ignore_index=True)
problems = pd.concat([o.problems for o in outcomes_by_suite.values()], ignore_index=True)
summary.to_csv(out_dir / "summary.csv", index=False, lineterminator="\\n")
progress.read_input_warnings(Path(processed_dir)).to_csv(out_dir / "input_warnings.csv", index=False,
                                                         lineterminator="\\n")
problems.to_csv(out_dir / "problems.csv", index=False, lineterminator="\\n")
summary.groupby("suite").agg(expectations=("success", "size"), met=("success", "sum"))'''),
    new_markdown_cell("## Result"),
    new_code_cell('''for name, result in outcomes_by_suite.items():
    print(f"{name}: {'PASSED' if result.success else 'FAILED'} "
          f"({int(result.summary['success'].sum())} of {len(result.summary)} expectations met)")
for result in outcomes_by_suite.values():
    validation.raise_on_failure(result, details_path=str(out_dir / "problems.csv"))'''),
])

OUTPUTS = notebook([
    new_markdown_cell("""# 3. Output indicators and output status (§155)

**Current value** = the cumulative value of the last report at or before the cut-off (§38).
**Progress** = current / target × 100 (Annex 16). Output indicator baselines are 0 (§114).

Indicator status: `achieved` if current ≥ target; `in_progress` if baseline < current < target; `no_progress` if
current = baseline; `not_measured` if no value was reported up to the cut-off (never counted as zero).

Output status (§155): `delivered` if all its indicators reached their targets; `in_progress` if at least one shows
progress; `in_progress_at_risk` if, in addition, its performance could be significantly conditioned by Covid-19
(the evaluators' judgement per output, `data/raw/lfm/covid_risk_outputs.csv`); `not_delivered` if none shows
progress. Outputs not delivered because all their indicators are scheduled after the cut-off carry the mark
`scheduled_after_cutoff` (Table 1's asterisk)."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''from evalpipe import outputs, progress
from evalpipe.export import write_table
from evalpipe.labels import label
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
table = progress.read_tidy(Path(processed_dir) / "progress_indicators.csv")
cutoff_quarter = parse_quarter(cutoff)
indicators = outputs.compute_output_indicators(table, lfm, cutoff_quarter)
status = outputs.compute_output_status(indicators, lfm)
print(f"{len(indicators)} output indicators, {len(status)} outputs at the cut-off {cutoff}")'''),
    new_markdown_cell("## Output indicators at the cut-off"),
    new_code_cell('''view = indicators[["output_id", "indicator_id", "baseline", "current", "target", "progress_pct", "status", "value_quarter"]].copy()
view["status"] = view["status"].map(lambda code: label(code, lang))
view'''),
    new_markdown_cell("## Status counts"),
    new_code_cell('''counts = outputs.status_counts(indicators, outputs.INDICATOR_STATUSES)
counts.assign(label=counts["status"].map(lambda code: label(code, lang)))'''),
    new_markdown_cell("## Output status (§155)"),
    new_code_cell('''status_view = status.copy()
status_view["label"] = status_view["status"].map(lambda code: label(code, lang))
status_view'''),
    new_code_cell('''counts = outputs.status_counts(status, outputs.OUTPUT_STATUSES)
counts.assign(label=counts["status"].map(lambda code: label(code, lang)))'''),
    new_markdown_cell("## Result\nTables written to `tables/` of the run folder."),
    new_code_cell('''tables = Path(run_dir) / "tables"
for name, frame in {"output_indicators": indicators, "output_status": status}.items():
    print(write_table(frame, tables / f"{name}.csv", drop))'''),
])

OUTCOMES = notebook([
    new_markdown_cell("""# 4. Outcome indicators from the fichas técnicas (Annexes 14, 17; §157-158)

Each outcome indicator is computed from its ficha técnica (`fichas/<indicator>.yaml`): the ficha names a method of
a closed set (`evalpipe.methods`), its source file and its rules; nothing in a ficha is run as code. For every
indicator the table keeps the numerator, the denominator, the rows used and the rows each rule left out.

Indicator status: `achieved` (current ≥ target), `in_progress` (above the baseline), `no_progress`,
`not_measured` (no data support a measurement — never zero). An indicator whose construction needs an output
that is not delivered yet shows no progress and has no value (§157). Outcome status (§158): `in_progress` if at
least one indicator shows progress; `not_measured` (not assessed) if the data are insufficient; otherwise
`no_progress`."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''from evalpipe import fichas as fichas_module, methods, microdata, outcomes
from evalpipe.export import write_table
from evalpipe.labels import label
from evalpipe.lfm import load_logframe
from evalpipe.privacy import suppress_small_counts
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
sources = microdata.load_sources(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
tables = {key: microdata.read_processed(Path(processed_dir), source) for key, source in sources.items()}
output_indicators = pd.read_csv(Path(run_dir) / "tables" / "output_indicators.csv", dtype={"output_id": str, "indicator_id": str})
output_status = pd.read_csv(Path(run_dir) / "tables" / "output_status.csv", dtype={"output_id": str, "component_id": str})
fichas = fichas_module.load_fichas(Path(raw_dir), sources, lfm.outcome_indicators, Path("."), lfm=lfm, allow_outside=allow_outside_paths)
context = methods.Context(parse_quarter(cutoff), tables, {k: s.column_names for k, s in sources.items()}, output_indicators)
indicators, exclusions, results = outcomes.compute_outcome_indicators(
    fichas, context, lfm.outcome_indicators, output_status, {k: s.file for k, s in sources.items()})
status = outcomes.compute_outcome_status(indicators, lfm.outcomes)
origins = indicators["origin"].value_counts().to_dict()
print(f"{len(fichas)} fichas ({origins.get('annex_14', 0)} from Annex 14, {origins.get('reconstructed', 0)} reconstructed); "
      f"{len(sources)} microdata sources; cut-off {cutoff}")'''),
    new_markdown_cell("## Outcome indicators at the cut-off"),
    new_code_cell('''view = indicators[["outcome_id", "indicator_id", "unit", "baseline", "current", "target", "numerator",
                   "denominator", "n", "n_excluded", "status", "method", "origin"]].copy()
view["status"] = view["status"].map(lambda code: label(code, lang))
view'''),
    new_markdown_cell("## Status counts: indicators and outcomes (§157, §158)"),
    new_code_cell('''from evalpipe.outputs import INDICATOR_STATUSES, status_counts

counts = status_counts(indicators, INDICATOR_STATUSES)
counts.assign(label=counts["status"].map(lambda code: label(code, lang)))'''),
    new_code_cell('''status_view = status.assign(label=status["status"].map(lambda code: label(code, lang)))
status_view'''),
    new_markdown_cell("""## Each ficha: formula, numbers, exclusions
Aggregated tables only. Tables drawn from files about child victims show counts below the suppression threshold
as `<5`."""),
    new_code_cell('''for indicator_id, ficha in fichas.items():
    row = indicators.set_index("indicator_id").loc[indicator_id].to_dict() | {"indicator_id": indicator_id}
    display(Markdown(outcomes.ficha_markdown(ficha, row, results[indicator_id], lang)))
    excluded = exclusions[exclusions["indicator_id"] == indicator_id][["reason", "n"]]
    if len(excluded):
        display(excluded.reset_index(drop=True))
    detail = results[indicator_id].detail
    if detail is not None and len(detail):
        if ficha.source_key and sources[ficha.source_key].sensitive:
            detail, hidden = suppress_small_counts(detail, suppression_threshold)
        display(detail)'''),
    new_markdown_cell("""## Result
Tables written to `tables/` of the run folder. In the table of exclusions, counts below the suppression threshold
that concern child victims or residents are published as `<threshold`."""),
    new_code_cell('''from evalpipe.privacy import suppress_where

sensitive = {i for i, f in fichas.items() if f.source_key and sources[f.source_key].sensitive}
public_exclusions, hidden = suppress_where(exclusions, exclusions["indicator_id"].isin(sensitive), "n",
                                           suppression_threshold)
print(f"{hidden} small counts suppressed (threshold {suppression_threshold})")
tables_dir = Path(run_dir) / "tables"
for name, frame in {"outcome_indicators": indicators, "outcome_status": status, "outcome_exclusions": public_exclusions}.items():
    print(write_table(frame, tables_dir / f"{name}.csv", drop))'''),
])

FINANCE = notebook([
    new_markdown_cell("""# 5. Budget and financial execution (Tables 3–6, Annexes 19–20, Finding 13, §171–183)

Reads the two budget narratives and the ILO financial reports up to the cut-off (`finance/` of the drop),
checks the sums a reviewer checks by hand (outputs add up to their component; components, operating costs and
PM to the total; years to the cumulative figure; items to direct costs), and computes the budget (Tables 3–6)
and the execution (Annexes 19–20) in long form. A rule that fails on the raw data stops the run; a rule that
fails on the *published* figures goes to the audit. The finance suites of Great Expectations run in the
validation stage (notebook 2), with the other suites."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''from evalpipe import finance
from evalpipe.export import write_table
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
fin = finance.load_finance(Path(raw_dir), lfm, parse_quarter(cutoff), Path("."), allow_outside=allow_outside_paths)
print(f"currency {fin.currency}; {len(fin.budget)} budget cells; {len(fin.reports)} report cells")
fin.inventory'''),
    new_markdown_cell("## What «programado» means in each column\nThe report's header is ambiguous; the arithmetic supports this reading."),
    new_code_cell('''finance.programmed_meaning(fin)'''),
    new_markdown_cell(f"## The sums a reviewer checks by hand\nTolerance: {{}}."),
    new_code_cell('''checks = finance.reconcile(fin)
print("tolerance:", finance.TOLERANCE)
checks.groupby(["rule", "passed"]).size().rename("checks").reset_index()'''),
    new_markdown_cell("## Execution by component (Finding 13, §179)"),
    new_code_cell('''tables = finance.compute_tables(fin)
finance.execution_by_component(tables["financial_execution"])'''),
    new_markdown_cell("## Annex 19: programmed, executed to the cut-off, execution %, 2021 programme, balance"),
    new_code_cell('''execution = tables["financial_execution"]
cumulative = execution[execution["period"].isin(["acumulado", "2021", "saldos"])]
cumulative.pivot_table(index=["line", "line_name_es"], columns=["period", "measure"], values="value_rounded", sort=False)'''),
    new_markdown_cell("## Budget (Tables 3–6)"),
    new_code_cell('''budget = tables["budget"]
budget.pivot_table(index=["version", "line"], columns=["period", "measure"], values="value_rounded", sort=False)'''),
    new_markdown_cell("## Result"),
    new_code_cell('''for name, frame in tables.items():
    print(write_table(frame, Path(run_dir) / "tables" / f"{name}.csv", drop))'''),
])

AUDIT = notebook([
    new_markdown_cell("""# 6. Consistency audit against the published report

The report's published tables (Annexes 16, 17, 19 and 20, Tables 1 to 6) and the figures its narrative gives
(§38, §42, §117-118, §154-158, §172-183) are
in `data/raw/published_report/`. This stage — and only this stage — reads them, to list every place where they
differ from what the data and the report's own rules give. Each row names the published value, the computed
value and the rule."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''from evalpipe import audit
from evalpipe.export import write_table
from evalpipe.lfm import load_logframe

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
tables = Path(run_dir) / "tables"
indicators = pd.read_csv(tables / "output_indicators.csv", dtype={"output_id": str, "indicator_id": str})
status = pd.read_csv(tables / "output_status.csv", dtype={"output_id": str, "component_id": str})
outcome_indicators = pd.read_csv(tables / "outcome_indicators.csv", dtype={"outcome_id": str, "indicator_id": str})
outcome_status = pd.read_csv(tables / "outcome_status.csv", dtype={"outcome_id": str, "component_id": str})
lfm_counts = {"outputs": len(lfm.outputs), "output_indicators": len(lfm.output_indicators),
              "outcomes": len(lfm.outcomes), "outcome_indicators": len(lfm.outcome_indicators)}
findings = audit.consistency_audit(Path(raw_dir), indicators, status, lfm_counts, outcome_indicators, outcome_status)
if (tables / "financial_execution.csv").exists():
    from evalpipe import finance

    finance_rows = finance.audit_finance(Path(raw_dir) / "published_report", finance.read_tables(tables))
    findings = pd.concat([findings, pd.DataFrame(finance_rows, columns=findings.columns)], ignore_index=True)
print(f"{len(findings)} differences between the published report and the computed tables")'''),
    new_markdown_cell("## Differences by check"),
    new_code_cell('''findings.groupby(["check", "source"]).size().rename("n").reset_index() if len(findings) else findings'''),
    new_markdown_cell("## Every difference"),
    new_code_cell('''pd.set_option("display.max_colwidth", 120)
findings[["source", "item_id", "field", "published_value", "computed_value", "note"]]'''),
    new_code_cell('''print(write_table(findings, tables / "consistency_audit.csv", drop))'''),
])

FIGURES = notebook([
    new_markdown_cell("""# 7. Figures

One style for all (`evalpipe/style.py`): a colour-blind-safe palette with one colour per status, labels in the
run's language, PNG for notebooks and HTML, SVG for the annex. Same inputs give byte-identical files (fixed
SVG hash salt, no dates in the metadata)."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''import json

from IPython.display import Image

from evalpipe import figures

run = Path(run_dir)
manifest = json.loads((run / "reproducibility.json").read_text(encoding="utf-8"))
written = figures.make_all_figures(run, Path(processed_dir), lang, manifest=manifest)
print(f"{len(written)} figure files in figures/")
pictures = sorted(p for p in written if p.suffix == ".png")
[p.name for p in pictures]'''),
    new_code_cell('''for picture in pictures[:3]:
    display(Image(filename=str(picture)))'''),
])

ANNEX = notebook([
    new_markdown_cell("""# 8. The evaluation annex and the reviewer's package

The PDF annex typeset by Typst (PDF/A-2b, fonts embedded, dates fixed from the data drop so that the same
inputs give the same bytes), all annex tables in one Excel workbook, and `index.html`, the reviewer's entry
page. The annex reads the tables and figures of this run, the fichas and `reproducibility.json` (parameters,
input hashes, software, commit) — never the timings of the executed notebooks."""),
    parameters_cell(),
    new_code_cell(SETUP),
    new_code_cell('''import json
import time

from evalpipe import annex, reviewer

run = Path(run_dir)
manifest = json.loads((run / "reproducibility.json").read_text(encoding="utf-8"))
started = time.perf_counter()
pdf = annex.build_annex(run, Path(raw_dir), lang, manifest=manifest)
print(f"{pdf.name}: {pdf.stat().st_size / 1024:.0f} KiB, built in {time.perf_counter() - started:.1f} s")'''),
    new_code_cell('''print(reviewer.write_workbook(run, lang, manifest=manifest, raw_dir=Path(raw_dir)).name)
print(reviewer.write_index_html(run, lang, manifest=manifest).name)'''),
])

if __name__ == "__main__":
    for name, nb in {"01_clean": CLEAN, "02_validate": VALIDATE, "03_output_indicators": OUTPUTS,
                     "04_outcome_indicators": OUTCOMES, "05_finance": FINANCE,
                     "06_consistency_audit": AUDIT, "07_figures": FIGURES, "08_annex": ANNEX}.items():
        nbformat.validate(nb)
        nbformat.write(nb, ROOT / "notebooks" / f"{name}.ipynb")
        print(f"notebooks/{name}.ipynb")
