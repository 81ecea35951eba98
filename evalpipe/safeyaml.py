"""The one way a drop's YAML is read: plain data only, and every problem is one located InputError.

What a partner's YAML file may hold is plain data: mappings, lists and scalars with the standard
tags. Refused, each with the file, the line and the column:

- a file larger than ``MAX_YAML_BYTES`` (1 MiB: a ficha is a few KiB), checked before parsing;
- bytes that are not UTF-8 (a Windows-1252 accent): the byte offset and line, and "save it as UTF-8";
- syntax errors;
- a key written twice in the same mapping (the second would silently win): the key and both lines;
- anchors and aliases (``&a``/``*a``), refused at the first one, before anything is expanded, so an
  alias bomb costs nothing;
- any tag that is not one of YAML's standard data tags (``!!python/object``, ``!custom``...);
- an impossible date written as a YAML date (``2021-02-30``).

The pure-Python SafeLoader is used (its composer can be told to refuse aliases); nothing in a file is
ever turned into anything but dicts, lists, strings, numbers, booleans, dates and None.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import InputError

MAX_YAML_BYTES = 1024 * 1024
# Texts parsed in this process (by SHA-256 of the text): the data (each reader gets its own deep copy) and the
# node tree (read only). Only texts that parsed: a refused file is parsed, and refused, every time.
_PARSED: dict[bytes, tuple[Any, Any]] = {}
_PARSED_MAX = 1024
_STANDARD = "tag:yaml.org,2002:"
ALLOWED_TAGS = {None, "!"} | {_STANDARD + name for name in
                              ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}


class _Refused(yaml.MarkedYAMLError):
    """A construct the safe reader refuses; carries what was expected and found."""

    def __init__(self, mark, expected: str, found: object = None, line: int | None = None,
                 col: int | None = None) -> None:
        super().__init__(problem=expected, problem_mark=mark)
        self.expected, self.found = expected, found
        self.line = line if line is not None else (mark.line + 1 if mark else None)
        self.col = col if col is not None else (mark.column + 1 if mark else None)


class StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases, anchors, non-standard tags, duplicate keys or impossible dates."""

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(event.start_mark, "no YAML aliases (*name): write the value out in full",
                           f"*{event.anchor}")
        if getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "no YAML anchors (&name): write the value out in full",
                           f"&{event.anchor}")
        if isinstance(event, (ScalarEvent, SequenceStartEvent, MappingStartEvent)) and event.tag not in ALLOWED_TAGS:
            raise _Refused(event.start_mark, "plain data without YAML tags such as !!python/... or !custom",
                           event.tag.replace(_STANDARD, "!!"))
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _STANDARD + "merge":
                    raise _Refused(key_node.start_mark, "no YAML merge keys (<<)", "<<")
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise _Refused(key_node.start_mark, "a plain text or number as a mapping key",
                                   type(key).__name__) from None
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    raise _Refused(key_node.start_mark, f"each key once in a mapping ('{key}' is first on line "
                                   f"{first}; the second would silently replace it)", key)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            raise _Refused(node.start_mark, "a real calendar date written YYYY-MM-DD", node.value) from None


StrictLoader.add_constructor(_STANDARD + "timestamp", StrictLoader.construct_yaml_timestamp)
StrictLoader.add_constructor(_STANDARD + "map", StrictLoader.construct_yaml_map)


@dataclass
class YamlDocument:
    """A YAML file as read: its data, and its node tree to find the line of a key path."""

    data: Any
    node: Node | None
    display: str

    def line_of(self, loc: tuple) -> int | None:
        """The 1-based line of the value at ``loc`` (keys and list indexes), or of its nearest parent."""
        node, line = self.node, (self.node.start_mark.line + 1 if self.node is not None else None)
        for part in loc:
            if isinstance(node, MappingNode):
                match = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == str(part)), None)
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                match = node.value[part]
            else:
                match = None
            if match is None:
                break
            node, line = match, match.start_mark.line + 1
        return line


def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        line = raw[:offset].count(b"\n") + 1
        byte = raw[offset]
        guess = ""
        try:
            guess = f" ('{bytes([byte]).decode('cp1252')}' in Windows-1252)"
        except UnicodeDecodeError:
            pass
        raise InputError(display, "a text file encoded in UTF-8 (open it in an editor and save it as UTF-8)",
                         line=line, found=f"byte 0x{byte:02x} at byte offset {offset}{guess}") from None


def read_yaml(path: Path, display: str | None = None, *, max_bytes: int = MAX_YAML_BYTES) -> YamlDocument:
    """Read one YAML file safely; raise InputError (file, line, column, what) on anything refused."""
    path = Path(path)
    display = display or path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(display, f"a YAML file of at most {max_bytes // 1024} KiB", found=f"{size} bytes")
        raw = path.read_bytes()
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(display, "a YAML file", found="missing file") from None
    except IsADirectoryError:
        raise InputError(display, "a YAML file", found="a folder") from None
    except OSError as exc:
        raise InputError(display, "a YAML file that can be read", found=exc.strerror or type(exc).__name__) from None
    return parse_yaml(raw, display)


def parse_yaml(raw: bytes | str, display: str) -> YamlDocument:
    if isinstance(raw, bytes):
        if len(raw) > MAX_YAML_BYTES:
            raise InputError(display, f"a YAML file of at most {MAX_YAML_BYTES // 1024} KiB",
                             found=f"{len(raw)} bytes")
        text = _decode(raw, display)
    else:
        text = raw
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    parsed = _PARSED.get(key)
    if parsed is not None:  # the same text read again (the drop's check, then a stage's key): parsed once
        return YamlDocument(copy.deepcopy(parsed[0]), parsed[1], display)
    loader = None
    try:
        loader = StrictLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise InputError(display, exc.expected, line=exc.line, col=exc.col,
                         found=_short(exc.found)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "valid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            expected = "plain data (mappings, lists, text, numbers, dates)"
        else:
            expected = "valid YAML"
        raise InputError(display, expected, line=mark.line + 1 if mark else None,
                         col=mark.column + 1 if mark else None, found=problem) from None
    except yaml.YAMLError as exc:  # ReaderError (control characters) and the like
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else None
        raise InputError(display, "valid YAML text", line=line,
                         found=getattr(exc, "reason", None) or str(exc).splitlines()[0]) from None
    except RecursionError:
        raise InputError(display, "YAML nested at most a few hundred levels deep", found="deeper nesting") from None
    finally:
        if loader is not None:
            loader.dispose()
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[key] = (copy.deepcopy(data), node)
    return YamlDocument(data, node, display)


def load_yaml(path: Path, display: str | None = None) -> Any:
    """The data of one YAML file, read safely (see ``read_yaml``)."""
    return read_yaml(path, display).data


def _short(value: object) -> object:
    text = value if isinstance(value, str) else None
    if text is not None and len(text) > 80:
        return text[:77] + "..."
    return value
