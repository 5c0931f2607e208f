"""Allowance pages."""
from __future__ import annotations

from app.allowance import bp  # noqa: F401
