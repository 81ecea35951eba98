# %% [markdown]
# # 5. Budget and financial execution (Tables 3–6, Annexes 19–20, Finding 13, §171–183)
#
# Reads the two budget narratives and the ILO financial reports up to the cut-off (`finance/` of the drop),
# checks the sums a reviewer checks by hand (outputs add up to their component; components, operating costs and
# PM to the total; years to the cumulative figure; items to direct costs), and computes the budget (Tables 3–6)
# and the execution (Annexes 19–20) in long form. A rule that fails on the raw data stops the run; a rule that
# fails on the *published* figures goes to the audit. The finance suites of Great Expectations run in the
# validation stage (notebook 2), with the other suites.

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
from evalpipe import finance
from evalpipe.export import write_table
from evalpipe.finance_meaning import programmed_meaning
from evalpipe.finance_read import load_finance
from evalpipe.finance_reconcile import reconcile
from evalpipe.finance_tables import compute_tables, execution_by_component, side_by_side
from evalpipe.lfm import load_logframe
from evalpipe.quarters import parse_quarter

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
fin = load_finance(Path(raw_dir), lfm, parse_quarter(cutoff), Path("."), allow_outside=allow_outside_paths)
say(lang, "notebook.finance.read", currency=fin.currency, budget=len(fin.budget), reports=len(fin.reports))
show(fin.inventory, lang)

# %% [markdown]
# ## What «programado» means in each column
# The report's header is ambiguous; the arithmetic supports this reading.

# %%
show(programmed_meaning(fin, lang), lang)

# %% [markdown]
# ## The sums a reviewer checks by hand

# %%
checks = reconcile(fin)
say(lang, "notebook.finance.tolerance", raw=finance.RAW_UNIT, published=finance.PUBLISHED_UNIT, currency=fin.currency)
show(checks.groupby(["rule", "passed"]).size().rename("checks").reset_index(), lang)

# %% [markdown]
# ## Execution by component (Finding 13, §179)

# %%
tables = compute_tables(fin)  # beside the whole-life programme: the programme to the cut-off and its execution %
show(execution_by_component(tables["financial_execution"]), lang)

# %% [markdown]
# ## Execution against the whole-life programme and against the programme to the cut-off
# The report's «Programado» (Annex 19, "Acumulado a julio 2020") is the whole-life programme, 2021 included: §179's
# "53% of its overall budget" is executed to the cut-off over it. The ILO reports give programmes by year only
# (§179), so the programme to the cut-off is the programme of the years with executed amounts (up to and including
# the cut-off's year, that year in full), which is executed plus the balance carried over. Both, side by side:

# %%
show(side_by_side(tables["financial_execution"], lang), lang)

# %% [markdown]
# ## Annex 19: programmed, executed to the cut-off, execution %, 2021 programme, balance

# %%
execution = tables["financial_execution"]
cumulative = execution[execution["period"].isin(["acumulado", "2021", "saldos"])]
name_column = "line_name_en" if lang == "en" else "line_name_es"
show(cumulative.pivot_table(index=["line", name_column], columns=["period", "measure"], values="value_rounded",
                            sort=False), lang)

# %% [markdown]
# ## Budget (Tables 3–6)

# %%
budget = tables["budget"]
show(budget.pivot_table(index=["version", "line"], columns=["period", "measure"], values="value_rounded", sort=False),
     lang)

# %% [markdown]
# ## Result

# %%
for name, frame in tables.items():
    print(write_table(frame, Path(run_dir) / "tables" / f"{name}.csv", drop))
