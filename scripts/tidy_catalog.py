"""Rewrite the translation catalogs (evalpipe/locale/*/LC_MESSAGES/evalpipe.po) in their canonical order.

Keyed messages (dotted msgids, no msgctxt) come first, grouped by the key's first part (``annex``,
``workbook``, ...) under a ``# -- <group> --`` comment and sorted within each group; notebook prose
(msgctxt ``notebook:<stem>``) follows, grouped by notebook in the order the cells were written. Each
string is written on one line per source line (no wrapping), so a change shows as a one-line diff and
two branches that add keys to different groups merge without conflict. The header is kept as it is
(it carries no date).

    .venv/bin/python scripts/tidy_catalog.py          # rewrite both catalogs in place
    .venv/bin/python scripts/tidy_catalog.py --check  # exit 1 if a catalog is not in canonical order
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import normalize, read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "evalpipe" / "locale"


_GROUP = re.compile(r"-- \S+ --")


def _header(text: str) -> str:
    """The catalog's leading comments and header entry, as written (up to the first blank line after it)."""
    lines = text.splitlines()
    end = 0
    seen_header = False
    for index, line in enumerate(lines):
        if line.startswith("msgid"):
            seen_header = True
        if seen_header and not line.strip():
            end = index
            break
    return "\n".join(lines[:end]) + "\n"


def _entry(message) -> str:
    out = [f"# {comment}" for comment in message.user_comments if not _GROUP.fullmatch(comment)]
    out += [f"#. {comment}" for comment in message.auto_comments]
    if message.fuzzy:
        out.append("#, fuzzy")
    if message.context:
        out.append(f"msgctxt {normalize(message.context, width=0)}")
    out.append(f"msgid {normalize(message.id, width=0)}")
    out.append(f"msgstr {normalize(message.string, width=0)}")
    return "\n".join(out) + "\n"


def tidy(text: str, lang: str) -> str:
    import io

    catalog = read_po(io.BytesIO(text.encode("utf-8")), locale=lang, domain="evalpipe")
    keyed = sorted((m for m in catalog if m.id and not m.context), key=lambda m: m.id)
    prose: dict[str, list] = {}
    for message in catalog:
        if message.id and message.context:
            prose.setdefault(message.context, []).append(message)
    parts = [_header(text)]
    group = None
    for message in keyed:
        prefix = message.id.split(".", 1)[0]
        if prefix != group:
            group = prefix
            parts.append(f"# -- {group} --\n")
        parts.append(_entry(message))
    for context in sorted(prose):
        parts.append(f"# -- {context} --\n")
        parts += [_entry(message) for message in prose[context]]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    untidy = []
    for path in sorted(LOCALE.glob("*/LC_MESSAGES/evalpipe.po")):
        text = path.read_text(encoding="utf-8")
        tidied = tidy(text, path.parts[-3])
        if tidied != text:
            untidy.append(path.relative_to(ROOT).as_posix())
            if not check:
                path.write_text(tidied, encoding="utf-8")
    if check and untidy:
        print(f"not in canonical order: {', '.join(untidy)} (run scripts/tidy_catalog.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
