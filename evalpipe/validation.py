"""Great Expectations 1.x suites stored as JSON in ``expectations/``, run on the tidy tables.

Suites are static files a reviewer can read; what depends on the data drop (the LFM's codes, the
project's quarters) enters as suite parameters (``{"$PARAMETER": ...}``) at run time.
A failed suite becomes one message that names the file, sheet, row and column of the first
offending value, using the provenance columns every tidy table carries.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import i18n
from .errors import ValidationFailed
from .privacy import PRIVATE_TYPES, mask_identifiers, mask_value

PROVENANCE = ("source_file", "source_sheet", "source_row", "source_column")
# Which provenance column names the cell a problem is about: the suite's meta "column" says
# "code" (the indicator code cell) or "value" (the value cell).
CELL_COLUMN = {"code": "source_code_column", "value": "source_column"}


@dataclass
class SuiteOutcome:
    """One suite's run: the GX result (JSON-ready), a table of expectations and the problems found."""

    suite: str
    success: bool
    summary: pd.DataFrame  # one row per expectation
    problems: pd.DataFrame  # one row per offending table row (with provenance)
    result_json: dict


def load_suite_json(expectations_dir: Path, name: str) -> dict:
    path = Path(expectations_dir) / f"{name}.json"
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def find_suite(name: str, folders: list[str] | list[Path], subfolder: str = "") -> dict:
    """The suite ``name`` from the first folder that has it (a drop's own suites before the shared ones)."""
    from .errors import InputError

    for folder in folders:
        path = Path(folder) / subfolder / f"{name}.json"
        if path.exists():
            return load_suite_json(path.parent, name)
    searched = ", ".join(str(Path(folder) / subfolder) for folder in folders)
    raise InputError(f"{name}.json", f"a Great Expectations suite for '{name}' in {searched}", found="missing file")


@functools.lru_cache(maxsize=1)
def _description_patterns() -> list[tuple[re.Pattern, str]]:
    """The English descriptions of the catalog (``validation.expected.*``) as patterns: the suites' ``meta.expected``
    is written in English; its translation is the catalog message whose English text it matches."""
    patterns = []
    for key in i18n.keys("en", "validation.expected."):
        english = i18n.t(key, "en")
        parts = re.split(r"\{(\w+)\}", english)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        patterns.append((re.compile(regex + r"\Z"), key))
    # the most specific first: fewer placeholders, longer fixed text
    patterns.sort(key=lambda p: (p[0].groups, -len(p[0].pattern)))
    return patterns


def description_text(expected: str, lang: str) -> str:
    """A suite's ``meta.expected`` in ``lang``; a description the catalog does not hold (a drop's own suite) is
    shown as written."""
    text = "" if expected is None or (isinstance(expected, float) and expected != expected) else str(expected)
    for pattern, key in _description_patterns():
        match = pattern.match(text)
        if match:
            return i18n.t(key, lang, **match.groupdict())
    return text


