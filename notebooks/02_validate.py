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

from evalpipe.notebook import say, show, start

run = start(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir, allow_outside_paths, expectations_dirs=expectations_dirs)
raw_dir, processed_dir, run_dir, drop = run.raw_dir, run.processed_dir, run.run_dir, run.drop

# %%
from evalpipe import suites
from evalpipe.lfm import load_logframe, load_project

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
project = load_project(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
parameters = suites.progress_parameters(lfm, project)
say(lang, "notebook.validate.quarters", first=parameters["project_quarters"][0],
    last=parameters["project_quarters"][-1], indicators=len(parameters["known_indicator_ids"]))
outcomes = suites.run_all(Path(raw_dir), Path(processed_dir), Path(run_dir), expectations_dirs, lfm, project, drop,
                          cutoff, allow_outside=allow_outside_paths)
summary, problems = suites.write_results(outcomes, Path(run_dir) / "validation", Path(processed_dir))
progress_suite = outcomes["progress_indicators"]
show(progress_suite.summary[["expectation", "column", "description", "success", "unexpected_count"]], lang)

# %% [markdown]
# ## Outcome microdata
# One suite per microdata file (`expectations/microdata/<source>.json`): declared columns, unique identifiers,
# allowed categories, test scores within the 0–20 scale, counts not negative, dates within the project's life and
# not after the data drop. When the drop has finance data, the two finance suites (`expectations/finance/`) run
# here too: amounts numeric and non-negative, the declared currency, codes known to the LFM, years within the
# project's life.

# %%
show(summary.groupby("suite").agg(expectations=("success", "size"), met=("success", "sum")), lang)

# %% [markdown]
# ## Result

# %%
from evalpipe import validation

for name, result in outcomes.items():
    say(lang, "notebook.validate.passed" if result.success else "notebook.validate.failed", suite=name,
        met=int(result.summary["success"].sum()), total=len(result.summary))
for result in outcomes.values():
    validation.raise_on_failure(result, details_path=str(Path(run_dir) / "validation" / "problems.csv"))
