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

from evalpipe.notebook import say, show, start

run = start(evaluation, cutoff, lang, raw_dir, processed_dir, run_dir, allow_outside_paths)
raw_dir, processed_dir, run_dir, drop = run.raw_dir, run.processed_dir, run.run_dir, run.drop

# %%
import json
import time

from evalpipe import annex, reviewer

run_path = Path(run_dir)
manifest = json.loads((run_path / "reproducibility.json").read_text(encoding="utf-8"))
started = time.perf_counter()
pdf = annex.build_annex(run_path, Path(raw_dir), lang, manifest=manifest)
say(lang, "notebook.annex.pdf", name=pdf.name, kib=round(pdf.stat().st_size / 1024),
    seconds=round(time.perf_counter() - started, 1))

# %%
say(lang, "notebook.annex.written", name=reviewer.write_workbook(run_path, lang, manifest=manifest,
                                                                 raw_dir=Path(raw_dir)).name)
say(lang, "notebook.annex.written", name=reviewer.write_index_html(run_path, lang, manifest=manifest).name)