def summary_in_words(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The validation summary with each description in ``lang``."""
    out = summary.copy()
    if "description" in out.columns:
        out["description"] = [description_text(d, lang) for d in out["description"]]
    return out


# Parts of a GX result that carry the table's values (samples of unexpected values, rows as dicts).
VALUE_KEYS = ("partial_unexpected_list", "unexpected_list", "partial_unexpected_counts",
              "partial_unexpected_index_list", "unexpected_rows", "unexpected_index_query")


def private_columns(table: pd.DataFrame) -> set[str]:
    """Identifier and free-text columns of a microdata table (roles from sources.yaml, carried in
    ``table.attrs["column_types"]`` by ``microdata.read_processed``): their values are never shown."""
    return {name for name, kind in table.attrs.get("column_types", {}).items() if kind in PRIVATE_TYPES}


def _expectation_columns(kwargs: dict) -> list[str]:
    return [c for c in [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"),
                        *(kwargs.get("column_list") or [])] if c]


def _scrub_values(value: object) -> object:
    if isinstance(value, str):
        return mask_identifiers(value)[0]
    if isinstance(value, list):
        return [_scrub_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_values(v) for k, v in value.items()}
    return value


def scrub_result(result: dict, private: bool, microdata: bool = True) -> dict:
    """A GX expectation result fit to keep on disk and in Data Docs.

    ``private`` (the expectation is about an id or free-text column): no sample of unexpected values is kept,
    the unexpected rows are kept as row indexes only and a listed observed value becomes a count. Other
    microdata columns keep their samples with DNI, e-mail and phone shapes masked."""
    if not microdata:
        return result
    out = dict(result)
    if private:
        for key in VALUE_KEYS:
            if key in out:
                out[key] = [] if isinstance(out[key], list) else None
        if out.get("unexpected_index_list"):
            out["unexpected_index_list"] = [i.get("index") if isinstance(i, dict) else i
                                            for i in out["unexpected_index_list"]]
        observed = out.get("observed_value")
        if isinstance(observed, (list, tuple, set)):
            out["observed_value"] = f"{len(observed)} values (withheld)"
        elif isinstance(observed, str):
            out["observed_value"] = mask_value(observed)
        return out
    for key in (*VALUE_KEYS, "unexpected_index_list", "observed_value"):
        if key in out:
            out[key] = _scrub_values(out[key])
    return out


def _found(record: pd.Series, columns: list[str], private: set[str], microdata: bool) -> str:
    """A problem row's ``found``: values of private columns masked, identifier shapes masked elsewhere."""
    parts = []
    for column in columns:
        value = record[column]
        if hasattr(value, "date") and not isinstance(value, str):
            value = str(value.date())
        if column in private:
            parts.append(mask_value(value))
        else:
            parts.append(mask_identifiers(str(value))[0] if microdata else str(value))
    return ", ".join(parts)


def _problem_rows(table: pd.DataFrame, config: dict, result: dict) -> list[dict]:
    private = private_columns(table)
    microdata = "column_types" in table.attrs
    meta = config.get("meta", {})
    expected = meta.get("expected", config["type"])
    kwargs = config["kwargs"]
    column = kwargs.get("column")
    rows = []
    indexes = result.get("unexpected_index_list") or []
    if indexes and isinstance(indexes[0], dict):  # compound-column expectations return dicts
        indexes = [item.get("index", item) for item in indexes]
    for index in indexes:
        if index not in table.index:
            continue
        record = table.loc[index]
        if "column_A" in kwargs:
            found = " < ".join(_found(record, [kwargs[k]], private, microdata) for k in ("column_A", "column_B"))
        else:
            found = _found(record, [column] if column else list(kwargs.get("column_list", [])), private, microdata)
        if config["type"] == "expect_column_values_to_be_between" and column == "change_from_previous":
            found = f"{record['value']:g}, lower than the earlier {record['value'] - record['change_from_previous']:g}"
        cell_column = CELL_COLUMN.get(meta.get("column") or "")
        if cell_column and cell_column in record.index:
            label = record[cell_column]
        else:  # microdata: the column named by the expectation is the file's own column
            label = column or ", ".join(kwargs.get("column_list", []) or [kwargs.get("column_A", ""), kwargs.get("column_B", "")])
        rows.append({
            "expectation": config["type"], "expected": expected,
            **{key: record.get(key, "") for key in PROVENANCE},
            "source_column": label,
            "indicator_id": record.get("indicator_id", ""), "quarter": record.get("quarter", ""),
            "found": str(found),
        })
    if not rows and config["type"] == "expect_column_distinct_values_to_contain_set":
        observed = set(result.get("observed_value") or [])
        for missing in sorted(set(kwargs["value_set"]) - observed):
            rows.append({"expectation": config["type"], "expected": expected, "source_file": "(all reports)",
                         "source_sheet": "", "source_row": None, "source_column": "", "indicator_id": missing,
                         "quarter": "", "found": f"no row for indicator {missing}"})
    if not rows:
        shown = scrub_result(result, bool(private & set(_expectation_columns(kwargs))), microdata)
        rows.append({"expectation": config["type"], "expected": expected, "source_file": "(whole table)",
                     "source_sheet": "", "source_row": None, "source_column": "", "indicator_id": "",
                     "quarter": "", "found": str(shown.get("observed_value", shown))})
    return rows


def _for_gx(table: pd.DataFrame) -> pd.DataFrame:
    """GX 1.x compares dates given in a suite as Python dates: hand it date columns that way."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = [None if pd.isna(v) else v.date() for v in out[column]]
    return out


def new_context(data_docs_dir: Path | None = None, tables=()):
    """An ephemeral GX context for a run; suites validated with it share one Data Docs site. ``tables``: the
    names of the suites to run with it, whose dataframe assets are added at once (see :func:`add_tables`)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # heavy (seconds): imported only by the validation stage
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        context.add_data_docs_site(site_name="run", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(data_docs_dir).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    if tables:
        add_tables(context, tables)
    return context


# Attribute of a context: each suite's configuration and the parameters it ran with, by suite name, so that
# Data Docs show the values rather than {"$PARAMETER": ...}.
_DOCS_PARAMETERS = "_evalpipe_suite_parameters"


def _substitute(value, parameters: dict):
    """``value`` with every ``{"$PARAMETER": name}`` whose name is in ``parameters`` replaced by its value."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"} and value["$PARAMETER"] in parameters:
            return parameters[value["$PARAMETER"]]
        return {key: _substitute(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, parameters) for item in value]
    return value


def _store_suite_for_docs(context, suite_config: dict, parameters: dict) -> None:
    """Store the suite with its parameters' values, for the suite page of Data Docs (the validation results
    were computed from the suite file as it is)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(**suite_config)
    for expectation in suite.expectations:
        for key, value in expectation.configuration.kwargs.items():
            resolved = _substitute(value, parameters)
            if resolved != value:
                try:
                    setattr(expectation, key, resolved)
                except ValueError:  # a value the expectation's model refuses: the page shows the parameter
                    pass
    context.suites.add(suite)


def site_dir(context) -> Path | None:
    """The folder of the context's Data Docs site, or None without one."""
    sites = context.get_config().data_docs_sites or {}
    site = sites.get("run")
    return Path(site["store_backend"]["base_directory"]) if site else None


def build_data_docs(context) -> None:
    """Write the Data Docs of every suite validated with ``context`` (once, after all suites ran): suite
    pages show the parameters' values, and every page loads its scripts, styles and fonts from the site's
    own ``static/vendor/`` (no network needed to read them; see :mod:`evalpipe.datadocs`)."""
    if "run" in context.get_site_names():
        for suite_config, parameters in getattr(context, _DOCS_PARAMETERS, {}).values():
            _store_suite_for_docs(context, suite_config, parameters)
        context.build_data_docs(site_names=["run"])
        from .datadocs import make_offline

        make_offline(site_dir(context))


# Attribute of a context: its one pandas datasource, holding one dataframe asset per suite.
_TABLES_SOURCE = "_evalpipe_tables_source"
TABLES_SOURCE_NAME = "tables"


def add_tables(context, names) -> None:
    """Give the context its pandas datasource with one dataframe asset per suite name in ``names``, added in one
    go: GX re-serialises the whole project configuration at every datasource or asset added, so adding the
    run's assets one by one costs time that grows with their number. A suite whose asset is not there yet
    gets it when it runs."""
    from great_expectations.datasource.fluent import PandasDatasource
    from great_expectations.datasource.fluent.pandas_datasource import DataFrameAsset

    if getattr(context, _TABLES_SOURCE, None) is not None:
        raise ValueError("the context already has its tables' datasource")
    source = context.data_sources.add_pandas(PandasDatasource(
        name=TABLES_SOURCE_NAME, assets=[DataFrameAsset(name=name) for name in dict.fromkeys(names)]))
    setattr(context, _TABLES_SOURCE, source)


def _table_asset(context, name: str):
    """The dataframe asset ``name`` of the context's pandas datasource (both added when missing)."""
    if getattr(context, _TABLES_SOURCE, None) is None:
        add_tables(context, [])
    source = getattr(context, _TABLES_SOURCE)
    if name in source.get_asset_names():
        return source.get_asset(name)
    return source.add_dataframe_asset(name)


def _store_result(context, suite_name: str, validation) -> None:
    """Keep ``validation`` (already scrubbed) in the context's results store, as a validation definition's run
    would, under a fresh run id: Data Docs build the validation pages from that store."""
    import datetime

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier)

    run_id = RunIdentifier(run_time=datetime.datetime.now(datetime.timezone.utc))
    validation.meta["run_id"] = run_id
    validation.meta["validation_time"] = run_id.run_time
    suite_id = ExpectationSuiteIdentifier(name=suite_name)
    context.validation_results_store.store_validation_results(
        suite_validation_result=validation,
        suite_validation_result_identifier=ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run_id, batch_identifier=validation.batch_id),
        expectation_suite_identifier=suite_id)


