# Reproducible evaluation pipeline. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test bench lock notebooks synthetic-data clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies and the package

run: $(STAMP) ## Set up, then run the whole pipeline on the shipped data (reports/midterm-2020Q2/)
	$(BIN)/python pipeline.py run --evaluation midterm --cutoff 2020Q2 --lang es

test: $(STAMP) ## Set up, then run the tests
	$(BIN)/python -m pytest

.PHONY: test-fast
test-fast: $(STAMP) ## Set up, then run the fast tests: no notebook kernel, no rendering (about a minute)
	$(BIN)/python -m pytest -q -m "not slow and not render"

bench: $(STAMP) ## Measure run times on this machine (prints a table; about 10 minutes)
	$(BIN)/python scripts/bench.py

lock: $(STAMP) ## Re-pin requirements.txt and environment.yml from the current .venv
	$(BIN)/python scripts/lock.py

synthetic-data: $(STAMP) ## Rewrite the synthetic data (progress reports, microdata, final-evaluation drop)
	cd scripts && ../$(BIN)/python synthesize_progress_reports.py && ../$(BIN)/python synthesize_microdata.py \
		&& ../$(BIN)/python synthesize_final_drop.py

clean: ## Remove outputs (reports/, data/processed/); raw data are never touched
	find reports data/processed -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
