"""Just enough PDF reading to test the annex without a PDF library: objects, page text, fonts, XMP.

Typst writes plain (not compressed) object tables, Flate-compressed content streams and Type 0
fonts with a ToUnicode CMap; that is all this reader handles. It is a test helper, not a parser.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\bendobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(pdf)}


def stream(body: bytes) -> bytes:
    """The decoded data of a stream object, cut at its /Length (data may end in any byte)."""
    match = _STREAM.search(body)
    if match is None:
        return b""
    head = body[:match.start()]
    length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", head)
    data = body[match.start(1):match.start(1) + int(length.group(1))] if length else match.group(1)
    return zlib.decompress(data) if b"/FlateDecode" in head else data


def _ref(body: bytes, key: bytes) -> int | None:
    match = re.search(rb"/" + key + rb"\s+(\d+) 0 R", body)
    return int(match.group(1)) if match else None


def _hex_units(text: bytes) -> str:
    data = bytes.fromhex(text.decode())
    return data.decode("utf-16-be", errors="replace")


def to_unicode(cmap: bytes) -> dict[int, str]:
    """Glyph code -> text, from the bfchar and bfrange sections of a ToUnicode CMap."""
    mapping: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", section):
            mapping[int(src, 16)] = _hex_units(dst)
    for section in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", section):
            start, end = int(lo, 16), int(hi, 16)
            if dst.startswith(b"["):
                for offset, item in enumerate(re.findall(rb"<([0-9A-Fa-f]*)>", dst)):
                    mapping[start + offset] = _hex_units(item)
            else:
                base = int(dst[1:-1], 16)
                for offset in range(end - start + 1):
                    mapping[start + offset] = chr(base + offset)
    return mapping


def _literal(data: bytes, i: int) -> tuple[bytes, int]:
    """A PDF literal string starting after '(' at ``i``: its bytes and the index after ')'."""
    out, depth = bytearray(), 1
    while i < len(data):
        c = data[i]
        if c == 0x5C:  # backslash
            nxt = data[i + 1]
            if 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4]).group(0)
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
                continue
            out += {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
                    ord("f"): b"\f"}.get(nxt, bytes([nxt]) if nxt not in (10, 13) else b"")
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1
    return bytes(out), i


def _show_operations(content: bytes):
    """(font resource name, shown strings) for every Tj/TJ of a content stream."""
    font, operands, i = None, [], 0
    token = re.compile(rb"\s*(?:(/[^\s/\[\]()<>]+)|(\()|(<[0-9A-Fa-f\s]*>)|(\[)|(\])|([-+.\d]+)|([A-Za-z'\"*]+))")
    strings: list[bytes] = []
    while i < len(content):
        m = token.match(content, i)
        if not m:
            i += 1
            continue
        i = m.end()
        name, paren, hexstr, open_, close, number, op = m.groups()
        if paren:
            value, i = _literal(content, i)
            strings.append(value)
        elif hexstr:
            strings.append(bytes.fromhex(re.sub(rb"\s", b"", hexstr[1:-1]).decode()))
        elif name:
            operands.append(name[1:])
        elif op:
            if op == b"Tf" and operands:
                font = operands[-1]
            elif op in (b"Tj", b"TJ", b"'", b'"'):
                yield font, strings
            if op not in (b"BDC", b"BMC"):
                operands, strings = [], []
        elif open_ or close or number:
            continue


def pages_text(path: Path) -> list[str]:
    """The text of each page, one shown string run per line."""
    pdf = Path(path).read_bytes()
    objs = objects(pdf)
    cmaps: dict[int, dict[int, str]] = {}
    pages = []
    for number in _page_order(objs):
        body = objs[number]
        resources = objs[_ref(body, b"Resources")] if _ref(body, b"Resources") else body
        font_dict = re.search(rb"/Font\s*(\d+ 0 R|<<.*?>>)", resources, re.S).group(1)
        if font_dict.endswith(b"R"):
            font_dict = objs[int(font_dict.split()[0])]
        fonts = {name.decode(): int(ref) for name, ref in re.findall(rb"/([^\s/<>]+)\s+(\d+) 0 R", font_dict)}
        lines = []
        for content_ref in re.findall(rb"(\d+) 0 R", re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", body).group(1)):
            for font, strings in _show_operations(stream(objs[int(content_ref)])):
                font_obj = fonts.get(font.decode() if font else "")
                if font_obj not in cmaps:
                    unicode_ref = _ref(objs[font_obj], b"ToUnicode") if font_obj else None
                    cmaps[font_obj] = to_unicode(stream(objs[unicode_ref])) if unicode_ref else {}
                cmap = cmaps[font_obj]
                text = "".join(cmap.get(int.from_bytes(s[k:k + 2], "big"), "")
                               for s in strings for k in range(0, len(s) - 1, 2))
                lines.append(text)
        pages.append("\n".join(lines))
    return pages


def _page_order(objs: dict[int, bytes]) -> list[int]:
    """Page objects in reading order, following the page tree from the catalog."""
    catalog = next(body for body in objs.values() if re.match(rb"<</Type/Catalog", body))

    def walk(number: int) -> list[int]:
        body = objs[number]
        if re.match(rb"<</Type/Page/", body):
            return [number]
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", body).group(1)
        return [page for ref in re.findall(rb"(\d+) 0 R", kids) for page in walk(int(ref))]

    return walk(_ref(catalog, b"Pages"))


def notdef_glyphs(path: Path) -> int:
    """How many shown glyphs are glyph 0 (.notdef): characters no embedded font could draw."""
    objs = objects(Path(path).read_bytes())
    missing = 0
    for number in _page_order(objs):
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", objs[number]).group(1)
        for ref in re.findall(rb"(\d+) 0 R", contents):
            for _, strings in _show_operations(stream(objs[int(ref)])):
                missing += sum(s[k:k + 2] == b"\x00\x00" for s in strings for k in range(0, len(s) - 1, 2))
    return missing


def fonts(path: Path) -> list[dict]:
    """Every font of the PDF: its name and whether its program is embedded (FontFile, FontFile2 or 3)."""
    objs = objects(Path(path).read_bytes())
    found = []
    for body in objs.values():
        if not body.startswith(b"<</Type/Font/"):
            continue
        subtype = re.search(rb"/Subtype/(\w+)", body).group(1).decode()
        if subtype == "Type0":  # its program is in the descendant font, listed on its own
            continue
        name = re.search(rb"/(?:BaseFont|Name)/([^\s/<>\[]+)", body)
        descriptor = _ref(body, b"FontDescriptor")
        # Type 3 glyphs are drawn by the PDF itself; every other font needs its program in a FontFile.
        embedded = subtype == "Type3" or bool(
            descriptor and re.search(rb"/FontFile[23]?\s+\d+ 0 R", objs[descriptor]))
        found.append({"name": name.group(1).decode() if name else subtype, "subtype": subtype,
                      "embedded": embedded})
    return found


def xmp(path: Path) -> str:
    """The document's XMP metadata packet (PDF/A requires it uncompressed)."""
    match = re.search(rb"<\?xpacket begin.*?<\?xpacket end=['\"][rw]['\"]\?>", Path(path).read_bytes(), re.S)
    return match.group(0).decode("utf-8") if match else ""