def run_suite(table: pd.DataFrame, suite_json: dict, parameters: dict, data_docs_dir: Path | None = None,
              context=None) -> SuiteOutcome:
    """Validate ``table`` with the suite. Without a shared ``context``, a private one is made (and its
    Data Docs written to ``data_docs_dir`` when given).

    The table is one dataframe asset of the context's one pandas datasource; its batch is validated directly
    (no validation definition or checkpoint to register), and the result, scrubbed of private values, is
    stored once for Data Docs. The suite itself is stored by :func:`build_data_docs`, with its parameters'
    values shown."""
    import great_expectations as gx
    from great_expectations.constants import DATAFRAME_REPLACEMENT_STR

    private = context is None
    if private:
        context = new_context(data_docs_dir)
    suite_config = {k: v for k, v in suite_json.items() if k in ("name", "expectations", "meta")}
    suite = gx.ExpectationSuite(**suite_config)
    asset = _table_asset(context, suite.name)
    batch = asset.get_batch(asset.build_batch_request(options={"dataframe": _for_gx(table)}))
    validation = batch.validate(suite, expectation_parameters=parameters,
                                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": []})
    validation.meta["batch_parameters"] = {"dataframe": DATAFRAME_REPLACEMENT_STR}  # as a definition's run records
    if not hasattr(context, _DOCS_PARAMETERS):
        setattr(context, _DOCS_PARAMETERS, {})
    getattr(context, _DOCS_PARAMETERS)[suite.name] = (suite_config, dict(parameters or {}))
    secret = private_columns(table)
    microdata = "column_types" in table.attrs

    summary_rows, problems = [], []
    for result in validation.results:
        config = result.expectation_config.to_json_dict()
        config["meta"] = config.get("meta") or {}
        summary_rows.append({
            "suite": suite.name, "expectation": config["type"], "column": config["kwargs"].get("column", ""),
            "description": config["meta"].get("expected", ""), "success": bool(result.success),
            "unexpected_count": result.result.get("unexpected_count", 0 if result.success else None),
        })
        if not result.success:
            problems.extend(_problem_rows(table, config, result.result))
        # before anything is stored: Data Docs are built from the stored results
        result.result = scrub_result(result.result, bool(secret & set(_expectation_columns(config["kwargs"]))),
                                     microdata)
    _store_result(context, suite.name, validation)
    if private and data_docs_dir is not None:
        build_data_docs(context)
    return SuiteOutcome(suite=suite.name, success=bool(validation.success), summary=pd.DataFrame(summary_rows),
                        problems=pd.DataFrame(problems), result_json=validation.describe_dict())


def problem_message(outcome: SuiteOutcome, details_path: str | None = None) -> str:
    """One line a consultant can act on: the first problem with its provenance, then how many more."""
    first = outcome.problems.iloc[0]
    where = [f"file {first['source_file']}"]
    if first["source_sheet"]:
        where.append(f"sheet '{first['source_sheet']}'")
    if pd.notna(first["source_row"]) and first["source_row"] not in ("", None):
        where.append(f"row {int(first['source_row'])}")
    if first["source_column"]:
        where.append(f"column '{first['source_column']}'")
    context = f" (indicator {first['indicator_id']}, {first['quarter']})" if first["indicator_id"] and first["quarter"] else ""
    text = (f"data validation failed (suite {outcome.suite}): {', '.join(where)}{context}: "
            f"expected {first['expected']}; found {first['found']!r}")
    more = len(outcome.problems) - 1
    if more:
        text += f" (+{more} more problem{'s' if more > 1 else ''}"
        text += f": see {details_path})" if details_path else ")"
    return text


def raise_on_failure(outcome: SuiteOutcome, details_path: str | None = None) -> None:
    if not outcome.success:
        raise ValidationFailed(problem_message(outcome, details_path))
