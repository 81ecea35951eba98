"""Reproducible evaluation pipeline: logframe indicators computed from raw project data.

The package holds the logic; the notebooks in ``notebooks/`` tell the story of each stage
and ``pipeline.py`` runs them under Papermill.
"""

from .deferred import defer_rfc3987_syntax

__version__ = "0.1.0"

# Before anything imports jsonschema (nbformat, Papermill, GX): see evalpipe/deferred.py.
defer_rfc3987_syntax()
