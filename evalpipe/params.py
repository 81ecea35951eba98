"""Run parameters, validated before any kernel starts (this module imports nothing heavy).

Parameters come from the command line, or from a YAML file (``--params``) whose keys are the long
option names; the command line wins. Anything unknown, of the wrong type or out of range stops the
run with one message and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ParameterError
from .quarters import Quarter, find_quarter, parse_quarter

EVALUATIONS = ("midterm", "final")
LANGUAGES = ("es", "en")
DEFAULTS = {"evaluation": "midterm", "cutoff": "2020Q2", "lang": "es", "raw": "data/raw", "expectations": None,
            "allow_outside_paths": False, "suppression_threshold": 5}
TYPES = {"evaluation": str, "cutoff": str, "lang": str, "raw": str, "expectations": (str, type(None)),
         "allow_outside_paths": bool, "suppression_threshold": int}
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb")


@dataclass(frozen=True)
class Validated:
    evaluation: str
    cutoff: Quarter
    lang: str
    raw_dir: str  # relative to the project
    expectations_dirs: list[str]
    suppression_threshold: int
    allow_outside_paths: bool = False

    @property
    def label(self) -> str:
        """Folder name of the run: reports/midterm-2020Q2/ (Spanish), reports/midterm-2020Q2-en/ (English)."""
        return f"{self.evaluation}-{self.cutoff}" + ("" if self.lang == "es" else f"-{self.lang}")


def load_params_file(path: Path) -> dict:
    from .errors import InputError
    from .safeyaml import load_yaml

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"--params {path}: no such file")
    try:
        content = load_yaml(path, str(path)) or {}
    except InputError as exc:
        raise ParameterError(f"--params {path}: not valid YAML ({exc})") from None
    if not isinstance(content, dict):
        raise ParameterError(f"--params {path}: expected a mapping of parameter names to values")
    unknown = sorted(set(content) - set(DEFAULTS))
    if unknown:
        raise ParameterError(f"--params {path}: unknown parameter '{unknown[0]}' (known: {', '.join(DEFAULTS)})")
    for name, value in content.items():
        if not isinstance(value, TYPES[name]) or (TYPES[name] is int and isinstance(value, bool)):
            expected = TYPES[name].__name__ if isinstance(TYPES[name], type) else "text"
            raise ParameterError(f"--params {path}: '{name}' must be {expected}, got {value!r}")
    return content


def _inside(root: Path, value: str, option: str, allow_outside: bool) -> Path:
    path = Path(value)
    resolved = (root / path).resolve() if not path.is_absolute() else path.resolve()
    try:
        resolved.relative_to(root)
    except ValueError:
        if not allow_outside:
            raise ParameterError(f"{option} {value} is outside the project folder; pass --allow-outside-paths "
                                 "to use it anyway") from None
    return resolved


def drop_quarters(raw_dir: Path) -> list[Quarter]:
    folder = Path(raw_dir) / "progress_reports"
    if not folder.is_dir():
        return []
    found = {find_quarter(p.stem) for p in folder.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES
             and not p.name.startswith(("~$", "."))}
    return sorted(q for q in found if q is not None)


def validate(values: dict, root: Path) -> Validated:
    """Check every parameter; raise ParameterError with one clear sentence on the first problem."""
    root = Path(root).resolve()
    merged = DEFAULTS | {k: v for k, v in values.items() if v is not None}
    if merged["evaluation"] not in EVALUATIONS:
        raise ParameterError(f"--evaluation {merged['evaluation']!r}: expected one of {', '.join(EVALUATIONS)}")
    if merged["lang"] not in LANGUAGES:
        raise ParameterError(f"--lang {merged['lang']!r}: expected one of {', '.join(LANGUAGES)}")
    threshold = merged["suppression_threshold"]
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 2 <= threshold <= 100:
        raise ParameterError(f"suppression_threshold {threshold!r}: expected a whole number from 2 to 100")
    text = str(merged["cutoff"]).strip()
    try:
        cutoff = parse_quarter(text)
    except ValueError:
        raise ParameterError(f"--cutoff {text!r} is not a quarter: write it like 2020Q2") from None
    if str(cutoff) != text.upper():
        raise ParameterError(f"--cutoff {text!r}: write the quarter exactly like {cutoff}")
    allow = bool(merged["allow_outside_paths"])
    raw = _inside(root, str(merged["raw"]), "--raw", allow)
    if not raw.is_dir():
        raise ParameterError(f"--raw {merged['raw']} is not a folder")
    quarters = drop_quarters(raw)
    if not quarters:
        raise ParameterError(f"--raw {merged['raw']}: no quarterly progress report in progress_reports/")
    if cutoff not in quarters:
        raise ParameterError(f"--cutoff {cutoff}: no progress report for that quarter in {merged['raw']}; "
                             f"the drop has {', '.join(str(q) for q in quarters)}")
    folders = []
    if merged["expectations"]:
        extra = _inside(root, str(merged["expectations"]), "--expectations", allow)
        if not extra.is_dir():
            raise ParameterError(f"--expectations {merged['expectations']} is not a folder")
        folders.append(_relative_or_absolute(extra, root))
    folders.append("expectations")
    return Validated(merged["evaluation"], cutoff, merged["lang"], _relative_or_absolute(raw, root), folders,
                     threshold, allow)


def _relative_or_absolute(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
