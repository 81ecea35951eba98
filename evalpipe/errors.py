"""Errors written for people: which file, sheet, row and column, and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


class PipelineError(Exception):
    """Base class of the errors the pipeline reports as one line, without a traceback."""


@dataclass
class InputError(PipelineError):
    """A raw input that cannot be used as it is.

    ``row`` is the 1-based row number a person sees in Excel (or the CSV line number);
    ``column`` is the column header (or letter) as it appears in the file.
    ``private=True`` (a value of an identifier or free-text column) keeps only a masked form of ``found``
    (``evalpipe.privacy.mask_value``): the message, the notebook and any log never hold the value itself.
    ``line``/``col`` and ``key`` locate a value in a text file such as a YAML file (``key`` is a path
    like ``calculo.filters[1].in``).
    """

    file: str
    expected: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    found: object = None
    line: int | None = None  # 1-based line (and column) of a text file such as a YAML file
    key: str | None = None  # key path in a YAML file, e.g. calculo.filters[1].in
    col: int | None = None
    private: bool = False  # keyword only in use: a value of an identifier or free-text column

    def __post_init__(self) -> None:
        if self.private and self.found is not None:
            from .privacy import mask_value

            self.found = mask_value(self.found)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = [f"file {self.file}"]
        if self.sheet is not None:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.line is not None:
            where.append(f"line {self.line}" + (f", column {self.col}" if self.col is not None else ""))
        if self.key is not None:
            where.append(f"key '{self.key}'")
        text = ", ".join(where) + f": expected {self.expected}"
        if self.found is not None:
            text += f"; found {self.found!r}"
        return text

    def __str__(self) -> str:
        return self.message


class ValidationFailed(PipelineError):
    """Data that were read correctly but break a rule of a Great Expectations suite."""


class ParameterError(PipelineError):
    """A run parameter that is unknown, of the wrong type or out of range."""


def require_stage_output(path) -> None:
    """An input that an earlier stage writes: say which, and how to make it, when it is not there."""
    from pathlib import Path

    if not Path(path).exists():
        raise InputError(str(path), "a file written by an earlier stage (run by hand: run the notebooks in order "
                         "from 01_clean with the same parameters; or run pipeline.py run)", found="missing file")


def warnings_summary(kinds: dict[str, int]) -> str:
    """One line for a run's summary from the count of input warnings by kind:
    '3 input warnings (2 carried_forward, 1 missing_quarter)', or '' when there are none."""
    total = sum(kinds.values())
    if not total:
        return ""
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{total} input warning{'s' if total != 1 else ''} ({detail})"
