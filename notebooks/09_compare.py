# %% [markdown]
# # 9. Progress since the mid-term evaluation
#
# Two published runs of one project compared: every output and outcome indicator at both cut-offs, the status
# transitions, the finance, the inputs that changed between the two data drops, the definitions that changed
# (compared like for like), and the mid-term recommendations followed up. All figures come from the two runs'
# own tables (`evalpipe/compare.py`); nothing is typed in by hand.

# %% tags=["parameters"]
# Parameters (pipeline.py injects its values after this cell; run names are folders of reports/)
run_a = "midterm-2020Q2"
run_b = "final-2021Q4"
lang = "es"
out_dir = None  # None: run by hand, writes to reports/_scratch/compare-<a>-vs-<b>/ (only pipeline.py publishes)

# %%
from pathlib import Path

import pandas as pd
from IPython.display import Image, Markdown, display

from evalpipe import compare, followup
from evalpipe.htmlsafe import escape_markdown
from evalpipe.labels import label
from evalpipe.workspace import find_project_root

root = find_project_root()
pair = compare.load_pair(root, run_a, run_b)
out = root / out_dir if out_dir else root / "reports" / "_scratch" / pair.name
pd.set_option("display.max_columns", 30)
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 80)
print(f"run_a={run_a} run_b={run_b} lang={lang} project={pair.a.project}")
print(f"writing to {out.relative_to(root)}")

# %% [markdown]
# ## What was read
#
# Both runs were verified against their manifests, and their data drops against the hashes the runs recorded.
# The inputs below are compared by SHA-256, by their path inside each drop.

# %%
compare_tables = compare.compare(pair)
tables = compare_tables.tables
tables["runs"]

# %%
tables["input_change_counts"].pivot_table(index="category", columns="state", values="n", aggfunc="sum")

# %%
changed_inputs = tables["input_changes"]
changed_inputs[changed_inputs["state"] != "unchanged"][["path", "category", "state"]]

# %% [markdown]
# ## Status transitions
#
# How many indicators, outputs and outcomes improved, stayed, worsened, were added or dropped between the two
# cut-offs (a status is better when it is further along: not measured, no progress, in progress, achieved).

# %%
tables["transition_counts"].pivot_table(index="level", columns="direction", values="n", aggfunc="sum")

# %%
written = compare.write_comparison(compare_tables, out, lang)
figures = {p.stem: p for p in written if p.suffix == ".png"}
for picture in figures.values():
    display(Image(filename=str(picture)))

# %% [markdown]
# ## Every indicator at both cut-offs

# %%
view = tables["indicator_changes"].copy()
for column in ("status_a", "status_b"):
    view[column] = view[column].map(lambda code: label(code, lang))
view

# %%
units = tables["unit_changes"].copy()
for column in ("status_a", "status_b"):
    units[column] = units[column].map(lambda code: label(code, lang))
units

# %% [markdown]
# ## Like for like
#
# When a ficha's calculation, a target, a baseline or the logframe changed between the two drops, the earlier
# figure is not comparable as published. The earlier cut-off is computed again with the later definition on the
# later drop's data (when those data reach back to it): both the published and the comparable earlier figures
# are shown.

# %%
like = tables["like_for_like"]
like[like["definition_changed"] | like["data_revised"] | like["basis"].isin(["added", "dropped"])]

# %%
definitions = tables["definition_changes"]
for row in definitions.itertuples():
    if row.field == "calculo":
        display(Markdown(f"**{escape_markdown(row.indicator_id)}** (calculo)\n\n```diff\n{row.diff}\n```"))
definitions[definitions["field"] != "calculo"][["level", "indicator_id", "field", "value_a", "value_b", "change"]]

# %% [markdown]
# ## Finance
#
# Programmed, executed and execution rate to each cut-off, by component and output, and what was executed in
# between. A run whose drop has no finance data has no figures here (`available` says which run has them).

# %%
tables["finance_changes"]

# %% [markdown]
# ## The mid-term recommendations followed up

# %%
recommendations = tables["recommendations"]
if len(recommendations):
    display(recommendations[["recommendation_id", "addressee", "priority", f"summary_{lang}", f"response_{lang}",
                             "state"]])
else:
    print("the later drop has no follow-up table (" + followup.FOLLOWUP_FILE + ")")

# %%
tables["recommendation_states"]

# %%
tables["recommendation_addressees"]

# %% [markdown]
# ## Result
#
# The comparison's tables and figures were written to the comparison folder; its manifest records the SHA-256
# of both runs' manifests and of every file written.

# %%
print(f"{len(written)} files written to {out.relative_to(root)}")
sorted(str(p.relative_to(out)) for p in written)
