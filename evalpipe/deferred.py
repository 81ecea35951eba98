"""Third-party work deferred until it is needed (issue 14: a run's main process starts its first stage sooner).

``jsonschema`` (imported by nbformat, hence by Papermill, nbconvert and Great Expectations) imports
``rfc3987_syntax`` when it is installed (it is: ``jsonschema[format-nongpl]``, for jupyter-events), and that
module builds 38 Earley parsers from its grammar at import: about 1.7 s of CPU in every process that imports
nbformat, for the ``iri`` and ``iri-reference`` format checks, which no notebook schema uses.
``defer_rfc3987_syntax`` puts a stand-in in ``sys.modules`` whose ``is_valid_syntax`` (the one name jsonschema
imports) loads the real module on its first call, and whose other names load it on first access: the checks
are the same, they are just not built before a schema asks for them.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types

RFC3987_SYNTAX = "rfc3987_syntax"
_REAL = f"{RFC3987_SYNTAX}.syntax_helpers"  # the package's __init__ is ``from .syntax_helpers import *``


def _helpers():
    return importlib.import_module(_REAL)


def _is_valid_syntax(term: str, value: str) -> bool:
    return _helpers().is_valid_syntax(term, value)


def _getattr(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_helpers(), name)


def defer_rfc3987_syntax() -> bool:
    """Install the stand-in unless the module is already imported or not installed; True if installed."""
    if RFC3987_SYNTAX in sys.modules:
        return False
    # PathFinder, not importlib.util.find_spec: importing importlib.util costs every command ~10 ms.
    spec = importlib.machinery.PathFinder.find_spec(RFC3987_SYNTAX)
    if spec is None or spec.submodule_search_locations is None:
        return False
    stand_in = types.ModuleType(RFC3987_SYNTAX, "Stand-in for rfc3987_syntax: loads it on first use.")
    stand_in.__path__ = list(spec.submodule_search_locations)  # its submodules import as usual
    stand_in.__file__ = spec.origin
    stand_in.__spec__ = spec
    stand_in.is_valid_syntax = _is_valid_syntax
    stand_in.__getattr__ = _getattr
    sys.modules[RFC3987_SYNTAX] = stand_in
    return True
