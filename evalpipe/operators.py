"""The filter operators a ficha may use in a condition, registered by name: one home for each.

A condition is ``{column: <column>, <operator>: <operand>, reason: ...}`` with exactly one operator. Each
operator registers the function that picks the rows (``mask``) and the kind of its operand, from which the
ficha schema (``schemas.Condition``) builds the key it accepts:

- ``values``: a non-empty list of values (``in: [Sí, Si]``);
- ``true``: the word ``true`` (``not_blank: true``);
- ``date``: a date YYYY-MM-DD or ``cutoff`` (the last day of the cut-off quarter);
- ``number``: a number.

``methods.condition_mask`` applies them; adding an operator is one decorated function here. This module
imports nothing heavy (parameters and schemas are checked before pandas is imported).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

OPERAND_KINDS = ("values", "true", "date", "number")


@dataclass(frozen=True)
class Operator:
    name: str
    operand: str  # one of OPERAND_KINDS
    mask: Callable[[Any, Any], Any]  # (column values as a pandas Series, operand) -> boolean Series


OPERATORS: dict[str, Operator] = {}


def operator(name: str, operand: str):
    """Register a filter operator: ``mask(values, operand)`` gives the rows it keeps. A ``date`` operand
    reaches ``mask`` as a ``pandas.Timestamp`` (``cutoff`` already resolved)."""
    if operand not in OPERAND_KINDS:
        raise ValueError(f"operator '{name}': operand kind {operand!r} is not one of {', '.join(OPERAND_KINDS)}")

    def register(mask: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        OPERATORS[name] = Operator(name, operand, mask)
        return mask
    return register


# Registered by a call after each function (the same as ``@operator(...)``): mutation testing (mutmut, ``make
# mutation``) does not mutate decorated functions.
def _in(values, operand):
    return values.isin(list(operand))


operator("in", "values")(_in)


def _not_in(values, operand):
    return ~values.isin(list(operand)) & values.notna()


operator("not_in", "values")(_not_in)


def _not_blank(values, operand):
    return values.notna() & values.astype(str).str.strip().ne("")


operator("not_blank", "true")(_not_blank)


def _on_or_before(values, limit):
    return values.notna() & (values <= limit)


operator("on_or_before", "date")(_on_or_before)


def _after(values, limit):
    return values.notna() & (values > limit)


operator("after", "date")(_after)


def _on_or_after(values, limit):
    return values.notna() & (values >= limit)


operator("on_or_after", "date")(_on_or_after)


def _greater_than(values, operand):
    import pandas as pd

    return pd.to_numeric(values, errors="coerce") > float(operand)


operator("greater_than", "number")(_greater_than)
