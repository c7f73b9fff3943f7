"""Commands for search: filled in by the search work; kept light at import time."""

from __future__ import annotations
