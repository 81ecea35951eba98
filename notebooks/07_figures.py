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

from IPython.display import Image

from evalpipe import figures

run = Path(run_dir)
manifest = json.loads((run / "reproducibility.json").read_text(encoding="utf-8"))
written = figures.make_all_figures(run, Path(processed_dir), lang, manifest=manifest)
print(f"{len(written)} figure files in figures/")
pictures = sorted(p for p in written if p.suffix == ".png")
[p.name for p in pictures]

# %%
for picture in pictures[:3]:
    display(Image(filename=str(picture)))
