# %% [markdown]
# # 8. The evaluation annex and the reviewer's package
#
# The PDF annex typeset by Typst (PDF/A-2b, fonts embedded, dates fixed from the data drop so that the same
# inputs give the same bytes), all annex tables in one Excel workbook, and `index.html`, the reviewer's entry
# page. The annex reads the tables and figures of this run, the fichas and `reproducibility.json` (parameters,
# input hashes, software, commit) — never the timings of the executed notebooks.

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
import json
import time

from evalpipe import annex, reviewer

run = Path(run_dir)
manifest = json.loads((run / "reproducibility.json").read_text(encoding="utf-8"))
started = time.perf_counter()
pdf = annex.build_annex(run, Path(raw_dir), lang, manifest=manifest)
print(f"{pdf.name}: {pdf.stat().st_size / 1024:.0f} KiB, built in {time.perf_counter() - started:.1f} s")

# %%
print(reviewer.write_workbook(run, lang, manifest=manifest, raw_dir=Path(raw_dir)).name)
print(reviewer.write_index_html(run, lang, manifest=manifest).name)
