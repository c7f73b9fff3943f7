"""Commands for contribution: filled in by the contribution work; kept light at import time."""

from __future__ import annotations
