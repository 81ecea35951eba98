"""The stages of a run as data: notebook, upstream stages, and the files each one reads.

The content-hash cache keys a stage on its notebook, the package modules it imports (found by
reading the code, not declared by hand), its parameters, and the content of the files it reads.
A stage re-runs only when one of these changed; the reason is said in words.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "evalpipe"
# ast.parse is not thread-safe on CPython 3.11 before 3.11.8 ("AST constructor recursion depth mismatch",
# gh-106905); stages are keyed from several threads at once.
_AST_LOCK = threading.Lock()


@dataclass(frozen=True)
class Stage:
    name: str
    notebook: str
    needs: tuple[str, ...]
    # Files read, as globs under a root: "raw:", "processed:", "run:" or "expectations:".
    inputs: tuple[str, ...]
    # Optional: run only when this raw path exists (a drop without finance data skips the finance stage).
    requires: str | None = None
    # Files the stage writes, as globs under "run:" or "processed:" (its executed notebook and HTML are added):
    # the run records their SHA-256, and a stage whose output no longer matches re-runs.
    outputs: tuple[str, ...] = ()
    # What else the stage's result depends on, computed from the drop (see ``_derived``).
    derived: tuple[str, ...] = ()
    # Seconds the stage takes on the shipped drop (a quiet 2-core machine): only to choose which of the stages
    # that are ready starts first when the last run's own times are not known (``critical_path``).
    expected: float = 1.0

    @property
    def owned(self) -> tuple[str, ...]:
        stem = self.notebook.removesuffix(".ipynb")
        return (*self.outputs, f"run:notebooks/{stem}.ipynb", f"run:notebooks/{stem}.html")


STAGES: tuple[Stage, ...] = (
    Stage("clean", "01_clean.ipynb", (),
          ("raw:drop.yaml", "raw:lfm/**", "raw:progress_reports/**", "raw:microdata/**",
           "expectations:microdata/**"),  # category values take the spelling of the suites
          outputs=("processed:**",), derived=("ficha_columns",), expected=3),
    Stage("validate", "02_validate.ipynb", ("clean",),
          ("raw:drop.yaml", "raw:lfm/**", "raw:microdata/sources.yaml", "raw:finance/**", "processed:**",
           "expectations:progress_indicators.json", "expectations:microdata/**", "expectations:finance/**"),
          outputs=("run:validation/**", "run:data_docs/**"), expected=8),
    Stage("output_indicators", "03_output_indicators.ipynb", ("clean",),
          ("raw:drop.yaml", "raw:lfm/**", "processed:progress_indicators.csv"),
          outputs=("run:tables/output_indicators.csv", "run:tables/output_status.csv"), expected=1),
    Stage("outcome_indicators", "04_outcome_indicators.ipynb", ("clean", "output_indicators"),
          ("raw:drop.yaml", "raw:lfm/**", "raw:fichas/**", "raw:microdata/sources.yaml", "processed:microdata/**",
           "run:tables/output_indicators.csv", "run:tables/output_status.csv"),
          outputs=("run:tables/outcome_indicators.csv", "run:tables/outcome_status.csv",
                   "run:tables/outcome_exclusions.csv"), expected=2),
    Stage("finance", "05_finance.ipynb", (),
          ("raw:drop.yaml", "raw:lfm/**", "raw:finance/**"), requires="finance",
          outputs=("run:tables/budget.csv", "run:tables/financial_execution.csv"), expected=3),
    # The audit reads the computed tables, not the validation: it runs beside the validation (which still gates
    # what is published: the annex needs it, and a run publishes only when every stage passed).
    Stage("audit", "06_consistency_audit.ipynb", ("output_indicators", "outcome_indicators", "finance"),
          ("raw:drop.yaml", "raw:lfm/**", "raw:published_report/**", "run:tables/output_indicators.csv",
           "run:tables/output_status.csv", "run:tables/outcome_indicators.csv", "run:tables/outcome_status.csv",
           "run:tables/budget.csv", "run:tables/financial_execution.csv"),
          outputs=("run:tables/consistency_audit.csv", "run:tables/smart_summary.csv",
                   "run:tables/smart_indicators.csv"), expected=2),
    Stage("figures", "07_figures.ipynb", ("output_indicators", "outcome_indicators", "finance"),
          ("raw:drop.yaml", "processed:progress_indicators.csv", "run:tables/output_indicators.csv",
           "run:tables/output_status.csv", "run:tables/outcome_indicators.csv", "run:tables/outcome_status.csv",
           "run:tables/budget.csv", "run:tables/financial_execution.csv"),
          outputs=("run:figures/**",), expected=5.5),
    Stage("annex", "08_annex.ipynb", ("audit", "figures", "validate"),
          ("raw:drop.yaml", "raw:lfm/**", "raw:fichas/**", "run:tables/*.csv", "run:figures/*.svg",
           "run:validation/summary.csv", "run:validation/input_warnings.csv", "run:reproducibility.json",
           "package:templates/*"),
          outputs=("run:annex/**", "run:annex*.pdf", "run:annex_tables*.xlsx", "run:index.html"), expected=3),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)


def stage(name: str) -> Stage:
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def critical_path(seconds: dict[str, float] | None = None) -> dict[str, float]:
    """For each stage, the seconds from its start to the end of the run along the longest chain of stages that
    wait for it: its own (``seconds``, e.g. the last run's, else ``Stage.expected``) plus the longest of the
    stages that need it. The scheduler starts the ready stage with the longest first."""
    seconds = seconds or {}
    out: dict[str, float] = {}
    for current in reversed(STAGES):
        after = [out[s.name] for s in STAGES if current.name in s.needs]
        out[current.name] = seconds.get(current.name, current.expected) + max(after, default=0.0)
    return out


def downstream(name: str) -> list[str]:
    """``name`` and every stage that depends on it, in run order."""
    selected = {name}
    for candidate in STAGES:
        if any(need in selected for need in candidate.needs):
            selected.add(candidate.name)
    return [s.name for s in STAGES if s.name in selected]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# What parsing found, keyed by the SHA-256 of what was parsed ("imports:<sha>", "ficha_columns:<sha>"): the
# scheduler fills it from the run's .cache/parsed.json and saves it there, so that deciding a no-op run parses
# no Python and no ficha (and imports no pandas). A content hash as the key: an edit is never missed.
PARSED: dict[str, object] = {}
USED: set[str] = set()  # the keys of PARSED this process looked up (what is saved)


def _imports(source: str) -> set[str]:
    """evalpipe modules imported by a piece of code (absolute or relative imports)."""
    key = "imports:" + sha256_bytes(source.encode("utf-8"))
    if key not in PARSED:
        PARSED[key] = sorted(_imports_cached(source))
    USED.add(key)
    return set(PARSED[key])


def _statements(body: list):
    """Every statement of ``body``, nested ones included (an import is a statement, and statements nest only in
    the statement lists of compound statements): what ``ast.walk`` finds of them, without visiting every
    expression node (issue 14: deciding a cold run's first stage walks every package module)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody"):
            nested = getattr(node, field, None)
            if isinstance(nested, list):
                yield from _statements(nested)
        for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            yield from _statements(part.body)


@functools.lru_cache(maxsize=256)
def _imports_cached(source: str) -> frozenset[str]:
    """Parsed once per distinct source text in a process (every stage's key walks the same modules)."""
    found = set()
    try:
        with _AST_LOCK:
            tree = ast.parse(source)
    except SyntaxError:
        return frozenset()
    for node in _statements(tree.body):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level > 0 or module == PACKAGE or module.startswith(PACKAGE + "."):
                base = module.removeprefix(PACKAGE).lstrip(".")
                if base:
                    found.add(base.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.split(".")[1])
    return frozenset(found)


def module_closure(notebook_path: Path, package_dir: Path) -> dict[str, str]:
    """The package modules a notebook uses, directly or through other modules, with their hashes."""
    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    pending, seen = set(_imports(code)) | {"__init__"}, {}
    while pending:
        name = pending.pop()
        path = Path(package_dir) / f"{name}.py"
        if name in seen or not path.exists():
            continue
        text = path.read_bytes()
        seen[name] = _file_hash(path)
        pending |= _imports(text.decode("utf-8")) - set(seen)
    return dict(sorted(seen.items()))


# Every stage reads the translation catalog (its notebook's prose, labels, annex and figure texts): a
# changed text re-runs the stages that print it.
CATALOG = "package:locale/*/LC_MESSAGES/*.po"


def input_files(stage_: Stage, roots: dict[str, Path]) -> dict[str, str]:
    """Every file the stage reads, keyed by root and relative path, with its SHA-256 (the catalog included)."""
    return _hash_globs((*stage_.inputs, CATALOG) if "package" in roots else stage_.inputs, roots)


def output_files(stage_: Stage, roots: dict[str, Path]) -> dict[str, str]:
    """Every file the stage wrote (its declared outputs and its executed notebook), with its SHA-256."""
    return _hash_globs(stage_.owned, roots)


def changed_outputs(recorded: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    """Outputs that differ from what the stage wrote: changed, missing or added (as ``root:path``)."""
    if recorded is None:
        return []
    return sorted(name for name in set(recorded) | set(current) if recorded.get(name) != current.get(name))


# While deciding what a run would do (``remembered_hashes``), a file read for several stages is hashed once.
_HASHES = threading.local()


@contextlib.contextmanager
def remembered_hashes():
    """Hash each file once inside this block (in this thread): for a decision taken while no stage writes
    (``status``, the check of a no-op run), never while stages run."""
    _HASHES.memo = {}
    try:
        yield
    finally:
        _HASHES.memo = None


def _file_hash(path: Path) -> str:
    from .filehash import file_sha256

    memo = getattr(_HASHES, "memo", None)
    if memo is None:
        return file_sha256(path)
    if path not in memo:
        memo[path] = file_sha256(path)
    return memo[path]


def _hash_globs(patterns: tuple[str, ...], roots: dict[str, Path]) -> dict[str, str]:
    files = {}
    for pattern in patterns:
        root_name, _, glob = pattern.partition(":")
        if glob.endswith("**"):  # pathlib's "**" alone matches folders; files need "**/*"
            glob += "/*"
        for root in ([roots[root_name]] if root_name != "expectations" else roots["expectations"]):
            root = Path(root)
            if not root.exists():
                continue
            for path in sorted(root.glob(glob)):
                if path.is_file() and not path.name.startswith(("~$", ".")) and ".cache" not in path.parts:
                    files[f"{root_name}:{path.relative_to(root)}"] = _file_hash(path)
    return dict(sorted(files.items()))


@dataclass
class StageKey:
    """What a stage's result depends on; equal keys mean the stored result is still right."""

    notebook: str
    modules: dict[str, str]
    parameters: dict
    inputs: dict[str, str]

    @property
    def digest(self) -> str:
        return sha256_bytes(json.dumps(self.__dict__, sort_keys=True).encode())

    def to_json(self) -> dict:
        return {"digest": self.digest, **self.__dict__}

    @classmethod
    def from_json(cls, data: dict) -> "StageKey":
        return cls(data["notebook"], data["modules"], data["parameters"], data["inputs"])


def _derived(name: str, roots: dict) -> object:
    """Values a stage depends on that are not whole files: the clean stage keeps a free-text column only
    when some ficha uses it, so it depends on the columns the fichas name (not on the rest of a ficha)."""
    if name == "ficha_columns":
        read = _hash_globs(("raw:fichas/**",), roots)
        key = "ficha_columns:" + sha256_bytes(json.dumps(read, sort_keys=True).encode())
        if key not in PARSED:
            from .fichas import columns_used_by_fichas

            PARSED[key] = {source: sorted(columns)
                           for source, columns in sorted(columns_used_by_fichas(roots["raw"]).items())}
        USED.add(key)
        return PARSED[key]
    raise KeyError(name)


def stage_key(stage_: Stage, notebook_dir: Path, package_dir: Path, parameters: dict, roots: dict) -> StageKey:
    notebook = Path(notebook_dir) / stage_.notebook
    if stage_.derived:
        parameters = parameters | {name: _derived(name, roots) for name in stage_.derived}
    return StageKey(sha256_bytes(notebook.read_bytes()), module_closure(notebook, package_dir), parameters,
                    input_files(stage_, roots))


def why_rerun(new: StageKey, old: StageKey | None, outputs_present: bool = True,
              outputs_changed: list[str] | None = None) -> str | None:
    """None when up to date; otherwise the reason, in words, naming what changed."""
    if old is None:
        return "never ran for this evaluation and cut-off"
    if not outputs_present:
        return "its outputs are missing"
    if outputs_changed:
        shown = ", ".join(name.split(":", 1)[1] for name in outputs_changed[:3])
        more = f" (+{len(outputs_changed) - 3} more)" if len(outputs_changed) > 3 else ""
        return f"its output {shown}{more} differs from what it published"
    if new.notebook != old.notebook:
        return "its notebook changed"
    changed = sorted(m for m in set(new.modules) | set(old.modules) if new.modules.get(m) != old.modules.get(m))
    if changed:
        return "package code changed: " + ", ".join(f"evalpipe/{m}.py" for m in changed[:4])
    params = sorted(k for k in set(new.parameters) | set(old.parameters)
                    if new.parameters.get(k) != old.parameters.get(k))
    if params:
        return "parameters changed: " + ", ".join(params)
    files = sorted(k for k in set(new.inputs) | set(old.inputs) if new.inputs.get(k) != old.inputs.get(k))
    if files:
        shown = ", ".join(name.split(":", 1)[1] for name in files[:3])
        more = f" (+{len(files) - 3} more)" if len(files) > 3 else ""
        return f"inputs changed: {shown}{more}"
    return None
