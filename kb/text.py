"""Rules for the text strangers write, and for the text the program prints back.

Input: a record or taxonomy string must be visible and say what it looks like. Control characters,
line separators other than a newline, bidirectional overrides and zero-width (format) characters are
refused: they hide text, reorder it on screen, or make two titles look the same while comparing unequal.

Output: a message names values from files and servers. Before it is printed, every character that a
terminal or a CI log would act on (a newline that forges a line, an escape sequence, a bidi override)
is shown as a Python-style escape, so one message is always one honest line.
"""

from __future__ import annotations

import re
import unicodedata

# Characters Python's str.splitlines() breaks on besides "\n": each would start a new line somewhere.
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_C0_C1 = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])
# C0 and C1 controls other than tab and newline (which multi-line text may hold).
_CONTROL = re.compile("[" + re.escape("".join(c for c in _C0_C1 if c not in "\t\n")) + "]")
_BREAKS = re.compile("[\n" + re.escape(LINE_BREAKS) + "]")


def _is_format(char: str) -> bool:
    return unicodedata.category(char) == "Cf"


def problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` is not acceptable text, or None when it is."""
    if not multiline and _BREAKS.search(value):
        return "must be a single line"
    found = _CONTROL.search(value)
    if found is not None:
        return f"contains the control character {_escaped(found.group(0))}"
    if value.isascii():  # the common case, and no separator or format character is ASCII: skip the scans below
        return None
    if multiline:
        other = next((c for c in value if c in "\u2028\u2029"), None)
        if other is not None:
            return f"contains the line separator {_escaped(other)}; use a plain line break"
    hidden = next((c for c in value if _is_format(c)), None)
    if hidden is not None:
        name = unicodedata.name(hidden, "format character").lower()
        return f"contains the invisible character {_escaped(hidden)} ({name})"
    return None


def check(value: str, *, multiline: bool = False) -> str:
    """`value` unchanged, or ValueError naming the first unacceptable character (for pydantic validators)."""
    reason = problem(value, multiline=multiline)
    if reason is not None:
        raise ValueError(reason)
    return value


def one_line(value: str) -> str:
    return check(value)


def multi_line(value: str) -> str:
    return check(value, multiline=True)


def comparable(value: str) -> str:
    """A key under which two strings that look alike are equal: NFKC, casefolded, format characters dropped."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return folded if folded.isascii() else "".join(c for c in folded if not _is_format(c))


def _escaped(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """`value` as one line a terminal shows as written: every C0/C1 control (tab included), the line and
    paragraph separators and every format character (bidi overrides, zero-width characters) escaped."""
    text = str(value)
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escaped(c) if c in _C0_C1 or c in "\u2028\u2029" or _is_format(c) else c for c in text)
