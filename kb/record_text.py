"""Editing a record file field by field: one top-level block replaced or inserted, every other line kept.

Records are written by people (flow lists, folded summaries, comments), so tools that update facts
(`kb refresh`) must not re-dump the whole file: the diff a reviewer reads would drown the one change. Each
edit is checked to read back, through the loader's own YAML reader, as exactly the intended data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kb import yamlfile
from kb.errors import KbError

_TOP_LEVEL_KEY = re.compile(r"^([^\s#-][^:]*):")


def _blocks(lines: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first line, line after its block), comments just above the next key excluded."""
    starts = [(i, m.group(1).strip()) for i, line in enumerate(lines) if (m := _TOP_LEVEL_KEY.match(line))]
    out: dict[str, tuple[int, int]] = {}
    for n, (start, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        out[key] = (start, end)
    return out


def with_field(text: str, key: str, value: Any, order: Sequence[str]) -> str:
    """`text` with the top-level `key` set to `value` (None removes it); a new key goes after the last key
    that comes before it in `order` (record field order)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    block = yamlfile.dump({key: value}) if value is not None else ""
    blocks = _blocks(lines)
    if key in blocks:
        start, end = blocks[key]
        return "".join(lines[:start]) + block + "".join(lines[end:])
    if value is None:
        return "".join(lines)
    earlier = list(order)[: list(order).index(key)] if key in order else list(order)
    anchors = [blocks[k][1] for k in earlier if k in blocks]
    at = max(anchors) if anchors else 0
    return "".join(lines[:at]) + block + "".join(lines[at:])


def updated(text: str, changes: Mapping[str, Any], order: Sequence[str]) -> str:
    """Apply every change (key -> new value, None removes) and check the result reads back as the old data
    with exactly those keys changed. Raises KbError when the file cannot be edited safely."""
    try:
        before = yamlfile.parse(text).data
    except yamlfile.DocumentError as exc:
        raise KbError(f"cannot read the record ({exc.message}, line {exc.line}); fix it first") from None
    if not isinstance(before, dict):
        raise KbError("not a record (the top level is not a mapping)")
    new_text = text
    for key, value in changes.items():
        new_text = with_field(new_text, key, value, order)
    expected = dict(before)
    for key, value in changes.items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = value
    after = yamlfile.parse(new_text).data
    if after != expected:
        raise KbError("could not edit " + ", ".join(changes) + " without changing other fields; edit the file by hand")
    return new_text
