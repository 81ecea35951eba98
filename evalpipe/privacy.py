"""Privacy rules: small-count suppression, and masking of personal data in values and messages.

Counts from 1 to ``threshold - 1`` in a disaggregated public table could single a child out; they are
shown as ``<threshold`` instead. Zero stays zero (it reveals no one) and totals are not suppressed.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from . import column_types

DEFAULT_THRESHOLD = 5


def suppress_small_counts(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD,
                          columns: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Return a copy with small counts replaced by "<threshold", and how many cells were hidden."""
    out = table.copy()
    hidden = 0
    candidates = columns if columns is not None else [
        c for c in out.columns if pd.api.types.is_integer_dtype(out[c]) or
        (pd.api.types.is_float_dtype(out[c]) and out[c].dropna().apply(float.is_integer).all())]
    for column in candidates:
        values = out[column]
        small = values.notna() & (values > 0) & (values < threshold)
        if small.any():
            hidden += int(small.sum())
            out[column] = values.astype(object).where(~small, f"<{threshold}")
    return out, hidden


def suppress_where(table: pd.DataFrame, rows: pd.Series, column: str, threshold: int = DEFAULT_THRESHOLD
                   ) -> tuple[pd.DataFrame, int]:
    """Suppress small counts of ``column`` only in the selected ``rows`` (e.g. rows about victims)."""
    out = table.copy()
    values = out[column]
    small = rows & values.notna() & (values > 0) & (values < threshold)
    out[column] = values.astype(object).where(~small, f"<{threshold}")
    return out, int(small.sum())


# --- Personal data in identifier and free-text columns --------------------------------------------------
# Shapes of direct identifiers a partner may type into a column: a Peruvian DNI (8 digits), a mobile phone
# (9 digits starting with 9, optionally after +51) and an e-mail address. Used to refuse an "id" column
# that is not pseudonymous, to mask identifiers found in kept text, and to mask values in messages.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+?\s?51[\s.-]?)?9\d{2}[\s.-]?\d{3}[\s.-]?\d{3}(?!\d)")
DNI = re.compile(r"(?<!\d)\d{8}(?!\d)")
IDENTIFIER_SHAPES = (("e-mail", EMAIL, "[EMAIL]"), ("phone", PHONE, "[PHONE]"), ("DNI", DNI, "[DNI]"))
# Column types (microdata/sources.yaml) whose values are never echoed: pseudonymous ids and free text
# (the types registered private in evalpipe.column_types).
PRIVATE_TYPES = column_types.PRIVATE_TYPES


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 12345678.0 read from Excel is the number typed as 12345678
    return str(value)


def identifier_kind(value: object) -> str | None:
    """"DNI", "phone" or "e-mail" when a whole value (an id) is shaped like a direct identifier, else None."""
    text = _as_text(value)
    if text is None:
        return None
    compact = re.sub(r"[\s.\-()]", "", text)
    if EMAIL.search(text):
        return "e-mail"
    if re.fullmatch(r"\d{8}", compact):
        return "DNI"
    if re.fullmatch(r"(?:\+?51)?9\d{8}", compact):
        return "phone"
    return None


def mask_identifiers(text: object) -> tuple[object, int]:
    """``text`` with every DNI, phone or e-mail shape replaced by [DNI], [PHONE], [EMAIL]; and the count."""
    if not isinstance(text, str):
        return text, 0
    hits = 0
    for _, pattern, token in IDENTIFIER_SHAPES:
        text, found = pattern.subn(token, text)
        hits += found
    return text, hits


def mask_value(value: object) -> str:
    """How a message shows a value of an identifier or free-text column: masked, with its shape only.

    ``"71234561"`` -> ``"7******1 (8 digits)"``; ``"ana@x.pe"`` -> ``"a******e (an e-mail address)"``.
    The file, row and column named by the message let a person find the cell; the value never leaves it.
    """
    text = _as_text(value)
    if text is None or text.strip() == "":
        return "(blank)"
    text = text.strip()
    kind = identifier_kind(text)
    if kind == "e-mail":
        shape = "an e-mail address"
    elif text.isdigit():
        shape = f"{len(text)} digits"
    else:
        shape = f"{len(text)} characters"
    masked = "*" * len(text) if len(text) <= 3 else text[0] + "*" * (len(text) - 2) + text[-1]
    return f"{masked} ({shape})"


def sensitive_indicators(fichas: dict, sources: dict) -> set[str]:
    """The outcome indicators computed from a file about child victims or residents (``sensitive: true`` in
    ``microdata/sources.yaml``)."""
    return {indicator for indicator, ficha in fichas.items()
            if ficha.source_key and sources[ficha.source_key].sensitive}


def public_exclusions(exclusions: pd.DataFrame, fichas: dict, sources: dict, threshold: int = DEFAULT_THRESHOLD
                      ) -> tuple[pd.DataFrame, int]:
    """The exclusions table as published: counts below ``threshold`` of the indicators drawn from sensitive
    files shown as ``<threshold``; returns the table and how many counts were hidden."""
    sensitive = exclusions["indicator_id"].isin(sensitive_indicators(fichas, sources))
    return suppress_where(exclusions, sensitive, "n", threshold)
