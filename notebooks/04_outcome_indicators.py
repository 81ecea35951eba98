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

from evalpipe.notebook import say, show, start

run = start(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir, allow_outside_paths, suppression_threshold=suppression_threshold)
raw_dir, processed_dir, run_dir, drop = run.raw_dir, run.processed_dir, run.run_dir, run.drop

# %%
from evalpipe import fichas as fichas_module, microdata, outcomes
from evalpipe.export import write_table
from evalpipe.lfm import load_logframe
from evalpipe.privacy import public_exclusions, sensitive_indicators, suppress_small_counts

lfm = load_logframe(Path(raw_dir) / "lfm", Path("."), allow_outside=allow_outside_paths)
sources = microdata.load_sources(Path(raw_dir), Path("."), allow_outside=allow_outside_paths)
fichas = fichas_module.load_fichas(Path(raw_dir), sources, lfm.outcome_indicators, Path("."), lfm=lfm,
                                   allow_outside=allow_outside_paths)
# the processed microdata and the run's output indicators and statuses
context, output_status = outcomes.outcome_context(processed_dir, run_dir, cutoff, sources)
indicators, exclusions, results = outcomes.compute_outcome_indicators(
    fichas, context, lfm.outcome_indicators, output_status, {k: s.file for k, s in sources.items()})
status = outcomes.compute_outcome_status(indicators, lfm.outcomes)
sensitive = sensitive_indicators(fichas, sources)
origins = indicators["origin"].value_counts().to_dict()
say(lang, "notebook.outcomes.read", fichas=len(fichas), annex_14=origins.get("annex_14", 0),
    reconstructed=origins.get("reconstructed", 0), sources=len(sources), cutoff=cutoff)

# %% [markdown]
# ## Outcome indicators at the cut-off

# %%
show(indicators[["outcome_id", "indicator_id", "unit", "baseline", "current", "target", "numerator", "denominator",
                 "n", "n_excluded", "status", "method", "origin", "value_note"]], lang, lfm=lfm,
     suppress="n_excluded", sensitive=indicators["indicator_id"].isin(sensitive), threshold=suppression_threshold)

# %% [markdown]
# ## Status counts: indicators and outcomes (§157, §158)

# %%
from evalpipe.outputs import INDICATOR_STATUSES, status_counts

show(status_counts(indicators, INDICATOR_STATUSES), lang)

# %%
show(status, lang, lfm=lfm)

# %% [markdown]
# ## Each ficha: formula, numbers, exclusions
# Aggregated tables only. Tables drawn from files about child victims show counts below the suppression threshold
# as `<5`.

# %%
by_id = indicators.set_index("indicator_id")
for indicator_id, ficha in fichas.items():
    row = by_id.loc[indicator_id].to_dict() | {"indicator_id": indicator_id}
    display(Markdown(outcomes.ficha_markdown(ficha, row, results[indicator_id], lang)))
    excluded = exclusions[exclusions["indicator_id"] == indicator_id][["reason", "n"]].copy()
    excluded["reason"] = [outcomes.reason_text(reason, lang) for reason in excluded["reason"]]  # the package's reasons in the run's language
    if len(excluded):
        show(excluded.rename(columns={"reason": "exclusion_reason"}), lang, suppress="n",
             threshold=suppression_threshold, sensitive=pd.Series(indicator_id in sensitive, index=excluded.index))
    detail = results[indicator_id].detail
    if detail is not None and len(detail):
        if indicator_id in sensitive:
            detail, _ = suppress_small_counts(detail, suppression_threshold)
        if len(detail) > outcomes.DETAIL_ROWS:  # a large drop: the first groups, and how many there are
            say(lang, "notebook.outcomes.detail_cut", shown=outcomes.DETAIL_ROWS, total=len(detail))
            detail = detail.head(outcomes.DETAIL_ROWS)
        show(detail, lang, strict_headers=False)  # columns named by the ficha's data

# %% [markdown]
# ## Result
# Tables written to `tables/` of the run folder. In the table of exclusions, counts below the suppression threshold
# that concern child victims or residents are published as `<threshold`.

# %%
published_exclusions, hidden = public_exclusions(exclusions, fichas, sources, suppression_threshold)
say(lang, "notebook.outcomes.suppressed", hidden=hidden, threshold=suppression_threshold)
tables_dir = Path(run_dir) / "tables"
for name, frame in {"outcome_indicators": indicators, "outcome_status": status,
                    "outcome_exclusions": published_exclusions}.items():
    print(write_table(frame, tables_dir / f"{name}.csv", drop))
