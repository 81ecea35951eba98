"""Human labels for the stable machine codes, in Spanish (default) and English."""

from __future__ import annotations

LANGUAGES = ("es", "en")

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "achieved": "Meta alcanzada",
        "in_progress": "En proceso",
        "no_progress": "Sin avance",
        "not_measured": "No medido",
        "delivered": "Entregado",
        "in_progress_at_risk": "En proceso con riesgo",
        "not_delivered": "No entregado",
        "scheduled_after_cutoff": "programado después del corte",
        "midterm": "Evaluación intermedia",
        "final": "Evaluación final",
    },
    "en": {
        "achieved": "Target reached",
        "in_progress": "In progress",
        "no_progress": "No progress",
        "not_measured": "Not measured",
        "delivered": "Delivered",
        "in_progress_at_risk": "In progress with risk",
        "not_delivered": "Not delivered",
        "scheduled_after_cutoff": "scheduled after the cut-off",
        "midterm": "Mid-term evaluation",
        "final": "Final evaluation",
    },
}

# Labels as the published report prints them -> codes (Annex 16 in Spanish, Table 1 in English).
PUBLISHED_INDICATOR_STATUS = {
    "entregado": "achieved",
    "en proceso": "in_progress",
    "no entregado": "no_progress",
    "avanzando": "in_progress",
    "alcanzado": "achieved",
    "sin avances": "no_progress",
    "no medido": "not_measured",
}
PUBLISHED_OUTCOME_STATUS = {
    "in progress": "in_progress",
    "no progress": "no_progress",
    "not measured": "not_measured",
    "en proceso": "in_progress",
    "avanzando": "in_progress",
    "sin avances": "no_progress",
    "no medido": "not_measured",
}
PUBLISHED_OUTPUT_STATUS = {
    "delivered": "delivered",
    "in progress": "in_progress",
    "in progress with risk": "in_progress_at_risk",
    "not delivered": "not_delivered",
    "entregado": "delivered",
    "en proceso": "in_progress",
    "en proceso con riesgo": "in_progress_at_risk",
    "no entregado": "not_delivered",
}


def label(code: str, lang: str = "es") -> str:
    """The display label of a status code; unknown codes are shown as they are."""
    return LABELS.get(lang, LABELS["es"]).get(code, code)
