"""Safe YAML reading that remembers where every value came from.

Records come from strangers, so reading is strict: a regular file (never a link, FIFO or device), a size
cap checked before reading, one document, UTF-8, no tabs in indentation, no duplicate keys, no reused
anchors (aliases are the vehicle of expansion bombs and records never need them), a nesting limit.
Plain scalars that look like floats or dates stay strings: `id: 2410.04810` must not
become the float 2410.0481.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
import yaml.reader
import yaml.resolver

from kb.text import printable

try:  # libyaml's parser is several times faster; fall back where it is not compiled in.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 256 * 1024
# Records nest three levels (builds_on: list of mappings); deeper input is refused before it can exhaust a stack.
MAX_DEPTH = 20
_RESOLVER = yaml.resolver.Resolver()
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
    """Plain Python data, and the line of each value keyed by its path inside the document."""

    def __init__(self, data: Any, lines: dict[Loc, int]) -> None:
        self.data = data
        self.lines = lines

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known ancestor of `loc` (a missing key points at its parent)."""
        lines = self.lines
        for end in range(len(loc), -1, -1):
            line = lines.get(loc[:end])
            if line is not None:
                return line
        return 1


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, checked before reading and read at most that far.

    A symbolic link is not followed (a committed link could point at /dev/zero, a FIFO or a file outside
    the repository), a FIFO does not block the open, and a file growing while it is read is still cut off.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DocumentError(1, _open_failure(path, exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(1, f"is {_kind(info.st_mode)}, not a regular file; records are plain files")
        if info.st_size > max_bytes:
            raise DocumentError(1, f"file is {info.st_size:,} bytes; at most {max_bytes:,} are allowed")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 16, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise DocumentError(1, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise DocumentError(
            1, f"file grew past {max_bytes:,} bytes while it was read; at most {max_bytes:,} are allowed"
        )
    return b"".join(chunks)


def _open_failure(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP or (exc.errno in (errno.ENOENT, errno.EMLINK) and os.path.islink(path)):
        return "is a symbolic link; records and taxonomy files must be regular files, not links"
    if exc.errno == errno.ENOENT:
        return "no such file"
    return f"cannot be opened: {exc.strerror or exc}"


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "a special file"


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    return decode(read_bytes(path, max_bytes))


def decode(raw: bytes) -> str:
    """UTF-8 text without a byte-order mark; a bad byte is reported on its line."""
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
        return _compose(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DocumentError(line, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (NUL, most controls): no mark, a position
        line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        raise DocumentError(line, f"the character {printable(char)} is not allowed in YAML; remove it") from None
    except yaml.YAMLError as exc:
        raise DocumentError(1, f"YAML error: {exc}") from None


def load(path: Path, max_bytes: int = MAX_BYTES) -> Document:
    return parse(read_text(path, max_bytes))


class _Open:
    """A mapping or sequence being filled while its events stream past."""

    __slots__ = ("container", "key", "loc")

    def __init__(self, container: dict[str, Any] | list[Any], loc: Loc) -> None:
        self.container = container
        self.loc = loc
        self.key: str | None = None  # a mapping's key waiting for its value


def _compose(events: Iterator[yaml.Event]) -> Document:
    """Build plain data and its line map from the parser's events, without recursion.

    The C composer recurses once per nesting level and crashes the interpreter on a few hundred
    thousand open brackets, which fit in a file under the size cap; events come from an explicit stack.
    """
    stack: list[_Open] = []
    lines: dict[Loc, int] = {}
    anchors: dict[str, int] = {}
    found: list[Any] = []
    documents = 0

    def place(value: Any, line: int, event: yaml.Event) -> Loc | None:
        """Put a finished value (or a new container) where it belongs; its location, or None for a key."""
        if not stack:
            found.append(value)
            lines[()] = line
            return ()
        top = stack[-1]
        if isinstance(top.container, list):
            loc = (*top.loc, len(top.container))
            top.container.append(value)
            lines[loc] = line
            return loc
        if top.key is None:
            if not isinstance(event, yaml.ScalarEvent):
                raise DocumentError(line, "keys must be plain names")
            if event.value == "<<" and not event.style:
                raise DocumentError(line, "anchors and aliases (&, *, <<) are not allowed")
            key = str(event.value)
            if key in top.container:
                raise DocumentError(line, f"duplicate key '{key}'")
            top.key = key
            lines[(*top.loc, key)] = line  # a key's own line, not where its value starts
            return None
        loc = (*top.loc, top.key)
        top.container[top.key] = value
        top.key = None
        return loc

    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise DocumentError(
                    _line(event),
                    "YAML syntax error: expected a single document in the stream, but found another document",
                )
            continue
        if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            continue
        line = _line(event)
        if isinstance(event, yaml.AliasEvent):
            # Report where the reused anchor was defined: that is the text to change.
            raise DocumentError(
                anchors.get(str(event.anchor), line),
                "anchors and aliases (&, *, <<) are not allowed; the anchor defined here is reused",
            )
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
            continue
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            anchors.setdefault(str(anchor), line)
        if isinstance(event, yaml.ScalarEvent):
            key_expected = bool(stack) and isinstance(stack[-1].container, dict) and stack[-1].key is None
            place(None if key_expected else _scalar(event), line, event)
            continue
        if len(stack) >= MAX_DEPTH:
            raise DocumentError(
                line, f"nested more than {MAX_DEPTH} levels deep; records are at most a few levels deep"
            )
        container: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        loc = place(container, line, event)
        assert loc is not None
        stack.append(_Open(container, loc))
    if not found:
        raise DocumentError(1, "file holds no YAML value")
    return Document(found[0], lines)


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 1


def _scalar(event: yaml.ScalarEvent) -> Any:
    value = event.value
    if event.style:  # quoted or block scalars are always text
        return value
    tag = event.tag if event.tag not in (None, "!") else _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == NULL_TAG:
        return None
    if tag == BOOL_TAG:
        return _BOOL_WORDS.get(value.lower(), value)
    if tag == INT_TAG:
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
