"""Fichas técnicas as data: one YAML file per outcome indicator in ``fichas/``.

Each file holds every field of a ficha técnica (Annex 14) and a machine-readable ``calculo``: the
method (one of ``evalpipe.methods.METHODS``), its source and its rules. Baseline and target come from
the logframe (``lfm/outcome_indicators.csv``), so they have one home only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, PipelineError
from .microdata import Source

FICHAS_DIR = "fichas"
TEXT_FIELDS = ("descripcion", "resultado", "proposito", "unidad_de_medida", "observaciones",
               "nivel_de_desagregacion", "procedencia_de_los_datos", "periodo_de_referencia", "responsable")
REQUIRED_FIELDS = ("indicador", "origen", *TEXT_FIELDS, "metodo_de_calculo", "documentos_utilizados", "calculo")
FICHA_SUFFIXES = (".yaml", ".yml")  # a ficha saved as .yml is read like .yaml


class FichaError(PipelineError):
    """A ficha that cannot be used as written; the message names the ficha, the file and what was expected."""


class FichaInputError(InputError, FichaError):
    """A ficha refused by its schema (``schemas.FichaSpec``) or by the safe YAML reader: an InputError
    naming the file, the line and the key path, that is also a FichaError."""

    @classmethod
    def from_input_error(cls, error: InputError) -> "FichaInputError":
        return cls(error.file, error.expected, error.sheet, error.row, error.column, error.found, error.line,
                   error.key, error.col)


@dataclass
class Ficha:
    indicator_id: str
    path: str
    fields: dict
    calculation: dict
    baseline: float | None = None
    target: float | None = None
    baseline_raw: str = ""
    period_line: int | None = None  # the line of periodo_de_referencia in the ficha's file

    @property
    def method(self) -> str:
        return self.calculation["method"]

    @property
    def origin(self) -> str:
        return self.fields["origen"]

    @property
    def source_key(self) -> str | None:
        return self.calculation.get("source")

    def reference_period(self, cutoff: str) -> str:
        """The period the value refers to, which follows the run's cut-off (not a fixed date)."""
        from . import i18n

        template = self.calculation.get("period", i18n.t(PERIOD_KEY, "es"))
        return template.format(cutoff=cutoff)


_ORDINALS = {"primer": 1, "primero": 1, "segundo": 2, "tercer": 3, "tercero": 3, "cuarto": 4}


def ficha_period_quarters(text: object) -> tuple[bool, set, set] | None:
    """A ficha's ``periodo_de_referencia`` read as dates: (at the evaluation's cut-off, quarters, bare years).
    "Al corte de la evaluación" -> (True, ∅, ∅); "Al segundo trimestre de 2020" -> (False, {2020Q2}, ∅);
    "2019 – segundo y cuarto trimestre" -> (False, {2019Q2, 2019Q4}, ∅); "Hasta 2018 (estudio de casos)" ->
    (False, ∅, {2018}). Each ordinal goes with the nearest year written. None when the text states no period."""
    import unicodedata

    from .quarters import Quarter

    raw = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    folded = "".join(c for c in unicodedata.normalize("NFKD", raw.lower()) if not unicodedata.combining(c))
    tokens = re.findall(r"[a-z]+|\d{4}", folded)
    if "corte" in tokens:
        return True, set(), set()
    years = [(i, int(t)) for i, t in enumerate(tokens) if t.isdigit()]
    if not years:
        return None
    quarters, used = set(), set()
    for i, token in enumerate(tokens):
        if token in _ORDINALS:
            position, year = min(years, key=lambda y: (abs(y[0] - i), y[0]))
            quarters.add(Quarter(year, _ORDINALS[token]))
            used.add(position)
    return False, quarters, {year for position, year in years if position not in used}


def period_differs_from_cutoff(text: object, cutoff) -> bool | None:
    """Whether a ficha dates its value to another period than the cut-off (``cutoff``, a Quarter): True for
    another quarter, several quarters or a bare year; False for the cut-off itself; None when it states none."""
    read = ficha_period_quarters(text)
    if read is None:
        return None
    at_cutoff, quarters, years = read
    return not (at_cutoff or (quarters == {cutoff} and not years))


PERIOD_KEY = "outcome.period_to_cutoff"  # the period of a ficha that states none, written in Spanish in the tables


def period_text(period: object, lang: str = "es") -> str:
    """A ``reference_period`` of the outcome tables in ``lang``: the package's default ("hasta el corte
    (2020Q2)") is written in ``lang``; a period a ficha states is ficha text and stays as written."""
    import re

    from . import i18n

    text = "" if period is None or (isinstance(period, float) and period != period) else str(period)
    pattern = re.escape(i18n.t(PERIOD_KEY, "es", cutoff="\\0")).replace(re.escape("\\0"), "(?P<cutoff>.+)")
    match = re.fullmatch(pattern, text)
    return i18n.t(PERIOD_KEY, lang, cutoff=match["cutoff"]) if match else text


