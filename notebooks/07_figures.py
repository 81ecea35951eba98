# %% [markdown]
# # 7. Figures
#
# One style for all (`evalpipe/style.py`): a colour-blind-safe palette with one colour per status, labels in the
# run's language, PNG for notebooks and HTML, SVG for the annex. Same inputs give byte-identical files (fixed
# SVG hash salt, no dates in the metadata).

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

from IPython.display import Image

from evalpipe import figures

run_path = Path(run_dir)
manifest = json.loads((run_path / "reproducibility.json").read_text(encoding="utf-8"))
written = figures.make_all_figures(run_path, Path(processed_dir), lang, manifest=manifest)
pictures = sorted(p for p in written if p.suffix == ".png")
say(lang, "notebook.figures.written", files=len(written), figures=len(pictures))

# %%
for picture in pictures:
    display(Markdown(f"`figures/{picture.name}`"))
    display(Image(filename=str(picture)))
