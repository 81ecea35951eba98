#!/usr/bin/env python
"""Run the evaluation pipeline: clean -> validate -> output and outcome indicators -> audit -> annex.

    .venv/bin/python pipeline.py run                 # mid-term, cut-off 2020Q2, Spanish, shipped data
    .venv/bin/python pipeline.py run --cutoff 2020Q4 # writes reports/midterm-2020Q4/, leaves the other alone
    .venv/bin/python pipeline.py status              # what is up to date and what would re-run, and why
    .venv/bin/python pipeline.py --help

The commands live in evalpipe/cli.py, which the package also installs as the `evalpipe` console script;
this file makes its own folder the project. Each stage is a notebook in notebooks/, executed by Papermill
with the validated parameters; the logic lives in the evalpipe package.
"""

import sys
from pathlib import Path

from evalpipe.cli import app, set_root

ROOT = Path(__file__).resolve().parent
set_root(ROOT)

if __name__ == "__main__":
    sys.exit(app())
