# %% [markdown]
# # 1. Clean: quarterly progress reports → one tidy table
#
# The project team reports the cumulative value of every output indicator in a workbook each quarter (§38, §153).
# This stage reads every workbook **up to the cut-off quarter** (later reports are listed, never opened), finds the
# indicator table under the title block, and writes one row per indicator × quarter to
# `data/processed/<run>/progress_indicators.csv`, each value with its provenance (file, sheet, row, column).
#
# The cleaning rules live in `evalpipe.cleaning` and `evalpipe.readers` (tested in `tests/`); this notebook only
# shows what they did.

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

# %% [markdown]
# ## Every input checked first
# Before anything is computed, every declaration of the drop is checked against its schema (`evalpipe/schemas.py`):
# `drop.yaml`, the logframe, `microdata/sources.yaml`, every ficha técnica and its `calculo` (methods, columns,
# operators, the type of every value), the progress reports found and the finance catalogue. YAML is read safely
# (no duplicate keys, no aliases, no tags, at most 1 MiB), and every file must lie inside the drop. The first problem
# stops the run with a message naming the file, the key or row, what was expected and what was found.

# %%
from evalpipe.schemas import check_drop

checked = check_drop(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
say(lang, "notebook.clean.checked", outputs=len(checked.lfm.output_indicators),
    outcomes=len(checked.lfm.outcome_indicators), sources=len(checked.sources), fichas=len(checked.fichas),
    reports=len(checked.progress_reports))
if checked.finance is not None:
    say(lang, "notebook.clean.checked_finance")
if checked.warnings:
    show(pd.DataFrame({"warning": checked.warnings}), lang)
else:
    say(lang, "notebook.warnings_none")

# %% [markdown]
# ## What was read
# The logframe (LFM 2019) and the progress reports found in the drop.

# %%
from evalpipe import progress
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
cutoff_quarter = parse_quarter(cutoff)
table, inventory, reports = progress.build_progress_table(Path(raw_dir), lfm, cutoff_quarter, Path("."),
                                                          allow_outside=allow_outside_paths)
say(lang, "notebook.clean.lfm", outputs=len(lfm.outputs), indicators=len(lfm.output_indicators))
show(inventory.as_frame(lang), lang)

# %%
show(progress.report_summary(reports), lang)

# %% [markdown]
# ## Warnings: nothing changes silently
# A value missing from the cut-off report (row deleted, or written `n.d.`, `N/A`, `--`, empty) takes the cumulative
# value of the last earlier report (§38, §153: values are cumulative), and says so here, in the run's summary line and
# in the annex; so do a quarter's report missing from the sequence and an indicator table read from a hidden sheet.
# Merged cells over values, codes or categories are refused.

# %%
warnings = progress.input_warnings(table, inventory)
if len(warnings):
    print(progress.warnings_line(warnings))
    show(progress.warnings_in_words(warnings, lang), lang)
else:
    say(lang, "notebook.warnings_none")

# %% [markdown]
# ## Cleaning rules applied
# | written form | read as | flag |
# |---|---|---|
# | `1.2.1.1.`, ` 1.2.1.1`, `1.2.1.1` + no-break space | `1.2.1.1` | (code respelled) |
# | `1,046`, `1.046`, `1 046` | 1046 | `reported` |
# | `268*`, `7**`, `12(1)` (footnote marks) | 268, 7, 12 | `reported` + `footnote_mark` |
# | `NA`, `N/A` | no value | `not_applicable` (indicator not yet in the LFM) |
# | `¿?`, `?`, `s.d.` | no value | `unknown` |
# | empty cell, `-` | no value | `blank` |
# | indicator missing from a report | no value | `not_reported` |
# | value missing from the cut-off report | the last earlier report's value, `carried_from` that quarter | warning `carried_forward` |
# | `Objetivo 1`, `1.2.1` (section and output headings) | skipped | |
#
# Counts of each flag by quarter:

# %%
show(progress.flag_summary(table), lang)

# %% [markdown]
# ## Outcome microdata
# The files the fichas técnicas cite (declared in `microdata/sources.yaml`). Only declared columns are kept: any
# other column (a partner may leave names, ID numbers or e-mails in a file) is dropped here and listed below by
# name — its values never reach the processed data or the reports. Declared free-text columns that no ficha uses
# are withheld (replaced by codes `withheld-1`, `withheld-2`, …); DNI numbers, e-mails and phone numbers found in the
# text and category values that are kept are masked (`[DNI]`, `[EMAIL]`, `[PHONE]`) and counted below.

# %%
from evalpipe import microdata

micro = microdata.read_all_sources(Path(raw_dir), Path("."), allow_outside=allow_outside_paths,
                                   suite_dirs=expectations_dirs)
show(microdata.sources_summary(micro), lang)

# %% [markdown]
# ## Result
# The tidy table (one row per indicator × quarter) and the typed microdata are written for the validation stage.

# %%
out_dir = Path(processed_dir)
out_dir.mkdir(parents=True, exist_ok=True)
table.to_csv(out_dir / "progress_indicators.csv", index=False, lineterminator="\n")
inventory.as_frame().to_csv(out_dir / "progress_reports_read.csv", index=False, lineterminator="\n")
progress.write_input_warnings(warnings, out_dir)
for source_table in micro.values():
    microdata.write_processed(source_table, out_dir)
say(lang, "notebook.clean.rows", rows=len(table), indicators=table["indicator_id"].nunique(),
    quarters=table["quarter"].nunique())
show(table.groupby("quarter").agg(rows=("indicator_id", "size"), with_value=("value", "count")), lang)
