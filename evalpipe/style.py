"""One look for every figure: a colour-blind-safe palette, A4-legible sizes, byte-identical files.

Colours are Okabe & Ito's palette (https://jfly.uni-koeln.de/color/), each status code keeping the
same colour in every figure. Text is DejaVu Sans, which ships inside matplotlib, so a figure does
not depend on the fonts of the machine that draws it. Figures are drawn on an Agg canvas without
pyplot, so building them never changes the backend of a notebook's kernel.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import __version__

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

# A fixed colour per status code (indicator, output and outcome codes share a meaning, so a colour).
STATUS_COLOURS = {
    "achieved": OKABE_ITO["bluish_green"],
    "delivered": OKABE_ITO["bluish_green"],
    "in_progress": OKABE_ITO["blue"],
    "in_progress_at_risk": OKABE_ITO["orange"],
    "no_progress": OKABE_ITO["vermillion"],
    "not_delivered": OKABE_ITO["vermillion"],
    "not_measured": OKABE_ITO["grey"],
}
UNKNOWN_STATUS_COLOUR = OKABE_ITO["reddish_purple"]
BASELINE_COLOUR = OKABE_ITO["grey"]
TARGET_COLOUR = OKABE_ITO["black"]
SERIES_COLOURS = (OKABE_ITO["sky_blue"], OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"])

# Sizes: figures are drawn at the annex's text width (A4 with 2 cm margins is 17 cm wide) and placed
# at about 100 %, so 7-9 pt here is 7-9 pt on paper.
TEXT_WIDTH_IN = 6.5
BASE_FONT_PT = 8.0
PNG_DPI = 150
PNG_COMPRESS_LEVEL = 3

RC_PARAMS = {
    "font.family": "DejaVu Sans",
    "font.size": BASE_FONT_PT,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "figure.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    # Titles sit at the top of their axes: no figure has ticks or an axis label above an axes, so matplotlib's
    # search for them (the tight box of every tick label, at each layout pass and each draw) is skipped.
    "axes.titley": 1.0,
    "axes.axisbelow": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "legend.frameon": False,
    "savefig.dpi": PNG_DPI,
    # Deterministic vector output: fixed ids in SVG, text as paths (no font to embed downstream).
    "svg.hashsalt": "evalpipe",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "path.simplify": True,
}

# File metadata without dates; the creator is the software, never the person or the machine.
_CREATOR = f"evalpipe {__version__} (matplotlib {matplotlib.__version__})"
SAVE_METADATA = {
    "svg": {"Date": None, "Creator": _CREATOR},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": _CREATOR, "Producer": None},
    "png": {"Software": _CREATOR},
}


def status_colour(code: str) -> str:
    return STATUS_COLOURS.get(code, UNKNOWN_STATUS_COLOUR)


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """The project's rcParams for the duration of a drawing (global settings are left as they were)."""
    with matplotlib.rc_context(RC_PARAMS):
        yield


def new_figure(width_in: float = TEXT_WIDTH_IN, height_in: float = 4.0) -> Figure:
    """A figure on its own Agg canvas (no pyplot state, no GUI backend)."""
    figure = Figure(figsize=(width_in, height_in), dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def freeze_layout(figure: Figure, decimals: int = 6) -> None:
    """Run the constrained layout once, round every axes position and switch the layout engine off.

    The layout solver's last digits depend on memory addresses (they differ from one process to the
    next); SVG clip-path ids hash those digits, so without rounding two runs give different files.
    """
    engine = figure.get_layout_engine()
    if engine is None:
        return
    engine.execute(figure)
    # No engine at all (not the "none" placeholder, which still makes every savefig draw the whole figure
    # once more before printing it): the positions are fixed from here on.
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        figure.set_layout_engine(None)
    for ax in figure.axes:
        ax.set_position([round(float(v), decimals) for v in ax.get_position(original=False).bounds])
        # An axis without a label draws none, but matplotlib still places that empty label below (beside) the
        # tick labels of the axis and of its siblings at every draw; fixed coordinates spare that work. (Only
        # the layout, done above, read where the empty label would be.)
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.label.get_text():
                axis.set_label_coords(*axis.label.get_position(), transform=axis.label.get_transform())


def save_figure(figure: Figure, path_stem: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Write ``path_stem.<format>`` for each format, with dates cleared so reruns give the same bytes."""
    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with figure_style():
        freeze_layout(figure)
        for fmt in formats:
            path = path_stem.with_name(f"{path_stem.name}.{fmt}")
            # zlib level 3 instead of Pillow's 6: the same pixels, written in about half the time, for files
            # within a few per cent of the size (matplotlib fills the dict, so a new one each time).
            extra = {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}
            figure.savefig(path, format=fmt, metadata=SAVE_METADATA[fmt], dpi=PNG_DPI, **extra)
            written.append(path)
    return written


def format_number(value: object, digits: int = 2) -> str:
    """How a number reads in figures and the annex: thousands with commas (as the report prints
    them), at most ``digits`` decimals, no trailing zeros; a missing value is an em dash."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value) if value not in (None, "") else "—"
    if number != number:  # NaN
        return "—"
    text = f"{number:,.{digits}f}" if digits else f"{number:,.0f}"
    if digits and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
