"""The stable machine codes the tables carry, in one light module (no pandas, no other evalpipe module).

Statuses, value notes and the finance tables' period codes are written into the published CSV files and
read back by the figures, the annex, the audit and the comparison. They live here, not in the modules
that compute them, so that a stage which only *reads* a code does not depend, for the cache
(``stages.module_closure``), on the code that computes it. Display text for every code is in the
translation catalog (``status.*`` and friends), never here.
"""

from __future__ import annotations

# ------------------------------------------------------------------ indicator status (output and outcome)
ACHIEVED = "achieved"  # current >= target
IN_PROGRESS = "in_progress"  # above the baseline
NO_PROGRESS = "no_progress"
NOT_MEASURED = "not_measured"  # no value up to the cut-off: never zero
INDICATOR_STATUSES = (ACHIEVED, IN_PROGRESS, NO_PROGRESS, NOT_MEASURED)

# ------------------------------------------------------------------ output status (§155)
DELIVERED = "delivered"  # every indicator achieved
OUTPUT_IN_PROGRESS = "in_progress"
IN_PROGRESS_AT_RISK = "in_progress_at_risk"  # progress, and Covid-19 could significantly condition it
NOT_DELIVERED = "not_delivered"  # no indicator shows progress
OUTPUT_NOT_MEASURED = "not_measured"
OUTPUT_STATUSES = (DELIVERED, OUTPUT_IN_PROGRESS, IN_PROGRESS_AT_RISK, NOT_DELIVERED, OUTPUT_NOT_MEASURED)

# ------------------------------------------------------------------ outcome status (§158)
OUTCOME_STATUSES = (IN_PROGRESS, NO_PROGRESS, NOT_MEASURED)

# ------------------------------------------------------------------ value notes
# An outcome indicator's ``value_note``: no value is published because its construction waits for an
# undelivered output (§157); also the cleaning flag of an "NA" cell of a progress report.
NOT_APPLICABLE = "not_applicable"

# ------------------------------------------------------------------ finance tables (period column)
ACUMULADO = "acumulado"  # Annexes 19-20: the cumulative column (to the cut-off, or the whole life)
TOTAL = "total"  # Tables 3-6: the item's total over the years