def load_fichas(raw_dir: Path, sources: dict[str, Source], outcome_indicators, display_root: Path | None = None,
                *, lfm=None, allow_outside: bool = False, stems=None) -> dict[str, Ficha]:
    """Read and check every ficha (``schemas.FichaSpec``); each LFM outcome indicator must have exactly one.

    Files ending .yaml or .yml are fichas; each must lie inside the drop (after links) unless
    ``allow_outside``. With ``lfm``, the output ids a calculation names are checked too. With ``stems`` (a
    predicate on a file's name without its suffix), only those files are read, and none is required
    (``pipeline.py ficha`` reads the fichas it computes).
    """
    from .paths import display_path, inside_drop
    from .safeyaml import read_yaml
    from .schemas import FichaSpec, ficha_context, validate

    folder = Path(raw_dir) / FICHAS_DIR
    inside_drop(folder, raw_dir, display_path(folder, display_root) if display_root else FICHAS_DIR,
                allow_outside=allow_outside, what="folder")
    fichas: dict[str, Ficha] = {}
    lfm_table = outcome_indicators.set_index("indicator_id")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FICHA_SUFFIXES
                   and not p.name.startswith(("~$", "."))
                   and (stems is None or stems(p.stem))) if folder.is_dir() else []
    for file in files:
        path = display_path(file, display_root) if display_root else f"{FICHAS_DIR}/{file.name}"
        try:
            inside_drop(file, raw_dir, path, allow_outside=allow_outside)
            document = read_yaml(file, path)
            content = document.data
            spec = validate(FichaSpec, content, path, document=document,
                            context=ficha_context(content, sources, lfm, outcome_indicators))
        except InputError as exc:
            raise FichaInputError.from_input_error(exc) from None
        indicator = spec.indicador
        if indicator in fichas:
            raise FichaInputError(path, f"one ficha per indicator ({indicator} is also in {fichas[indicator].path})",
                                  key="indicador", line=document.line_of(("indicador",)), found=indicator)
        row = lfm_table.loc[indicator]
        fichas[indicator] = Ficha(indicator, path, content, content["calculo"],
                                  None if row["baseline"] != row["baseline"] else float(row["baseline"]),
                                  None if row["target"] != row["target"] else float(row["target"]),
                                  row.get("baseline_raw", ""),
                                  document.line_of(("periodo_de_referencia",)) if "periodo_de_referencia" in content
                                  else None)
    missing = [i for i in lfm_table.index if i not in fichas]
    if missing and stems is None:
        raise FichaError(f"{FICHAS_DIR}/: expected a ficha for every outcome indicator of the LFM; "
                         f"missing {', '.join(missing)}")
    return dict(sorted(fichas.items(), key=lambda item: [int(p) for p in item[0].split(".")]))


CONDITION_PARAMS = ("filters", "numerator_conditions", "baseline_filters")


def columns_used(calculation: dict) -> set[str]:
    """The columns of its source a ``calculo`` names (parameters and conditions)."""
    from .schemas import COLUMN_PARAMS

    from .methods import REGISTRY

    method = calculation.get("method")
    declared = REGISTRY[method].columns if isinstance(method, str) and method in REGISTRY else ()
    used = {calculation[name] for name in (*COLUMN_PARAMS, *declared) if isinstance(calculation.get(name), str)}
    conditions = [c for name in CONDITION_PARAMS if isinstance(calculation.get(name), list) for c in calculation[name]]
    if isinstance(calculation.get("baseline_zero_when"), dict):
        conditions.append(calculation["baseline_zero_when"])
    used |= {c["column"] for c in conditions if isinstance(c, dict) and isinstance(c.get("column"), str)}
    return used


def columns_used_by_fichas(raw_dir: Path) -> dict[str, set[str]]:
    """For each microdata source, the columns some ficha's ``calculo`` names (the cleaning stage keeps
    declared free-text columns only when a ficha uses them). A ficha that cannot be read is skipped here:
    the outcome stage reports it."""
    from .errors import InputError
    from .safeyaml import load_yaml

    used: dict[str, set[str]] = {}
    folder = Path(raw_dir) / FICHAS_DIR
    for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            content = load_yaml(file, file.name)  # the safe reader: no aliases, no duplicate keys, bounded
        except (OSError, InputError):
            continue
        calculation = content.get("calculo") if isinstance(content, dict) else None
        if isinstance(calculation, dict) and isinstance(calculation.get("source"), str):
            used.setdefault(calculation["source"], set()).update(columns_used(calculation))
    return used
