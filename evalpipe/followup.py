"""The mid-term evaluation's recommendations followed up: a table the later data drop may carry.

``followup/midterm_recommendations.csv`` (UTF-8, one row per recommendation of the earlier evaluation's
"Recommendations" section) says who each recommendation was addressed to, what the project did about it and
its state at the later cut-off. Every row is checked against ``RecommendationRow`` (pydantic, in the style of
``evalpipe.schemas``): a bad cell stops with the file, the row and the column.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import AfterValidator, TypeAdapter, ValidationError

from .errors import InputError
from .schema_base import Problem, _Strict, input_error

FOLLOWUP_FILE = "followup/midterm_recommendations.csv"
STATES = ("implemented", "partially_implemented", "not_implemented", "no_longer_relevant")
ADDRESSEES = ("ilo_country_office", "project", "donor", "constituents")
PRIORITIES = ("very_high", "high", "medium", "low")
COLUMNS = ["recommendation_id", "paragraph", "addressee", "priority", "summary_es", "summary_en", "response_es",
           "response_en", "state", "state_quarter"]


def _one_of(codes: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in codes:
            raise Problem(f"one of {', '.join(codes)}", value)
        return value
    return AfterValidator(check)


def _addressees(value: str) -> str:
    parts = [p.strip() for p in value.split(";")]
    if not value.strip() or any(p not in ADDRESSEES for p in parts):
        raise Problem(f"one or more of {', '.join(ADDRESSEES)}, separated by ';'", value)
    return ";".join(parts)


def _required_text(value: str) -> str:
    if not value.strip():
        raise Problem("a text", value)
    return value.strip()


def _whole_number(value: str) -> str:
    if not value.strip().isdigit():
        raise Problem("a whole number", value)
    return value.strip()


def _quarter_text(value: str) -> str:
    from .quarters import parse_quarter

    try:
        return str(parse_quarter(value.strip()))
    except ValueError:
        raise Problem("a quarter written like 2021Q4", value) from None


_TEXT = Annotated[str, AfterValidator(_required_text)]


class RecommendationRow(_Strict):
    """One recommendation of the earlier evaluation and its follow-up (all columns are required)."""

    recommendation_id: Annotated[str, AfterValidator(_whole_number)]
    paragraph: Annotated[str, AfterValidator(_whole_number)]
    addressee: Annotated[str, AfterValidator(_addressees)]
    priority: Annotated[str, _one_of(PRIORITIES)]
    summary_es: _TEXT
    summary_en: _TEXT
    response_es: _TEXT
    response_en: _TEXT
    state: Annotated[str, _one_of(STATES)]
    state_quarter: Annotated[str, AfterValidator(_quarter_text)]


def load_recommendations(raw_dir: Path, project_root: Path | None = None, *,
                         allow_outside: bool = False) -> pd.DataFrame | None:
    """The drop's follow-up table (checked row by row), or None when the drop has none."""
    from .paths import display_path, inside_drop

    path = Path(raw_dir) / FOLLOWUP_FILE
    display = display_path(path, project_root) if project_root else FOLLOWUP_FILE
    if not path.exists():
        return None
    inside_drop(path, raw_dir, display, allow_outside=allow_outside)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(display, "a CSV file encoded in UTF-8 (save it as 'CSV UTF-8')",
                         row=raw[:exc.start].count(b"\n") + 1, found=f"undecodable byte 0x{raw[exc.start]:02x}"
                         ) from None
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(display, "a well-formed CSV table (one header row, one row per line)",
                         found=str(exc).strip().splitlines()[0] if str(exc).strip() else "no data") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(display, f"columns {', '.join(COLUMNS)}", row=1, column=missing[0], found="missing column")
    extra = [c for c in table.columns if c not in COLUMNS]
    if extra:
        raise InputError(display, f"only the columns {', '.join(COLUMNS)}", row=1, column=extra[0],
                         found="unknown column")
    try:
        rows = TypeAdapter(list[RecommendationRow]).validate_python(table.to_dict("records"))
    except ValidationError as exc:
        raise input_error(exc, display, row_offset=2) from None
    out = pd.DataFrame([r.model_dump() for r in rows], columns=COLUMNS)
    duplicated = out["recommendation_id"].duplicated()
    if duplicated.any():
        position = int(duplicated.to_numpy().nonzero()[0][0])
        raise InputError(display, "each recommendation_id once", row=position + 2, column="recommendation_id",
                         found=out["recommendation_id"].iloc[position])
    return out.sort_values("recommendation_id", key=lambda s: s.astype(int), kind="stable").reset_index(drop=True)


def state_counts(recommendations: pd.DataFrame) -> pd.DataFrame:
    """How many recommendations are in each state (every state listed, zero included)."""
    counts = recommendations["state"].value_counts().reindex(list(STATES), fill_value=0)
    return pd.DataFrame({"state": counts.index, "n": counts.to_numpy().astype(int)})


def by_addressee(recommendations: pd.DataFrame) -> pd.DataFrame:
    """Recommendations by addressee and state (a recommendation addressed to two is counted for each)."""
    long = recommendations.assign(addressee=recommendations["addressee"].str.split(";")).explode("addressee")
    grid = pd.MultiIndex.from_product([[a for a in ADDRESSEES if a in set(long["addressee"])], STATES],
                                      names=["addressee", "state"])
    counts = long.groupby(["addressee", "state"]).size().reindex(grid, fill_value=0)
    return counts.rename("n").reset_index().astype({"n": int})
