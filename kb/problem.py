"""A problem found in an input file: where it is and what is wrong, one line when printed.

The path, field and message hold text from the files themselves (keys, values, file names), so the
printed form escapes every control, separator and invisible character: a record cannot print a line
of its own (a fake `ok:`, a CI `::error` command) or drive the reader's terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.text import printable


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if where.startswith("::"):  # a CI log reads a line starting with '::' as a workflow command
            where = "./" + where
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return printable(text)


def format_field(loc: tuple[str | int, ...]) -> str:
    """('authors', 1) -> 'authors[1]'; ('links', 'code') -> 'links.code'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
