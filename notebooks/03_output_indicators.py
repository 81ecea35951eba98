# %% [markdown]
# # 3. Output indicators and output status (§155)
#
# **Current value** = the cumulative value of the last report at or before the cut-off (§38).
# **Progress** = current / target × 100 (Annex 16). Output indicator baselines are 0 (§114).
#
# Indicator status: `achieved` if current ≥ target; `in_progress` if baseline < current < target; `no_progress` if
# current = baseline; `not_measured` if no value was reported up to the cut-off (never counted as zero).
#
# Output status (§155): `delivered` if all its indicators reached their targets; `in_progress` if at least one shows
# progress; `in_progress_at_risk` if, in addition, its performance could be significantly conditioned by Covid-19
# (the evaluators' judgement per output, `data/raw/lfm/covid_risk_outputs.csv`); `not_delivered` if none shows
# progress. Outputs not delivered because all their indicators are scheduled after the cut-off carry the mark
# `scheduled_after_cutoff` (Table 1's asterisk).

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
from evalpipe import outputs, progress
from evalpipe.export import write_table
from evalpipe.labels import label
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
table = progress.read_tidy(Path(processed_dir) / "progress_indicators.csv")
cutoff_quarter = parse_quarter(cutoff)
indicators = outputs.compute_output_indicators(table, lfm, cutoff_quarter)
status = outputs.compute_output_status(indicators, lfm)
print(f"{len(indicators)} output indicators, {len(status)} outputs at the cut-off {cutoff}")

# %% [markdown]
# ## Output indicators at the cut-off

# %%
view = indicators[["output_id", "indicator_id", "baseline", "current", "target", "progress_pct", "status", "value_quarter"]].copy()
view["status"] = view["status"].map(lambda code: label(code, lang))
view

# %% [markdown]
# ## Status counts

# %%
counts = outputs.status_counts(indicators, outputs.INDICATOR_STATUSES)
counts.assign(label=counts["status"].map(lambda code: label(code, lang)))

# %% [markdown]
# ## Output status (§155)

# %%
status_view = status.copy()
status_view["label"] = status_view["status"].map(lambda code: label(code, lang))
status_view

# %%
counts = outputs.status_counts(status, outputs.OUTPUT_STATUSES)
counts.assign(label=counts["status"].map(lambda code: label(code, lang)))

# %% [markdown]
# ## Result
# Tables written to `tables/` of the run folder.

# %%
tables = Path(run_dir) / "tables"
for name, frame in {"output_indicators": indicators, "output_status": status}.items():
    print(write_table(frame, tables / f"{name}.csv", drop))
