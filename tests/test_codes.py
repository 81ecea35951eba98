"""Codes in a small module: the status and period codes live in evalpipe/codes.py (no pandas, no other
evalpipe module), so that a stage that only reads a code does not depend, for the cache, on the module
that computes it (issue 15: the figures stage depended on 29 modules, methods.py among them)."""

from __future__ import annotations

import ast

from evalpipe import codes, stages

from conftest import ROOT

PACKAGE = ROOT / "evalpipe"
NOTEBOOKS = ROOT / "notebooks"


def closure(stage_name: str) -> set[str]:
    return set(stages.module_closure(NOTEBOOKS / stages.stage(stage_name).notebook, PACKAGE))


def test_codes_imports_nothing_heavy():
    tree = ast.parse((PACKAGE / "codes.py").read_text(encoding="utf-8"))
    imported = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [getattr(node, "module", None) for node in imported] == ["__future__"]


def test_the_figures_stage_does_not_depend_on_the_method_registry_or_the_fichas():
    modules = closure("figures")
    assert "figures" in modules and "codes" in modules  # what it draws, and the codes it reads
    assert not modules & {"methods", "outcomes", "fichas", "schemas", "microdata", "validation", "audit"}, modules
    assert not {m for m in modules if m.startswith("finance")}, modules  # it reads the finance tables' CSV only


def test_the_output_and_finance_stages_do_not_depend_on_the_method_registry():
    assert "methods" not in closure("output_indicators")
    finance = closure("finance")
    assert "methods" not in finance and "audit_finance" not in finance  # the finance audit runs in the audit stage
    assert "audit_finance" in closure("audit")


def test_the_module_closure_still_follows_real_imports():
    """A stage that computes outcomes depends on the methods that compute them (the closure is not emptied by
    hiding imports)."""
    assert {"methods", "outcomes", "fichas"} <= closure("outcome_indicators")


def test_the_status_codes_have_one_home():
    from evalpipe import audit, compare, outcomes, outputs

    assert outputs.INDICATOR_STATUSES is codes.INDICATOR_STATUSES
    assert outputs.OUTPUT_STATUSES is codes.OUTPUT_STATUSES
    assert outcomes.OUTCOME_STATUSES is codes.OUTCOME_STATUSES is audit.OUTCOME_STATUSES
    assert outcomes.NOT_APPLICABLE is codes.NOT_APPLICABLE
    assert compare.STATUS_CODES["outcome"] is codes.OUTCOME_STATUSES
    assert compare.STATUS_CODES["outcome_indicator"] is codes.INDICATOR_STATUSES
