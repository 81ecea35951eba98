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
from evalpipe import audit
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
print(f"{len(findings)} differences between the published report and the computed tables")

# %% [markdown]
# ## Differences by check

# %%
findings.groupby(["check", "source"]).size().rename("n").reset_index() if len(findings) else findings

# %% [markdown]
# ## Every difference

# %%
pd.set_option("display.max_colwidth", 120)
findings[["source", "item_id", "field", "published_value", "computed_value", "note"]]

# %%
print(write_table(findings, tables / "consistency_audit.csv", drop))
