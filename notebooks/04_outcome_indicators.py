# %% [markdown]
# # 4. Outcome indicators from the fichas técnicas (Annexes 14, 17; §157-158)
#
# Each outcome indicator is computed from its ficha técnica (`fichas/<indicator>.yaml`): the ficha names a method of
# a closed set (`evalpipe.methods`), its source file and its rules; nothing in a ficha is run as code. For every
# indicator the table keeps the numerator, the denominator, the rows used and the rows each rule left out.
#
# Indicator status: `achieved` (current ≥ target), `in_progress` (above the baseline), `no_progress`,
# `not_measured` (no data support a measurement — never zero). An indicator whose construction needs an output
# that is not delivered yet shows no progress and has no value (§157). Outcome status (§158): `in_progress` if at
# least one indicator shows progress; `not_measured` (not assessed) if the data are insufficient; otherwise
# `no_progress`.

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
from evalpipe import fichas as fichas_module, methods, microdata, outcomes
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
      f"{len(sources)} microdata sources; cut-off {cutoff}")

# %% [markdown]
# ## Outcome indicators at the cut-off

# %%
view = indicators[["outcome_id", "indicator_id", "unit", "baseline", "current", "target", "numerator",
                   "denominator", "n", "n_excluded", "status", "method", "origin"]].copy()
view["status"] = view["status"].map(lambda code: label(code, lang))
view

# %% [markdown]
# ## Status counts: indicators and outcomes (§157, §158)

# %%
from evalpipe.outputs import INDICATOR_STATUSES, status_counts

counts = status_counts(indicators, INDICATOR_STATUSES)
counts.assign(label=counts["status"].map(lambda code: label(code, lang)))

# %%
status_view = status.assign(label=status["status"].map(lambda code: label(code, lang)))
status_view

# %% [markdown]
# ## Each ficha: formula, numbers, exclusions
# Aggregated tables only. Tables drawn from files about child victims show counts below the suppression threshold
# as `<5`.

# %%
for indicator_id, ficha in fichas.items():
    row = indicators.set_index("indicator_id").loc[indicator_id].to_dict() | {"indicator_id": indicator_id}
    display(Markdown(outcomes.ficha_markdown(ficha, row, results[indicator_id], lang)))
    excluded = exclusions[exclusions["indicator_id"] == indicator_id][["reason", "n"]]
    if len(excluded):
        display(excluded.reset_index(drop=True))
    detail = results[indicator_id].detail
    if detail is not None and len(detail):
        if ficha.source_key and sources[ficha.source_key].sensitive:
            detail, hidden = suppress_small_counts(detail, suppression_threshold)
        display(detail)

# %% [markdown]
# ## Result
# Tables written to `tables/` of the run folder. In the table of exclusions, counts below the suppression threshold
# that concern child victims or residents are published as `<threshold`.

# %%
from evalpipe.privacy import suppress_where

sensitive = {i for i, f in fichas.items() if f.source_key and sources[f.source_key].sensitive}
public_exclusions, hidden = suppress_where(exclusions, exclusions["indicator_id"].isin(sensitive), "n",
                                           suppression_threshold)
print(f"{hidden} small counts suppressed (threshold {suppression_threshold})")
tables_dir = Path(run_dir) / "tables"
for name, frame in {"outcome_indicators": indicators, "outcome_status": status, "outcome_exclusions": public_exclusions}.items():
    print(write_table(frame, tables_dir / f"{name}.csv", drop))
