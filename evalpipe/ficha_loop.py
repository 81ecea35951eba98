"""The ficha loop: one outcome indicator (or every indicator of one outcome) computed from its ficha
in the drop, on the processed data of a published run, in-process (no kernel).

``pipeline.py ficha <indicator id>`` prints the ficha's formula, numerator and denominator (text and numbers), n,
the exclusions (counts only; below the suppression threshold hidden as the published tables hide them) and the
status, in the run's language. Nothing is written. No kernel, no Great Expectations, no figures: only the
modules the outcome notebook uses to compute (pandas, the ficha, the method).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import PipelineError


class FichaLoopError(PipelineError):
    """The command cannot run as asked: no such indicator or outcome, or no published run to compute on."""


@dataclass
class Computed:
    ficha: object  # fichas.Ficha
    row: dict  # the indicator's row of tables/outcome_indicators.csv
    exclusions: list[tuple[str, object]]  # (reason in the run's language, count or "<threshold")
    sensitive: bool


def run_parameters(root: Path, run: str) -> dict:
    """The parameters a published run was made with (its manifest), to compute on the same drop and data."""
    manifest = Path(root) / "reports" / run / "manifest.json"
    if "/" in run or run.startswith(".") or not manifest.exists():
        raise FichaLoopError(f"ficha --run {run!r}: no published run folder reports/{run}/ (run `pipeline.py run` "
                             "first: the ficha is computed on the run's processed data)")
    return json.loads(manifest.read_text(encoding="utf-8"))["parameters"]


def compute(root: Path, run: str, target: str) -> tuple[dict, list[Computed]]:
    """Compute the indicator ``target`` (or every indicator of the outcome ``target``) from the drop's fichas
    on the processed data of the published run ``run``; returns the run's parameters and the results."""
    from . import microdata, outcomes
    from .fichas import load_fichas
    from .lfm import load_logframe
    from .privacy import public_exclusions, sensitive_indicators

    root = Path(root)
    params = run_parameters(root, run)
    raw = root / params["raw_dir"]
    outside = bool(params.get("allow_outside_paths"))
    lfm = load_logframe(raw / "lfm", root, allow_outside=outside)
    # The indicator ``target`` and every indicator of the outcome ``target`` (an id may name both: an outcome
    # whose id is also one of its indicators' ids), in the logframe's order.
    table = lfm.outcome_indicators
    indicators = [str(i) for i, o in zip(table["indicator_id"], table["outcome_id"]) if target in (str(i), str(o))]
    if not indicators:
        raise FichaLoopError(f"ficha {target!r}: no outcome indicator or outcome of the logframe "
                             f"({params['raw_dir']}/lfm/) has this id (e.g. "
                             f"{lfm.outcome_indicators['indicator_id'].iloc[0]})")
    sources = microdata.load_sources(raw, root, allow_outside=outside)
    # The files named after the indicators first; a ficha saved under another name is found by reading all.
    fichas = load_fichas(raw, sources, lfm.outcome_indicators, root, lfm=lfm, allow_outside=outside,
                         stems=lambda stem: stem in indicators)
    if set(indicators) - set(fichas):
        fichas = load_fichas(raw, sources, lfm.outcome_indicators, root, lfm=lfm, allow_outside=outside,
                             stems=lambda stem: True)
    fichas = {i: f for i, f in fichas.items() if i in indicators}
    missing = [i for i in indicators if i not in fichas]
    if missing:
        raise FichaLoopError(f"ficha {target!r}: {params['raw_dir']}/fichas/ has no ficha for {', '.join(missing)}")
    used = sorted({f.source_key for f in fichas.values() if f.source_key})  # only the sources these fichas read
    context, output_status = outcomes.outcome_context(root / params["processed_dir"], root / params["run_dir"],
                                                      params["cutoff"], sources, used)
    table, exclusions, _ = outcomes.compute_outcome_indicators(
        fichas, context, lfm.outcome_indicators, output_status, {k: s.file for k, s in sources.items()})
    threshold = int(params.get("suppression_threshold", 5))
    published, _ = public_exclusions(exclusions, fichas, sources, threshold)
    sensitive = sensitive_indicators(fichas, sources)
    lang = params.get("lang", "es")
    out = []
    for row in table.to_dict("records"):
        indicator = row["indicator_id"]
        rows = published[published["indicator_id"] == indicator]
        out.append(Computed(fichas[indicator], row,
                            [(outcomes.reason_text(r, lang), n) for r, n in zip(rows["reason"], rows["n"])],
                            indicator in sensitive))
    return params, out


def _count(value, sensitive: bool, threshold: int) -> str:
    """A count as the published tables show it: below the threshold hidden for a file about child victims."""
    if isinstance(value, str):
        return value
    value = int(value)
    return f"<{threshold}" if sensitive and 0 < value < threshold else str(value)


def lines(params: dict, computed: list[Computed]) -> list[str]:
    """What ``pipeline.py ficha`` prints, in the run's language."""
    from . import i18n
    from .labels import label
    from .outcomes import formula_line

    lang = params.get("lang", "es")
    threshold = int(params.get("suppression_threshold", 5))
    out = []
    for item in computed:
        ficha, row = item.ficha, item.row
        text = ficha.fields.get("metodo_de_calculo") or {}
        out.append(f"{ficha.indicator_id} — {ficha.fields.get('descripcion', '')}  "
                   f"({i18n.t('ficha.outcome', lang, outcome=row['outcome_id'])}; {ficha.path})")
        for field, key in (("formula_sin_etiquetas", "outcome.formula"), ("numerador", "outcome.numerator"),
                           ("denominador", "outcome.denominator")):
            if text.get(field):
                out.append(f"  {i18n.t(key, lang)}: {' '.join(str(text[field]).split())}")
        out.append(f"  {i18n.t('outcome.calculation', lang)}: {formula_line(row, lang)}")
        numbers = i18n.t("ficha.numbers", lang, numerator=_number(row["numerator"]),
                         denominator=_number(row["denominator"]), n=row["n"],
                         excluded=_count(row["n_excluded"], item.sensitive, threshold))
        out.append(f"  {numbers}")
        for reason, n in item.exclusions:
            out.append(f"    - {reason}: {_count(n, item.sensitive, threshold)}")
        out.append(f"  {i18n.t('ficha.status', lang)}: {label(row['status'], lang)}")
        if item.sensitive:
            out.append(f"  {i18n.t('ficha.suppressed', lang, threshold=threshold, highest=threshold - 1)}")
    return out


def _number(value) -> str:
    if value is None or value != value:
        return "—"
    return f"{float(value):,.4f}".rstrip("0").rstrip(".")
