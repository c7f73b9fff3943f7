"""Commands for xai: filled in by the xai work; kept light at import time."""

from __future__ import annotations
