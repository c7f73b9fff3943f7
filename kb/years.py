"""Year ranges as people type them on the command line: 2024, 2023..2025, 2023.., ..2024."""

from __future__ import annotations

import re

_RANGE = re.compile(r"\s*(\d{4})?\s*(\.\.)?\s*(\d{4})?\s*")


def parse_years(text: str) -> tuple[int | None, int | None]:
    """(low, high), either end None when open. Raises ValueError naming the accepted forms."""
    match = _RANGE.fullmatch(text)
    if (
        not match
        or not (match.group(1) or match.group(3))
        or (match.group(3) and match.group(1) and not match.group(2))
    ):
        raise ValueError(f"'{text}' is not a year or range (2024, 2023..2025, 2023.., ..2024)")
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(3)) if match.group(3) else (low if not match.group(2) else None)
    if low is not None and high is not None and low > high:
        raise ValueError(f"'{text}': the range is empty")
    return low, high
