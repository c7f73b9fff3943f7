"""Hypothesis strategies that mutate valid records: the data (types, unicode classes, sizes, nesting,
unknown keys) and the raw YAML bytes (syntax fragments, anchors, tags, control bytes, broken UTF-8).

Everything starts from the toy knowledge base's records, so most mutations are one step away from a
valid file: the kind of input a contributor's typo or an attacker's pull request produces.
"""

from __future__ import annotations

import copy
import string
from functools import cache
from typing import Any

import yaml
from hypothesis import strategies as st

from kb import yamlfile
from tests.conftest import TOY

MARK = "__kbFuzzed"
# Payloads a hostile record would try in a page: raw HTML, Markdown and attribute syntax, entities.
PAYLOADS = [
    f"<script>window.{MARK}=1</script>", f"<img src=x onerror=window.{MARK}=2>", f"<svg onload=window.{MARK}=3>",
    f"[x](javascript:window.{MARK}=4)", f"![x](javascript:window.{MARK}=5)", f'{{: onclick="window.{MARK}=6" }}',
    f'"><img src=x onerror=window.{MARK}=7>', f"' onmouseover='window.{MARK}=8", "&lt;b&gt;", "&#60;script&#62;", "&amp;",
    f"<a href='javascript:window.{MARK}=9'>a</a>", "`code`", "**bold**", "{{ jinja }}", "{% raw %}", ":smile:", "|table|",
    "</textarea></title></style></script>", "<!--", "]]>", "\\u003c",
]
# Characters by the Unicode classes that matter here: controls, format (bidi, zero-width), separators,
# combining marks, private use, wide and astral characters; surrogates cannot be written as UTF-8.
UNICODE = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Mn", "Co", "Lo", "So", "Sm", "Nd", "Lu", "Ll", "Po", "Ps", "Pe"])
SPECIAL_CHARS = st.sampled_from(["\x00", "\x07", "\x1b", "\x1b[2J", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\u2066", "\u200b",
                                 "\u200d", "\ufeff", "\u00ad", "\r", "\n", "\t", "\v", "\f", "\ufffd", "\U0001f600", "\u0301"])
TEXT = st.one_of(
    st.text(UNICODE, max_size=40),
    st.lists(st.one_of(st.sampled_from(PAYLOADS), SPECIAL_CHARS, st.text(string.printable, max_size=12)), max_size=6).map("".join),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["x", "é", "<", "\u202e", " "]), st.integers(0, 3000)),
)


@cache
def base_records() -> tuple[tuple[str, bytes, Any], ...]:
    """(file name, raw bytes, parsed data) of each toy record."""
    out = []
    for path in sorted((TOY / "papers").glob("*.yaml")):
        raw = path.read_bytes()
        out.append((path.name, raw, yamlfile.parse(raw.decode("utf-8")).data))
    return tuple(out)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), TEXT,
                    st.dates().map(str))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def mutated_data(draw: st.DrawFn) -> tuple[str, Any]:
    """A toy record's data with 1-4 mutations: replaced values of other types, hostile strings,
    unknown keys, removed keys, deep nesting, huge lists."""
    name, _, original = draw(st.sampled_from(base_records()))
    data = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["value", "text", "key", "drop", "nest", "repeat", "type"]))
        current = _get(data, path)
        if kind == "value":
            data = _set(data, path, draw(VALUES))
        elif kind == "text" and isinstance(current, str):
            where = draw(st.integers(0, len(current)))
            data = _set(data, path, current[:where] + draw(TEXT) + current[where:])
        elif kind == "key" and isinstance(current, dict):
            current[draw(TEXT)] = draw(VALUES)
        elif kind == "drop" and path and isinstance(_get(data, path[:-1]), dict):
            del _get(data, path[:-1])[path[-1]]
        elif kind == "nest":
            value = current
            for _ in range(draw(st.integers(1, 40))):
                value = [value] if draw(st.booleans()) else {"k": value}
            data = _set(data, path, value)
        elif kind == "repeat" and isinstance(current, list) and current:
            current.extend([current[0]] * draw(st.integers(1, 300)))
        elif kind == "type":
            data = _set(data, path, draw(st.sampled_from([[], {}, 0, 1.5, True, None, "", [current], {"x": current}])))
        if not isinstance(data, dict):
            break
    return name, data


def dump(data: Any) -> bytes:
    return yaml.dump(data, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False).encode("utf-8")


class _PlainDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


# Fragments of YAML syntax that strangers' files contain, on purpose or by accident.
SNIPPETS = [b"&a ", b"*a", b"<<: *a\n", b"&a [x, x]\nb: [*a, *a, *a]\n", b"!!python/object/apply:os.system ['true']", b"!!binary aGk=",
            b"!!int ", b"!!str ", b"!!float .nan", b"!!set {a}", b"!!omap [a: 1]", b"!custom x", b"? [a, b]\n: c\n", b"---\n", b"...\n",
            b"%YAML 1.1\n", b"%TAG ! tag:x,2000:\n", b"\t", b"\r", b"\r\n", b"\x00", b"\x07", b"\x1b[2J", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80",
            b"\xef\xbb\xbf", b"\xe2\x80\xa8", b"\xe2\x80\xae", b"{", b"}", b"[", b"]", b"[" * 64, b"{a: " * 30, b"- " * 30, b"'", b'"',
            b"\\", b"|", b">", b"#", b":", b": ", b"- ", b"? ", b",", b"@", b"`", b"%", b"\n  ", b"\n" + b"  " * 40 + b"x: 1\n",
            b"title: x\n", b"id: '2401.00001'\n", b"year: 1e309\n", b"year: 0x7fffffffffffffffffff\n", b"published: 2024-02-30\n",
            b"x" * 70000]


@st.composite
def mutated_bytes(draw: st.DrawFn) -> tuple[str, bytes]:
    """A toy record's file with 1-6 byte-level edits: inserted YAML fragments, deleted or duplicated
    spans, flipped bytes, truncation."""
    name, raw, _ = draw(st.sampled_from(base_records()))
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "flip", "truncate"]))
        if kind == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=8)))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "duplicate":
            span = bytes(data[at : at + draw(st.integers(1, 200))])
            data[at:at] = span * draw(st.integers(1, 4))
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
    return name, bytes(data)
