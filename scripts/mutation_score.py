"""Print the mutation score per module from mutmut's results (mutants/**/*.meta), for docs/mutation.md.

Run by `make mutation` after `mutmut run`. Killed: a test failed (or timed out) with the mutant; survived: every
test passed; no tests: no selected test reaches the mutated function; not checked: the run was stopped before it.
The score is killed / (killed + survived + no tests), in %."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {1, 3, 36, 24, -24, 152, 255}  # a failing test, pytest's internal error, or a timeout


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in KILLED:
        return "killed"
    if code == 0:
        return "survived"
    if code in (5, 33):
        return "no tests"
    return "other"


def main(patterns: list[str]) -> None:
    """``patterns``: the mutant names `mutmut run` was given (the Makefile's MUTANTS); others are not counted."""
    rows, survivors = [], []
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        codes = {name: code for name, code in codes.items()
                 if not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)}
        if not codes:
            continue
        counts = Counter(status(code) for code in codes.values())
        module = str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta")
        judged = counts["killed"] + counts["survived"] + counts["no tests"]
        score = 100 * counts["killed"] / judged if judged else float("nan")
        rows.append(f"| `{module}` | {counts['killed']} | {judged} | {score:.1f} % | {counts['survived']} | "
                    f"{counts['no tests']} | {counts['not checked']} |")
        survivors += [name for name, code in codes.items() if status(code) in ("survived", "no tests")]
    print("| module | killed | total | score | survived | no tests | not checked |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nsurvivors:")
    print("\n".join(survivors))


if __name__ == "__main__":
    main(sys.argv[1:])
