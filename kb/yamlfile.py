"""Safe YAML reading that remembers where every value came from.

Records come from strangers, so reading is strict: one document, UTF-8, no tabs in indentation, no
duplicate keys, no anchors or aliases (they are the vehicle of expansion bombs and records never need
them), a size cap. Plain scalars that look like floats or dates stay strings: `id: 2410.04810` must not
become the float 2410.0481.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser is several times faster; fall back where it is not compiled in.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 256 * 1024
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

Loc = tuple[str | int, ...]


class DocumentError(Exception):
    """The file is not a readable YAML document; `line` is 1-based."""

    def __init__(self, line: int | None, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.field = field


class Document:
    """Plain Python data, and the line of each value keyed by its path inside the document.

    Lines are only needed to report a problem, so the map is built on first use from the node tree.
    """

    def __init__(self, data: Any, node: yaml.Node) -> None:
        self.data = data
        self._node = node
        self._lines: dict[Loc, int] | None = None

    @property
    def lines(self) -> dict[Loc, int]:
        if self._lines is None:
            self._lines = {}
            _record_lines(self._node, (), self._lines)
        return self._lines

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known ancestor of `loc` (a missing key points at its parent)."""
        lines = self.lines
        for end in range(len(loc), -1, -1):
            line = lines.get(loc[:end])
            if line is not None:
                return line
        return 1


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise DocumentError(1, f"file is {len(raw):,} bytes; at most {max_bytes:,} are allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(line, f"not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded") from None
    return text.removeprefix("\ufeff")


def parse(text: str) -> Document:
    if not text.strip():
        raise DocumentError(1, "file is empty")
    for number, row in enumerate(text.splitlines(), start=1):
        indent = row[: len(row) - len(row.lstrip(" \t"))]
        if "\t" in indent:
            raise DocumentError(number, "tab character in indentation; indent with spaces")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DocumentError(line, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(None, f"YAML error: {exc}") from None
    if node is None:
        raise DocumentError(1, "file holds no YAML value")
    return Document(_convert(node, set()), node)


def load(path: Path, max_bytes: int = MAX_BYTES) -> Document:
    return parse(read_text(path, max_bytes))


def _convert(node: yaml.Node, seen: set[int]) -> Any:
    if id(node) in seen:
        # The composer hands back the anchored node itself, so its mark is where the anchor was defined.
        raise DocumentError(node.start_mark.line + 1, "anchors and aliases (&, *, <<) are not allowed; the anchor defined here is reused")
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise DocumentError(key_node.start_mark.line + 1, "anchors and aliases (&, *, <<) are not allowed")
            if not isinstance(key_node, yaml.ScalarNode):
                raise DocumentError(key_node.start_mark.line + 1, "keys must be plain names")
            key = str(key_node.value)
            if key in out:
                raise DocumentError(key_node.start_mark.line + 1, f"duplicate key '{key}'")
            out[key] = _convert(value_node, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, seen) for item in node.value]
    return _scalar(node)


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, str(key_node.value))
            lines[key] = key_node.start_mark.line + 1  # a key's own line, not where its value starts
            _record_lines(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*loc, i), lines)


def _scalar(node: yaml.Node) -> Any:
    value = node.value
    if node.style:  # quoted or block scalars are always text
        return value
    if node.tag == NULL_TAG:
        return None
    if node.tag == BOOL_TAG:
        return _BOOL_WORDS[value.lower()]
    if node.tag == INT_TAG:
        try:
            return int(value.replace("_", ""), 0) if value[:2].lower() in ("0x", "0o") else int(value.replace("_", ""))
        except ValueError:
            return value
    return value


def dump(data: Any) -> str:
    """Block-style YAML with keys in the order given; long text is folded so diffs stay readable."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = ">" if len(value) > 100 and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
