"""Commands for site: filled in by the site work; kept light at import time."""

from __future__ import annotations
