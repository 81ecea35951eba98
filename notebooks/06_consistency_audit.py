# %% [markdown]
# # 6. Consistency audit against the published report
#
# The report's published tables (Annexes 16, 17, 19 and 20, Tables 1 to 6) and the figures its narrative gives
# (§38, §42, §117-118, §154-158, §172-183) are
# in `data/raw/published_report/`. This stage — and only this stage — reads them, to list every place where they
# differ from what the data and the report's own rules give. Each row names the published value, the computed
# value and the rule.

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

run = start(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir, allow_outside_paths)
raw_dir, processed_dir, run_dir, drop = run.raw_dir, run.processed_dir, run.run_dir, run.drop

# %%
from evalpipe import consistency
from evalpipe.export import write_table
from evalpipe.lfm import load_logframe

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
tables = Path(run_dir) / "tables"
findings = consistency.findings(Path(raw_dir), tables, lfm, cutoff)
say(lang, "notebook.audit.found", n=len(findings))
from evalpipe.annex import annex_text
from evalpipe.audit import in_words

in_words_table = in_words(findings, lang, annex_text(lang)["finance_codes"])  # rules and notes in the run's language

# %% [markdown]
# ## SMART analysis (Annexes 12 and 13)
#
# The evaluators' class of each indicator by the annexes' own note (all five criteria: good; at least S, M and R:
# acceptable; otherwise not functional), with the criteria read from each row's comment; beside it, what the
# printed X marks would give. The audit below lists each row whose marks contradict its comment.

# %%
from evalpipe import smart

smart_table = smart.load(Path(raw_dir) / "published_report")
if smart_table is not None:
    smart_summary = smart.summary(smart_table)
    show(smart.summary_in_words(smart_summary, lang), lang, strict_headers=False)
    print(write_table(smart_summary, tables / "smart_summary.csv", drop))
    smart_indicators = smart.indicator_table(smart_table)  # Annexes 12-13 row by row, for the annex
    print(write_table(smart_indicators, tables / smart.INDICATORS_FILE, drop))

# %% [markdown]
# ## Differences by check

# %%
show(in_words_table.groupby(["check", "source"]).size().rename("n_findings").reset_index(), lang)

# %% [markdown]
# ## Every difference

# %%
show(in_words_table[["source", "item_id", "field", "published_value", "computed_value", "note"]], lang)

# %%
print(write_table(findings, tables / "consistency_audit.csv", drop))
