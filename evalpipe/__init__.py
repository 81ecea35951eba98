"""Reproducible evaluation pipeline: logframe indicators computed from raw project data.

The package holds the logic; the notebooks in ``notebooks/`` tell the story of each stage
and ``pipeline.py`` runs them under Papermill.
"""

__version__ = "0.1.0"
