# Reproducible evaluation pipeline. `make help` lists the targets.
# The Python the project needs, from pyproject.toml's requires-python (">=3.11,<3.12" -> 3.11).
NEED_PYTHON := $(shell sed -n 's/^requires-python *= *">= *\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' pyproject.toml)
# python3.11 when it is on the PATH, else python3; `make install PYTHON=/path/to/python3.11` chooses another.
PYTHON ?= $(shell command -v python$(NEED_PYTHON) >/dev/null 2>&1 && echo python$(NEED_PYTHON) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VERSION_OF = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHON_VERSION := $(call VERSION_OF,$(PYTHON))
# The version of the Python that made .venv ("none" when .venv is absent, "broken" when its python does not run).
VENV_VERSION := $(if $(wildcard $(VENV)),$(or $(call VERSION_OF,$(BIN)/python),broken),none)

.DEFAULT_GOAL := help
.PHONY: help install run test bench lock synthetic-data clean check-python FORCE

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

# Before anything is installed: the Python that would make .venv must be the one the project needs.
CHECK_PYTHON = if [ "$(PYTHON_VERSION)" != "$(NEED_PYTHON)" ]; then \
	  echo "error: this project needs Python $(NEED_PYTHON) (found $(if $(PYTHON_VERSION),$(PYTHON_VERSION) at $(shell command -v $(PYTHON)),no working $(PYTHON))); run: make $(firstword $(MAKECMDGOALS) install) PYTHON=python$(NEED_PYTHON)" >&2; \
	  exit 1; \
	fi

check-python: ## Say whether PYTHON is the Python the project needs (make does it before installing)
	@$(CHECK_PYTHON)

# A .venv made by another Python (or whose python no longer runs) is rebuilt, never reused.
ifneq ($(VENV_VERSION),none)
ifneq ($(VENV_VERSION),$(NEED_PYTHON))
$(STAMP): FORCE
endif
endif
# A Python named on the command line (or in the environment) is checked even when .venv is up to date.
ifneq ($(filter command line environment,$(origin PYTHON)),)
$(STAMP): | check-python
endif

$(STAMP): requirements.txt pyproject.toml
	@$(CHECK_PYTHON)
	@if [ -e $(VENV) ] && [ "$(VENV_VERSION)" != "$(NEED_PYTHON)" ]; then \
	  echo "$(VENV) was made by Python $(VENV_VERSION), not $(NEED_PYTHON): rebuilding it with $(PYTHON)"; \
	  rm -rf $(VENV); \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies and the package

run: $(STAMP) ## Set up, then run the whole pipeline on the shipped data (reports/midterm-2020Q2/)
	$(BIN)/python pipeline.py run --evaluation midterm --cutoff 2020Q2 --lang es

# Two test processes (pytest-xdist) share the session's pipeline runs (tests/conftest.py); WORKERS=0 runs one.
WORKERS ?= 2
test: $(STAMP) ## Set up, then run the tests (two processes; WORKERS=0 for one)
	$(BIN)/python -m pytest -n $(WORKERS)

.PHONY: test-fast
test-fast: $(STAMP) ## Set up, then run the fast tests: no notebook kernel, no rendering (under a minute)
	$(BIN)/python -m pytest -q -n $(WORKERS) -m "not slow and not render"

# The mutants `make mutation` runs: every function of outputs, methods, operators, privacy and export, and the
# status rules and formula of outcomes (its notebook prose is out of scope). pyproject.toml [tool.mutmut] says
# which files are mutated and which tests run.
MUTANTS := 'evalpipe.outputs.*' 'evalpipe.methods.*' 'evalpipe.operators.*' 'evalpipe.privacy.*' \
	'evalpipe.export.*' 'evalpipe.outcomes.x_outcome_status*' 'evalpipe.outcomes.x_compute_outcome_status*' \
	'evalpipe.outcomes.x_evaluate_ficha*' 'evalpipe.outcomes.x__scheduled_after_cutoff*' \
	'evalpipe.outcomes.x__waits_for*' 'evalpipe.outcomes.x_formula_line*'

.PHONY: mutation
mutation: $(STAMP) ## Mutation testing (mutmut, 2 workers) of outputs, methods, operators, outcomes, privacy, export on the fast unit tests (docs/mutation.md)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python scripts/mutation_score.py $(MUTANTS)

bench: $(STAMP) ## Measure run times on this machine (table + reports/bench/latest.json; QUICK=1: one run each)
	$(BIN)/python scripts/bench.py $(if $(QUICK),--quick) $(if $(BENCH_REPEAT),--repeat $(BENCH_REPEAT))

lock: $(STAMP) ## Re-pin requirements.txt and environment.yml from the current .venv
	$(BIN)/python scripts/lock.py

synthetic-data: $(STAMP) ## Rewrite the synthetic data (progress reports, microdata, final-evaluation drop)
	cd scripts && ../$(BIN)/python synthesize_progress_reports.py && ../$(BIN)/python synthesize_microdata.py \
		&& ../$(BIN)/python synthesize_final_drop.py

clean: ## Remove outputs (reports/, data/processed/); raw data are never touched
	find reports data/processed -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
