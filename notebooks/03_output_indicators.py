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

from evalpipe.notebook import say, show, start

run = start(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir, allow_outside_paths)
raw_dir, processed_dir, run_dir, drop = run.raw_dir, run.processed_dir, run.run_dir, run.drop

# %%
from evalpipe import outputs, progress
from evalpipe.export import write_table
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
table = progress.read_tidy(Path(processed_dir) / "progress_indicators.csv")
cutoff_quarter = parse_quarter(cutoff)
indicators = outputs.compute_output_indicators(table, lfm, cutoff_quarter)
status = outputs.compute_output_status(indicators, lfm)
say(lang, "notebook.outputs.read", rows=len(table), indicators=len(indicators), outputs=len(status), cutoff=cutoff)

# %% [markdown]
# ## Output indicators at the cut-off

# %%
show(indicators[["output_id", "indicator_id", "baseline", "current", "target", "progress_pct", "status",
                 "value_quarter", "carried_forward"]], lang, lfm=lfm)
carried = indicators[indicators["carried_forward"]]
if carried.empty:
    say(lang, "rules.carried_forward_none", cutoff=cutoff)
else:
    say(lang, "rules.carried_forward_some", n=len(carried), cutoff=cutoff,
        items=", ".join(f"{i} ({q})" for i, q in zip(carried["indicator_id"], carried["value_quarter"])))

# %% [markdown]
# ## Status counts

# %%
show(outputs.status_counts(indicators, outputs.INDICATOR_STATUSES), lang)

# %% [markdown]
# ## Output status (§155)

# %%
show(status[["component_id", "output_id", "status", "n_indicators", "n_achieved", "n_in_progress", "n_no_progress",
             "n_not_measured", "covid_risk", "scheduled_after_cutoff"]], lang, lfm=lfm)

# %%
show(outputs.status_counts(status, outputs.OUTPUT_STATUSES), lang)

# %% [markdown]
# ## Result
# Tables written to `tables/` of the run folder.

# %%
tables = Path(run_dir) / "tables"
for name, frame in {"output_indicators": indicators, "output_status": status}.items():
    print(write_table(frame, tables / f"{name}.csv", drop))
