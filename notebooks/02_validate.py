# %% [markdown]
# # 2. Validate: Great Expectations suites
#
# The suite `expectations/progress_indicators.json` states what the tidy table must satisfy: its columns and types,
# indicator codes known to the LFM, quarters within the project's life, values non-negative, cumulative values
# that never go down, one value per indicator and quarter. What depends on the drop (the LFM's codes, the project's
# quarters) is passed as suite parameters. A failed expectation stops the run with one message naming the file,
# sheet, row and column of the first problem; all problems are saved in `validation/problems.csv`.

# %% tags=["parameters"]
# Parameters (pipeline.py injects the run's values after this cell; paths are relative to the project root)
evaluation = "midterm"
cutoff = "2020Q2"
lang = "es"
raw_dir = "data/raw"
processed_dir = None  # None: run by hand, writes to data/processed/_scratch/<evaluation>-<cutoff>/
run_dir = None  # None: run by hand, writes to reports/_scratch/<evaluation>-<cutoff>/ (only pipeline.py publishes)
expectations_dirs = ["expectations"]
suppression_threshold = 5
allow_outside_paths = False  # True only with pipeline.py --allow-outside-paths: files may lie outside the drop

# %%
from pathlib import Path

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
print(f"evaluation={evaluation} cutoff={cutoff} lang={lang} drop={drop.drop_id} ({drop.data_origin}, {drop.drop_date})")

# %%
import json

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
print(f"project quarters {suite_parameters['project_quarters'][0]}..{suite_parameters['project_quarters'][-1]}")

# %%
out_dir = Path(run_dir) / "validation"
out_dir.mkdir(parents=True, exist_ok=True)
gx_context = validation.new_context(data_docs_dir=Path(run_dir) / "data_docs")
outcome = validation.run_suite(table, suite, suite_parameters, context=gx_context)
(out_dir / f"{outcome.suite}_result.json").write_text(json.dumps(outcome.result_json, indent=1, default=str), encoding="utf-8")
outcome.summary[["expectation", "column", "description", "success", "unexpected_count"]]

# %% [markdown]
# ## Outcome microdata
# One suite per microdata file (`expectations/microdata/<source>.json`): declared columns, unique identifiers,
# allowed categories, test scores within the 0–20 scale, counts not negative, dates within the project's life and
# not after the data drop. When the drop has finance data, the two finance suites (`expectations/finance/`) run
# here too: amounts numeric and non-negative, the declared currency, codes known to the LFM, years within the
# project's life.

# %%
from evalpipe import microdata

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
summary.to_csv(out_dir / "summary.csv", index=False, lineterminator="\n")
progress.read_input_warnings(Path(processed_dir)).to_csv(out_dir / "input_warnings.csv", index=False,
                                                         lineterminator="\n")
problems.to_csv(out_dir / "problems.csv", index=False, lineterminator="\n")
summary.groupby("suite").agg(expectations=("success", "size"), met=("success", "sum"))

# %% [markdown]
# ## Result

# %%
for name, result in outcomes_by_suite.items():
    print(f"{name}: {'PASSED' if result.success else 'FAILED'} "
          f"({int(result.summary['success'].sum())} of {len(result.summary)} expectations met)")
for result in outcomes_by_suite.values():
    validation.raise_on_failure(result, details_path=str(out_dir / "problems.csv"))
